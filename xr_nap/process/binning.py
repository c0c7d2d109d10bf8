"""Counting events and averaging samples in time bins (pynapple ``count``/``bin_average``).

Bins follow pynapple 0.11 exactly: inside each interval ``[s, e]`` the k-th bin is
``[L_k, L_{k+1})`` with ``L_0 = s`` and ``L_{k+1} = round(L_k + bin_size, 9)``; bins are
added while their centre ``L_k + bin_size / 2`` is ``<= e``, and samples after ``e`` are
never counted. So an event exactly at ``e`` is dropped when ``e`` is a bin edge.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from xr_nap.core.blocks import segment_sums
from xr_nap.core.intervals import bounds, interval_of
from xr_nap.core.time_index import time_index
from xr_nap.core.time_series import (
    TIME,
    UNIT,
    like_input,
    nap_type,
    search_times,
    series,
    support_bounds,
    times,
    tsd,
    unit_offsets,
)
from xr_nap.errors import check_output_size

__all__ = ["count", "bin_average", "time_bins"]

PRECISION = 9  # decimals, pynapple's nap_config.time_index_precision
COUNT = "count"  # the name of a count of an unnamed series or of a TsGroup
COUNT_ATTRS = {"units": "count", "long_name": "events per bin"}


def left_edge(starts: np.ndarray, k: np.ndarray, bin_size: float) -> np.ndarray:
    """Left edge of bin ``k`` of each interval, as pynapple computes it.

    pynapple adds the bin size to the previous edge and rounds to 9 decimals at each
    step. From ``L_1`` on the edges sit on the 1e-9 grid, so each step adds
    ``round(bin_size, 9)``: ``L_k = round(L_1 + (k - 1) * round(bin_size, 9), 9)``.
    (``round(s + k * bin_size, 9)`` drifts from this when the bin size has more than
    9 decimals, e.g. 1/3.)
    """
    first = np.round(starts + bin_size, PRECISION)
    later = np.round(first + (k - 1) * np.round(bin_size, PRECISION), PRECISION)
    return np.where(k == 0, starts, later)


def bins_per_interval(starts: np.ndarray, ends: np.ndarray, bin_size: float) -> np.ndarray:
    """How many bins pynapple puts in each interval: those with centre ``<= end``."""
    length = ends - starts
    cap = np.where(length > bin_size, np.ceil((ends + bin_size - starts) / bin_size), 1)
    cap = cap.astype(np.int64)
    m = np.clip(np.floor((length - bin_size / 2) / bin_size).astype(np.int64) + 1, 0, cap)
    half = bin_size / 2
    for _ in range(2):  # the estimate is off by at most one bin either way
        grow = (m < cap) & (left_edge(starts, m, bin_size) + half <= ends)
        m += grow
        shrink = (m > 0) & (left_edge(starts, np.maximum(m - 1, 0), bin_size) + half > ends)
        m -= shrink
    return m


def _left_edges(
    starts: np.ndarray, ends: np.ndarray, bin_size: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Left edges of all bins, each interval's first bin and its number of bins."""
    bin_size = float(bin_size)
    if not np.isfinite(bin_size) or bin_size <= 0:
        raise ValueError(f"bin_size must be a positive number, got {bin_size}")
    with np.errstate(over="ignore"):
        n_bins = float(np.sum((ends - starts) / bin_size)) + starts.size
    # a few float64 arrays of one value per bin live at once
    check_output_size(n_bins, 32, f"binning {float(np.sum(ends - starts)):.6g} s in bins of "
                      f"{bin_size:.3g} s", "use a larger bin_size or shorter epochs")
    m = bins_per_interval(starts, ends, bin_size)
    total = int(m.sum())
    first = np.cumsum(m) - m
    has = m > 0
    # k (bin number inside its interval) by a cumulative sum that restarts per interval
    k = np.ones(total, dtype=np.float64)
    if total:
        k[0] = 0.0
        k[first[has][1:]] = 1.0 - m[has][:-1]
        np.cumsum(k, out=k)
    # left = round(L_1 + (k - 1) * round(bin_size, 9), 9) (see left_edge), in place
    left = np.repeat(np.round(starts + bin_size, PRECISION), m)
    k -= 1.0
    left += np.multiply(k, np.round(bin_size, PRECISION), out=k)
    np.round(left, PRECISION, out=left)
    left[first[has]] = starts[has]
    return left, first, m


def _last_right_edges(starts: np.ndarray, m: np.ndarray, bin_size: float) -> np.ndarray:
    """Right edge of each interval's last bin (for intervals that have bins)."""
    has = m > 0
    return left_edge(starts[has], m[has], float(bin_size))


def _right_edges(left, first, m, starts, bin_size):
    """Right edge of every bin: the next left edge, except for an interval's last bin."""
    has = m > 0
    right = np.empty_like(left)
    right[:-1] = left[1:]
    right[first[has] + m[has] - 1] = _last_right_edges(starts, m, bin_size)
    return right


def time_bins(
    starts: np.ndarray, ends: np.ndarray, bin_size: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """pynapple's bins over an interval set.

    Returns
    -------
    left, right, centre, interval : ndarray
        Bin edges ``[left, right)``, centres, and the interval each bin belongs to.
    """
    left, first, m = _left_edges(starts, ends, bin_size)
    right = _right_edges(left, first, m, starts, bin_size)
    interval = np.repeat(np.arange(starts.size), m)
    return left, right, left + float(bin_size) / 2, interval


def _epochs(obj: Any, ep: Any) -> tuple[np.ndarray, np.ndarray]:
    return support_bounds(obj) if ep is None else bounds(ep)


def _bin_ranges(obj, starts, ends, bin_size):
    """Row ranges ``[lo, hi)`` of the samples of ``obj`` in each bin, and the centres.

    A bin's right edge is the next bin's left edge except at the end of an interval,
    so one searchsorted over the left edges does most of the work; only an
    interval's last bin is also capped at its end (``t <= end``).
    """
    left, first, m = _left_edges(starts, ends, bin_size)
    lo = _search_edges(obj, left, starts, ends, first, m)
    hi = np.empty_like(lo)
    hi[:-1] = lo[1:]
    has = m > 0
    hi[first[has] + m[has] - 1] = np.minimum(  # >= lo, since left <= end
        search_times(obj, _last_right_edges(starts, m, bin_size), side="left"),
        search_times(obj, ends[has], side="right"))
    left += float(bin_size) / 2  # the centres
    return lo, hi, left


def _search_edges(obj, left, starts, ends, first, m):
    """``search_times(obj, left)`` for the left edges of the bins.

    With a plain time array and not too many intervals, each interval's edges are
    searched among that interval's samples only: a small search space stays in cache,
    where one search over the whole series would not (bench_core.py's count rows).
    """
    if time_index(obj).is_rate or starts.size > 4096:
        return search_times(obj, left, side="left")
    t = times(obj)
    lo_k = np.searchsorted(t, starts, side="left")
    hi_k = np.searchsorted(t, ends, side="right")
    out = np.empty(left.size, dtype=np.int64)
    for k in np.flatnonzero(m):
        a, b = first[k], first[k] + m[k]
        out[a:b] = np.searchsorted(t[lo_k[k]:hi_k[k]], left[a:b], side="left")
        out[a:b] += lo_k[k]
    return out


def count(
    obj: xr.DataArray | xr.Dataset,
    bin_size: float | None = None,
    ep: Any = None,
    dtype: Any = None,
) -> xr.DataArray:
    """Count events in bins of ``bin_size`` seconds, or in each interval of ``ep``.

    Parameters
    ----------
    obj : DataArray or Dataset
        A time series (its samples are counted) or a ragged TsGroup.
    bin_size : float, optional
        Bin width in seconds. Without it, one count per interval of ``ep``,
        indexed by the interval centre.
    ep : interval set, optional
        Default: the time support of ``obj``. Becomes the result's time support.
    dtype : numpy dtype, optional
        Default ``int64``.

    Returns
    -------
    xarray.DataArray
        ``(time,)`` for a time series, ``(time, unit)`` for a TsGroup (unit metadata
        kept as coordinates). Times are bin centres. Named as ``obj`` (``count`` for a
        TsGroup or an unnamed series), ``units: count``. Data are never read: only
        times.

    Examples
    --------
    >>> import xr_nap as nap
    >>> spikes = nap.ts([0.1, 0.2, 1.5, 2.2])
    >>> c = nap.count(spikes, 1.0, ep=nap.interval_set(0, 3))
    >>> c.time.values, c.values
    (array([0.5, 1.5, 2.5]), array([2, 1, 1]))
    """
    dtype = np.dtype(np.int64 if dtype is None else dtype)
    obj = series(obj)
    starts, ends = _epochs(obj, ep)
    if nap_type(obj) == "TsGroup":
        return _count_group(obj, bin_size, starts, ends, dtype)
    if bin_size is None:
        lo = search_times(obj, starts, side="left")
        hi = search_times(obj, ends, side="right")
        centre = starts + (ends - starts) / 2
    else:
        lo, hi, centre = _bin_ranges(obj, starts, ends, bin_size)
    return tsd(centre, (hi - lo).astype(dtype), (starts, ends), name=obj.name or COUNT,
               attrs=COUNT_ATTRS)


def _count_group(group, bin_size, starts, ends, dtype):
    spikes = np.asarray(group["spike_time"].values, dtype=np.float64)
    offsets = unit_offsets(group)
    n_units = offsets.size - 1
    if bin_size is None:  # one closed bin [s, e] per interval
        b, inside = interval_of(spikes, starts, ends)
        centre = starts + (ends - starts) / 2
    else:
        left, first, m = _left_edges(starts, ends, bin_size)
        centre = left + float(bin_size) / 2
        if left.size * n_units <= spikes.size:  # fewer bins than spikes: search the edges
            return _group_result(group, centre, _edge_counts(
                spikes, offsets, left, first, m, starts, ends, bin_size), starts, ends, dtype)
        right = _right_edges(left, first, m, starts, bin_size)
        b, inside = _bin_of(spikes, left, right, first, m, starts, ends, bin_size)
    unit_index = np.repeat(np.arange(n_units), np.diff(offsets))
    flat = b[inside] * n_units + unit_index[inside]
    check_output_size(centre.size * n_units, dtype.itemsize, "the counts", "use a larger "
                      "bin_size, shorter epochs or fewer units")
    counts = np.bincount(flat, minlength=centre.size * n_units).reshape(centre.size, n_units)
    return _group_result(group, centre, counts, starts, ends, dtype)


def _edge_counts(spikes, offsets, left, first, m, starts, ends, bin_size):
    """Counts ``(bins, units)`` by searching each unit's sorted spikes for the bin
    edges (work ~ bins x units, not spikes): as :func:`_bin_ranges` for one series."""
    has = m > 0
    last = first[has] + m[has] - 1
    last_right = _last_right_edges(starts, m, bin_size)
    counts = np.empty((left.size, offsets.size - 1), dtype=np.int64)
    for u in range(offsets.size - 1):
        s = spikes[offsets[u]:offsets[u + 1]]
        lo = np.searchsorted(s, left, side="left")
        hi = np.empty_like(lo)
        hi[:-1] = lo[1:]
        hi[last] = np.minimum(np.searchsorted(s, last_right, side="left"),
                              np.searchsorted(s, ends[has], side="right"))
        counts[:, u] = hi - lo
    return counts


def _group_result(group, centre, counts, starts, ends, dtype):
    coords = {UNIT: group[UNIT].values}
    for key in group.data_vars:
        var = group[key]
        if var.dims == (UNIT,) and key != "row_size":
            coords[key] = (UNIT, var.values)
    return tsd(centre, counts.astype(dtype, copy=False), (starts, ends), dims=(TIME, UNIT),
               coords=coords, name=COUNT, attrs=COUNT_ATTRS)


def _bin_of(spikes, left, right, first, m, starts, ends, bin_size):
    """Bin index of each (unsorted) spike and whether it falls in a bin.

    Finds the interval by searchsorted over the few interval starts, estimates the bin
    arithmetically and corrects it against the exact pynapple edges, which avoids a
    binary search over all bins.
    """
    if left.size == 0:
        return np.zeros(spikes.size, dtype=np.int64), np.zeros(spikes.size, dtype=bool)
    k, inside = interval_of(spikes, starts, ends)
    k = np.maximum(k, 0)
    est = np.floor((spikes - starts[k]) / bin_size).astype(np.int64)
    b = first[k] + np.clip(est, 0, np.maximum(m[k] - 1, 0))
    b = np.minimum(b, left.size - 1)
    miss = (spikes < left[b]) | (spikes >= right[b])  # rounding put it a bin off
    if miss.any():
        b[miss] = np.maximum(np.searchsorted(left, spikes[miss], side="right") - 1, 0)
    # the bin must belong to the spike's own interval: a last bin may reach past its
    # interval's end, into a following interval that has no bin of its own
    inside &= (spikes >= left[b]) & (spikes < right[b])
    inside &= (b >= first[k]) & (b < first[k] + m[k])
    return b, inside


def bin_average(
    obj: xr.DataArray, bin_size: float, ep: Any = None
) -> xr.DataArray:
    """Average the samples of a time series in bins of ``bin_size`` seconds.

    Bins with no sample are NaN. Works block by block on lazy and dask-backed data,
    reading only the samples inside ``ep``.

    Parameters
    ----------
    obj : DataArray
        A Tsd, TsdFrame or TsdTensor.
    bin_size : float
        Bin width in seconds.
    ep : interval set, optional
        Default: the time support of ``obj``; becomes the result's time support.

    Returns
    -------
    xarray.DataArray
        float64, indexed by bin centres; other coordinates and attrs kept.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> x = nap.tsd(np.arange(6.0), [1.0, 3.0, 5.0, 7.0, 9.0, 11.0])
    >>> nap.bin_average(x, 2.0).values
    array([ 2.,  6., 10.])
    """
    original, obj = obj, series(obj)
    if nap_type(obj) in ("Ts", "TsGroup", "IntervalSet"):
        raise TypeError("bin_average needs a time series with data (Tsd/TsdFrame/TsdTensor)")
    if obj.dtype.kind not in "biufc":
        raise TypeError(f"bin_average averages numbers; this series holds {obj.dtype}")
    starts, ends = _epochs(obj, ep)
    lo, hi, centre = _bin_ranges(obj, starts, ends, bin_size)
    sums = segment_sums(obj, lo, hi)
    n = (hi - lo).reshape((-1,) + (1,) * (obj.ndim - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / n
    coords = {k: v for k, v in obj.coords.items() if TIME not in v.dims}
    out = tsd(centre, mean, (starts, ends), dims=obj.dims, coords=coords, name=obj.name,
              attrs=obj.attrs)
    return like_input(out, original)
