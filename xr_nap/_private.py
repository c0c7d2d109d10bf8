"""The only module of xr-nap that reaches into xarray's non-public API.

Each use is here because no public API gives the same thing, and each has a fallback
that keeps results right (only slower) if a future xarray changes what it relies on;
``tests/test_private.py`` runs the fallbacks.

- :func:`in_memory`: whether a DataArray's values are a numpy array already. xarray
  can say whether data are dask-backed (``.chunks``) but not whether they are a
  lazily indexed file array, and asking for ``.data`` would load them. Fallback:
  "not known to be in memory", which sends reductions down the block-by-block path.
- :func:`fast_dataset`: ``Dataset._construct_direct``, the constructor without merge and
  alignment, for the ragged TsGroup whose parts are consistent by construction
  (``benchmarks/bench_nwb.py``'s units first access and ``bench_npz.py`` show the
  cost of the public constructor). Fallback: the public constructor.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

__all__ = ["in_memory", "fast_dataset"]


def in_memory(obj: xr.DataArray | xr.Variable) -> bool:
    """Whether ``obj``'s values are a numpy array (not dask, not a lazy file array)."""
    variable = obj.variable if isinstance(obj, xr.DataArray) else obj
    return isinstance(getattr(variable, "_data", None), np.ndarray)


_CONSTRUCT = getattr(xr.Dataset, "_construct_direct", None)


def fast_dataset(variables: dict, coord_names: set, dims: dict, attrs: dict,
                 indexes: dict, public: Any) -> xr.Dataset:
    """``Dataset._construct_direct(...)``, or ``public()`` where it is missing or its
    signature changed."""
    if _CONSTRUCT is not None:
        try:
            return _CONSTRUCT(variables, coord_names=coord_names, dims=dims, attrs=attrs,
                              indexes=indexes)
        except TypeError:
            pass
    return public()
