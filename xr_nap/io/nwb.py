"""NWB files as lazy xarray objects: ``engine="nwb"``, :class:`NWBFile`, ``open_datatree``.

The file is read with h5py (see :mod:`xr_nap.io.nwb_layout` for how objects are found
and keyed, following ``pynapple.load_file``). At open, only time indexes and small tables
(units, intervals) are read; array data stay in the file behind an xarray
:class:`~xarray.backends.BackendArray` and are read slice by slice under a lock, through
a :class:`~xarray.backends.CachingFileManager`, so objects pickle (dask processes,
``distributed``) and ``chunks={}`` gives dask arrays chunked like the HDF5 datasets.

Mapping (pynapple 0.11's, with the data model of xr-nap):

============================  ==============================================================
NWB object                    xr-nap object
============================  ==============================================================
TimeSeries, 1-D data          ``Tsd``: ``(time,)``
TimeSeries, 2-D data          ``TsdFrame``: ``(time, column)``; SpatialSeries columns
                              ``x, y[, z]``; ElectricalSeries / RoiResponseSeries columns
                              are electrode / ROI ids with the table's scalar columns as
                              coordinates
TimeSeries, >2-D data         ``TsdTensor``: ``(time, dim_1, ...)``
Units (``*_times_index``)     ``TsGroup`` ragged Dataset with the scalar columns as metadata
TimeIntervals                 ``IntervalSet`` with the other columns as metadata
AnnotationSeries              ``Ts`` (annotations kept as coordinate ``annotation``)
table with ``*_times``        ``Ts`` (one per column; several -> keys ``"table/column"``)
============================  ==============================================================

Where xr-nap differs from pynapple (on purpose):

- ``conversion``/``offset`` are applied lazily (CF ``scale_factor``/``add_offset``), so
  values are physical; ``mask_and_scale=False`` gives the raw values, and
  ``var.encoding["dtype"]`` the raw dtype. An ElectricalSeries' ``channel_conversion``
  multiplies each column too (raw: ``attrs["channel_conversion"]``); having no CF
  packing, such a series is written back as floats. pynapple returns raw values.
- Rate-based series get a lazy time index (:mod:`xr_nap.core.time_index`) with the exact
  values of pynapple's ``starting_time + arange(n) / rate``.
- Unsorted timestamps are sorted together with their data (with a warning); pynapple
  sorts the timestamps only, so its values end up on the wrong times.
- Boolean unit columns are kept (pynapple drops them); objects that share a name in
  different places all get keys (see :mod:`xr_nap.io.nwb_layout`).
- Objects that cannot be read (data in an external file, data and timestamps of
  different lengths, ...) are skipped with a warning naming them; pynapple lists them and
  returns the raw pynwb object when asked.
- Reference/compound columns of tables (e.g. the ``timeseries`` column of TimeIntervals)
  are not carried over.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd
import xarray as xr
from h5py import h5a
from xarray.backends import BackendArray, BackendEntrypoint, CachingFileManager
from xarray.backends.file_manager import DummyFileManager
from xarray.backends.locks import HDF5_LOCK
from xarray.core import indexing

from xr_nap.core.intervals import interval_set
from xr_nap.core.lazy import read_row_runs
from xr_nap.core.time_index import rate_time_coords, time_coords
from xr_nap.core.time_series import (
    TYPE_ATTR,
    _ragged_dataset,
    _ragged_flat,
    ts,
)
from xr_nap.io.nwb_layout import (
    NWBObject,
    TableLayout,
    _colnames,
    check_nwb,
    describe_skipped,
    file_metadata,
    is_nwb_file,
    open_whole,
    read_all,
    read_attr,
    read_scalar,
    read_strings,
    scan,
    table_layout,
)

__all__ = ["NWBFile", "NWBBackendEntrypoint", "NWBArray"]

SERIES = ("Tsd", "TsdFrame", "TsdTensor", "Ts")


# --------------------------------------------------------------------------- file access
class NWBArray(BackendArray):
    """One HDF5 dataset of an NWB file, read slice by slice under a lock.

    With ``scale=(conversion, offset)`` values come back as float64
    ``raw * conversion + offset`` (xarray's CF decoding, bit for bit, without its extra
    lazy layer on every indexing and read). ``channel_scale`` (an ElectricalSeries'
    ``channel_conversion``) multiplies 2-D data column by column as well.
    """

    def __init__(self, manager: Any, lock: Any, path: str, shape: tuple, dtype: Any,
                 where: str, scale: tuple[float, float] | None = None,
                 channel_scale: np.ndarray | None = None):
        self.manager, self.lock, self.path, self.where = manager, lock, path, where
        self.shape = tuple(int(n) for n in shape)
        self.scale = scale
        self.channel_scale = channel_scale  # applied with ``scale``
        self.dtype = np.dtype(np.float64 if scale else dtype)
        self._handle: tuple | None = None

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        parts = key.tuple
        if not isinstance(key, indexing.VectorizedIndexer) and all(
                (isinstance(k, slice) and (k.step is None or k.step > 0))
                or (isinstance(k, int | np.integer) and k >= 0) for k in parts):
            return self._read(parts)  # h5py reads these as they are
        rows = read_row_runs(key, self._read)  # restrict to several intervals
        if rows is not None:
            return rows
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.BASIC, self._read)

    def _dataset(self) -> Any:
        # a dataset lookup costs more than a small read: keep the handle while its file
        # stays open (closing a file invalidates the ids of all its objects)
        if self._handle is not None and self._handle[0].id.valid:
            return self._handle[1]
        ds = _acquire(self.manager, self.where)[self.path]
        self._handle = (ds, ds.asstr() if h5py.check_string_dtype(ds.dtype) else ds)
        return self._handle[1]

    def _read(self, key: tuple) -> np.ndarray:
        with self.lock:
            raw = self._dataset()[key]
        if self.scale is None:
            return np.asarray(raw)
        # cast, then scale in place: faster than one mixed-type multiply (buffered cast)
        out = np.asarray(raw, dtype=np.float64)  # a fresh array of ours: no copy needed
        conversion, offset = self.scale
        if conversion != 1.0:
            out *= conversion
        if self.channel_scale is not None:  # key[1] picks the columns; they are out's last axis
            out *= self.channel_scale[key[1]]
        if offset != 0.0:
            out += offset
        return out

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_handle": None}


def _acquire(manager: Any, where: str) -> h5py.File:
    f = manager.acquire()
    if not f.id.valid:
        raise ValueError(f"the NWB file {where} is closed")
    return f


def _h5_of_pynwb(nwbfile: Any) -> h5py.File:
    io = getattr(nwbfile, "read_io", None)
    f = getattr(io, "_file", None)
    if not isinstance(f, h5py.File):
        raise ValueError(
            "this pynwb.NWBFile was not read from an HDF5 file; write it with "
            "pynwb.NWBHDF5IO and open the file instead")
    if not f.id.valid:
        raise ValueError(f"the NWB file {nwbfile.container_source} is closed")
    return f


class _Store:
    """An opened NWB file: its file manager, lock, object index and metadata."""

    def __init__(self, source: Any, lock: Any = None):
        self.lock = HDF5_LOCK if lock in (None, True) else lock
        self.owns = True
        if type(source).__name__ == "NWBFile" and hasattr(source, "objects"):
            f = _h5_of_pynwb(source)
            self.manager, self.owns = DummyFileManager(f), False
            self.where, self.name = f.filename, source.session_id or Path(f.filename).stem
        elif isinstance(source, h5py.File):
            self.manager, self.owns = DummyFileManager(source), False
            self.where, self.name = source.filename, Path(source.filename).stem
        else:
            path = Path(os.fspath(source))
            if not path.exists():
                raise FileNotFoundError(f"no such file: {path}")
            self.where, self.name = str(path), path.stem
            self.manager = CachingFileManager(h5py.File, str(path), mode="r")
        with self.lock:
            try:
                f = _acquire(self.manager, self.where)
            except OSError as err:
                raise OSError(f"cannot read {self.where} as an HDF5 (NWB) file: {err}") from err
            check_nwb(f, self.where)
            self.index, self.skipped = scan(f)
            self.attrs = file_metadata(f)
        self.closed = False
        describe_skipped(self.where, self.skipped)

    def file(self) -> h5py.File:
        if self.closed:
            raise ValueError(f"the NWB file {self.where} is closed")
        return _acquire(self.manager, self.where)

    def close(self) -> None:
        self.closed = True
        if self.owns:
            self.manager.close()

    def lookup(self, group: str) -> tuple[NWBObject, str | None]:
        """The object named by a key, pynapple full path or HDF5 path (+ Ts column)."""
        for key, obj in self.index.items():
            if group in (key, obj.full_path, obj.path) or group.strip("/") == key:
                return obj, None
        head, _, column = group.rstrip("/").rpartition("/")
        if head:
            try:
                obj, _ = self.lookup(head)
            except KeyError:
                pass
            else:
                if obj.kind == "Ts" and obj.role == "DynamicTable":
                    return obj, column
        raise KeyError(f"no NWB object {group!r} in {self.where}; keys: {list(self.index)}")

    def array(self, ds: h5py.Dataset, scale: tuple[float, float] | None = None,
              channel_scale: np.ndarray | None = None) -> indexing.LazilyIndexedArray:
        return indexing.LazilyIndexedArray(NWBArray(
            self.manager, self.lock, ds.name, ds.shape, ds.dtype, self.where, scale,
            channel_scale))


# --------------------------------------------------------------------------- builders
def _meta(obj: NWBObject, g: h5py.Group) -> dict[str, Any]:
    out = {"neurodata_type": obj.neurodata_type, "object_id": obj.object_id,
           "nwb_path": obj.path}
    desc = obj.table.description if obj.table is not None else read_attr(g, "description")
    if isinstance(desc, (str, bytes)):
        out["description"] = desc.decode() if isinstance(desc, bytes) else desc
    return out


def _timestamps(g: h5py.Group, where: str) -> np.ndarray:
    t = read_all(g["timestamps"], np.float64).reshape(-1)
    if not np.isfinite(t).all():
        raise ValueError(f"{where}: timestamps of {g.name} are not all finite")
    return t


def _sort_order(t: np.ndarray, what: str) -> np.ndarray | None:
    if t.size < 2 or np.all(t[1:] >= t[:-1]):
        return None
    warnings.warn(f"{what}: timestamps are not sorted; sorting them together with "
                  "their data", UserWarning, stacklevel=4)
    return np.argsort(t, kind="stable")


def _table_columns(table: h5py.Group, rows: np.ndarray | None = None) -> dict[str, Any]:
    """Scalar 1-D columns of a DynamicTable (refs, ragged, n-D columns left out)."""
    out = {}
    for name in _colnames(table):
        col = table.get(name)
        if (not isinstance(col, h5py.Dataset) or f"{name}_index" in table
                or len(col.shape) != 1 or col.dtype.names or h5py.check_ref_dtype(col.dtype)):
            continue
        values = read_scalar(col)
        out[name] = values if rows is None else values[rows]
    return out


def _region_columns(f: h5py.File, region: h5py.Dataset, n: int) -> tuple[Any, dict]:
    """Row ids and scalar columns of the table a DynamicTableRegion points to."""
    table = f[region.attrs["table"]]
    rows = np.asarray(region[()], dtype=np.int64)
    ids = np.asarray(table["id"][()])[rows]
    if len(ids) < n:  # pynapple then falls back to 0..n-1 without metadata
        return np.arange(n), {}
    return ids[:n], {k: v[:n] for k, v in _table_columns(table, rows).items()
                     if k not in ("id",)}


def _columns(f: h5py.File, g: h5py.Group, obj: NWBObject, ncol: int) -> tuple[Any, dict]:
    if obj.role == "SpatialSeries" and ncol in (2, 3):
        return np.array(["x", "y", "z"][:ncol]), {}
    link = {"ElectricalSeries": "electrodes", "RoiResponseSeries": "rois"}.get(obj.role)
    if link and isinstance(g.get(link), h5py.Dataset) and "table" in g[link].attrs:
        try:
            return _region_columns(f, g[link], ncol)
        except (KeyError, ValueError, OSError, IndexError):
            pass
    return np.arange(ncol), {}


def _series(store: _Store, f: h5py.File, obj: NWBObject, mask_and_scale: bool) -> xr.Dataset:
    g = f[obj.path]
    where = f"{store.where}:{obj.path}"
    data = g.get("data")
    shape = (0,) if data is None else data.shape
    ndim = len(shape)
    dims = ("time",) if ndim == 1 else ("time", "column") if ndim == 2 else (
        "time", *(f"dim_{i}" for i in range(1, ndim)))
    order = None
    if "timestamps" in g:
        t = _timestamps(g, where)
        order = _sort_order(t, where)
        if order is not None:
            t = t[order]
        coords: Any = time_coords(t)
    else:
        st = g["starting_time"]
        t0, rate = float(st[()]), float(st.attrs["rate"])
        coords = rate_time_coords(t0, rate, shape[0])
    attrs: dict[str, Any] = {TYPE_ATTR: obj.kind} if obj.kind == "Ts" else {}
    values: Any = np.empty(0, np.uint8)
    encoding: dict[str, Any] = {}
    if data is not None:
        unit = data.attrs.get("unit")
        if unit is not None:
            attrs["units"] = unit.decode() if isinstance(unit, bytes) else str(unit)
        # CF scale_factor/add_offset, set only when they change the values
        scale = {k: np.float64(v) for k, v, unset in (
            ("scale_factor", data.attrs.get("conversion", 1.0), 1.0),
            ("add_offset", data.attrs.get("offset", 0.0), 0.0)) if float(v) != unset}
        channel = _channel_conversion(g, shape, where)
        if (scale or channel is not None) and mask_and_scale:  # decoded by the array itself
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
    var = xr.Variable(dims, values, attrs)
    if order is not None:
        var = var[order]
    var = xr.conventions.decode_cf_variable(
        obj.name, var, mask_and_scale=mask_and_scale, decode_times=False,
        concat_characters=False, decode_endianness=True)
    var.encoding.update(encoding)
    extra: dict[str, Any] = {}
    if ndim == 2:
        cols, colmeta = _columns(f, g, obj, shape[1])
        extra = {"column": cols, **{k: ("column", v) for k, v in colmeta.items()
                                    if k not in ("time", "column")}}
    ds = xr.Dataset({obj.name: var}, coords=coords, attrs=_meta(obj, g))
    return ds.assign_coords(extra) if extra else ds


def _channel_conversion(g: h5py.Group, shape: tuple, where: str) -> np.ndarray | None:
    """An ElectricalSeries' ``channel_conversion`` (one factor per column of 2-D data),
    or None: absent, or unusable (then a warning says why and values are not scaled by it).
    """
    ds = g.get("channel_conversion")
    if ds is None:
        return None
    axis = read_attr(ds, "axis") if isinstance(ds, h5py.Dataset) else None
    axis = [1] if axis is None else np.asarray(axis).reshape(-1).tolist()
    if not isinstance(ds, h5py.Dataset) or ds.dtype.kind not in "iuf" or len(shape) != 2 \
            or ds.shape != (shape[1],) or axis != [1]:
        warnings.warn(f"{where}: channel_conversion of shape {getattr(ds, 'shape', None)} "
                      f"(axis {axis}) does not fit data of shape {shape}; not applied",
                      UserWarning, stacklevel=5)
        return None
    factors = read_all(ds, np.float64)
    if not np.isfinite(factors).all():
        warnings.warn(f"{where}: channel_conversion is not all finite; not applied",
                      UserWarning, stacklevel=5)
        return None
    return factors


def _ts_dataset(name: str, t: np.ndarray, meta: dict, what: str,
                coords: dict | None = None) -> xr.Dataset:
    order = _sort_order(t, what)
    if order is not None:
        t = t[order]
        coords = {k: v[order] for k, v in (coords or {}).items()}
    da = ts(t, name=name)
    if coords:
        da = da.assign_coords({k: ("time", v) for k, v in coords.items()})
    return da.to_dataset().assign_attrs(meta)


def _annotations(store: _Store, f: h5py.File, obj: NWBObject) -> xr.Dataset:
    g = f[obj.path]
    t = _timestamps(g, f"{store.where}:{obj.path}")
    coords = {}
    data = g.get("data")
    if isinstance(data, h5py.Dataset) and data.shape == t.shape:
        coords["annotation"] = read_scalar(data)
    return _ts_dataset(obj.name, t, _meta(obj, g), f"{store.where}:{obj.path}", coords)


def _times_tables(store: _Store, f: h5py.File, obj: NWBObject) -> dict[str, xr.Dataset]:
    g = f[obj.path]
    out = {}
    for col in _colnames(g):
        if col.endswith("_times") and isinstance(g.get(col), h5py.Dataset):
            t = read_all(g[col], np.float64).reshape(-1)
            out[col] = _ts_dataset(col, t, _meta(obj, g), f"{store.where}:{obj.path}/{col}")
    return out


def _first_unsorted(spikes: np.ndarray, ends: np.ndarray) -> int | None:
    """Row of the first unit whose spike times decrease, or None."""
    down = spikes[1:] < spikes[:-1]
    cut = ends[:-1]
    down[cut[(cut > 0) & (cut < spikes.size)] - 1] = False  # unit boundaries may decrease
    first = int(np.argmax(down)) if down.size else 0
    return int(np.searchsorted(ends, first + 1, side="right")) if down.size and down[first] \
        else None


def _spike_range(spikes: np.ndarray, starts: np.ndarray, ends: np.ndarray, what: str
                 ) -> tuple[Any, Any, int | None]:
    """``(first, last, row)``: the earliest and latest spike and the first unit whose
    spikes are not sorted (None if all are).

    Raises
    ------
    ValueError
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
        raise ValueError(f"{what} are not all finite")
    return lo, hi, None if row is None else _first_unsorted(spikes, ends)


def _units(store: _Store, f: h5py.File, obj: NWBObject) -> xr.Dataset:
    g = f[obj.path]
    where = f"{store.where}:{obj.path}"
    layout = obj.table or table_layout(g)  # recorded by the scan
    members = layout.members
    col = "spike_times" if "spike_times_index" in members else min(
        n for n in members if n.endswith("_times_index"))[: -len("_index")]
    # low-level opens and reads: an h5py lookup costs more than reading a column
    found = [open_whole(g, name) for name in ("id", f"{col}_index", col)]
    if any(x is None for x in found):
        missing = [n for n, x in zip(("id", f"{col}_index", col), found, strict=True)
                   if x is None]
        raise KeyError(f"no dataset {missing[0]!r} in {obj.path}")
    ids = read_all(found[0])
    ends = read_all(found[1], np.int64)
    meta = _unit_metadata(f, g, ids.size, col, layout)  # small reads before the big one
    spikes = read_all(found[2], np.float64)
    # few numpy calls: on a just-opened file each one costs tens of microseconds
    starts = np.zeros_like(ends)
    starts[1:] = ends[:-1]
    counts = ends - starts
    if ends.size != ids.size or (ends.size and (counts.min() < 0 or ends[-1] > spikes.size)):
        raise ValueError(f"{where}: {col}_index does not index {col} ({ends.size} rows, "
                         f"{ids.size} ids, {spikes.size} spikes)")
    spikes = spikes[: ends[-1] if ends.size else 0]
    lo, hi, row = _spike_range(spikes, starts, ends, f"{where}: {col}")
    if row is not None:
        warnings.warn(f"{where}: spike times of unit {ids[row]} (and maybe others) are not "
                      "sorted; sorting them", UserWarning, stacklevel=3)
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
    group.attrs.update(_meta(obj, g))  # a new object of ours: no need to copy it
    return group


def _unit_metadata(f: h5py.File, g: h5py.Group, n: int, col: str, layout: TableLayout
                   ) -> dict[str, Any]:
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
                loc = [f[ref].attrs.get("location") for ref in h5py.Dataset(dsid)[()]]
            except (KeyError, ValueError, OSError):
                continue
            if len(loc) == n and all(x is not None for x in loc):
                meta["location"] = np.array(
                    [x.decode() if isinstance(x, bytes) else str(x) for x in loc])
            continue
        if f"{name}_index" in members or dsid.shape != (n,) or dtype.names \
                or h5py.check_ref_dtype(dtype):
            continue
        if dtype.kind in "iu" and h5a.exists(dsid, b"table"):  # table region (row numbers)
            try:
                _, cols = _region_columns(f, h5py.Dataset(dsid), n)
            except (KeyError, ValueError, OSError, IndexError):
                continue
            meta.update({k: v for k, v in cols.items() if k not in meta})
        elif dtype.kind in "biuf":
            meta[name] = read_all(dsid)
        else:
            values = read_strings(dsid)
            meta[name] = read_scalar(h5py.Dataset(dsid)) if values is None else values
    return meta


def _intervals(store: _Store, f: h5py.File, obj: NWBObject) -> xr.Dataset:
    g = f[obj.path]
    start = read_all(g["start_time"], np.float64)
    end = read_all(g["stop_time"], np.float64)
    meta: dict[str, Any] = {}
    for name in _colnames(g):
        ds = g.get(name)
        if name in ("start_time", "stop_time") or not isinstance(ds, h5py.Dataset) \
                or ds.dtype.names or h5py.check_ref_dtype(ds.dtype):
            continue
        idx = g.get(f"{name}_index")
        if isinstance(idx, h5py.Dataset):  # ragged (e.g. tags): one array per row
            values, ends = read_scalar(ds), read_all(idx, np.int64)
            cells = np.empty(ends.size, dtype=object)
            cells[:] = np.split(np.asarray(values, dtype=object), ends[:-1]) if ends.size \
                else []
            meta[name] = cells
        elif ds.shape == start.shape:
            meta[name] = read_scalar(ds)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        out = interval_set(start, end, metadata=pd.DataFrame(meta) if meta else None)
    return out.assign_attrs(_meta(obj, g))


def _build(store: _Store, obj: NWBObject, mask_and_scale: bool = True
           ) -> xr.Dataset | dict[str, xr.Dataset]:
    with store.lock:
        f = store.file()
        try:
            if obj.kind == "TsGroup":
                return _units(store, f, obj)
            if obj.kind == "IntervalSet":
                return _intervals(store, f, obj)
            if obj.role == "AnnotationSeries":
                return _annotations(store, f, obj)
            if obj.kind == "Ts":
                out = _times_tables(store, f, obj)
                return next(iter(out.values())) if len(out) == 1 else out
            return _series(store, f, obj, mask_and_scale)
        except (KeyError, OSError, TypeError) as err:
            raise ValueError(f"cannot read NWB object {obj.path} ({obj.neurodata_type}) "
                             f"of {store.where}: {err}") from err


def _drop(ds: xr.Dataset, drop_variables: str | Iterable[str] | None) -> xr.Dataset:
    if drop_variables is None:
        return ds
    names = [drop_variables] if isinstance(drop_variables, str) else list(drop_variables)
    return ds.drop_vars([n for n in names if n in ds.variables])


# --------------------------------------------------------------------------- backend
class NWBBackendEntrypoint(BackendEntrypoint):
    """xarray backend for NWB 2.x files (``engine="nwb"``).

    ``xr.open_dataset(path, engine="nwb", group=KEY)`` opens one object; ``KEY`` is a key
    of :class:`NWBFile` (pynapple's key), pynapple's full path (``"/behavior/Position/pos"``)
    or the HDF5 path. Without ``group`` it returns the file-level metadata (the root of
    ``open_datatree``) with the list of keys in ``attrs["nwb_keys"]``.
    ``mask_and_scale=False`` gives raw (unconverted) values.

    Examples
    --------
    >>> import xarray as xr
    >>> "nwb" in xr.backends.list_engines()
    True
    """

    description = "Open NWB (Neurodata Without Borders) 2.x files lazily, as xr-nap objects"
    url = "https://github.com/pynapple-org/pynapple"
    supports_groups = True
    open_dataset_parameters = ("filename_or_obj", "drop_variables", "group", "mask_and_scale",
                               "decode_times", "decode_timedelta", "use_cftime",
                               "concat_characters", "decode_coords", "lock")

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        if isinstance(filename_or_obj, h5py.File):
            return is_nwb_file(filename_or_obj)
        if not isinstance(filename_or_obj, (str, os.PathLike)):
            return type(filename_or_obj).__name__ == "NWBFile"
        path = Path(os.fspath(filename_or_obj))
        if path.suffix.lower() == ".nwb":
            return True
        if not path.is_file():
            return False
        try:
            with open(path, "rb") as fh:
                if fh.read(8) != b"\x89HDF\r\n\x1a\n":
                    return False
            with h5py.File(path, "r") as f:
                return is_nwb_file(f)
        except OSError:
            return False

    def open_dataset(  # type: ignore[override]
        self,
        filename_or_obj: Any,
        *,
        drop_variables: str | Iterable[str] | None = None,
        group: str | None = None,
        mask_and_scale: bool | None = True,
        decode_times: Any = None,
        decode_timedelta: Any = None,
        use_cftime: Any = None,
        concat_characters: Any = None,
        decode_coords: Any = None,
        lock: Any = None,
    ) -> xr.Dataset:
        store = _Store(filename_or_obj, lock)
        try:
            ds = _open_group(store, group, mask_and_scale is not False)
        except BaseException:
            store.close()
            raise
        ds = _drop(ds, drop_variables)
        ds.set_close(store.close)
        return ds

    def open_groups_as_dict(  # type: ignore[override]
        self,
        filename_or_obj: Any,
        *,
        drop_variables: str | Iterable[str] | None = None,
        mask_and_scale: bool | None = True,
        lock: Any = None,
        **kwargs: Any,
    ) -> dict[str, xr.Dataset]:
        store = _Store(filename_or_obj, lock)
        out = {"/": _root(store)}
        for key, obj in store.index.items():
            built = _build(store, obj, mask_and_scale is not False)
            items = built.items() if isinstance(built, dict) else [("", built)]
            for col, ds in items:
                out["/" + "/".join(p for p in (key, col) if p)] = _drop(ds, drop_variables)
        out["/"].set_close(store.close)
        return out

    def open_datatree(  # type: ignore[override]
        self,
        filename_or_obj: Any,
        *,
        drop_variables: str | Iterable[str] | None = None,
        **kwargs: Any,
    ) -> xr.DataTree:
        groups = self.open_groups_as_dict(filename_or_obj, drop_variables=drop_variables,
                                          **kwargs)
        close = groups["/"]._close
        tree = xr.DataTree.from_dict(groups)
        tree.set_close(close)
        return tree


def _root(store: _Store) -> xr.Dataset:
    return xr.Dataset(attrs={**store.attrs, "nwb_keys": list(store.index)})


def _open_group(store: _Store, group: str | None, mask_and_scale: bool) -> xr.Dataset:
    if group in (None, "", "/"):
        return _root(store)
    obj, column = store.lookup(group)
    built = _build(store, obj, mask_and_scale)
    if isinstance(built, dict):
        if column is None:
            raise ValueError(f"{group!r} holds several Ts ({list(built)}); open one with "
                             f"group='{group.strip('/')}/<column>'")
        if column not in built:
            raise KeyError(f"{group!r} has no *_times column {column!r}; has {list(built)}")
        return built[column]
    return built


# --------------------------------------------------------------------------- NWBFile
def _chunk(obj: xr.DataArray | xr.Dataset, chunks: Any) -> xr.DataArray | xr.Dataset:
    """``obj.chunk``, where ``{}`` (or missing dims of a dict) means the HDF5 chunks."""
    if not isinstance(chunks, Mapping):
        return obj.chunk(chunks)
    variables = obj.data_vars.values() if isinstance(obj, xr.Dataset) else [obj.variable]
    preferred: dict[Any, Any] = {}
    for var in variables:
        preferred.update(var.encoding.get("preferred_chunks", {}))
    return obj.chunk({k: v for k, v in {**preferred, **chunks}.items() if k in obj.dims})


class NWBFile(Mapping):
    """A read-only mapping key -> xarray object for an NWB file (pynapple's ``NWBFile``).

    Parameters
    ----------
    file : str, path-like, h5py.File or pynwb.NWBFile
        The file; an already opened ``pynwb.NWBFile`` is read through its h5py file
        (which stays open and owned by its ``NWBHDF5IO``).
    lazy_loading : bool, default True
        Keep array data in the file until indexed; ``False`` loads each object into
        memory when it is first accessed.
    chunks : dict, int, "auto" or None, optional
        Give series dask arrays, as ``xr.open_dataset(..., chunks=)`` does: ``{}`` uses
        the HDF5 chunks of each dataset, a dict ``{"time": n}`` overrides them. ``None``
        (default) keeps the lazily indexed arrays. Ignored when ``lazy_loading=False``.

    Attributes
    ----------
    name : str
        File stem (or ``session_id`` for a pynwb object).
    key_to_id : dict
        Key -> NWB ``object_id``.
    key_to_full_path : dict
        Key -> pynapple's full path of the object.
    attrs : dict
        File-level metadata (identifier, session_description, session_start_time, ...).

    Notes
    -----
    Series (``Ts``/``Tsd``/``TsdFrame``/``TsdTensor``) are DataArrays, ``TsGroup`` and
    ``IntervalSet`` are Datasets. A table with several ``*_times`` columns gives a dict of
    ``Ts``, as in pynapple. Keys can also be given as pynapple's full path
    (``data["/behavior/Position/pos"]``). After :meth:`close`, access raises ``ValueError``.

    Examples
    --------
    >>> import xr_nap as nap  # doctest: +SKIP
    >>> with nap.load_file("session.nwb") as data:  # doctest: +SKIP
    ...     spikes = data["units"]
    """

    def __init__(self, file: Any, lazy_loading: bool = True,
                 chunks: Mapping[str, Any] | int | str | None = None):
        self._store = _Store(file)
        self.name = self._store.name
        self.path = Path(self._store.where)
        self.attrs = dict(self._store.attrs)
        self.key_to_id = {k: o.object_id for k, o in self._store.index.items()}
        self.key_to_full_path = {k: o.full_path for k, o in self._store.index.items()}
        self._lazy_loading = lazy_loading
        self._chunks = chunks
        self._cache: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._store.index:
            full = {v: k for k, v in self.key_to_full_path.items()}
            if key in full:
                key = full[key]
            else:
                raise KeyError(f"Can't find key {key!r} in {self.name}; keys: {list(self)}")
        if self._store.closed:
            raise ValueError(f"the NWB file {self._store.where} is closed")
        if key not in self._cache:
            obj = self._store.index[key]
            built = _build(self._store, obj)
            items = built if isinstance(built, dict) else {"": built}
            out = {col: self._finish(obj, ds) for col, ds in items.items()}
            self._cache[key] = out if isinstance(built, dict) else out[""]
        return self._cache[key]

    def _finish(self, obj: NWBObject, ds: xr.Dataset) -> Any:
        if obj.kind in SERIES:
            name = next(iter(ds.data_vars))
            meta = {k: v for k, v in ds.attrs.items() if k not in ds[name].attrs}
            ds = ds[name].assign_attrs(meta)
        if not self._lazy_loading:
            return ds.load()
        if self._chunks is None or obj.kind not in SERIES:  # tables are read whole
            return ds
        return _chunk(ds, self._chunks)

    def __iter__(self) -> Iterator[str]:
        return iter(self._store.index)

    def __len__(self) -> int:
        return len(self._store.index)

    def type_of(self, key: str) -> str:
        """The pynapple type of ``key`` (``"TsGroup"``, ``"Tsd"``, ...)."""
        return self._store.index[key].kind

    def __repr__(self) -> str:
        rows = [(k, o.kind) for k, o in self._store.index.items()]
        w1 = max([len("Keys"), *(len(k) for k, _ in rows)])
        w2 = max([len("Type"), *(len(t) for _, t in rows)])
        line = "{}{}{}{}{}"
        out = [self.name,
               line.format("┍", "━" * (w1 + 2), "┯", "━" * (w2 + 2), "┑"),
               f"│ {'Keys':<{w1}} │ {'Type':<{w2}} │",
               line.format("┝", "━" * (w1 + 2), "┿", "━" * (w2 + 2), "┥")]
        out += [f"│ {k:<{w1}} │ {t:<{w2}} │" for k, t in rows]
        out.append(line.format("┕", "━" * (w1 + 2), "┷", "━" * (w2 + 2), "┙"))
        return "\n".join(out)

    __str__ = __repr__

    @property
    def closed(self) -> bool:
        return self._store.closed

    def close(self) -> None:
        """Close the file (an h5py/pynwb handle passed in is left open)."""
        self._store.close()

    def __enter__(self) -> NWBFile:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
