"""Normalising per-unit / per-interval / per-column metadata values."""

from __future__ import annotations

from typing import Any

import numpy as np


def plain_array(values: Any) -> np.ndarray:
    """``values`` as a numpy array; object arrays holding only strings become unicode
    arrays, so they store in netCDF, zarr and NPZ without pickling."""
    arr = np.asarray(values)
    if arr.dtype == object and arr.size and all(isinstance(v, str) for v in arr.ravel()):
        arr = arr.astype(str)
    return arr
