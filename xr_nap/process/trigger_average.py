"""Event- and spike-triggered averages (pynapple ``compute_event_triggered_average``).

Math (pynapple 0.11's, written out): bin time in each epoch with pynapple's bins of
``bin_size`` (:func:`xr_nap.process.binning.time_bins`); ``C[b, n]`` counts the events
of unit ``n`` in bin ``b``; ``v[b]`` is the mean of the feature samples in bin ``b``
(an empty bin takes the last sample before it in the same epoch, and 0 if there is
none). Then for each lag ``L`` (``-n0 .. n1`` bins)::

    ETA[L, n] = sum_b C[b, n] * v[b + L] / sum_b C[b, n]

where ``v[b + L]`` counts as 0 when ``b + L`` leaves the epoch of ``b``. The feature is
binned chunk by chunk (a lazy or dask-backed signal is never loaded whole) and the sum
runs over the non-empty ``(bin, unit)`` pairs only: one gather per lag, no loop over
events and no dense ``(bins x units)`` matrix.

Differences from pynapple 0.11 (its numba loop; tests document each):

- a NaN in a binned value counts as 0 for that value only; pynapple zeroes the whole
  feature row when any of its columns is NaN;
- events in an epoch of at most ``n1`` bins add to the average; pynapple drops them from
  the sum but still divides by them;
- bins before the first sample of an epoch are 0; pynapple can carry the last sample
  of the previous epoch into them, and mixes epochs that hold no feature sample with
  the next one;
- irregularly sampled features are accepted (pynapple raises).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from numpy.lib.stride_tricks import sliding_window_view

from xr_nap.core.blocks import segment_sums, sum_dtype, take_rows
from xr_nap.core.intervals import bounds
from xr_nap.core.search import epoch_rows, unit_index
from xr_nap.core.time_index import time_index
from xr_nap.core.time_series import (
    TIME,
    UNIT,
    nap_type,
    series,
    support_bounds,
    times,
    tsd,
    unit_offsets,
)
from xr_nap.errors import XrNapError
from xr_nap.process.binning import PRECISION, time_bins
from xr_nap.process.perievent import as_window, lag_grid, to_seconds

__all__ = [
    "event_triggered_average",
    "compute_event_trigger_average",
    "compute_event_triggered_average",
    "compute_spike_triggered_average",
]


def _events(group: xr.DataArray | xr.Dataset):
    """Event times, unit index of each event, and the ``unit`` coordinates."""
    kind = nap_type(group)
    if kind == "TsGroup":
        spikes = np.asarray(group["spike_time"].values, dtype=np.float64)
        offsets = unit_offsets(group)
        unit = unit_index(offsets)
        coords: dict[Any, Any] = {UNIT: group[UNIT].values}
        for key, var in group.data_vars.items():
            if var.dims == (UNIT,) and key != "row_size":
                coords[key] = (UNIT, var.values)
        return spikes, unit, coords
    if kind == "IntervalSet":
        raise TypeError("events should be a TsGroup or a time series, not an interval set")
    t = times(group)
    return t, np.zeros(t.size, dtype=np.int64), {UNIT: np.array([0])}


def _binned_feature(feature: xr.DataArray, centre: np.ndarray, bin_size: float,
                    interval: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                    block: int = 1 << 16) -> np.ndarray:
    """``v[b]``: mean of the samples in each bin, forward-filled inside the epoch.

    Bins are taken ``block`` at a time, so the per-bin work arrays stay small however
    long the series; only ``v`` is as long as the bins.
    """
    t = time_index(feature)  # a lazy time index stays lazy
    elo_epoch, ehi_epoch = epoch_rows(t, starts, ends)
    ncol = int(np.prod(feature.shape[1:], dtype=np.int64))
    v = np.zeros((centre.size, ncol), dtype=sum_dtype(feature.dtype))
    for b0 in range(0, centre.size, block):
        b1 = min(b0 + block, centre.size)
        # pynapple rebuilds the edges of the feature bins from the bin centres
        left = np.round(centre[b0:b1] - bin_size / 2, PRECISION)
        right = np.round(left + bin_size, PRECISION)
        elo, ehi = elo_epoch[interval[b0:b1]], ehi_epoch[interval[b0:b1]]
        lo = t.searchsorted(left, "left")
        hi = np.maximum(np.minimum(t.searchsorted(right, "left"), ehi), lo)
        n = hi - lo
        with np.errstate(invalid="ignore", divide="ignore"):
            part = segment_sums(feature, lo, hi).reshape(lo.size, ncol) / n[:, None]
        fill = np.flatnonzero((n == 0) & (lo > elo))  # empty: last earlier sample
        if fill.size:
            rows, inverse = np.unique(lo[fill] - 1, return_inverse=True)
            part[fill] = take_rows(feature, rows).reshape(rows.size, ncol)[inverse]
        part[(n == 0) & (lo <= elo)] = 0.0
        part[~np.isfinite(part)] = 0.0
        v[b0:b1] = part
    return v


def _lagged_sums(padded, first, n_lags, pair_unit, weight, n_units, block=4096):
    """``out[L, n, f] = sum_p weight[p] * padded[first[p] + L, f]`` over the pairs of n.

    Each pair reads one contiguous window of one feature column (cache friendly, no
    ``pairs x lags`` temporary beyond ``block`` pairs); pairs are sorted by unit.
    """
    columns = np.ascontiguousarray(padded.T)  # (F, rows): windows are contiguous
    out = np.zeros((n_lags, n_units, columns.shape[0]), dtype=padded.dtype)
    bounds_u = np.searchsorted(pair_unit, np.arange(n_units + 1))
    ones = bool(np.all(weight == 1))
    for f, column in enumerate(columns):
        windows = sliding_window_view(column, n_lags)
        for u in np.flatnonzero(np.diff(bounds_u)):
            for a in range(bounds_u[u], bounds_u[u + 1], block):
                z = min(a + block, bounds_u[u + 1])
                rows = windows[first[a:z]]
                out[:, u, f] += (rows.sum(axis=0) if ones
                                 else np.einsum("i,ij->j", weight[a:z], rows))
    return out


def event_triggered_average(
    group: xr.Dataset | xr.DataArray,
    feature: xr.DataArray,
    bin_size: float,
    window: float | tuple[float, float] = 0,
    ep: Any = None,
    time_unit: str = "s",
) -> xr.DataArray:
    """Average of ``feature`` around the events of each unit of ``group``.

    Parameters
    ----------
    group : Dataset or DataArray
        A ragged TsGroup (one average per unit), or any time series whose times are the
        events (one unit, id 0).
    feature : DataArray
        A Tsd, TsdFrame or TsdTensor; may be lazy (file- or dask-backed).
    bin_size : float
        Bin size (in ``time_unit``).
    window : float or (float, float)
        Time before and after each event (signs ignored).
    ep : interval set, optional
        Default: the time support of ``feature``.
    time_unit : {"s", "ms", "us"}
        Unit of ``bin_size`` and ``window``.

    Returns
    -------
    xarray.DataArray
        dims ``("time", "unit", *feature dims after time)``; time = lag in seconds
        (pynapple's grid), unit metadata as coordinates. Named as ``feature``
        (``event_triggered_average`` if unnamed), with its ``units``.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> t = np.arange(0, 10, 0.1)
    >>> feature = nap.tsd(t, np.sin(t))
    >>> eta = nap.event_triggered_average(nap.ts([1.0, 3.0, 5.0, 7.0]), feature, 0.1, 0.5)
    >>> eta.dims, eta.shape
    (('time', 'unit'), (11, 1))
    >>> round(float(eta.sel(time=0.0, unit=0)), 6)
    0.170163
    """
    feature, group = series(feature), series(group)
    if nap_type(feature) not in ("Tsd", "TsdFrame", "TsdTensor"):
        raise TypeError("feature should be a Tsd, TsdFrame or TsdTensor DataArray")
    if feature.dtype.kind not in "biufc":
        raise TypeError(f"feature must hold numbers, got {feature.dtype}")
    before, after = as_window(window, time_unit)
    bin_size = float(to_seconds(bin_size, time_unit))
    if not (np.isfinite(bin_size) and bin_size > 0):
        raise ValueError(f"bin_size must be a positive number, got {bin_size}")
    starts, ends = support_bounds(feature) if ep is None else bounds(ep)
    if starts.size == 0:
        raise XrNapError("no epoch to average over: the epochs (ep, or the feature's time "
                         "support) are empty")
    lags, n0, n1 = lag_grid(before, after, bin_size)
    left, right, centre, interval = time_bins(starts, ends, bin_size)
    v = _binned_feature(feature, centre, bin_size, interval, starts, ends)
    del centre

    spikes, unit, coords = _events(group)
    n_units = coords[UNIT].size
    b = np.searchsorted(left, spikes, side="right") - 1
    safe = np.maximum(b, 0)
    inside = (b >= 0) & (spikes < right[safe]) & (spikes <= ends[interval[safe]])
    pairs, weight = np.unique(unit[inside] * left.size + b[inside], return_counts=True)
    pair_unit, pair_bin = np.divmod(pairs, left.size)
    total = np.bincount(pair_unit, weights=weight, minlength=n_units)

    # pad each epoch with zeros so that a lag never reaches into the next epoch
    pad = max(n0, n1)
    shift = pad * (np.arange(starts.size) + 1)
    padded = np.zeros((left.size + pad * (starts.size + 1), v.shape[1]), dtype=v.dtype)
    first = np.searchsorted(interval, np.arange(starts.size))  # each epoch's first bin
    for k, (a, b) in enumerate(zip(first, np.append(first[1:], left.size), strict=True)):
        padded[a + shift[k]:b + shift[k]] = v[a:b]
    del v
    pos = pair_bin + shift[interval[pair_bin]]

    out = _lagged_sums(padded, pos - n0, lags.size, pair_unit, weight, n_units)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(total[None, :, None] > 0, out / total[None, :, None], 0.0)
    out = out.reshape(lags.size, n_units, *feature.shape[1:])
    coords.update({c: val for c, val in feature.coords.items() if TIME not in val.dims})
    units = {"units": str(feature.attrs["units"])} if "units" in feature.attrs else {}
    return tsd(lags, out, dims=(TIME, UNIT, *feature.dims[1:]), coords=coords,
               name=feature.name or "event_triggered_average", attrs=units)


def compute_event_trigger_average(
    group: xr.Dataset | xr.DataArray,
    feature: xr.DataArray,
    binsize: float,
    windowsize: float | tuple[float, float] = 0,
    ep: Any = None,
    time_units: str = "s",
) -> xr.DataArray:
    """pynapple's former ``compute_event_trigger_average(group, feature, ...)``; see
    :func:`event_triggered_average`."""
    return event_triggered_average(group, feature, binsize, windowsize, ep, time_units)


def compute_event_triggered_average(
    data: xr.DataArray,
    events: xr.Dataset | xr.DataArray,
    binsize: float,
    window: float | tuple[float, float] = 0,
    time_unit: str = "s",
    epochs: Any = None,
) -> xr.DataArray:
    """pynapple 0.11's argument order (feature first); see :func:`event_triggered_average`."""
    return event_triggered_average(events, data, binsize, window, epochs, time_unit)


compute_spike_triggered_average = compute_event_triggered_average  # pynapple 0.11 alias
