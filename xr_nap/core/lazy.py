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
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.BASIC, self._read
        )

    def _read(self, key: tuple) -> np.ndarray:
        return np.asarray(self.array[key])


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
