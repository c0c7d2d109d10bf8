"""Build xr-nap objects from the NWB objects the scan found (see :mod:`xr_nap.io.nwb`).

Each builder reads what it needs inside :meth:`NWBStore.reading` (plain h5py reads under
the lock: times, small tables, attributes) and assembles xarray objects after leaving
it, because xarray may read through the lazy arrays it is given (it samples object
data, for one) and the lock is not reentrant.

Values the file gets wrong are refused with an :class:`~xr_nap.errors.NWBFormatError`
naming the file and the object (non-finite times, ``*_index`` columns that do not index
their column, duplicate unit ids, ...); values that can be read without a part that is
wrong (an unusable ``conversion``, a DynamicTableRegion pointing outside its table) are
read without it, with a warning that says so.
"""

from __future__ import annotations

import warnings
from typing import Any

import h5py
import numpy as np
import pandas as pd
import xarray as xr
from h5py import h5d

from xr_nap.core.intervals import interval_set
from xr_nap.core.time_index import rate_time_coords, time_coords
from xr_nap.core.time_series import (
    TYPE_ATTR,
    _ragged_dataset,
    _ragged_flat,
    ts,
)
from xr_nap.errors import NWBFormatError, XrNapWarning, warn
from xr_nap.io.nwb_read import (
    DATASETS,
    FILE_ERRORS,
    as_dataset,
    attr_text,
    colnames,
    has_attr,
    open_whole,
    read_all,
    read_attr,
    read_scalar,
    read_strings,
    reference_paths,
)
from xr_nap.io.nwb_scan import NWBObject, TableLayout, rate_and_start, table_layout
from xr_nap.io.nwb_store import NWBStore

__all__ = ["build"]


def build(store: NWBStore, obj: NWBObject, mask_and_scale: bool = True
          ) -> xr.Dataset | dict[str, xr.Dataset]:
    """The xr-nap object of ``obj`` as a Dataset (a dict of them for a table with
    several ``*_times`` columns).

    Raises
    ------
    NWBFormatError
        If the object cannot be read, naming the file and the object.
    """
    if obj.kind == "TsGroup":
        return _units(store, obj)
    if obj.kind == "IntervalSet":
        return _intervals(store, obj)
    if obj.role == "AnnotationSeries":
        return _annotations(store, obj)
    if obj.kind == "Ts":
        out = _times_tables(store, obj)
        return next(iter(out.values())) if len(out) == 1 else out
    return _series(store, obj, mask_and_scale)


# --------------------------------------------------------------------------- shared
def _where(store: NWBStore, obj: NWBObject, member: str = "") -> str:
    return f"{store.where}:{obj.path}{'/' + member if member else ''}"


def _meta(obj: NWBObject, g: h5py.Group) -> dict[str, Any]:
    out = {"neurodata_type": obj.neurodata_type, "object_id": obj.object_id,
           "nwb_path": obj.path}
    desc = obj.table.description if obj.table is not None else attr_text(g, "description")
    if isinstance(desc, str):
        out["description"] = desc
    return out


def _times(ds: Any, what: str) -> np.ndarray:
    """A 1-D dataset of times in seconds, refused unless every value is finite."""
    t = read_all(ds, np.float64).reshape(-1)
    if not np.isfinite(t).all():
        bad = int(np.flatnonzero(~np.isfinite(t))[0])
        raise NWBFormatError(f"{what}: time {bad} is {t[bad]}; times must be finite")
    return t


def _sort_order(t: np.ndarray, what: str) -> np.ndarray | None:
    if t.size < 2 or np.all(t[1:] >= t[:-1]):
        return None
    warn(f"{what}: timestamps are not sorted; sorting them together with their data",
         XrNapWarning)
    return np.argsort(t, kind="stable")


def _ragged_ends(index: Any, n_rows: int, n_values: int, what: str) -> np.ndarray:
    """The ``*_index`` column of a ragged column: the end of each row's values.

    Raises
    ------
    NWBFormatError
        Unless it has one integer per row, never decreasing, within the column.
    """
    if not isinstance(index, (*DATASETS, h5d.DatasetID)) or index.dtype.kind not in "iu":
        raise NWBFormatError(f"{what} is not a column of integers")
    ends = read_all(index, np.int64).reshape(-1)
    if ends.size != n_rows:
        raise NWBFormatError(f"{what} has {ends.size} rows; the table has {n_rows}")
    # few numpy calls: the first access of a units table is mostly such calls
    if ends.size and (ends[0] < 0 or ends[-1] > n_values
                      or (ends.size > 1 and np.diff(ends).min() < 0)):
        raise NWBFormatError(f"{what} does not index its column of {n_values} values "
                             "(its ends must rise from 0 to at most that)")
    return ends


def _table_columns(store: NWBStore, table: h5py.Group, n_rows: int,
                   rows: np.ndarray | None = None) -> dict[str, Any]:
    """Scalar 1-D columns of a DynamicTable with ``n_rows`` rows (ragged, n-D and
    mis-sized columns left out; references as readable values, see
    :func:`_reference_columns`), optionally at ``rows``."""
    out = {}
    for name in colnames(table):
        col = table.get(name)
        if (not isinstance(col, DATASETS) or f"{name}_index" in table
                or col.shape != (n_rows,)):
            continue
        if col.dtype.names or h5py.check_ref_dtype(col.dtype):
            found = _reference_columns(store, table, name, n_rows, f"{table.name}/{name}")
        else:
            found = {name: read_scalar(col)}
        out.update({k: v if rows is None else v[rows] for k, v in found.items()})
    return out


def _object_keys(store: NWBStore) -> dict[str, str]:
    """HDF5 path -> key of the objects of the file."""
    return {o.path: k for k, o in store.index.items()}


def _reference_columns(store: NWBStore, table: h5py.Group, name: str, n_rows: int,
                       what: str) -> dict[str, np.ndarray]:
    """A column of object references as readable values, one per row.

    The referenced object is given by its key in the file (its HDF5 path when it has
    none). A compound column gives its other fields as ``<name>_<field>``: an NWB
    ``TimeSeriesReference`` (the ``timeseries`` column of TimeIntervals, as in the
    Allen Institute's stimulus presentation tables) gives ``<name>_idx_start``,
    ``<name>_count`` and ``<name>``, the series' key. A ragged column (``<name>_index``)
    gives one array per row, unless every row holds exactly one reference (then one
    value per row). Columns that do not fit are left out with a warning.
    """
    ds = table[name]
    fields = ds.dtype.names
    refs_field = next((f for f in fields or () if h5py.check_ref_dtype(ds.dtype[f])), None)
    if fields and refs_field is None:
        return {}  # a compound of plain values: not a reference column
    try:
        raw = ds[()]
        refs = raw[refs_field] if fields else raw
        paths = reference_paths(table.file, refs, what)
    except (*FILE_ERRORS, KeyError) as err:
        warn(f"{what}: cannot follow these references ({err}); column left out",
             XrNapWarning)
        return {}
    keys = _object_keys(store)
    cols: dict[str, np.ndarray] = {name: np.array([keys.get(p, p) for p in paths.tolist()],
                                                  dtype=str).reshape(-1)}
    for field in fields or ():
        if field != refs_field:
            values = raw[field]
            cols[f"{name}_{field}"] = values if values.dtype.kind in "biuf" else \
                np.array([v.decode(errors="replace") if isinstance(v, bytes) else str(v)
                          for v in values.tolist()], dtype=str)
    index = table.get(f"{name}_index")
    if index is None:
        return cols if paths.size == n_rows else {}
    ends = _ragged_ends(index, n_rows, paths.size, f"{what}_index")
    if np.array_equal(ends, np.arange(1, n_rows + 1)):  # one reference per row
        return cols
    out = {}
    for key, values in cols.items():
        cells = np.empty(n_rows, dtype=object)
        cells[:] = np.split(values[: ends[-1]], ends[:-1]) if n_rows else []
        out[key] = cells
    return out


def _region_columns(store: NWBStore, f: h5py.File, region: h5py.Dataset, n: int,
                    what: str) -> tuple[np.ndarray, dict[str, Any]] | None:
    """Row ids and scalar columns of the table a DynamicTableRegion points to, or
    None (with a warning) when the region does not point into its table."""
    try:
        table = f[region.attrs["table"]]
        rows = read_all(region, np.int64).reshape(-1)
        ids = read_all(table["id"]).reshape(-1)
    except (KeyError, OSError, TypeError, ValueError) as err:
        warn(f"{what}: cannot follow this table region ({err}); its rows are numbered "
             "0..n-1 without their table's columns", XrNapWarning)
        return None
    if rows.size and (rows.min() < 0 or rows.max() >= ids.size):
        bad = rows[(rows < 0) | (rows >= ids.size)][0]
        warn(f"{what}: row {bad} is outside its table of {ids.size} rows; the rows are "
             "numbered 0..n-1 without their table's columns", XrNapWarning)
        return None
    if rows.size < n:  # pynapple then falls back to 0..n-1 without metadata
        return np.arange(n), {}
    columns = _table_columns(store, table, ids.size, rows)
    return ids[rows][:n], {k: v[:n] for k, v in columns.items() if k != "id"}


# --------------------------------------------------------------------------- series
def _linear_scale(data: h5py.Dataset, what: str) -> dict[str, np.float64]:
    """CF ``scale_factor``/``add_offset`` from NWB ``conversion``/``offset``, those that
    change the values; none (with a warning) if either cannot be used."""
    out = {}
    for cf, nwb, unset in (("scale_factor", "conversion", 1.0), ("add_offset", "offset", 0.0)):
        raw = data.attrs.get(nwb, unset)
        try:
            value = np.asarray(raw, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            value = np.array([np.nan])
        if value.size != 1 or not np.isfinite(value[0]) or (nwb == "conversion"
                                                             and value[0] == 0):
            shown = raw.item() if isinstance(raw, np.generic) else raw
            warn(f"{what}: {nwb} = {shown!r} cannot turn raw values into physical ones; "
                 "the values are left raw (neither conversion nor offset applied)",
                 XrNapWarning)
            return {}
        if value[0] != unset:
            out[cf] = np.float64(value[0])
    if out and data.dtype.kind not in "biuf":
        warn(f"{what}: conversion/offset do not apply to data of type {data.dtype}; "
             "the values are left as stored", XrNapWarning)
        return {}
    return out


def _channel_conversion(g: h5py.Group, shape: tuple, what: str) -> np.ndarray | None:
    """An ElectricalSeries' ``channel_conversion`` (one factor per column of 2-D data),
    or None: absent, or unusable (then a warning says why and values are not scaled by it).
    """
    ds = g.get("channel_conversion")
    if ds is None:
        return None
    axis = read_attr(ds, "axis") if isinstance(ds, DATASETS) else None
    axis = [1] if axis is None else np.asarray(axis).reshape(-1).tolist()
    if not isinstance(ds, DATASETS) or ds.dtype.kind not in "iuf" or len(shape) != 2 \
            or ds.shape != (shape[1],) or axis != [1]:
        warn(f"{what}: channel_conversion of shape {getattr(ds, 'shape', None)} "
             f"(axis {axis}) does not fit data of shape {shape}; not applied", XrNapWarning)
        return None
    factors = read_all(ds, np.float64)
    if not np.isfinite(factors).all():
        warn(f"{what}: channel_conversion is not all finite; not applied", XrNapWarning)
        return None
    return factors


def _columns(store: NWBStore, f: h5py.File, g: h5py.Group, obj: NWBObject, ncol: int,
             what: str) -> tuple[Any, dict]:
    if obj.role == "SpatialSeries" and ncol in (2, 3):
        return np.array(["x", "y", "z"][:ncol]), {}
    link = {"ElectricalSeries": "electrodes", "RoiResponseSeries": "rois"}.get(obj.role)
    region = g.get(link) if link else None
    if isinstance(region, DATASETS) and "table" in region.attrs:
        found = _region_columns(store, f, region, ncol, f"{what}/{link}")
        if found is not None:
            return found
    return np.arange(ncol), {}


def _series(store: NWBStore, obj: NWBObject, mask_and_scale: bool) -> xr.Dataset:
    what = _where(store, obj)
    with store.reading(obj) as g:
        data = g.get("data")
        shape = (0,) if data is None else data.shape
        order, stamps, rated = None, None, None
        if "timestamps" in g:
            stamps = _times(g["timestamps"], f"{what}/timestamps")
            order = _sort_order(stamps, what)
        else:
            rated = rate_and_start(g.get("starting_time"))
            if isinstance(rated, str):
                raise NWBFormatError(f"{what}: {rated}")
        attrs: dict[str, Any] = {TYPE_ATTR: obj.kind} if obj.kind == "Ts" else {}
        values: Any = np.empty(0, np.uint8)
        encoding: dict[str, Any] = {}
        ndim = len(shape)
        dims = ("time",) if ndim == 1 else ("time", "column") if ndim == 2 else (
            "time", *(f"dim_{i}" for i in range(1, ndim)))
        if data is not None:
            unit = attr_text(data, "unit")
            if unit is not None:
                attrs["units"] = str(unit)
            scale = _linear_scale(data, what)
            numeric = data.dtype.kind in "biuf"
            channel = _channel_conversion(g, shape, what) if numeric else None
            if (scale or channel is not None) and mask_and_scale:  # the array decodes
                # per-channel factors have no CF packing: such a series is written as floats
                encoding = {**scale, "dtype": data.dtype} if channel is None else {}
                values = store.array(data, (float(scale.get("scale_factor", 1.0)),
                                            float(scale.get("add_offset", 0.0))), channel)
            else:
                attrs.update(scale)
                if channel is not None:
                    attrs["channel_conversion"] = channel
                values = store.array(data)
            if data.chunks:
                encoding["preferred_chunks"] = dict(zip(dims, data.chunks, strict=True))
        columns = _columns(store, g.file, g, obj, shape[1], what) if ndim == 2 else None
        meta = _meta(obj, g)

    # outside the lock: from here on xarray may read through ``values``
    if stamps is not None:
        if order is not None:
            stamps = stamps[order]
        coords: Any = time_coords(stamps)  # support: first to last sample
    else:
        t0, rate = rated
        t_last = t0 + (shape[0] - 1) / rate
        if not np.isfinite(t_last):
            raise NWBFormatError(f"{what}: starting_time {t0} and rate {rate} put the last "
                                 f"of {shape[0]} samples at {t_last} s")
        coords = rate_time_coords(t0, rate, shape[0])
    var = xr.Variable(dims, values, attrs)
    if order is not None:
        var = var[order]
    var = xr.conventions.decode_cf_variable(
        obj.name, var, mask_and_scale=mask_and_scale, decode_times=False,
        concat_characters=False, decode_endianness=True)
    var.encoding.update(encoding)
    extra: dict[str, Any] = {}
    if columns is not None:
        cols, colmeta = columns
        extra = {"column": cols, **{k: ("column", v) for k, v in colmeta.items()
                                    if k not in ("time", "column")}}
    ds = xr.Dataset({obj.name: var}, coords=coords, attrs=meta)
    return ds.assign_coords(extra) if extra else ds


# --------------------------------------------------------------------------- Ts
def _ts_dataset(name: str, t: np.ndarray, meta: dict, what: str,
                coords: dict | None = None) -> xr.Dataset:
    order = _sort_order(t, what)
    if order is not None:
        t = t[order]
        coords = {k: v[order] for k, v in (coords or {}).items()}
    da = ts(t, name=name)  # support: first to last time
    if coords:
        da = da.assign_coords({k: ("time", v) for k, v in coords.items()})
    return da.to_dataset().assign_attrs(meta)


def _annotations(store: NWBStore, obj: NWBObject) -> xr.Dataset:
    what = _where(store, obj)
    with store.reading(obj) as g:
        t = _times(g["timestamps"], f"{what}/timestamps")
        coords = {}
        data = g.get("data")
        if isinstance(data, DATASETS) and data.shape == t.shape:
            coords["annotation"] = read_scalar(data)
        meta = _meta(obj, g)
    return _ts_dataset(obj.name, t, meta, what, coords)


def _times_tables(store: NWBStore, obj: NWBObject) -> dict[str, xr.Dataset]:
    times = {}
    with store.reading(obj) as g:
        for col in colnames(g):
            if col.endswith("_times") and isinstance(g.get(col), DATASETS):
                times[col] = _times(g[col], _where(store, obj, col))
        meta = _meta(obj, g)
    return {col: _ts_dataset(col, t, meta, _where(store, obj, col))
            for col, t in times.items()}


# --------------------------------------------------------------------------- TsGroup
def _spike_range(spikes: np.ndarray, starts: np.ndarray, ends: np.ndarray, what: str
                 ) -> tuple[Any, Any, int | None]:
    """``(first, last, row)``: the earliest and latest spike and the first unit whose
    spikes are not sorted (None if all are).

    Raises
    ------
    NWBFormatError
        If a spike time is NaN or infinite.
    """
    if not spikes.size:
        return 0.0, 0.0, None
    # one pass in the usual case: ``>=`` is False on a decrease and on NaN; when every
    # unit is sorted, the extremes are among the units' first and last spikes, and an
    # infinite value can only be one of those
    ok = spikes[1:] >= spikes[:-1]
    cut = ends[:-1]
    ok[cut[(cut > 0) & (cut < spikes.size)] - 1] = True  # unit boundaries may decrease
    if ok.all():
        full = ends > starts
        lo, hi = spikes[starts[full]].min(), spikes[ends[full] - 1].max()
        row = None
    else:
        lo, hi = spikes.min(), spikes.max()  # NaN and inf propagate
        row = -1
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise NWBFormatError(f"{what} are not all finite")
    return lo, hi, None if row is None else _first_unsorted(spikes, ends)


def _first_unsorted(spikes: np.ndarray, ends: np.ndarray) -> int | None:
    """Row of the first unit whose spike times decrease, or None."""
    down = spikes[1:] < spikes[:-1]
    cut = ends[:-1]
    down[cut[(cut > 0) & (cut < spikes.size)] - 1] = False  # unit boundaries may decrease
    first = int(np.argmax(down)) if down.size else 0
    return int(np.searchsorted(ends, first + 1, side="right")) if down.size and down[first] \
        else None


def _units(store: NWBStore, obj: NWBObject) -> xr.Dataset:
    what = _where(store, obj)
    with store.reading(obj) as g:
        layout = obj.table or table_layout(g)  # recorded by the scan
        members = layout.members
        col = "spike_times" if "spike_times_index" in members else min(
            n for n in members if n.endswith("_times_index"))[: -len("_index")]
        # low-level opens and reads: an h5py lookup costs more than reading a column
        found = [open_whole(g, name) for name in ("id", f"{col}_index", col)]
        if any(x is None for x in found):
            missing = [n for n, x in zip(("id", f"{col}_index", col), found, strict=True)
                       if x is None]
            raise NWBFormatError(f"{what}: no dataset {missing[0]!r}")
        ids = read_all(found[0]).reshape(-1)
        ends = _ragged_ends(found[1], ids.size, found[2].shape[0] if found[2].shape else 0,
                            f"{what}/{col}_index")
        meta = _unit_metadata(store, g, ids.size, col, layout, what)  # small reads first
        spikes = read_all(found[2], np.float64).reshape(-1)
        attrs = _meta(obj, g)

    if not np.all(ids[1:] > ids[:-1]) and np.unique(ids).size != ids.size:
        raise NWBFormatError(f"{what}/id: unit ids are not unique")
    # few numpy calls: on a just-opened file each one costs tens of microseconds
    starts = np.zeros_like(ends)
    starts[1:] = ends[:-1]
    counts = ends - starts
    spikes = spikes[: ends[-1] if ends.size else 0]
    lo, hi, row = _spike_range(spikes, starts, ends, f"{what}/{col}")
    if row is not None:
        warn(f"{what}: spike times of unit {ids[row]} (and maybe others) are not sorted; "
             "sorting them", XrNapWarning)
        spikes = spikes[np.lexsort((spikes, np.repeat(np.arange(ids.size), counts)))]
    support = (np.array([lo]), np.array([hi])) if spikes.size else (np.empty(0),
                                                                     np.empty(0))
    if np.all(ids[1:] > ids[:-1]):  # the usual case: no reordering, no per-unit copies
        group = _ragged_flat(ids, spikes, counts, *support, meta)
    else:
        order = np.argsort(ids, kind="stable")
        trains = np.split(spikes, ends[:-1]) if ends.size else []
        group = _ragged_dataset(ids[order], [trains[i] for i in order], *support,
                                metadata={k: np.asarray(v)[order] for k, v in meta.items()})
    group.attrs.update(attrs)  # a new object of ours: no need to copy it
    return group


def _unit_metadata(store: NWBStore, g: h5py.Group, n: int, col: str, layout: TableLayout,
                   what: str) -> dict[str, Any]:
    """pynapple's metadata rules: scalar columns in table order; ``electrode_group``
    contributes ``location``; region columns add the columns they point to. Boolean
    columns are kept (pynapple drops them)."""
    meta: dict[str, Any] = {}
    members = layout.members
    for name in layout.colnames:
        if name in (col, f"{col}_index") or name not in members:
            continue
        dsid = open_whole(g, name)  # a lookup costs as much as reading a small column
        if dsid is None:
            continue
        dtype = dsid.dtype
        if name == "electrode_group" and h5py.check_ref_dtype(dtype):
            try:
                f = g.file
                loc = [f[ref].attrs.get("location") for ref in as_dataset(dsid)[()]]
            except (KeyError, ValueError, OSError):  # dangling references: no locations
                continue
            if len(loc) == n and all(x is not None for x in loc):
                meta["location"] = np.array(
                    [x.decode(errors="replace") if isinstance(x, bytes) else str(x)
                     for x in loc])
            continue
        if f"{name}_index" in members or dsid.shape != (n,) or dtype.names \
                or h5py.check_ref_dtype(dtype):
            continue
        if dtype.kind in "iu" and has_attr(dsid, "table"):  # table region (row numbers)
            found = _region_columns(store, g.file, as_dataset(dsid), n, f"{what}/{name}")
            if found is not None:
                meta.update({k: v for k, v in found[1].items() if k not in meta})
        elif dtype.kind in "biuf":
            meta[name] = read_all(dsid)
        else:
            values = read_strings(dsid)
            meta[name] = read_scalar(as_dataset(dsid)) if values is None else values
    return meta


# --------------------------------------------------------------------------- IntervalSet
def _intervals(store: NWBStore, obj: NWBObject) -> xr.Dataset:
    what = _where(store, obj)
    with store.reading(obj) as g:
        start = read_all(g["start_time"], np.float64).reshape(-1)
        end = read_all(g["stop_time"], np.float64).reshape(-1)
        if start.shape != end.shape:
            raise NWBFormatError(f"{what}: {start.size} start_time but {end.size} "
                                 "stop_time values")
        meta: dict[str, Any] = {}
        for name in colnames(g):
            ds = g.get(name)
            if name in ("start_time", "stop_time") or not isinstance(ds, DATASETS):
                continue
            if ds.dtype.names or h5py.check_ref_dtype(ds.dtype):  # e.g. ``timeseries``
                meta.update(_reference_columns(store, g, name, start.size,
                                               _where(store, obj, name)))
                continue
            idx = g.get(f"{name}_index")
            if idx is not None:  # ragged (e.g. tags): one array per row
                values = np.asarray(read_scalar(ds)).reshape(-1)
                ends = _ragged_ends(idx, start.size, values.size, f"{what}/{name}_index")
                cells = np.empty(ends.size, dtype=object)
                cells[:] = np.split(values[: ends[-1]], ends[:-1]) if ends.size else []
                meta[name] = cells
            elif ds.shape == start.shape:
                meta[name] = read_scalar(ds)
        attrs = _meta(obj, g)
    if np.isinf(start).any() or np.isinf(end).any():
        raise NWBFormatError(f"{what}: start_time/stop_time must be finite (NaN rows are "
                             "dropped, infinite ones refused)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = interval_set(start, end, metadata=pd.DataFrame(meta) if meta else None)
    for w in caught:  # name the object, and point at the user's line
        warn(f"{what}: {w.message}", w.category if issubclass(w.category, XrNapWarning)
             else XrNapWarning)
    return out.assign_attrs(attrs)
