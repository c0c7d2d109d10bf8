"""Reductions over the time axis that read data one bounded block at a time.

In-memory data are reduced in one call. Dask-backed data become one task per chunk
(so the same code runs on threads, processes or a ``dask.distributed`` cluster).
Other lazily indexed data (NWB/HDF5, zarr) are read one window of about
``BLOCK_BYTES`` at a time. Peak memory is thus bounded by the block size plus the
size of the result, never by the size of the series.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

TIME = "time"
# a block's numpy temporaries (digitize, masks, float64 copies) take a few times its
# size: 16 MiB keeps a reduction well under 150 MiB and reads are still large
BLOCK_BYTES = 16 * 2**20


def is_dask(obj: xr.DataArray) -> bool:
    return obj.chunks is not None


def in_memory(obj: xr.DataArray) -> bool:
    return isinstance(obj.variable._data, np.ndarray)


def _block_rows(obj: xr.DataArray, block_bytes: int) -> int:
    row = max(int(np.prod(obj.shape[1:], dtype=np.int64)) * obj.dtype.itemsize, 1)
    return max(block_bytes // row, 1)


def _runs(lo: np.ndarray, hi: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """The sorted, disjoint row ranges ``[lo[k], hi[k])`` as runs, bridging gaps < gap."""
    keep = hi > lo
    lo, hi = lo[keep], hi[keep]
    if lo.size == 0:
        return []
    new = np.ones(lo.size, dtype=bool)
    new[1:] = lo[1:] - hi[:-1] >= gap
    last = np.append(np.flatnonzero(new)[1:] - 1, lo.size - 1)
    return [(int(a), int(b)) for a, b in zip(lo[new], hi[last], strict=True)]


def time_blocks(obj: xr.DataArray, lo: int, hi: int, block_bytes: int | None = None,
                rows: tuple[np.ndarray, np.ndarray] | None = None) -> list[tuple[int, int]]:
    """Row ranges ``(c0, c1)`` covering ``[lo, hi)``: dask chunks or bounded windows.

    With ``rows`` (sorted, disjoint ranges ``[starts, stops)`` of the rows actually
    needed), chunks and windows holding none of them are skipped, so a reduction over
    a few distant epochs of a big file does not read what lies between them.
    """
    if in_memory(obj):
        return [(lo, hi)] if hi > lo else []
    step = _block_rows(obj, block_bytes or BLOCK_BYTES)
    if rows is None:
        runs = [(lo, hi)] if hi > lo else []
    else:
        starts = np.clip(np.asarray(rows[0], np.int64), lo, hi)
        runs = _runs(starts, np.clip(np.asarray(rows[1], np.int64), starts, hi), step)
    if is_dask(obj):
        edges = np.concatenate([[0], np.cumsum(obj.chunks[0])])
        return [(max(a, lo), min(b, hi)) for a, b in zip(edges[:-1], edges[1:], strict=True)
                if any(b > r0 and a < r1 for r0, r1 in runs)]
    return [(a, min(a + step, r1)) for r0, r1 in runs for a in range(r0, r1, step)]


def reduce_time(
    obj: xr.DataArray,
    func: Callable[[np.ndarray, int], Any],
    combine: Callable[[list[Any]], Any],
    lo: int = 0,
    hi: int | None = None,
    block_bytes: int | None = None,
    rows: tuple[np.ndarray, np.ndarray] | None = None,
) -> Any:
    """``combine([func(block, first_row) for each block of rows lo..hi])``.

    ``func`` gets a numpy block of ``obj`` (all dimensions, a range of time rows) and
    the index of its first row; it must return a small partial result. ``rows``
    (sorted, disjoint ``[starts, stops)``) limits the reading to the rows needed.
    """
    hi = obj.sizes[TIME] if hi is None else hi
    blocks = time_blocks(obj, lo, hi, block_bytes, rows)
    if is_dask(obj):
        import dask

        data = obj.data.rechunk({i: -1 for i in range(1, obj.ndim)})
        parts = [dask.delayed(func)(data[c0:c1], c0) for c0, c1 in blocks]
        return combine(list(dask.compute(*parts)))
    return combine([func(np.asarray(obj.isel({TIME: slice(c0, c1)}).values), c0)
                    for c0, c1 in blocks])


def sum_dtype(dtype: Any) -> np.dtype:
    """float64 for real data, complex128 for complex data (sums never drop a part)."""
    return np.result_type(dtype, np.float64)


def range_sums(block: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Sums over axis 0 of ``block[lo[k]:hi[k]]`` (sorted, disjoint ranges), float64
    (complex128 for complex data)."""
    dtype = sum_dtype(block.dtype)
    out = np.zeros((lo.size, *block.shape[1:]), dtype=dtype)
    nonempty = hi > lo
    if nonempty.any():
        idx = np.stack([lo[nonempty], hi[nonempty]], axis=1).ravel()
        if idx[-1] >= block.shape[0]:
            idx = idx[:-1]
        out[nonempty] = np.add.reduceat(block, idx, axis=0, dtype=dtype)[0::2]
    return out


def segment_sums(obj: xr.DataArray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Sums of ``obj`` over the row ranges ``[lo[k], hi[k])`` (sorted, disjoint).

    Reads only rows that fall in a range, one block at a time.
    """
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.maximum(np.asarray(hi, dtype=np.int64), lo)
    total = np.zeros((lo.size, *obj.shape[1:]), dtype=sum_dtype(obj.dtype))
    if lo.size == 0 or not np.any(hi > lo):
        return total

    def partial(block: np.ndarray, c0: int):
        c1 = c0 + block.shape[0]
        ka = int(np.searchsorted(hi, c0, side="right"))
        kb = int(np.searchsorted(lo, c1, side="left"))
        local_lo = np.clip(lo[ka:kb] - c0, 0, block.shape[0])
        local_hi = np.clip(hi[ka:kb] - c0, 0, block.shape[0])
        return ka, range_sums(block, local_lo, local_hi)

    def combine(parts):
        for ka, sums in parts:
            total[ka:ka + sums.shape[0]] += sums
        return total

    first = int(lo[hi > lo][0])
    last = int(hi.max())
    return reduce_time(obj, partial, combine, first, last, rows=(lo, hi))


def take_rows(obj: xr.DataArray, rows: np.ndarray) -> np.ndarray:
    """``obj[rows]`` (numpy) for sorted rows, read one bounded block at a time."""
    rows = np.asarray(rows, dtype=np.int64)
    out = np.empty((rows.size, *obj.shape[1:]), dtype=obj.dtype)
    if rows.size == 0:
        return out

    def part(block, c0):
        a, z = np.searchsorted(rows, [c0, c0 + block.shape[0]])
        return a, block[rows[a:z] - c0]

    def combine(parts):
        for a, values in parts:
            out[a:a + values.shape[0]] = values
        return out

    return reduce_time(obj, part, combine, int(rows[0]), int(rows[-1]) + 1,
                       rows=(rows, rows + 1))
