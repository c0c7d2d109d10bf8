"""Restricting time series to interval sets, and slicing them by time."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from xarray.indexes import PandasIndex

from xr_nap.core.blocks import in_memory
from xr_nap.core.intervals import bounds, encode_support, intersect, interval_of, ranges
from xr_nap.core.time_series import (
    SPIKE,
    SUPPORT_ATTR,
    TIME,
    UNIT,
    nap_type,
    search_times,
    support_bounds,
    time_coords,
    times,
    times_at,
    unit_offsets,
    with_support,
)

__all__ = ["restrict", "get"]


def take_times(obj: xr.DataArray, lo: np.ndarray, hi: np.ndarray) -> xr.DataArray:
    """Select the samples ``lo[i] <= position < hi[i]`` of every range, in order.

    One range is a slice (a view; lazy backends read only that window). Several ranges
    of in-memory data are copied range by range (contiguous copies beat a gather);
    lazy and dask data get one integer index.
    """
    hi = np.maximum(hi, lo)
    if lo.size == 1:
        return obj.isel({TIME: slice(int(lo[0]), int(hi[0]))})
    aligned = [k for k, v in obj.coords.items() if TIME in v.dims and k != TIME]
    if not in_memory(obj) or aligned or not isinstance(obj.xindexes.get(TIME), PandasIndex):
        return obj.isel({TIME: ranges(lo, hi)})
    keep = hi > lo
    pieces = list(zip(lo[keep], hi[keep], strict=True))
    data = obj.values
    new = np.concatenate([data[a:b] for a, b in pieces]) if pieces else data[:0]
    t = times(obj)
    new_t = np.concatenate([t[a:b] for a, b in pieces]) if pieces else t[:0]
    coords = time_coords(new_t, copy=False)
    coords.update({k: v for k, v in obj.coords.items() if TIME not in v.dims})
    # assign_coords keeps the index as built; the constructor would deep-copy it
    out = xr.DataArray(new, dims=obj.dims, name=obj.name, attrs=obj.attrs)
    return out.assign_coords(coords)


def restrict(obj: xr.DataArray | xr.Dataset, ep: Any) -> xr.DataArray | xr.Dataset:
    """Keep the samples with ``start <= t <= end`` for some interval of ``ep``.

    As in pynapple, the time support of the result is ``ep`` itself. A TsGroup keeps
    its metadata and gets its ``rate`` recomputed over ``ep``; an interval set is
    intersected with ``ep``. Lazy (dask, file-backed) data stay lazy.

    Parameters
    ----------
    obj : DataArray or Dataset
        A time series, a ragged TsGroup Dataset or an interval set.
    ep : interval set
        Any form :func:`xr_nap.interval_set` accepts.

    Returns
    -------
    DataArray or Dataset
        The same kind of object as ``obj``.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> x = nap.tsd(np.arange(10.0), np.arange(10))
    >>> r = nap.restrict(x, nap.interval_set([1, 6], [2.5, 7]))
    >>> r.time.values, r.attrs["time_support"]
    (array([1., 2., 6., 7.]), array([1. , 2.5, 6. , 7. ]))
    """
    kind = nap_type(obj)
    if kind == "IntervalSet":
        return intersect(obj, ep)
    starts, ends = bounds(ep)
    if kind == "TsGroup":
        return _restrict_group(obj, starts, ends)
    lo = search_times(obj, starts, side="left")
    hi = search_times(obj, ends, side="right")
    return with_support(take_times(obj, lo, hi), starts, ends)


def _restrict_group(group: xr.Dataset, starts: np.ndarray, ends: np.ndarray) -> xr.Dataset:
    spikes = np.asarray(group["spike_time"].values, dtype=np.float64)
    offsets = unit_offsets(group)
    keep = spike_mask(spikes, starts, ends)
    unit_index = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
    counts = np.bincount(unit_index[keep], minlength=offsets.size - 1)
    out = group.isel({SPIKE: np.flatnonzero(keep)})
    out["row_size"] = out["row_size"].copy(data=counts.astype(np.int64))
    length = float(np.sum(ends - starts))
    rate = counts / length if length > 0 else np.full(counts.shape, np.nan)
    out["rate"] = xr.Variable(UNIT, rate, attrs={"units": "Hz"})
    return with_support(out, starts, ends)


def spike_mask(t: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Boolean mask of the (not necessarily sorted) times inside any interval."""
    return interval_of(t, starts, ends)[1]


def get(
    obj: xr.DataArray, start: float, end: float | None = None
) -> xr.DataArray:
    """Samples with ``start <= t <= end``, or the one sample closest to ``start``.

    Without ``end`` the result has no ``time`` dimension (``time`` becomes a scalar
    coordinate), as pynapple returns a single value; on a tie the later sample wins.

    The time support is left unchanged (use :func:`restrict` to change it). On lazily
    loaded data only that window is read.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> x = nap.tsd(np.arange(10.0), np.arange(10) * 2)
    >>> nap.get(x, 2, 4).values
    array([4, 6, 8])
    >>> float(nap.get(x, 3.4).time)
    3.0
    """
    if nap_type(obj) in ("TsGroup", "IntervalSet"):
        raise TypeError("get() works on time series; use restrict() on a TsGroup")
    n = obj.sizes[TIME]
    if end is None:
        if n == 0:
            raise ValueError("get() on an empty time series")
        i = int(search_times(obj, [start])[0])
        if i == n or (i > 0 and start - times_at(obj, [i - 1])[0]
                      < times_at(obj, [i])[0] - start):
            i -= 1
        return obj.isel({TIME: i})
    if end < start:
        raise ValueError(f"end ({end}) must not precede start ({start})")
    lo = search_times(obj, [start], side="left")[0]
    hi = search_times(obj, [end], side="right")[0]
    out = obj.isel({TIME: slice(int(lo), int(hi))})
    # isel gave ``out`` its own attrs dict: set the support there, no second copy
    out.attrs[SUPPORT_ATTR] = encode_support(*support_bounds(obj))
    return out
