"""Converters between xr-nap objects and pynapple objects (pynapple optional), and to
pandas tables.

Every object of the data model and every analysis result converts: time series,
TsGroups and interval sets to their pynapple class; a count of a TsGroup (dims
``time, unit``), a trigger average or a perievent of continuous data (``time`` plus
other dims) to a TsdFrame or TsdTensor; a perievent of spikes (a TsGroup Dataset, or
a dict of them) to TsGroups; tuning curves to pynapple 0.11's own tuning-curve
DataArray (``occupancy``, ``bin_edges``, ``fs``, ``rates`` in attrs); mutual
information to pynapple's DataFrame; other results without time (responses per
epoch) to a plain DataArray. :func:`from_pynapple` takes each of these back.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from xr_nap.core.intervals import INTERVAL, interval_set
from xr_nap.core.time_series import (
    TIME,
    UNIT,
    nap_type,
    series,
    support_bounds,
    times,
    ts,
    ts_group,
    tsd,
    tsd_frame,
    unit_offsets,
    unit_spike_times,
)

__all__ = ["to_pynapple", "from_pynapple", "to_dataframe"]


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


def to_pynapple(obj: Any) -> Any:
    """Convert an xr-nap object or analysis result to pynapple's (data are loaded).

    Parameters
    ----------
    obj : DataArray, Dataset, or a dict of them
        Any object of the data model or result of xr-nap's analyses (see the module
        notes); a dict (the perievents of a TsGroup) converts value by value.

    Examples
    --------
    >>> import xr_nap as nap
    >>> p = nap.to_pynapple(nap.tsd([0.0, 1.0], [3.0, 4.0]))  # doctest: +SKIP
    >>> type(p).__name__  # doctest: +SKIP
    'Tsd'
    """
    pnap = _pynapple()
    if isinstance(obj, Mapping) and not isinstance(obj, xr.Dataset):
        return {k: to_pynapple(v) for k, v in obj.items()}
    if isinstance(obj, xr.DataArray) and TIME not in obj.dims:
        return _result_to_pynapple(obj)
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
        with warnings.catch_warnings():
            # a TsGroup's ``rate`` on a count: pynapple keeps it (get_info) but warns
            # that its TsdFrame has a property of that name
            warnings.filterwarnings("ignore", message="Metadata name .* overlaps")
            return pnap.TsdFrame(t=t, d=np.asarray(obj.values), columns=cols,
                                 time_support=support,
                                 metadata=meta if len(meta.columns) else None)
    return pnap.TsdTensor(t=t, d=np.asarray(obj.values), time_support=support)


def _result_to_pynapple(obj: xr.DataArray) -> Any:
    """An analysis result without time in pynapple's form."""
    from xr_nap.process.tuning_curves import EPOCH_RATE, OCCUPANCY, bin_edges

    if OCCUPANCY in obj.coords:  # tuning curves: pynapple keeps these in attrs
        attrs: dict[str, Any] = {
            "occupancy": obj[OCCUPANCY].transpose(*obj.dims[1:]).values,
            "bin_edges": bin_edges(obj), "fs": obj.attrs.get("fs", np.nan)}
        if EPOCH_RATE in obj.coords:
            attrs["rates"] = obj[EPOCH_RATE].values
        return xr.DataArray(obj.values, dims=obj.dims,
                            coords={d: obj[d].values for d in obj.dims if d in obj.coords},
                            attrs=attrs)
    if obj.dims == (UNIT, "measure"):  # mutual information: a DataFrame in pynapple
        return obj.to_pandas().rename_axis(index=None, columns=None)
    return xr.DataArray(obj.values, dims=obj.dims,
                        coords={d: obj[d].values for d in obj.dims if d in obj.coords})


def from_pynapple(obj: Any) -> Any:
    """Convert a pynapple object or result to the matching xr-nap object.

    Takes pynapple's Ts, Tsd, TsdFrame, TsdTensor, TsGroup and IntervalSet, its
    tuning-curve DataArray (``compute_tuning_curves``), its other DataArray results,
    its mutual-information DataFrame, and dicts of these.

    Examples
    --------
    >>> import xr_nap as nap
    >>> x = nap.from_pynapple(nap.to_pynapple(nap.tsd([0.0, 1.0], [3.0, 4.0])))  # doctest: +SKIP
    >>> x.values.tolist()  # doctest: +SKIP
    [3.0, 4.0]
    """
    pnap = _pynapple()
    if isinstance(obj, dict):  # a TsGroup is a Mapping too, not a dict
        return {k: from_pynapple(v) for k, v in obj.items()}
    if isinstance(obj, xr.DataArray):
        return _result_from_pynapple(obj)
    if isinstance(obj, pd.DataFrame) and list(obj.columns) == ["bits/sec", "bits/spike"]:
        return xr.DataArray(obj.values, dims=(UNIT, "measure"),
                            coords={UNIT: obj.index.values, "measure": list(obj.columns)},
                            name="mutual_information",
                            attrs={"long_name": "Skaggs spatial information",
                                   "units": "bits/sec or bits/spike (see measure)"})
    if isinstance(obj, pnap.IntervalSet):
        meta = obj.metadata if len(obj.metadata_columns) else None
        return interval_set(obj.start, obj.end, metadata=meta)
    if not hasattr(obj, "time_support"):
        raise TypeError(f"cannot convert {type(obj).__name__} from pynapple")
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


def _result_from_pynapple(obj: xr.DataArray) -> xr.DataArray:
    """pynapple's tuning curves (attrs ``occupancy``, ``bin_edges``, ``fs``, ``rates``)
    in xr-nap's layout (coordinates, see :func:`xr_nap.tuning_curves`); other
    DataArray results as they are."""
    from xr_nap.process.tuning_curves import EPOCH_RATE, OCCUPANCY, _bin_coords

    attrs = dict(obj.attrs)
    if OCCUPANCY not in attrs or "bin_edges" not in attrs:
        return obj.copy()
    features = [str(d) for d in obj.dims[1:]]
    edges = [np.asarray(e, dtype=np.float64) for e in attrs.pop("bin_edges")]
    if len(edges) != len(features):
        raise ValueError(f"{len(edges)} bin_edges for {len(features)} features {features}")
    coords: dict[Any, Any] = {k: v.variable for k, v in obj.coords.items()
                              if k not in features}
    coords.update(_bin_coords(features, edges, None))
    coords[OCCUPANCY] = xr.Variable(features, np.asarray(attrs.pop(OCCUPANCY), np.float64),
                                    {"long_name": "feature samples per bin"})
    spikes = "rates" in attrs
    if spikes:
        coords[EPOCH_RATE] = xr.Variable(obj.dims[0], np.asarray(attrs.pop("rates")),
                                         {"units": "Hz", "long_name": "mean rate over the "
                                                                      "epochs"})
    out_attrs = {"fs": float(attrs.pop("fs", np.nan)),
                 **({"long_name": "firing rate", "units": "Hz"} if spikes else {})}
    return xr.DataArray(obj.values, dims=obj.dims, coords=coords, attrs=out_attrs,
                        name="tuning_curves")


def to_dataframe(obj: xr.DataArray | xr.Dataset, metadata: bool = False) -> pd.DataFrame:
    """A pandas table of ``obj``, in the shape pynapple users expect.

    A TsGroup gives the long table of its spikes: one row per spike, sorted by time,
    indexed by ``time`` (seconds) with a ``unit`` column (pynapple's
    ``TsGroup.to_tsd()`` shape; ``metadata=True`` adds the units' metadata
    columns). ``Dataset.to_dataframe()`` cannot give this: it broadcasts every
    variable against every dimension, so the spikes (dim ``spike``) and the per-unit
    variables (dim ``unit``) become a spikes x units cross product. An interval set
    gives one row per interval (``start``, ``end`` and metadata); a Ts/Tsd a one-column
    table indexed by ``time``; a TsdFrame the wide table (time x columns); anything
    else xarray's own ``to_dataframe``.

    Examples
    --------
    >>> import xr_nap as nap
    >>> g = nap.ts_group({1: [0.5, 2.0], 2: [1.0]}, metadata={"area": ["ca1", "ca3"]})
    >>> nap.to_dataframe(g)  # doctest: +NORMALIZE_WHITESPACE
          unit
    time
    0.5      1
    1.0      2
    2.0      1
    >>> nap.to_dataframe(g, metadata=True).columns.tolist()
    ['unit', 'rate', 'area']
    """
    if isinstance(obj, xr.Dataset) and nap_type(obj) == "TsGroup":
        offsets = unit_offsets(obj)
        ids = obj[UNIT].values
        row = np.repeat(np.arange(ids.size), np.diff(offsets))
        spikes = np.asarray(obj["spike_time"].values, dtype=np.float64)
        order = np.argsort(spikes, kind="stable")
        table = {UNIT: ids[row[order]]}
        if metadata:
            for key, var in obj.data_vars.items():
                if var.dims == (UNIT,) and key != "row_size":
                    table[str(key)] = np.asarray(var.values)[row[order]]
        return pd.DataFrame(table, index=pd.Index(spikes[order], name=TIME))
    if isinstance(obj, xr.Dataset) and nap_type(obj) == "IntervalSet":
        return obj.to_dataframe()
    if isinstance(obj, xr.DataArray) and TIME in obj.dims and obj.ndim <= 2:
        obj = series(obj)
        if obj.ndim == 1:
            return obj.reset_coords(drop=True).to_dataframe(name=obj.name or "value")
        return obj.reset_coords(drop=True).to_pandas()
    if isinstance(obj, xr.DataArray):
        return obj.to_dataframe(name=obj.name or "value")
    return obj.to_dataframe()
