"""Reductions over the time axis that hold one bounded block of data at a time.

Every reduction has one shape (flox's ``Aggregation`` idea), :class:`Reduction`:

- ``chunk(block, first_row)`` turns a numpy block of rows into a small partial result;
- ``combine(a, b)`` merges two partials (associative, so blocks may run anywhere);
- ``finalize(partial)`` gives the result.

:func:`reduce_time` runs it. Dask-backed data become one task per dask chunk, so the
same code runs on threads, processes or a ``dask.distributed`` cluster; other lazily
indexed data (NWB/HDF5, zarr) are read one window of about :data:`BLOCK_BYTES` at a
time; in-memory data are visited in place. Inside every block, ``chunk`` sees tiles of
at most :data:`TILE_BYTES`, so the numpy temporaries a reduction makes (indices, masks,
float64 copies) stay small whatever the chunk size. Peak memory is the block (or dask
chunk) in flight plus a few tiles per worker thread, plus the result, never the size of
the series.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from xr_nap._private import in_memory

__all__ = [
    "BLOCK_BYTES",
    "TILE_BYTES",
    "Reduction",
    "add_pairs",
    "reduce_time",
    "time_blocks",
    "segment_sums",
    "take_rows",
    "in_memory",
    "is_dask",
]

TIME = "time"
BLOCK_BYTES = 16 * 2**20  # what one read of a file-backed series brings in
TILE_BYTES = 2**20  # what one call of ``chunk`` sees: its temporaries scale with it


def is_dask(obj: xr.DataArray) -> bool:
    return obj.chunks is not None


@dataclass(frozen=True)
class Reduction:
    """How a reduction over time runs block by block (see the module docstring)."""

    chunk: Callable[[np.ndarray, int], Any]
    combine: Callable[[Any, Any], Any]
    finalize: Callable[[Any], Any] = lambda partial: partial
    empty: Callable[[], Any] = lambda: None  # the partial of no rows at all

    def merge(self, a: Any, b: Any) -> Any:
        return b if a is None else a if b is None else self.combine(a, b)


def add_pairs(a: tuple, b: tuple) -> tuple:
    """Combine partials made of two parts that add (arrays) or join (lists)."""
    return a[0] + b[0], a[1] + b[1]


def _row_bytes(obj: xr.DataArray) -> int:
    return max(int(np.prod(obj.shape[1:], dtype=np.int64)) * obj.dtype.itemsize, 1)


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
    step = max((block_bytes or BLOCK_BYTES) // _row_bytes(obj), 1)
    if rows is None:
        runs = [(lo, hi)] if hi > lo else []
    else:
        starts = np.clip(np.asarray(rows[0], np.int64), lo, hi)
        runs = _runs(starts, np.clip(np.asarray(rows[1], np.int64), starts, hi), step)
    if is_dask(obj):
        edges = np.concatenate([[0], np.cumsum(obj.chunks[0])])
        return [(max(a, lo), min(b, hi)) for a, b in zip(edges[:-1], edges[1:], strict=True)
                if any(b > r0 and a < r1 for r0, r1 in runs)]
    if in_memory(obj):  # no read to bound: one block per run, visited in tiles
        return runs
    return [(a, min(a + step, r1)) for r0, r1 in runs for a in range(r0, r1, step)]


def _tiles(blocks: list[np.ndarray], c0: int) -> Iterator[tuple[list[np.ndarray], int]]:
    row = sum(max(int(np.prod(b.shape[1:], dtype=np.int64)) * b.dtype.itemsize, 1)
              for b in blocks)
    step = max(TILE_BYTES // row, 1)
    for a in range(0, blocks[0].shape[0], step):
        yield [b[a:a + step] for b in blocks], c0 + a


def _reduce_block(reduction: Reduction, blocks: list[Any], c0: int, single: bool) -> Any:
    partial = reduction.empty()
    for tiles, t0 in _tiles([np.asarray(b) for b in blocks], c0):
        partial = reduction.merge(partial, reduction.chunk(tiles[0] if single else tiles, t0))
    return partial


def reduce_time(
    obj: xr.DataArray | list[xr.DataArray],
    reduction: Reduction,
    lo: int = 0,
    hi: int | None = None,
    block_bytes: int | None = None,
    rows: tuple[np.ndarray, np.ndarray] | None = None,
) -> Any:
    """Run ``reduction`` over the rows ``lo..hi`` of ``obj`` (time first), block by block.

    ``obj`` may be a list of series on one time axis: ``chunk`` then gets the list of
    their blocks for the same rows. ``rows`` (sorted, disjoint ``[starts, stops)``)
    limits the reading to the rows needed.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> total = Reduction(chunk=lambda block, first: float(block.sum()),
    ...                   combine=lambda a, b: a + b)
    >>> reduce_time(nap.tsd(np.arange(5.0), np.arange(5.0)), total)
    10.0
    """
    single = not isinstance(obj, list | tuple)
    objs = [obj] if single else list(obj)
    # the same series given twice (tuning_curves(x, x)) is read once
    keys = list(dict.fromkeys(id(o.variable) for o in objs))
    unique = [next(o for o in objs if id(o.variable) == key) for key in keys]
    which = [keys.index(id(o.variable)) for o in objs]
    hi = objs[0].sizes[TIME] if hi is None else hi
    chunked = next((o for o in unique if is_dask(o)), None)
    if chunked is not None:  # every series on the dask chunks of the first dask one
        unique = [o if is_dask(o) and o.chunks[0] == chunked.chunks[0]
                  else o.chunk({TIME: chunked.chunks[0]}) for o in unique]
    # blocks follow the dask chunks, else the reads of a file-backed series, else runs
    guide = chunked if chunked is not None else next(
        (o for o in unique if not in_memory(o)), unique[0])
    row = sum(_row_bytes(o) for o in unique)
    blocks = time_blocks(guide, lo, hi, (block_bytes or BLOCK_BYTES) * _row_bytes(guide)
                         // row, rows)
    if chunked is not None:
        import dask

        # each task gets its dask chunks as they are (no copy into a new array)
        chunks = [o.data.rechunk({i: -1 for i in range(1, o.ndim)}).to_delayed().reshape(-1)
                  for o in unique]
        edges = np.concatenate([[0], np.cumsum(unique[0].chunks[0])])
        tasks = []
        for c0, c1 in blocks:
            k = int(np.searchsorted(edges, c0, side="right")) - 1
            tasks.append(dask.delayed(_reduce_chunk)(reduction, [c[k] for c in chunks],
                                                     which, int(edges[k]), c0, c1, single))
        parts = dask.compute(*tasks)
    elif all(in_memory(o) for o in unique):
        values = [o.values for o in unique]
        parts = [_reduce_block(reduction, [values[w][c0:c1] for w in which], c0, single)
                 for c0, c1 in blocks]
    else:
        parts = (_reduce_block(reduction, _select([o.isel({TIME: slice(c0, c1)}).values
                                                   for o in unique], which), c0, single)
                 for c0, c1 in blocks)
    return reduction.finalize(functools.reduce(reduction.merge, parts, reduction.empty()))


def _select(values: list, which: list[int]) -> list:
    return [values[w] for w in which]


def _reduce_chunk(reduction: Reduction, chunks: list[np.ndarray], which: list[int],
                  first: int, c0: int, c1: int, single: bool) -> Any:
    """A dask task: the rows ``c0..c1`` of whole dask chunks starting at row ``first``."""
    return _reduce_block(reduction, [chunks[w][c0 - first:c1 - first] for w in which], c0,
                         single)


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

    def chunk(block: np.ndarray, c0: int) -> list[tuple[int, np.ndarray]]:
        c1 = c0 + block.shape[0]
        ka = int(np.searchsorted(hi, c0, side="right"))
        kb = int(np.searchsorted(lo, c1, side="left"))
        local_lo = np.clip(lo[ka:kb] - c0, 0, block.shape[0])
        local_hi = np.clip(hi[ka:kb] - c0, 0, block.shape[0])
        return [(ka, range_sums(block, local_lo, local_hi))]

    def finalize(parts: list[tuple[int, np.ndarray]] | None) -> np.ndarray:
        for ka, sums in parts or []:  # a range cut by a block edge gets two partial sums
            total[ka:ka + sums.shape[0]] += sums
        return total

    first = int(lo[hi > lo][0])
    return reduce_time(obj, Reduction(chunk, list.__add__, finalize), first, int(hi.max()),
                       rows=(lo, hi))


def take_rows(obj: xr.DataArray, rows: np.ndarray) -> np.ndarray:
    """``obj[rows]`` (numpy) for sorted rows, read one bounded block at a time."""
    rows = np.asarray(rows, dtype=np.int64)
    out = np.empty((rows.size, *obj.shape[1:]), dtype=obj.dtype)
    if rows.size == 0:
        return out

    def chunk(block: np.ndarray, c0: int) -> list[tuple[int, np.ndarray]]:
        a, z = np.searchsorted(rows, [c0, c0 + block.shape[0]])
        return [(int(a), block[rows[a:z] - c0])]

    def finalize(parts: list[tuple[int, np.ndarray]] | None) -> np.ndarray:
        for a, values in parts or []:
            out[a:a + values.shape[0]] = values
        return out

    return reduce_time(obj, Reduction(chunk, list.__add__, finalize), int(rows[0]),
                       int(rows[-1]) + 1, rows=(rows, rows + 1))
