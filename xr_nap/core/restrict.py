"""Restricting time series to interval sets, and slicing them by time."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from xr_nap.core.blocks import in_memory
from xr_nap.core.intervals import bounds, intersect
from xr_nap.core.lazy import Windows, lazy_array
from xr_nap.core.search import inside, ranges, rates, unit_index
from xr_nap.core.time_index import index_coords, select, time_index
from xr_nap.core.time_series import (
    SPIKE,
    TIME,
    UNIT,
    is_series_dataset,
    like_input,
    nap_type,
    series,
    unit_offsets,
    with_support,
)

__all__ = ["restrict", "get"]


def take_times(obj: xr.DataArray | xr.Dataset, lo: np.ndarray, hi: np.ndarray,
               starts: np.ndarray, ends: np.ndarray) -> xr.DataArray | xr.Dataset:
    """The samples ``lo[i] <= position < hi[i]`` of every range, in order, with the
    support ``(starts, ends)``.

    One range is a slice (a view; lazy backends read only that window). Several ranges
    of in-memory or dask data are joined range by range (contiguous copies beat a
    gather, and dask reads only the slices); file-backed data get one integer index,
    which the backend reads run by run.
    """
    hi = np.maximum(hi, lo)
    index = time_index(obj)
    if lo.size == 1:
        return select(obj, slice(int(lo[0]), int(hi[0])), starts, ends)
    new_index = index.take(lo, hi, starts, ends)  # a rate-based index stays lazy
    plain = isinstance(obj, xr.DataArray) and obj.dims[0] == TIME and not any(
        TIME in v.dims for k, v in obj.coords.items() if k != TIME)
    if not plain:  # a Dataset, or coordinates along time: xarray's own isel
        out = obj.drop_vars(TIME).isel({TIME: ranges(lo, hi)})
        return out.assign_coords(index_coords(new_index, obj))
    keep = hi > lo
    pieces = list(zip(lo[keep].tolist(), hi[keep].tolist(), strict=True))
    if in_memory(obj) or obj.chunks is not None:
        data = obj.data
        join = np.concatenate if in_memory(obj) else _dask_concatenate
        new = join([data[a:b] for a, b in pieces]) if pieces else data[:0]
    else:  # file-backed: the windows stay in the file until read
        new = lazy_array(Windows(obj.variable, lo, hi))
    out = xr.DataArray(new, dims=obj.dims, name=obj.name, attrs=obj.attrs,
                       coords={k: v for k, v in obj.coords.items() if TIME not in v.dims})
    # assign_coords keeps the index as built; the constructor would deep-copy it
    return out.assign_coords(index_coords(new_index, obj))


def _dask_concatenate(pieces: list) -> Any:
    import dask.array

    return dask.array.concatenate(pieces)


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
    >>> r.time.values, r.time.attrs["time_support"]
    (array([1., 2., 6., 7.]), array([1. , 2.5, 6. , 7. ]))
    """
    if not is_series_dataset(obj):
        kind = nap_type(obj)
        if kind == "IntervalSet":
            return intersect(obj, ep)
        if kind == "TsGroup":
            return _restrict_group(obj, *bounds(ep))
    starts, ends = bounds(ep)
    data = series(obj, keep_dataset=True)
    index = time_index(data)
    lo = index.searchsorted(starts, side="left")
    hi = index.searchsorted(ends, side="right")
    return like_input(take_times(data, lo, hi, starts, ends), obj)


def _restrict_group(group: xr.Dataset, starts: np.ndarray, ends: np.ndarray) -> xr.Dataset:
    spikes = np.asarray(group["spike_time"].values, dtype=np.float64)
    offsets = unit_offsets(group)
    keep = inside(spikes, starts, ends)
    counts = np.bincount(unit_index(offsets)[keep], minlength=offsets.size - 1)
    out = group.isel({SPIKE: np.flatnonzero(keep)})
    out["row_size"] = out["row_size"].copy(data=counts.astype(np.int64))
    out["rate"] = xr.Variable(UNIT, rates(counts, starts, ends), attrs={"units": "Hz"})
    return with_support(out, starts, ends)


def get(
    obj: xr.DataArray | xr.Dataset, start: float, end: float | None = None
) -> xr.DataArray | xr.Dataset:
    """Samples with ``start <= t <= end``, or the one sample closest to ``start``.

    Without ``end`` the result has no ``time`` dimension (``time`` becomes a scalar
    coordinate), as pynapple returns a single value; on a tie the later sample wins.

    As in pynapple, the time support is left unchanged; ``obj.sel(time=slice(start,
    end))`` gives the same samples with the support cut to ``[start, end]`` (use
    :func:`restrict` to set any support). On lazily loaded data only that window is
    read.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> x = nap.tsd(np.arange(10.0), np.arange(10) * 2)
    >>> nap.get(x, 2, 4).values
    array([4, 6, 8])
    >>> float(nap.get(x, 3.4).time)
    3.0
    """
    if not is_series_dataset(obj) and nap_type(obj) in ("TsGroup", "IntervalSet"):
        raise TypeError("get() works on time series; use restrict() on a TsGroup")
    start = _bound(start, "start")
    data = series(obj, keep_dataset=True)
    index = time_index(data)
    n = index.size
    if end is None:
        if n == 0:
            raise ValueError("get() on an empty time series")
        i = int(index.searchsorted([start])[0])
        if i == n or (i > 0 and start - index.times_at([i - 1])[0]
                      < index.times_at([i])[0] - start):
            i -= 1
        return data.isel({TIME: i})
    end = _bound(end, "end")
    if end < start:
        raise ValueError(f"end ({end}) must not precede start ({start})")
    lo = int(index.searchsorted([start], side="left")[0])
    hi = int(index.searchsorted([end], side="right")[0])
    return like_input(select(data, slice(lo, max(lo, hi)), *index.support), obj)


def _bound(value: Any, what: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a number of seconds, got {value!r}") from None
    if not np.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value}")
    return value
