"""The ``.nap`` accessors: thin, stateless, every method delegates to a public function.

``obj.nap.restrict(ep)`` is exactly ``xr_nap.restrict(obj, ep)``; each method has the
function's signature (without its first argument) and docstring. A DataArray's
accessor offers what applies to a time series; a Dataset's what applies to a TsGroup,
an interval set or a Dataset of time series.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import import_module
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import xarray as xr


def _function(name: str) -> Callable[..., Any]:
    # imported on first use: the heavier modules (pynwb, pynapple) stay unloaded
    return getattr(import_module("xr_nap"), name)


class _Accessor:
    __slots__ = ("_obj",)

    def __init__(self, obj: xr.DataArray | xr.Dataset):
        self._obj = obj

    @property
    def time_support(self) -> xr.Dataset:
        return _function("time_support")(self._obj)

    def nap_type(self) -> str:
        return _function("nap_type")(self._obj)

    def restrict(self, ep: Any) -> Any:
        return _function("restrict")(self._obj, ep)

    def count(self, bin_size: float | None = None, ep: Any = None, dtype: Any = None
              ) -> xr.DataArray:
        return _function("count")(self._obj, bin_size, ep, dtype)

    def tuning_curves(self, features: xr.DataArray, bins: int | Sequence[Any] = 10,
                      range: Sequence[Any] | None = None,  # noqa: A002  (pynapple's name)
                      epochs: Any = None, fs: float | None = None,
                      feature_names: Sequence[str] | None = None,
                      return_pandas: bool = False, return_counts: bool = False
                      ) -> xr.DataArray | pd.DataFrame:
        return _function("tuning_curves")(self._obj, features, bins, range, epochs, fs,
                                          feature_names, return_pandas, return_counts)

    def event_triggered_average(self, feature: xr.DataArray, bin_size: float,
                                window: float | tuple[float, float] = 0, ep: Any = None,
                                time_unit: str = "s") -> xr.DataArray:
        return _function("event_triggered_average")(self._obj, feature, bin_size, window,
                                                    ep, time_unit)

    def perievent(self, events: Any, window: float | tuple[float, float],
                  time_unit: str = "s", epochs: Any = None) -> Any:
        return _function("perievent")(self._obj, events, window, time_unit, epochs)

    def save(self, path: str | Path) -> Path:
        return _function("save")(self._obj, path)

    def to_pynapple(self) -> Any:
        return _function("to_pynapple")(self._obj)

    def __repr__(self) -> str:
        names = sorted(n for n in dir(type(self)) if not n.startswith("_"))
        return f"<.nap accessor: {', '.join(names)}>"


@xr.register_dataarray_accessor("nap")
class NapDataArrayAccessor(_Accessor):
    """pynapple operations on a time series (``da.nap.restrict(ep)``, ...)."""

    __slots__ = ()

    def get(self, start: float, end: float | None = None) -> xr.DataArray:
        return _function("get")(self._obj, start, end)

    def bin_average(self, bin_size: float, ep: Any = None) -> xr.DataArray:
        return _function("bin_average")(self._obj, bin_size, ep)

    def value_from(self, data: xr.DataArray, ep: Any = None,
                   mode: Literal["closest", "before", "after"] = "closest") -> xr.DataArray:
        return _function("value_from")(self._obj, data, ep, mode)

    def threshold(self, thr: float,
                  method: Literal["above", "below", "aboveequal", "belowequal"] = "above"
                  ) -> xr.DataArray:
        return _function("threshold")(self._obj, thr, method)

    def set_time_index(self, time_support: Any = None) -> xr.DataArray:
        return _function("set_time_index")(self._obj, time_support)


@xr.register_dataset_accessor("nap")
class NapDatasetAccessor(_Accessor):
    """pynapple operations on a TsGroup, an interval set or a Dataset of time series."""

    __slots__ = ()

    def get(self, start: float, end: float | None = None) -> xr.Dataset:
        return _function("get")(self._obj, start, end)

    def bin_average(self, bin_size: float, ep: Any = None) -> xr.DataArray:
        return _function("bin_average")(self._obj, bin_size, ep)

    def set_time_index(self, time_support: Any = None) -> xr.Dataset:
        return _function("set_time_index")(self._obj, time_support)

    def select_units(self, units: Any) -> xr.Dataset | xr.DataArray:
        return _function("select_units")(self._obj, units)

    # interval sets
    def union(self, b: Any) -> xr.Dataset:
        return _function("union")(self._obj, b)

    def intersect(self, b: Any) -> xr.Dataset:
        return _function("intersect")(self._obj, b)

    def set_diff(self, b: Any) -> xr.Dataset:
        return _function("set_diff")(self._obj, b)

    def merge_close_intervals(self, threshold: float) -> xr.Dataset:
        return _function("merge_close_intervals")(self._obj, threshold)

    def drop_short_intervals(self, threshold: float) -> xr.Dataset:
        return _function("drop_short_intervals")(self._obj, threshold)

    def drop_long_intervals(self, threshold: float) -> xr.Dataset:
        return _function("drop_long_intervals")(self._obj, threshold)

    def tot_length(self) -> float:
        return _function("tot_length")(self._obj)

    def in_interval(self, t: Any) -> Any:
        return _function("in_interval")(self._obj, t)

    def time_span(self) -> xr.Dataset:
        return _function("time_span")(self._obj)


def _copy_docstrings() -> None:
    """Each method shows its function's documentation (``help(da.nap.restrict)``)."""
    import xr_nap

    for cls in (_Accessor, NapDataArrayAccessor, NapDatasetAccessor):
        for name, member in vars(cls).items():
            if name.startswith("_"):
                continue
            doc = getattr(xr_nap, name).__doc__
            if isinstance(member, property):
                member.fget.__doc__ = doc
                setattr(cls, name, property(member.fget, doc=doc))
            else:
                member.__doc__ = doc
