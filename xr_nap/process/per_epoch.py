"""Running a signal computation along time, one epoch of the time support at a time.

Filters, convolutions, Hilbert transforms and wavelets must not mix samples across the
gap between two epochs, so each epoch is computed on its own, as pynapple does. On
dask-backed data each chunk of an epoch is computed with ``halo`` rows of context on
either side (taken from the same epoch only), like ``dask.array.map_overlap``; a
computation that needs the whole epoch (an FFT-based Hilbert transform) asks for
``halo=None`` and gets one block per epoch. File-backed lazy data are read in bounded
windows the same way, into an in-memory result.

The sampling rate, when not given, is pynapple's ``rate``: the number of samples over
the total length of the time support (slightly more than the true rate of a regularly
sampled series, whose support spans ``(n - 1) / rate`` seconds). xr-nap uses the same
number so that results agree with pynapple; pass ``fs`` for the exact rate.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from numbers import Number
from typing import Any

import numpy as np
import xarray as xr

from xr_nap.core import search
from xr_nap.core.blocks import BLOCK_BYTES, in_memory, is_dask
from xr_nap.core.time_index import time_index
from xr_nap.core.time_series import (
    TIME,
    nap_type,
    support_bounds,
    times,
    tsd,
    with_support,
)
from xr_nap.errors import TimeAxisError, XrNapError

__all__ = ["signal_input", "sampling_rate", "epoch_rows", "map_epochs", "result_like"]

# attrs that describe the input's place in the data model, not its values
_MODEL_ATTRS = ("nap_type", "time_support")


def signal_input(obj: Any, what: str) -> xr.DataArray:
    """``obj`` checked as a time series with values, with ``time`` moved first.

    Raises
    ------
    TypeError
        If ``obj`` is not a DataArray with a ``time`` dimension, or is a ``Ts`` (its
        values are its own times, not a signal).
    """
    if isinstance(obj, xr.Dataset):
        hint = " (count it first: nap.count(group, bin_size))" if "spike_time" in obj else ""
        raise TypeError(f"{what} needs a time series DataArray, got a Dataset{hint}")
    if not isinstance(obj, xr.DataArray):
        raise TypeError(f"{what} needs a time series DataArray, got {type(obj).__name__}")
    if TIME not in obj.dims:
        raise TimeAxisError(f"{what} needs a 'time' dimension; the input has dims {obj.dims}")
    first = obj.transpose(TIME, ...)
    if nap_type(first) == "Ts":
        raise TypeError(f"{what} needs a time series with values (Tsd/TsdFrame/TsdTensor), "
                        "got a Ts (timestamps only)")
    return first


def sampling_rate(obj: xr.DataArray, fs: Any = None, what: str = "fs") -> float:
    """``fs`` checked, or pynapple's rate of ``obj``: samples / total support length."""
    if fs is not None:
        if isinstance(fs, bool) or not isinstance(fs, Number) or not np.isfinite(fs) \
                or fs <= 0:
            raise XrNapError(f"{what} must be a positive number (Hz), got {fs!r}")
        return float(fs)
    starts, ends = support_bounds(obj)
    length = float(np.sum(ends - starts))
    if length <= 0 or obj.sizes[TIME] == 0:
        raise XrNapError("cannot infer the sampling rate of a time series with an empty "
                         f"time support ({obj.sizes[TIME]} samples); pass fs")
    return obj.sizes[TIME] / length


def epoch_rows(obj: xr.DataArray, starts: np.ndarray, ends: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Row ranges ``[lo, hi)`` of the samples with ``start <= t <= end`` in each epoch."""
    return search.epoch_rows(time_index(obj), starts, ends)


def _blocks(a: int, b: int, cuts: np.ndarray, min_rows: int) -> list[tuple[int, int]]:
    """Split ``[a, b)`` at the positions ``cuts``, merging pieces shorter than min_rows."""
    inner = cuts[(cuts > a) & (cuts < b)]
    edges = [a]
    for c in inner:
        if c - edges[-1] >= min_rows:
            edges.append(int(c))
    if len(edges) > 1 and b - edges[-1] < min_rows:
        edges.pop()
    edges.append(b)
    return list(zip(edges[:-1], edges[1:], strict=True))


def _core(func: Callable, segment: Any, c0: int, c1: int) -> np.ndarray:
    return func(np.asarray(segment))[c0:c1]


def map_epochs(
    obj: xr.DataArray,
    func: Callable[[np.ndarray], np.ndarray],
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    halo: int | None,
    tail: tuple[int, ...],
    dtype: Any,
) -> Any:
    """Apply ``func`` along time, epoch by epoch; the result is time-first.

    Parameters
    ----------
    obj : DataArray
        Time first (see :func:`signal_input`).
    func : callable
        ``func(segment)`` gets consecutive rows of one epoch (numpy, time first) and
        returns the result for those same rows, of shape ``(rows, *tail)``. The edges of
        ``segment`` are treated as epoch edges.
    lo, hi : arrays of int
        Sorted, disjoint row ranges of the epochs.
    halo : int or None
        Rows of context each block needs on either side for its result to be the one
        computed on the whole epoch (the kernel length of a convolution, the decay of an
        IIR filter). ``None``: the whole epoch in one block.
    tail, dtype
        Shape (after time) and dtype of the result.

    Returns
    -------
    numpy or dask array
        Rows outside every epoch are NaN. Dask in, dask out (one task per chunk of each
        epoch); file-backed input is read in windows of about ``BLOCK_BYTES``.
    """
    n = obj.sizes[TIME]
    dtype = np.dtype(dtype)
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.maximum(np.asarray(hi, dtype=np.int64), lo)
    if is_dask(obj):
        return _map_dask(obj, func, lo, hi, halo, tail, dtype)
    if in_memory(obj) and np.count_nonzero(hi > lo) == 1 and np.sum(hi - lo) == n:
        return np.asarray(func(obj.values), dtype=dtype)  # one epoch holds every sample
    out = np.empty((n, *tail), dtype=dtype)
    for a, b in zip(np.concatenate([[0], hi]), np.concatenate([lo, [n]]), strict=True):
        if b > a:  # rows between epochs
            out[a:b] = np.nan
    if in_memory(obj):
        data = obj.values
        for a, b in zip(lo, hi, strict=True):
            if b > a:
                out[a:b] = func(data[a:b])
        return out
    row_bytes = max(int(np.prod(obj.shape[1:], dtype=np.int64)) * obj.dtype.itemsize, 1)
    step = max(BLOCK_BYTES // row_bytes, 1)
    for a, b in zip(lo, hi, strict=True):
        blocks = [(a, b)] if halo is None else _blocks(
            a, b, np.arange(a, b, step), max(halo, 1))
        for c0, c1 in blocks:
            s0, s1 = (a, b) if halo is None else (max(a, c0 - halo), min(b, c1 + halo))
            segment = obj.isel({TIME: slice(int(s0), int(s1))}).values
            out[c0:c1] = func(segment)[c0 - s0:c1 - s0]
    return out


def _map_dask(obj, func, lo, hi, halo, tail, dtype):
    import dask
    import dask.array as da

    data = obj.data.rechunk({i: -1 for i in range(1, obj.ndim)})
    cuts = np.cumsum(data.chunks[0])
    pieces, pos = [], 0
    for a, b in zip(lo, hi, strict=True):
        if b <= a:
            continue
        if a > pos:
            pieces.append(da.full((a - pos, *tail), np.nan, dtype=dtype))
        blocks = [(a, b)] if halo is None else _blocks(a, b, cuts, max(halo, 1))
        for c0, c1 in blocks:
            s0, s1 = (a, b) if halo is None else (max(a, c0 - halo), min(b, c1 + halo))
            part = dask.delayed(_core)(func, data[s0:s1], c0 - s0, c1 - s0)
            pieces.append(da.from_delayed(part, (c1 - c0, *tail), dtype=dtype))
        pos = b
    n = obj.sizes[TIME]
    if pos < n or not pieces:
        pieces.append(da.full((n - pos, *tail), np.nan, dtype=dtype))
    return da.concatenate(pieces, axis=0)


def user_attrs(obj: xr.DataArray) -> dict[str, Any]:
    """The attrs of ``obj`` that describe its values (not its data-model bookkeeping)."""
    return {k: v for k, v in obj.attrs.items() if k not in _MODEL_ATTRS}


def result_like(
    obj: xr.DataArray,
    data: Any,
    order: tuple[Hashable, ...],
    *,
    new_dims: tuple[Hashable, ...] = (),
    new_coords: Mapping[Hashable, Any] | None = None,
    attrs: Mapping[str, Any] | None = None,
    support: tuple[np.ndarray, np.ndarray] | None = None,
    name: Hashable | None = None,
) -> xr.DataArray:
    """A time series on the samples of ``obj`` (time first) holding ``data``.

    ``data`` has the dims of ``obj`` followed by ``new_dims``; the result keeps the
    coordinates of ``obj``, gets ``new_coords``, the support ``support`` (default: that of
    ``obj``), the attrs ``attrs`` and its dims in the order ``order`` (the input's), new
    dims last. Without new dims the time index of ``obj`` is reused as it is (a lazy
    index stays lazy); with new dims the result is built by :func:`xr_nap.tsd`.
    """
    starts, ends = support_bounds(obj) if support is None else support
    name = obj.name if name is None else name
    if not new_dims and not new_coords:
        out = obj.copy(deep=False, data=data)
        out.name, out.attrs = name, dict(attrs or {})
        return with_support(out, starts, ends).transpose(*order)
    dims = (*obj.dims, *new_dims)
    coords = {k: v.variable for k, v in obj.coords.items() if k != TIME}
    coords.update(new_coords or {})
    out = tsd(times(obj), data, dims=dims, coords=coords, name=name, attrs=dict(attrs or {}))
    return with_support(out, starts, ends).transpose(*order, *new_dims)
