"""Converters between xr-nap objects and pynapple objects (pynapple optional)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from xr_nap.core.intervals import INTERVAL, interval_set
from xr_nap.core.time_series import (
    UNIT,
    nap_type,
    series,
    support_bounds,
    times,
    ts,
    ts_group,
    tsd,
    tsd_frame,
    unit_spike_times,
)

__all__ = ["to_pynapple", "from_pynapple"]


def _pynapple():
    try:
        import pynapple
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("to_pynapple/from_pynapple need pynapple: pip install pynapple") from err
    return pynapple


def _metadata(obj: xr.DataArray | xr.Dataset, dim: str, skip: tuple = ()) -> pd.DataFrame:
    cols = {}
    for key, var in {**obj.coords, **getattr(obj, "data_vars", {})}.items():
        if var.dims == (dim,) and key != dim and key not in skip:
            cols[str(key)] = np.asarray(var.values)
    return pd.DataFrame(cols, index=range(obj.sizes.get(dim, 0)))


def to_pynapple(obj: xr.DataArray | xr.Dataset) -> Any:
    """Convert an xr-nap object to the matching pynapple object (data are loaded).

    Examples
    --------
    >>> import xr_nap as nap
    >>> p = nap.to_pynapple(nap.tsd([0.0, 1.0], [3.0, 4.0]))  # doctest: +SKIP
    >>> type(p).__name__  # doctest: +SKIP
    'Tsd'
    """
    pnap = _pynapple()
    obj = series(obj)
    kind = nap_type(obj)
    if kind == "IntervalSet":
        meta = _metadata(obj, INTERVAL, skip=("start", "end"))
        return pnap.IntervalSet(obj["start"].values, obj["end"].values,
                                metadata=meta if len(meta.columns) else None)
    starts, ends = support_bounds(obj)
    support = pnap.IntervalSet(starts, ends)
    if kind == "TsGroup":
        units = {uid: pnap.Ts(t=tt) for uid, tt in unit_spike_times(obj)}
        meta = _metadata(obj, UNIT, skip=("row_size", "rate"))
        meta.index = list(units)
        return pnap.TsGroup(units, time_support=support,
                            metadata=meta if len(meta.columns) else None)
    t = times(obj)
    if kind == "Ts":
        return pnap.Ts(t=t, time_support=support)
    if kind == "Tsd":
        return pnap.Tsd(t=t, d=np.asarray(obj.values), time_support=support)
    if kind == "TsdFrame":
        dim = obj.dims[1]
        meta = _metadata(obj, dim)
        cols = obj[dim].values if dim in obj.coords else np.arange(obj.shape[1])
        meta.index = cols
        return pnap.TsdFrame(t=t, d=np.asarray(obj.values), columns=cols, time_support=support,
                             metadata=meta if len(meta.columns) else None)
    return pnap.TsdTensor(t=t, d=np.asarray(obj.values), time_support=support)


def from_pynapple(obj: Any) -> xr.DataArray | xr.Dataset:
    """Convert a pynapple object to the matching xr-nap object."""
    pnap = _pynapple()
    if isinstance(obj, pnap.IntervalSet):
        meta = obj.metadata if len(obj.metadata_columns) else None
        return interval_set(obj.start, obj.end, metadata=meta)
    support = (obj.time_support.start, obj.time_support.end)
    support = np.column_stack(support) if len(support[0]) else np.empty((0, 2))
    if isinstance(obj, pnap.TsGroup):
        meta = obj.metadata.drop(columns=["rate"], errors="ignore")
        return ts_group({k: obj[k].index.values for k in obj.keys()}, time_support=support,
                        metadata=meta if len(meta.columns) else None)
    t = obj.index.values
    if isinstance(obj, pnap.Ts) and not isinstance(obj, (pnap.Tsd, pnap.TsdFrame, pnap.TsdTensor)):
        return ts(t, time_support=support)
    if isinstance(obj, pnap.TsdFrame):
        meta = obj.metadata if len(obj.metadata_columns) else None
        return tsd_frame(t, np.asarray(obj.values), columns=np.asarray(obj.columns),
                         time_support=support, metadata=meta)
    if isinstance(obj, (pnap.Tsd, pnap.TsdTensor)):
        return tsd(t, np.asarray(obj.values), time_support=support)
    raise TypeError(f"cannot convert {type(obj).__name__} from pynapple")


