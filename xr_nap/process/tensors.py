"""Trial tensors (pynapple 0.11 ``build_tensor``, ``warp_tensor``, ``to_trial_tensor``,
``trial_count``).

Each interval of an interval set is a trial. Spikes are counted in bins of each trial
(bins laid out as :func:`xr_nap.count` lays them out); a continuous series gives its
samples in each trial. Trials of unequal length are padded (``padding_value``, NaN by
default), aligned on their start or their end. ``warp_tensor`` stretches every trial to
the same number of bins instead: counts in bins of ``1 / num_bins`` of the trial, or
for a series the bin means (more samples than bins), the samples (as many) or a linear
interpolation (fewer).

Results are DataArrays shaped as pynapple's arrays, dims ``(..., "trial", "bin")``
(``"sample"`` for the samples of a series): ``unit`` first for a TsGroup, a series'
own non-time dims first otherwise. The ``trial`` dim carries the trial ``start`` and
``end`` and the interval set's metadata (e.g. a condition label), so
``tensor.groupby("condition").mean("trial")`` averages per condition.

Differences from pynapple 0.11, on purpose: a trial without any bin (shorter than half
a bin) is a row of padding (pynapple fails when aligning on the end), and
``warp_tensor`` reads a series once instead of slicing it trial by trial.
"""

from __future__ import annotations

from numbers import Number
from typing import Any

import numpy as np
import xarray as xr

from xr_nap.core.blocks import in_memory, is_dask, take_rows
from xr_nap.core.derived import linear_interp
from xr_nap.core.intervals import bounds, interval_of, interval_set, ranges
from xr_nap.core.time_series import (
    TIME,
    UNIT,
    nap_type,
    search_times,
    times,
    times_at,
    unit_offsets,
)
from xr_nap.errors import XrNapError
from xr_nap.process.binning import bins_per_interval, count, left_edge
from xr_nap.process.perievent import to_seconds

__all__ = ["build_tensor", "warp_tensor", "to_trial_tensor", "trial_count"]

TRIAL = "trial"
BIN = "bin"
SAMPLE = "sample"


# --------------------------------------------------------------------------- helpers
def _trials(epochs: Any) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Trial starts, ends and the coordinates of the ``trial`` dim."""
    if isinstance(epochs, xr.DataArray):
        raise TypeError("epochs should be an interval set, got a DataArray")
    ep = epochs if isinstance(epochs, xr.Dataset) else interval_set(epochs)
    starts, ends = bounds(ep)
    coords: dict[str, Any] = {TRIAL: np.arange(starts.size), "start": (TRIAL, starts),
                              "end": (TRIAL, ends)}
    dim = ep["start"].dims[0] if "start" in ep else None
    same_rows = ep.sizes.get(dim) == starts.size and np.array_equal(ep["start"].values, starts)
    for key, var in ep.data_vars.items():  # per-trial metadata, when the rows are kept
        if key not in ("start", "end") and var.dims == (dim,) and same_rows:
            coords[str(key)] = (TRIAL, var.values)
    return starts, ends, coords


def _check_align(align: Any) -> None:
    if align not in ("start", "end"):
        raise XrNapError("align should be 'start' or 'end'")


def _kind(data: Any) -> str:
    kind = nap_type(data) if isinstance(data, xr.DataArray | xr.Dataset) else None
    if kind in (None, "IntervalSet"):
        raise TypeError("input should be a Ts, Tsd, TsdFrame, TsdTensor or TsGroup")
    return kind


def _leading(data: xr.DataArray | xr.Dataset, kind: str) -> tuple[tuple, dict]:
    """Dims and coordinates that come before ``trial``: a group's units or a series'
    own non-time dims."""
    if kind == "TsGroup":
        coords = {UNIT: data[UNIT].values}
        for key, var in data.data_vars.items():
            if var.dims == (UNIT,) and key not in ("row_size", "rate"):
                coords[str(key)] = (UNIT, var.values)
        return (UNIT,), coords
    if kind == "Ts":
        return (), {}
    dims = tuple(d for d in data.dims if d != TIME)
    return dims, {k: v for k, v in data.coords.items() if TIME not in v.dims}


def _tensor(values: np.ndarray, lead: tuple, lead_coords: dict, inner: str,
            trial_coords: dict, attrs: dict) -> xr.DataArray:
    return xr.DataArray(values, dims=(*lead, TRIAL, inner),
                        coords={**lead_coords, **trial_coords}, attrs=attrs)


def _rows(data: xr.DataArray, rows: np.ndarray) -> np.ndarray:
    """The rows of a series (time first), reading only those of a lazy one."""
    data = data.transpose(TIME, ...)
    if in_memory(data):
        return data.values[rows]
    if is_dask(data):
        return np.asarray(data.isel({TIME: rows}).values)
    return take_rows(data, rows)


def _spikes(data: xr.Dataset | xr.DataArray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Spike times and their unit positions (a Ts is one unit)."""
    if kind == "Ts":
        t = times(data)
        return t, np.zeros(t.size, dtype=np.int64)
    offsets = unit_offsets(data)
    return (np.asarray(data["spike_time"].values, dtype=np.float64),
            np.repeat(np.arange(offsets.size - 1), np.diff(offsets)))


def _place(n_bins: np.ndarray, width: int, align: str) -> tuple[np.ndarray, np.ndarray]:
    """Trial and column of every bin (trial after trial), aligned on start or end."""
    first = np.cumsum(n_bins) - n_bins
    trial = np.repeat(np.arange(n_bins.size), n_bins)
    k = np.arange(trial.size) - np.repeat(first, n_bins)
    return trial, (k if align == "start" else width - np.repeat(n_bins, n_bins) + k)


# --------------------------------------------------------------------------- tensors
def trial_count(
    data: xr.DataArray | xr.Dataset,
    ep: Any,
    bin_size: float,
    align: str = "start",
    padding_value: float = np.nan,
    time_unit: str = "s",
) -> xr.DataArray:
    """Spike counts per trial and bin (pynapple ``Ts.trial_count`` /
    ``TsGroup.trial_count``).

    Parameters
    ----------
    data : Ts DataArray or TsGroup Dataset
    ep : interval set
        The trials.
    bin_size : float
        In ``time_unit``.
    align : {"start", "end"}
    padding_value : float
    time_unit : {"s", "ms", "us"}

    Returns
    -------
    xarray.DataArray
        float64, dims ``(unit, trial, bin)`` (``(trial, bin)`` for a Ts).

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> group = nap.ts_group({0: np.arange(0.0, 100.0)})
    >>> trials = nap.interval_set([20, 40], [22, 44])
    >>> nap.trial_count(group, trials, 1.0).values
    array([[[ 1.,  1., nan, nan],
            [ 1.,  1.,  1.,  1.]]])
    """
    kind = _kind(data)
    if kind not in ("Ts", "TsGroup"):
        raise TypeError("trial_count needs a Ts or a TsGroup")
    _check_align(align)
    if not isinstance(bin_size, Number) or isinstance(bin_size, bool):
        raise XrNapError("bin_size should be of type int or float")
    b = float(to_seconds(bin_size, time_unit))
    starts, ends, trial_coords = _trials(ep)
    counts = count(data, b, ep=(starts, ends)).values.reshape(-1, 1 if kind == "Ts" else
                                                              data.sizes[UNIT])
    m = bins_per_interval(starts, ends, b)
    width = int(m.max()) if m.size else 0
    if width == 0 and align == "end" and starts.size:  # pynapple keeps its first guess
        width = int(np.max(np.ceil((ends + b - starts) / b)))
    out = np.full((counts.shape[1], starts.size, width), padding_value, dtype=np.float64)
    trial, col = _place(m, width, align)
    out[:, trial, col] = counts.T
    lead, lead_coords = _leading(data, kind)
    if kind == "Ts":
        out = out[0]
    return _tensor(out, lead, lead_coords, BIN, trial_coords,
                   {"long_name": "spike count", "bin_size": b, "align": align})


def to_trial_tensor(
    data: xr.DataArray, ep: Any, align: str = "start", padding_value: float = np.nan
) -> xr.DataArray:
    """The samples of a series in each trial (pynapple ``to_trial_tensor``).

    Parameters
    ----------
    data : Tsd, TsdFrame or TsdTensor DataArray
        May be lazy: only the samples inside the trials are read.
    ep : interval set
        The trials.
    align : {"start", "end"}
    padding_value : float

    Returns
    -------
    xarray.DataArray
        float64, dims ``(..., trial, sample)`` (``...``: the series' other dims).

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> x = nap.tsd(np.arange(100.0), np.arange(100.0))
    >>> nap.to_trial_tensor(x, nap.interval_set([20, 40], [22, 44]), align="end").values
    array([[nan, nan, 20., 21., 22.],
           [40., 41., 42., 43., 44.]])
    """
    kind = _kind(data)
    if kind not in ("Tsd", "TsdFrame", "TsdTensor"):
        raise TypeError("to_trial_tensor needs a Tsd, TsdFrame or TsdTensor")
    _check_align(align)
    starts, ends, trial_coords = _trials(ep)
    if starts.size == 0:
        raise XrNapError("to_trial_tensor needs at least one trial; ep is empty")
    lo = search_times(data, starts, "left")
    hi = search_times(data, ends, "right")
    n = hi - lo
    width = int(n.max())
    values = _rows(data, ranges(lo, hi))
    out = np.full((starts.size, width, *values.shape[1:]), padding_value, dtype=np.float64)
    trial, col = _place(n, width, align)
    out[trial, col] = values
    out = np.moveaxis(out, [0, 1], [-2, -1])
    lead, lead_coords = _leading(data, kind)
    return _tensor(out, lead, lead_coords, SAMPLE, trial_coords,
                   {"long_name": "samples per trial", "align": align})


def build_tensor(
    input: xr.DataArray | xr.Dataset,  # noqa: A002  (pynapple's name)
    epochs: Any,
    bin_size: float | None = None,
    align: str = "start",
    padding_value: float = np.nan,
    time_unit: str = "s",
) -> xr.DataArray:
    """Trial tensor of any input (pynapple ``build_tensor``): :func:`trial_count` for a
    Ts or TsGroup (``bin_size`` required), :func:`to_trial_tensor` otherwise.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> group = nap.ts_group({0: np.arange(0.0, 100.0)})
    >>> t = nap.build_tensor(group, nap.interval_set([20, 40], [22, 44]), bin_size=1)
    >>> t.dims, t.shape
    (('unit', 'trial', 'bin'), (1, 2, 4))
    """
    if time_unit not in ("s", "ms", "us"):
        raise XrNapError("time_unit should be 's', 'ms' or 'us'")
    _check_align(align)
    if not isinstance(padding_value, Number):
        raise TypeError("padding_value should be a number")
    kind = _kind(input)
    if kind in ("Ts", "TsGroup"):
        if not isinstance(bin_size, Number) or isinstance(bin_size, bool):
            raise XrNapError("When input is a TsGroup or Ts object, bin_size should be "
                             "specified")
        return trial_count(input, epochs, bin_size, align, padding_value, time_unit)
    return to_trial_tensor(input, epochs, align, padding_value)


def warp_tensor(
    input: xr.DataArray | xr.Dataset,  # noqa: A002  (pynapple's name)
    epochs: Any,
    num_bins: int,
) -> xr.DataArray:
    """Trials stretched to ``num_bins`` bins each (pynapple ``warp_tensor``).

    Spikes are counted in ``num_bins`` equal bins of each trial. For a series, a trial
    with more samples than bins gives the mean of the samples in each bin, one with as
    many gives its samples, one with fewer gives a linear interpolation at
    ``num_bins`` times from start to end, an empty one NaN.

    Returns
    -------
    xarray.DataArray
        float64, dims ``(..., trial, bin)``.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> x = nap.tsd(np.arange(100.0), np.arange(100.0))
    >>> trials = nap.interval_set([20, 40, 60, 80], [22, 44, 66, 88])
    >>> nap.warp_tensor(x, trials, 3).values
    array([[20. , 21. , 22. ],
           [40.5, 42. , 43. ],
           [60.5, 62.5, 64.5],
           [81. , 84. , 87. ]])
    """
    if not isinstance(num_bins, int | np.integer) or isinstance(num_bins, bool):
        raise TypeError("num_bins should be an int")
    if num_bins <= 0:
        raise XrNapError("num_bins should be positive integer.")
    kind = _kind(input)
    starts, ends, trial_coords = _trials(epochs)
    if kind in ("Ts", "TsGroup"):
        out = _warp_counts(input, kind, starts, ends, int(num_bins))
    else:
        out = _warp_series(input, starts, ends, int(num_bins))
    lead, lead_coords = _leading(input, kind)
    return _tensor(out, lead, lead_coords, BIN, trial_coords,
                   {"long_name": "time-warped trials", "num_bins": int(num_bins)})


def _warp_edges(starts: np.ndarray, ends: np.ndarray, num: int) -> np.ndarray:
    """pynapple's bin edges of each trial ``(n_trials, num + 1)`` for bins of
    ``(end - start) / num`` (see :func:`xr_nap.process.binning.left_edge`)."""
    k = np.arange(num + 1)[None, :]
    return left_edge(starts[:, None], k, ((ends - starts) / num)[:, None])


def _warp_bins(t: np.ndarray, starts: np.ndarray, ends: np.ndarray, num: int):
    """Trial and warped bin of each time, and whether it is in one."""
    trial, inside = interval_of(t, starts, ends)
    trial = np.maximum(trial, 0)
    if starts.size == 0:
        return trial, trial, inside
    edges = _warp_edges(starts, ends, num)
    size = (ends - starts) / num
    with np.errstate(divide="ignore", invalid="ignore"):
        est = np.floor((t - starts[trial]) / size[trial])
    k = np.clip(np.nan_to_num(est), 0, num - 1).astype(np.int64)
    k -= t < edges[trial, k]  # the estimate is off by at most one bin
    k = np.clip(k, 0, num - 1)
    k += (t >= edges[trial, k + 1]) & (k < num - 1)
    inside &= (t >= edges[trial, k]) & (t < edges[trial, k + 1])
    return trial, k, inside


def _warp_counts(data, kind, starts, ends, num):
    t, unit = _spikes(data, kind)
    n_units = 1 if kind == "Ts" else data.sizes[UNIT]
    trial, k, inside = _warp_bins(t, starts, ends, num)
    flat = (unit[inside] * starts.size + trial[inside]) * num + k[inside]
    out = np.bincount(flat, minlength=n_units * starts.size * num).astype(np.float64)
    out = out.reshape(n_units, starts.size, num)
    return out[0] if kind == "Ts" else out


def _warp_series(data, starts, ends, num):
    lo = search_times(data, starts, "left")
    hi = search_times(data, ends, "right")
    rows = ranges(lo, hi)
    values = _rows(data, rows).astype(np.float64)
    t = times_at(data, rows) if rows.size else np.empty(0)
    n = hi - lo
    local_lo = np.cumsum(n) - n  # each trial's first row in ``values``
    out = np.full((starts.size, num, *values.shape[1:]), np.nan)
    same = np.flatnonzero(n == num)
    if same.size:
        out[same] = values[ranges(local_lo[same], local_lo[same] + num)].reshape(
            same.size, num, *values.shape[1:])
    many = n > num
    if many.any():
        sel = ranges(local_lo[many], local_lo[many] + n[many])
        trial, k, inside = _warp_bins(t[sel], starts, ends, num)
        flat = trial[inside] * num + k[inside]
        size = starts.size * num
        counts = np.bincount(flat, minlength=size)
        block = values[sel][inside].reshape(inside.sum(), -1)
        sums = np.stack([np.bincount(flat, weights=block[:, c], minlength=size)
                         for c in range(block.shape[1])], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = (sums / counts[:, None]).reshape(starts.size, num, *values.shape[1:])
        out[many] = means[many]
    few = np.flatnonzero((n > 0) & (n < num))
    if few.size:
        x = np.concatenate([np.linspace(starts[i], ends[i], num) for i in few])
        first = np.repeat(local_lo[few], num)
        out[few] = linear_interp(x, t, values, first, first + np.repeat(n[few], num)
                                 ).reshape(few.size, num, *values.shape[1:])
    return np.moveaxis(out, [0, 1], [-2, -1])

