"""Lazy wrapping of array-likes (h5py, zarr, ...) that xarray would otherwise load."""

from __future__ import annotations

from typing import Any

import numpy as np
from xarray.backends import BackendArray
from xarray.core import indexing


class ArrayAdapter(BackendArray):
    """Expose any sliceable array-like to xarray's lazy indexing machinery.

    Only basic indexing (integers and slices) is asked of the wrapped array; xarray
    applies any fancy indexing to the (bounded) slice it read.
    """

    def __init__(self, array: Any):
        self.array = array
        self.shape = tuple(int(n) for n in array.shape)
        self.dtype = np.dtype(array.dtype)

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        rows = read_row_runs(key, self._read)
        if rows is not None:
            return rows
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.BASIC, self._read
        )

    def _read(self, key: tuple) -> np.ndarray:
        return np.asarray(self.array[key])


def read_row_runs(key: indexing.ExplicitIndexer, read: Any) -> np.ndarray | None:
    """Read sorted integer rows (e.g. several restricted intervals) run by run.

    xarray would otherwise read the whole bounding range of the rows and select in
    memory: for two intervals far apart in a big file that is most of the file. Here
    each contiguous run of rows is one basic read, so memory stays bounded by what was
    asked for. Returns ``None`` when ``key`` is not of that form.
    """
    if not isinstance(key, indexing.OuterIndexer) or not key.tuple:
        return None
    rows, rest = key.tuple[0], key.tuple[1:]
    if not isinstance(rows, np.ndarray) or rows.ndim != 1 or rows.size == 0 or not all(
            isinstance(k, slice) and (k.step or 1) > 0 for k in rest):
        return None
    steps = np.diff(rows)
    if np.any(steps <= 0) or rows[0] < 0:
        return None
    cuts = np.flatnonzero(steps != 1) + 1
    firsts = np.concatenate([[0], cuts])
    lasts = np.concatenate([cuts, [rows.size]])
    return np.concatenate([read((slice(int(rows[a]), int(rows[b - 1]) + 1), *rest))
                           for a, b in zip(firsts, lasts, strict=True)])


def lazy_array(array: Any) -> indexing.ExplicitlyIndexed:
    """Wrap ``array`` so that an xarray object built on it reads only what is indexed.

    An array that xarray already indexes lazily is returned as it is (wrapping it twice
    would hand xarray's own indexer objects to the inner array).

    Examples
    --------
    >>> import numpy as np
    >>> lazy = lazy_array(np.arange(5))
    >>> lazy_array(lazy) is lazy
    True
    """
    if isinstance(array, indexing.ExplicitlyIndexed):
        return array
    return indexing.LazilyIndexedArray(ArrayAdapter(array))


class Windows:
    """Rows ``[lo[k], hi[k])`` of a lazily read variable (time first), one window after
    the other, read only when indexed.

    What restricting or thresholding a file-backed series gives: xarray's own
    ``isel`` with the kept positions would compose its lazy slice with them by first
    expanding that slice to an index as long as the series; here the windows are two
    integers each, and a read of some output rows reads just the windows they fall in.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> w = Windows(xr.Variable("time", np.arange(10)), np.array([1, 6]), np.array([3, 9]))
    >>> w.shape, w[(slice(None),)].tolist(), w[(slice(1, 4),)].tolist()
    ((5,), [1, 2, 6, 7, 8], [2, 6, 7])
    """

    def __init__(self, variable: Any, lo: np.ndarray, hi: np.ndarray):
        keep = np.asarray(hi) > np.asarray(lo)
        self.variable = variable
        self.lo = np.asarray(lo, dtype=np.int64)[keep]
        self.hi = np.asarray(hi, dtype=np.int64)[keep]
        self.offsets = np.concatenate([[0], np.cumsum(self.hi - self.lo)])
        self.shape = (int(self.offsets[-1]), *variable.shape[1:])
        self.dtype = np.dtype(variable.dtype)

    def __getitem__(self, key: tuple) -> np.ndarray:
        rows, rest = key[0], key[1:]
        if isinstance(rows, int | np.integer):
            return self[(slice(int(rows), int(rows) + 1), *rest)][0]
        a, b, step = rows.indices(self.shape[0])
        if step != 1:
            return self[(slice(a, b), *rest)][::step] if b > a else self[(slice(0, 0),
                                                                           *rest)]
        pieces = []
        k = max(int(np.searchsorted(self.offsets, a, side="right")) - 1, 0)
        while k < self.lo.size and self.offsets[k] < b:
            first = self.lo[k] + max(a - self.offsets[k], 0)
            stop = self.lo[k] + min(b, self.offsets[k + 1]) - self.offsets[k]
            if stop > first:
                pieces.append(np.asarray(self.variable[(slice(int(first), int(stop)),
                                                        *rest)].values))
            k += 1
        if not pieces:
            return np.empty((0, *np.empty(self.shape[1:])[rest].shape), dtype=self.dtype)
        return np.concatenate(pieces)
