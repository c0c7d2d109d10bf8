"""The ``.nap`` accessors: thin, stateless, every method delegates to a public function.

``obj.nap.restrict(ep)`` is exactly ``xr_nap.restrict(obj, ep)``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

import xarray as xr

# method name -> module holding the public function of the same name
_METHODS = {
    "restrict": "xr_nap.core.restrict",
    "get": "xr_nap.core.restrict",
    "time_support": "xr_nap.core.time_series",
    "nap_type": "xr_nap.core.time_series",
    "select_units": "xr_nap.core.time_series",
    "count": "xr_nap.process.binning",
    "bin_average": "xr_nap.process.binning",
    "value_from": "xr_nap.core.value_from",
    "threshold": "xr_nap.core.threshold",
    "to_pynapple": "xr_nap.core.convert",
    "save": "xr_nap.io.npz",
    "tuning_curves": "xr_nap.process.tuning_curves",
    "event_triggered_average": "xr_nap.process.trigger_average",
    "perievent": "xr_nap.process.perievent",
    **{name: "xr_nap.core.intervals" for name in (  # for interval-set Datasets
        "union", "intersect", "set_diff", "merge_close_intervals", "drop_short_intervals",
        "drop_long_intervals", "tot_length", "in_interval", "time_span",
    )},
}


class _NapAccessor:
    def __init__(self, obj: xr.DataArray | xr.Dataset):
        self._obj = obj

    def __getattr__(self, name: str) -> Any:
        module = _METHODS.get(name)
        if module is None:
            raise AttributeError(f".nap has no method {name!r}")
        func = getattr(import_module(module), name)

        def method(*args: Any, **kwargs: Any) -> Any:
            return func(self._obj, *args, **kwargs)

        method.__doc__ = func.__doc__
        method.__name__ = name
        return method

    def __dir__(self) -> list[str]:
        return sorted(_METHODS)

    def __repr__(self) -> str:
        return f"<.nap accessor: {', '.join(self.__dir__())}>"


@xr.register_dataarray_accessor("nap")
class NapDataArrayAccessor(_NapAccessor):
    """pynapple operations on a time-series DataArray (``da.nap.restrict(ep)``, ...)."""


@xr.register_dataset_accessor("nap")
class NapDatasetAccessor(_NapAccessor):
    """pynapple operations on a TsGroup or interval-set Dataset."""
