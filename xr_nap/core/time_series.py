"""Constructors and accessors for xr-nap's data model.

Every time series is an :class:`xarray.DataArray` with a ``time`` dimension (float64
seconds) whose coordinate carries a :class:`~xr_nap.core.time_index.TimeIndex`: the
sample times and the time support, kept true by xarray's own operations (see
:mod:`xr_nap.core.time_index`). A group of spike trains is a CF contiguous ragged
:class:`xarray.Dataset`; it and interval sets keep their support in
``attrs["time_support"]`` (they have no time index).

The pynapple class of a DataArray follows from its layout (1-D Tsd, 2-D TsdFrame,
3-D+ TsdTensor); a ``Ts`` (times without data: its values are its own times) is marked
by ``attrs["nap_type"] = "Ts"``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from xarray.indexes import PandasIndex

from xr_nap._private import fast_dataset
from xr_nap.core.intervals import bounds, encode_support, interval_set
from xr_nap.core.metadata import plain_array
from xr_nap.core.search import drop_outside, positions_in, rates
from xr_nap.core.time_index import (
    TimeIndex,
    check_support,
    default_support,
    set_index,
    sorted_seconds,
    time_coords,
    time_index,
)
from xr_nap.errors import TimeAxisError, XrNapError

TIME = "time"
UNIT = "unit"
SPIKE = "spike"
COLUMN = "column"
SUPPORT_ATTR = "time_support"
TYPE_ATTR = "nap_type"
# A TsGroup is a CF discrete sampling geometry: a contiguous ragged array of time series
# (CF 1.11, section 9.3.3): the spike times are the time coordinate of the observations,
# ``row_size`` says how many belong to each unit, and the unit ids identify the series.
# With these attributes cf_xarray (and CF tools) find the time axis and the roles.
GROUP_CF_ATTRS = {"featureType": "timeSeries", "Conventions": "CF-1.11"}
SPIKE_TIME_ATTRS = {"units": "s", "standard_name": "time", "axis": "T",
                    "long_name": "spike time"}
UNIT_ATTRS = {"cf_role": "timeseries_id", "long_name": "unit id"}

__all__ = [
    "ts",
    "tsd",
    "tsd_frame",
    "tsd_tensor",
    "ts_group",
    "nap_type",
    "time_support",
    "support_bounds",
    "with_support",
    "times",
    "unit_spike_times",
    "select_units",
    "series",
    "set_time_index",
    "to_seconds",
]


# --------------------------------------------------------------------------- validation
def as_time_array(t: Any, what: str = "t") -> np.ndarray:
    """Return ``t`` as a validated 1-D float64 array of sorted, finite times in seconds.

    Raises
    ------
    TimeAxisError
        If ``t`` is not 1-D numbers of seconds, has non-finite values or is not sorted
        (non-decreasing).
    """
    if isinstance(t, xr.DataArray):
        t = t.values
    return sorted_seconds(t, what, "sort times and data together first")


def _as_data(d: Any) -> Any:
    """Keep lazy arrays lazy: numpy (incl. memmap) and dask pass through; other
    array-likes (h5py, zarr, ...) are wrapped so that xarray indexes them lazily."""
    if isinstance(d, xr.DataArray):
        d = d.data
    if isinstance(d, np.ndarray) or _is_duck_dask(d):
        return d
    if hasattr(d, "shape") and hasattr(d, "dtype") and hasattr(d, "__getitem__"):
        from xr_nap.core.lazy import lazy_array

        return lazy_array(d)
    return np.asarray(d)


def _is_duck_dask(d: Any) -> bool:
    return type(d).__module__.startswith("dask.")


def _time_coords(t: np.ndarray, time_support: Any) -> tuple[xr.Coordinates, np.ndarray | None]:
    """The time coordinate for ``t`` and the support, and the positions of the samples
    inside the support (``None`` when all are: pynapple drops the others)."""
    if time_support is None:
        return time_coords(t), None
    starts, ends = bounds(time_support)
    keep = drop_outside(t, starts, ends)
    return time_coords(t if keep is None else t[keep], starts, ends), keep


def _span(firsts: Any, lasts: Any) -> tuple[np.ndarray, np.ndarray]:
    """The default support of several trains: earliest to latest time."""
    firsts = np.asarray(firsts, dtype=np.float64)
    lasts = np.asarray(lasts, dtype=np.float64)
    if not firsts.size:
        return np.empty(0), np.empty(0)
    return default_support(float(firsts.min()), float(lasts.max()), 2)


# --------------------------------------------------------------------------- constructors
def tsd(
    t: Any,
    d: Any,
    time_support: Any = None,
    *,
    dims: Sequence[Hashable] | None = None,
    coords: Mapping[Hashable, Any] | None = None,
    name: Hashable | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> xr.DataArray:
    """Build a time series (pynapple ``Tsd``/``TsdFrame``/``TsdTensor``) as a DataArray.

    Parameters
    ----------
    t : array-like
        Sample times in seconds, sorted, finite.
    d : array-like
        Data whose first axis is time. numpy (incl. memmap) and dask arrays are used as
        they are; other array-likes (h5py, zarr) are wrapped lazily, never loaded.
    time_support : interval set, optional
        Samples outside it are dropped, as pynapple does.
    dims : sequence of str, optional
        Dimension names; the first must be ``"time"``. Defaults to ``("time",)``,
        ``("time", "column")`` or ``("time", "dim_1", ...)``.
    coords, name, attrs : optional
        Passed to :class:`xarray.DataArray`.

    Returns
    -------
    xarray.DataArray

    Examples
    --------
    >>> import xr_nap as nap
    >>> x = nap.tsd([0.0, 1.0, 2.0], [10, 11, 12], time_support=(0.5, 2.0))
    >>> x.values
    array([11, 12])
    >>> nap.time_support(x).end.values
    array([2.])
    """
    t = as_time_array(t)
    data = _as_data(d)
    ndim = len(data.shape)
    if ndim == 0 or data.shape[0] != t.size:
        raise ValueError(
            f"t has {t.size} samples but d has shape {tuple(data.shape)}; "
            "the first axis of d must match t"
        )
    if dims is None:
        dims = (TIME,) if ndim == 1 else (TIME, COLUMN) if ndim == 2 else (
            TIME, *(f"dim_{i}" for i in range(1, ndim)))
    dims = tuple(dims)
    if len(dims) != ndim or dims[0] != TIME:
        raise ValueError(f"dims must have {ndim} names starting with 'time', got {dims}")
    _check_values(data, "d")
    tcoords, keep = _time_coords(t, time_support)
    attrs = {k: v for k, v in (attrs or {}).items() if k not in (SUPPORT_ATTR, TYPE_ATTR)}
    out = xr.DataArray(data, dims=dims, name=name, attrs=attrs)
    if coords:
        out = out.assign_coords({k: v for k, v in coords.items() if k != TIME})
    if keep is not None:  # xarray indexes lazy data lazily
        out = out.isel({TIME: keep})
    # assign_coords keeps the index as built; the constructor would deep-copy it
    return out.assign_coords(tcoords)


def _check_values(data: Any, what: str) -> None:
    if np.dtype(data.dtype).kind == "V":
        raise XrNapError(f"{what} has a structured dtype {data.dtype}; give plain columns "
                         "(one column per field)")


def tsd_frame(
    t: Any,
    d: Any,
    columns: Sequence[Hashable] | None = None,
    time_support: Any = None,
    metadata: Mapping[str, Sequence[Any]] | pd.DataFrame | None = None,
    *,
    column_dim: str = COLUMN,
    name: Hashable | None = None,
) -> xr.DataArray:
    """Build a pynapple ``TsdFrame``: dims ``("time", column_dim)``.

    Per-column ``metadata`` become non-dimension coordinates on the column dimension.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> f = nap.tsd_frame(np.arange(3.0), np.zeros((3, 2)), columns=["x", "y"],
    ...                   metadata={"area": ["ca1", "ca3"]})
    >>> f.dims, f.column.values.tolist(), f.area.values.tolist()
    (('time', 'column'), ['x', 'y'], ['ca1', 'ca3'])
    """
    data = _as_data(d)
    if len(data.shape) == 1:
        data = data[:, None]
    if len(data.shape) != 2:
        raise ValueError(f"a TsdFrame needs 2-D data, got shape {tuple(data.shape)}")
    ncol = data.shape[1]
    cols = np.arange(ncol) if columns is None else plain_array(columns)
    if cols.shape != (ncol,):
        raise ValueError(f"{len(cols)} column names for {ncol} columns")
    coords: dict[Hashable, Any] = {column_dim: cols}
    coords.update(_metadata_coords(metadata, column_dim, ncol))
    return tsd(t, data, time_support, dims=(TIME, column_dim), coords=coords, name=name)


def tsd_tensor(t: Any, d: Any, time_support: Any = None, **kwargs: Any) -> xr.DataArray:
    """Build a pynapple ``TsdTensor``: data of 3 or more dimensions, time first.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> nap.tsd_tensor(np.arange(2.0), np.zeros((2, 3, 4))).dims
    ('time', 'dim_1', 'dim_2')
    """
    if len(np.shape(d) if not hasattr(d, "shape") else d.shape) < 3:
        raise ValueError("a TsdTensor needs data with at least 3 dimensions")
    return tsd(t, d, time_support, **kwargs)


def ts(t: Any, time_support: Any = None, *, name: Hashable | None = None) -> xr.DataArray:
    """Build a pynapple ``Ts`` (timestamps without data).

    Convention: the values of a Ts are its own times (float64), so that every
    xarray operation keeps them aligned; ``attrs["nap_type"] == "Ts"`` marks it.

    Examples
    --------
    >>> import xr_nap as nap
    >>> s = nap.ts([0.1, 0.5, 0.9])
    >>> s.attrs["nap_type"], s.values.tolist()
    ('Ts', [0.1, 0.5, 0.9])
    """
    t = as_time_array(t)
    tcoords, keep = _time_coords(t, time_support)
    out = xr.DataArray(t if keep is None else t[keep], dims=(TIME,), name=name,
                       attrs={TYPE_ATTR: "Ts", "units": "s"})
    return out.assign_coords(tcoords)


def ts_group(
    units: Mapping[Any, Any] | Sequence[Any],
    time_support: Any = None,
    metadata: Mapping[str, Sequence[Any]] | pd.DataFrame | None = None,
) -> xr.Dataset:
    """Build a pynapple ``TsGroup`` as a CF contiguous ragged-array Dataset.

    Parameters
    ----------
    units : mapping of int -> spike times, or sequence of spike times
        Each value is array-like or a DataArray (its times are used). Sequences get
        ids 0..n-1. Units are sorted by id, as in pynapple.
    time_support : interval set, optional
        Default: from the earliest to the latest spike of all units. Spikes outside it
        are dropped.
    metadata : mapping or DataFrame, optional
        Per-unit columns (one value per unit, in the order of sorted ids). ``rate``
        (spikes / total support length) is always computed.

    Returns
    -------
    xarray.Dataset
        coords ``spike_time(spike)`` and ``unit`` (the ids, ``cf_role: timeseries_id``),
        ``row_size(unit)`` (``sample_dimension="spike"``) and one variable per metadata
        column on ``unit``; attrs ``featureType: timeSeries``, ``Conventions: CF-1.11``
        (a CF contiguous ragged array, which cf_xarray understands).

    Examples
    --------
    >>> import xr_nap as nap
    >>> g = nap.ts_group({1: [0.5, 1.5], 3: [1.0]}, metadata={"area": ["ca1", "ca3"]})
    >>> g.row_size.values.tolist(), g.rate.values.tolist()
    ([2, 1], [2.0, 1.0])
    """
    if not isinstance(units, Mapping):
        units = dict(enumerate(units))
    ids = list(units)
    order = np.argsort(_unit_ids(ids), kind="stable")
    ids = [ids[i] for i in order]
    trains = [_unit_times(units[k], k) for k in ids]
    if time_support is None:  # first to last spike of all units, as pynapple
        starts, ends = _span([x[0] for x in trains if x.size],
                             [x[-1] for x in trains if x.size])
        if not starts.size and any(x.size for x in trains):
            raise XrNapError("the spikes span no time (every spike at the same time): "
                             "pass a time_support")
    else:
        starts, ends = bounds(time_support)
    trains = [x[positions_in(x, starts, ends)] for x in trains]
    return _ragged_dataset(np.asarray(ids), trains, starts, ends, metadata)


def _unit_ids(ids: list) -> np.ndarray:
    """Unit ids as one numpy array: all integers or all strings, never a silent mix."""
    kinds = {"int" if isinstance(k, int | np.integer) and not isinstance(k, bool | np.bool_)
             else "str" if isinstance(k, str | np.str_) else type(k).__name__ for k in ids}
    if len(kinds) > 1 or not kinds <= {"int", "str"}:
        raise XrNapError(f"unit ids must be all integers or all strings, got "
                         f"{sorted(kinds)}: {ids[:5]!r}")
    arr = np.asarray(ids)
    if arr.dtype.kind in "iu" and np.unique(arr).size != arr.size or \
            arr.dtype.kind == "U" and len(set(ids)) != len(ids):
        raise XrNapError(f"unit ids must be unique, got {ids!r}")
    return arr


def _unit_times(x: Any, key: Any) -> np.ndarray:
    if isinstance(x, xr.DataArray) and TIME in x.dims:
        x = x[TIME].values
    return as_time_array(x, what=f"unit {key!r} spike times")


def _ragged_dataset(
    ids: np.ndarray,
    trains: Sequence[np.ndarray],
    starts: np.ndarray,
    ends: np.ndarray,
    metadata: Any = None,
) -> xr.Dataset:
    """Assemble the ragged Dataset from already validated per-unit spike trains."""
    counts = np.array([x.size for x in trains], dtype=np.int64)
    spikes = np.concatenate(trains) if trains else np.empty(0)
    return _ragged_flat(ids, spikes, counts, starts, ends, metadata)


def _ragged_flat(
    ids: np.ndarray,
    spikes: np.ndarray,
    counts: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    metadata: Any = None,
) -> xr.Dataset:
    """:func:`_ragged_dataset` from the concatenated trains (sorted ids) and their sizes."""
    variables: dict[Hashable, xr.Variable] = {
        "spike_time": xr.Variable(SPIKE, spikes, dict(SPIKE_TIME_ATTRS)),
        "row_size": xr.Variable(
            UNIT, counts,
            {"sample_dimension": SPIKE, "long_name": "number of spikes per unit"}),
        "rate": xr.Variable(UNIT, rates(counts, starts, ends), {"units": "Hz"}),
    }
    n = len(ids)
    for key, var in _metadata_coords(metadata, UNIT, n).items():
        if key != "rate":
            variables[key] = var
    if counts.shape != (n,) or spikes.ndim != 1:
        raise ValueError(f"{counts.size} row sizes for {n} units")
    attrs = {TYPE_ATTR: "TsGroup", SUPPORT_ATTR: encode_support(starts, ends),
             **GROUP_CF_ATTRS}
    ids = np.asarray(ids)
    index = PandasIndex(pd.Index(ids), UNIT, coord_dtype=ids.dtype) \
        if ids.dtype.kind in "iu" else \
        PandasIndex.from_variables({UNIT: xr.Variable(UNIT, ids)}, options={})
    unit = index.create_variables()[UNIT]
    unit.attrs.update(UNIT_ATTRS)
    # the parts are consistent by construction: skip the public constructor's merge
    # (a test checks both give identical Datasets)
    return fast_dataset({**variables, UNIT: unit},
                        coord_names={UNIT, "spike_time"}, dims={SPIKE: spikes.size, UNIT: n},
                        attrs=attrs, indexes={UNIT: index},
                        public=lambda: xr.Dataset(
                            {k: v for k, v in variables.items() if k != "spike_time"},
                            coords={"spike_time": variables["spike_time"],
                                    UNIT: xr.Variable(UNIT, ids, dict(UNIT_ATTRS))},
                            attrs=attrs))


def _metadata_coords(
    metadata: Mapping[str, Sequence[Any]] | pd.DataFrame | None, dim: str, n: int
) -> dict[str, xr.Variable]:
    if metadata is None:
        return {}
    items = metadata.items() if not isinstance(metadata, pd.DataFrame) else (
        (c, metadata[c].to_numpy()) for c in metadata.columns)
    out = {}
    for key, values in items:
        arr = plain_array(values)
        if arr.ndim == 0:
            arr = np.full(n, arr)
        if arr.shape[:1] != (n,):
            raise ValueError(f"metadata {key!r} has {len(arr)} values for {n} {dim}s")
        if key in (TIME, dim):
            raise ValueError(f"metadata name {key!r} is reserved")
        out[str(key)] = xr.Variable(dim, arr)
    return out


# --------------------------------------------------------------------------- accessors
def nap_type(obj: xr.DataArray | xr.Dataset) -> str:
    """The pynapple class ``obj`` stands for.

    One of ``"Ts"``, ``"Tsd"``, ``"TsdFrame"``, ``"TsdTensor"`` (a DataArray with a
    ``time`` dimension, anywhere among its dims), ``"TsGroup"``, ``"IntervalSet"``
    (Datasets, recognised by their variables).

    Raises
    ------
    TypeError
        If ``obj`` does not follow the data model.
    """
    if isinstance(obj, xr.Dataset):
        if "spike_time" in obj.variables and "row_size" in obj.variables:
            return "TsGroup"
        if "start" in obj.variables and "end" in obj.variables and TIME not in obj.dims:
            return "IntervalSet"
        hint = (" It holds time series: pick one (ds['name']) or use a function that takes "
                "a Dataset of series (restrict, get, bin_average, time_support)"
                if TIME in obj.dims else "")
        raise TypeError(
            "this Dataset is neither a TsGroup (spike_time + row_size) nor an interval set "
            f"(start + end); it has variables {sorted(map(str, obj.variables))}.{hint}"
        )
    if not isinstance(obj, xr.DataArray):
        raise TypeError(f"expected an xarray DataArray or Dataset, got {type(obj).__name__}")
    if TIME not in obj.dims:
        raise TypeError(f"a time series needs a 'time' dimension, got dims {obj.dims}")
    if obj.ndim == 1 and obj.attrs.get(TYPE_ATTR) == "Ts":
        return "Ts"
    return "Tsd" if obj.ndim == 1 else "TsdFrame" if obj.ndim == 2 else "TsdTensor"


def is_series_dataset(obj: Any) -> bool:
    """A Dataset of time series sharing one time axis (e.g. an NWB object opened with
    ``xr.open_dataset``), rather than a TsGroup or an interval set."""
    return isinstance(obj, xr.Dataset) and TIME in obj.dims and not (
        "spike_time" in obj.variables and "row_size" in obj.variables)


def series(obj: xr.DataArray | xr.Dataset, *, keep_dataset: bool = False
           ) -> xr.DataArray | xr.Dataset:
    """``obj`` ready for xr-nap's functions: xr-nap's time index on ``time`` (the
    coordinate checked, an encoded support adopted only if it still fits) and ``time``
    the first dimension.

    A Dataset holding one time series gives that DataArray (its Dataset attrs merged
    in), unless ``keep_dataset``. TsGroups and interval sets are returned as they are.

    Raises
    ------
    TimeAxisError
        If the time coordinate cannot be used as sorted, finite seconds.
    """
    if isinstance(obj, xr.Dataset):
        if not is_series_dataset(obj):
            return obj
        if not keep_dataset:
            names = [k for k, v in obj.data_vars.items() if TIME in v.dims]
            if len(names) != 1:
                raise TypeError(f"this Dataset holds {len(names)} time series {names}; pick "
                                "one (ds['name'])")
            var = obj[names[0]]
            obj = var.assign_attrs({k: v for k, v in obj.attrs.items() if k not in var.attrs})
    elif not isinstance(obj, xr.DataArray):
        raise TypeError(f"expected an xarray DataArray or Dataset, got {type(obj).__name__}")
    if not isinstance(obj.xindexes.get(TIME), TimeIndex):
        obj = set_index(obj, time_index(obj))
    if isinstance(obj, xr.DataArray):
        if obj.dims[0] != TIME:
            obj = obj.transpose(TIME, ...)
        stale = [k for k in (SUPPORT_ATTR, TYPE_ATTR) if k in obj.attrs]
        if stale and stale != [TYPE_ATTR] or obj.attrs.get(TYPE_ATTR, "Ts") != "Ts":
            # xr-nap 0.1 kept these in attrs; the index holds the support now
            obj = obj.copy(deep=False)
            obj.attrs = {k: v for k, v in obj.attrs.items() if k != SUPPORT_ATTR and (
                k != TYPE_ATTR or v == "Ts")}
    elif any(v.dims[:1] != (TIME,) for v in obj.data_vars.values() if TIME in v.dims):
        obj = obj.transpose(TIME, ...)
    return obj


def like_input(result: Any, original: Any) -> Any:
    """``result`` with its dims in the order of ``original``'s where both have the same
    dims (a function given ``(column, time)`` returns ``(column, time)``)."""
    if isinstance(result, xr.DataArray) and isinstance(original, xr.DataArray) and \
            result.dims != original.dims and set(result.dims) == set(original.dims):
        return result.transpose(*original.dims)
    return result


def set_time_index(obj: xr.DataArray | xr.Dataset, time_support: Any = None
                   ) -> xr.DataArray | xr.Dataset:
    """Put xr-nap's time index on the ``time`` coordinate of any xarray object.

    Use it on objects read with xarray's own engines (``xr.open_dataset(path)``) or
    built by hand, so that ``.sel``, ``.isel``, ``xr.concat`` and alignment keep the
    time support true from then on (xr-nap's functions do the same check on every
    call, but xarray's own operations on a plain index cannot). The coordinate must
    hold sorted, finite seconds. The support is ``time_support`` if given (samples
    outside it are dropped, as pynapple does), else the one encoded in the
    coordinate's ``time_support`` attribute if it still fits the samples, else the
    first to the last sample.

    Examples
    --------
    >>> import numpy as np, xarray as xr, xr_nap as nap
    >>> da = xr.DataArray(np.arange(4.0), dims="time", coords={"time": [0.0, 1, 2, 3]})
    >>> x = nap.set_time_index(da, time_support=(0.5, 3))
    >>> x.time.values, nap.time_support(x.sel(time=slice(2, None))).start.values
    (array([1., 2., 3.]), array([2.]))
    """
    obj = series(obj, keep_dataset=True)
    if time_support is None:
        return obj
    starts, ends = bounds(time_support)
    obj = obj.isel({TIME: positions_in(times(obj), starts, ends)})
    return with_support(obj, starts, ends)


def to_seconds(obj: xr.DataArray | xr.Dataset, origin: Any = "first"
               ) -> xr.DataArray | xr.Dataset:
    """Convert a datetime64/timedelta64 ``time`` coordinate to float seconds.

    Parameters
    ----------
    obj : DataArray or Dataset
        Its ``time`` coordinate holds datetime64 or timedelta64 values.
    origin : "first", "epoch", or a date
        What time zero is: the first sample (default), 1970-01-01, or any value
        ``numpy.datetime64`` accepts. timedelta64 values are seconds since zero.

    Returns
    -------
    DataArray or Dataset
        ``time`` in float64 seconds, with xr-nap's time index; the origin is kept in
        the coordinate's ``time_origin`` attribute (ISO 8601).

    Examples
    --------
    >>> import numpy as np, xarray as xr, xr_nap as nap
    >>> t = np.array(["2024-01-01T00:00:00", "2024-01-01T00:00:01.5"], dtype="datetime64[ns]")
    >>> x = nap.to_seconds(xr.DataArray([1.0, 2.0], dims="time", coords={"time": t}))
    >>> x.time.values, x.time.attrs["time_origin"]
    (array([0. , 1.5]), '2024-01-01T00:00:00.000000000')
    """
    if TIME not in obj.coords:
        raise TimeAxisError("object has no 'time' coordinate")
    raw = obj[TIME].values
    attrs = {k: v for k, v in obj[TIME].attrs.items() if k not in ("units", "calendar")}
    if raw.dtype.kind == "M":
        if origin == "first":
            zero = raw[0] if raw.size else np.datetime64(0, "ns")
        elif origin == "epoch":
            zero = np.datetime64(0, "ns")
        else:
            zero = np.datetime64(origin)
        if np.isnat(zero):
            raise TimeAxisError("the time origin is NaT: give origin= explicitly")
        seconds = (raw - zero) / np.timedelta64(1, "s")
        attrs["time_origin"] = str(np.datetime64(zero, "ns"))
    elif raw.dtype.kind == "m":
        seconds = raw / np.timedelta64(1, "s")
    else:
        raise TimeAxisError(f"'time' holds {raw.dtype} values, not datetime64/timedelta64")
    out = obj.drop_indexes(TIME).assign_coords(
        {TIME: xr.Variable(obj[TIME].dims, seconds.astype(np.float64), attrs)})
    return series(out, keep_dataset=True)


def times(obj: xr.DataArray | xr.Dataset) -> np.ndarray:
    """The sample times of a time series as a float64 numpy array (seconds)."""
    return time_index(obj).values


def search_times(obj: xr.DataArray | xr.Dataset, values: Any, side: str = "left"
                 ) -> np.ndarray:
    """``np.searchsorted(times(obj), values, side)``, without materialising a lazy index
    (a 1e8-sample rate-based series is never expanded to an 800 MB float64 array)."""
    return np.asarray(time_index(obj).searchsorted(values, side=side), dtype=np.int64)


def times_at(obj: xr.DataArray | xr.Dataset, positions: Any) -> np.ndarray:
    """Sample times of ``obj`` at integer ``positions`` (lazy indexes stay lazy)."""
    return time_index(obj).times_at(positions)


def support_bounds(obj: xr.DataArray | xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, ends)`` of the time support of ``obj`` as float64 arrays."""
    if isinstance(obj, xr.Dataset) and not is_series_dataset(obj):
        if nap_type(obj) == "IntervalSet":
            return bounds(obj)
        raw = obj.attrs.get(SUPPORT_ATTR)
        if raw is None:  # first to last spike, as when built
            t = np.asarray(obj["spike_time"].values, dtype=np.float64)
            return _span(t.min(), t.max()) if t.size else _span([], [])
        arr = np.asarray(raw, dtype=np.float64).reshape(-1)
        if arr.size % 2:
            raise XrNapError(f"this TsGroup's attrs['time_support'] must hold start/end "
                             f"pairs, got {arr.size} values")
        return check_support(arr[0::2], arr[1::2], "this TsGroup's attrs['time_support']")
    return time_index(obj).support


def time_support(obj: xr.DataArray | xr.Dataset) -> xr.Dataset:
    """The time support of ``obj`` as an interval-set Dataset.

    Examples
    --------
    >>> import xr_nap as nap
    >>> nap.time_support(nap.tsd([1.0, 2.0, 4.0], [0, 0, 0])).start.values
    array([1.])
    """
    starts, ends = support_bounds(obj)
    return interval_set(starts, ends)


def with_support(obj: Any, starts: np.ndarray, ends: np.ndarray) -> Any:
    """Return ``obj`` with its time support replaced (no data copied): in the time
    index of a time series, in the attrs of a TsGroup."""
    if isinstance(obj, xr.Dataset) and not is_series_dataset(obj):
        return obj.assign_attrs({SUPPORT_ATTR: encode_support(starts, ends)})
    return set_index(obj, time_index(obj).with_support(starts, ends))


def unit_offsets(group: xr.Dataset) -> np.ndarray:
    """Start offsets of each unit in ``spike_time`` (length n_units + 1)."""
    sizes = np.asarray(group["row_size"].values, dtype=np.int64)
    offsets = np.zeros(sizes.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    n = group.sizes.get(SPIKE, 0)
    if offsets[-1] != n:
        raise ValueError(f"row_size sums to {offsets[-1]} but there are {n} spikes; pick "
                         "units with xr_nap.select_units (.sel/.isel on 'unit' leave the "
                         "spikes of the other units in place)")
    return offsets


def select_units(group: xr.Dataset, units: Any) -> xr.Dataset | xr.DataArray:
    """Some units of a TsGroup: pynapple's ``tsgroup[...]``, ``getby_threshold`` and
    ``getby_category``.

    Parameters
    ----------
    group : TsGroup Dataset
    units : unit id, sequence of ids, or boolean mask over units
        One id gives that unit's spike train as a ``Ts`` (with a scalar ``unit``
        coordinate); ids or a mask (e.g. ``group.rate > 1``) give a TsGroup of those
        units, in id order, with their metadata and the group's time support.

    Raises
    ------
    KeyError
        If an id is not a unit of ``group``.

    Examples
    --------
    >>> import xr_nap as nap
    >>> g = nap.ts_group({1: [0.5, 1.5], 3: [1.0], 4: [0.2, 0.4, 2.0]})
    >>> nap.select_units(g, 3).values.tolist()
    [1.0]
    >>> nap.select_units(g, g.rate > 1.0).unit.values.tolist()
    [1, 4]
    """
    offsets = unit_offsets(group)
    index = group.indexes[UNIT]
    if not index.is_unique:
        raise XrNapError(f"this TsGroup has repeated unit ids {index[index.duplicated()].tolist()}"
                         "; ids must be unique")
    if np.ndim(units) == 0 and not isinstance(units, xr.DataArray):
        if isinstance(units, bool | np.bool_):
            raise TypeError("a mask over units needs one value per unit, got one bool")
        try:
            i = index.get_loc(units)
        except KeyError:
            raise KeyError(f"no unit {units!r} in this TsGroup; units: "
                           f"{index.tolist()}") from None
        spikes = group["spike_time"].isel({SPIKE: slice(offsets[i], offsets[i + 1])})
        return ts(spikes.values, time_support=time_support(group)).assign_coords(
            {UNIT: index[i]})
    if isinstance(units, xr.DataArray):
        if units.dtype == bool and UNIT in units.coords:
            units = units.sel({UNIT: index})  # a mask is matched by unit id, not position
        units = units.values
    wanted = np.asarray(units)
    if wanted.dtype == bool:
        if wanted.shape != (index.size,):
            raise ValueError(f"a mask over units needs {index.size} values, got "
                             f"shape {wanted.shape}")
        rows = np.flatnonzero(wanted)
    else:
        wanted = wanted.reshape(-1)
        rows = index.get_indexer(wanted)
        if np.any(rows < 0):
            raise KeyError(f"no unit {wanted[rows < 0][0].item()!r} in this TsGroup; "
                           f"units: {index.tolist()}")
        rows = np.unique(rows)  # id order, each unit once (pynapple's dict semantics)
    sizes = np.diff(offsets)[rows]
    # positions of the kept spikes: each kept unit's run, one after the other
    shift = np.repeat(offsets[rows] - (np.cumsum(sizes) - sizes), sizes)
    return group.isel({UNIT: rows, SPIKE: shift + np.arange(shift.size)})


def unit_spike_times(group: xr.Dataset) -> Iterator[tuple[Any, np.ndarray]]:
    """Yield ``(unit_id, spike_times)`` for each unit of a ragged TsGroup Dataset."""
    offsets = unit_offsets(group)
    spikes = np.asarray(group["spike_time"].values, dtype=np.float64)
    for i, uid in enumerate(group[UNIT].values):
        yield uid.item() if hasattr(uid, "item") else uid, spikes[offsets[i]:offsets[i + 1]]
