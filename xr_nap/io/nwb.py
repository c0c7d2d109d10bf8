"""NWB files as lazy xarray objects: ``engine="nwb"``, :class:`NWBFile`, ``open_datatree``.

The backend has xarray's own shape (``backends/h5netcdf_.py``): an array wrapper and a
store (:mod:`xr_nap.io.nwb_store`) under this module's entrypoint and :class:`NWBFile`
mapping; the file scan (:mod:`xr_nap.io.nwb_scan`: how objects are found and keyed,
following ``pynapple.load_file``), the low-level h5py readers (:mod:`xr_nap.io.nwb_read`)
and the builders of xr-nap objects (:mod:`xr_nap.io.nwb_build`) have modules of their
own. The file is read with h5py. At open, only time indexes and small tables (units,
intervals) are read; array data stay in the file behind an xarray
:class:`~xarray.backends.BackendArray` and are read slice by slice under a lock, through
a :class:`~xarray.backends.CachingFileManager`, so objects pickle (dask processes,
``distributed``) and ``chunks={}`` gives dask arrays chunked like the HDF5 datasets.

Sources (:func:`xr_nap.io.nwb_store.open_source`): a path; a URL, kept as a string and
reopened through :mod:`xr_nap.io.remote` (HTTP ranges, or fsspec with
``storage_options``); an open binary file object; an h5py or pynwb file; an NWB-zarr
store, walked by the same scan and builders through :mod:`xr_nap.io.nwb_zarr`.

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
TimeSeries of strings         ``Tsd`` of ``str`` values (as pynapple)
TimeSeries of references      ``Tsd`` of the HDF5 paths referred to (pynapple cannot
                              build these)
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
  different places all get keys (see :mod:`xr_nap.io.nwb_scan`).
- Objects that cannot be read (data in an external file, data and timestamps of
  different lengths, a NaN ``starting_time``, a rate that is not a positive number, a
  hard-link cycle, ...) are skipped at open with a
  :class:`~xr_nap.errors.SkippedObjectWarning` naming them; pynapple lists them and
  returns the raw pynwb object when asked.
- Objects whose values turn out wrong when read (non-finite timestamps or spike times,
  a ``*_index`` column that does not index its column, duplicate unit ids, a file
  truncated after it was opened) raise :class:`~xr_nap.errors.NWBFormatError` naming
  the file and the object from ``data[key]`` / ``open_dataset``; ``open_datatree``
  skips them with a ``SkippedObjectWarning`` and reads the rest, and ``xr-nap info``
  lists them as unreadable.
- A ``conversion`` that is NaN, infinite or 0, or an ``offset`` that is not finite,
  cannot give physical values: such a series is read raw, with a warning. A
  DynamicTableRegion with rows outside its table does not label columns (they are
  numbered 0..n-1), with a warning.
- Reference columns of tables become readable values (pynapple keeps pynwb objects):
  the ``timeseries`` column of TimeIntervals (a TimeSeriesReference) gives
  ``timeseries_idx_start``, ``timeseries_count`` and ``timeseries``, the key of the
  referenced series; other references give the referenced object's key, or its HDF5
  path (an ElectricalSeries' electrode ``group``). Other compound columns are left out.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import h5py
import xarray as xr
from xarray.backends import BackendEntrypoint

from xr_nap.errors import NWBFormatError
from xr_nap.io.describe import table
from xr_nap.io.nwb_build import build
from xr_nap.io.nwb_scan import NWBObject, describe_skipped, is_nwb_file
from xr_nap.io.nwb_store import NWBArray, NWBStore
from xr_nap.io.remote import is_url

__all__ = ["NWBFile", "NWBBackendEntrypoint", "NWBArray"]

SERIES = ("Tsd", "TsdFrame", "TsdTensor", "Ts")


def _drop(ds: xr.Dataset, drop_variables: str | Iterable[str] | None) -> xr.Dataset:
    if drop_variables is None:
        return ds
    names = [drop_variables] if isinstance(drop_variables, str) else list(drop_variables)
    return ds.drop_vars([n for n in names if n in ds.variables])


def _root(store: NWBStore) -> xr.Dataset:
    return xr.Dataset(attrs={**store.attrs, "nwb_keys": list(store.index)})


def _open_group(store: NWBStore, group: str | None, mask_and_scale: bool) -> xr.Dataset:
    if group in (None, "", "/"):
        return _root(store)
    obj, column = store.lookup(group)
    built = build(store, obj, mask_and_scale)
    if isinstance(built, dict):
        if column is None:
            raise ValueError(f"{group!r} holds several Ts ({list(built)}); open one with "
                             f"group='{group.strip('/')}/<column>'")
        if column not in built:
            raise KeyError(f"{group!r} has no *_times column {column!r}; has {list(built)}")
        return built[column]
    return built


def _groups(store: NWBStore, drop_variables: str | Iterable[str] | None,
            mask_and_scale: bool) -> dict[str, xr.Dataset]:
    """Every object of the file, keyed by tree path; objects that turn out unreadable
    are left out with one warning naming them (the rest of the file stays readable)."""
    out = {"/": _root(store)}
    unreadable = []
    for key, obj in store.index.items():
        try:
            built = build(store, obj, mask_and_scale)
        except NWBFormatError as err:
            unreadable.append((obj.path, str(err)))
            continue
        items = built.items() if isinstance(built, dict) else [("", built)]
        for col, ds in items:
            out["/" + "/".join(p for p in (key, col) if p)] = _drop(ds, drop_variables)
    describe_skipped(store.where, unreadable)
    return out


class NWBBackendEntrypoint(BackendEntrypoint):
    """xarray backend for NWB 2.x files (``engine="nwb"``).

    ``xr.open_dataset(path, engine="nwb", group=KEY)`` opens one object; ``KEY`` is a key
    of :class:`NWBFile` (pynapple's key), pynapple's full path (``"/behavior/Position/pos"``)
    or the HDF5 path. Without ``group`` it returns the file-level metadata (the root of
    ``open_datatree``) with the list of keys in ``attrs["nwb_keys"]``.
    ``mask_and_scale=False`` gives raw (unconverted) values. ``filename_or_obj`` may
    also be a URL (with ``storage_options``), an open binary file object or an NWB-zarr
    store, as for :class:`NWBFile`.

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
                               "concat_characters", "decode_coords", "lock", "storage_options")

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        if isinstance(filename_or_obj, h5py.File):
            return is_nwb_file(filename_or_obj)
        if not isinstance(filename_or_obj, (str, os.PathLike)):
            return type(filename_or_obj).__name__ == "NWBFile"
        text = os.fspath(filename_or_obj)
        if text.split("?", 1)[0].rstrip("/").lower().endswith((".nwb", ".nwb.zarr")):
            return True
        path = Path(text)
        if is_url(text):
            return False
        if not path.is_file():
            return False
        try:
            with open(path, "rb") as fh:
                if fh.read(8) != b"\x89HDF\r\n\x1a\n":
                    return False
            with h5py.File(path, "r") as f:
                return is_nwb_file(f)
        except OSError:  # unreadable or not HDF5: not ours
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
        storage_options: dict[str, Any] | None = None,
    ) -> xr.Dataset:
        store = NWBStore(filename_or_obj, lock, storage_options)
        try:
            ds = _drop(_open_group(store, group, mask_and_scale is not False), drop_variables)
        except BaseException:
            store.close()
            raise
        ds.set_close(store.close)
        return ds

    def open_groups_as_dict(  # type: ignore[override]
        self,
        filename_or_obj: Any,
        *,
        drop_variables: str | Iterable[str] | None = None,
        mask_and_scale: bool | None = True,
        lock: Any = None,
        storage_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, xr.Dataset]:
        store = NWBStore(filename_or_obj, lock, storage_options)
        try:
            out = _groups(store, drop_variables, mask_and_scale is not False)
        except BaseException:
            store.close()
            raise
        out["/"].set_close(store.close)
        return out

    def open_datatree(  # type: ignore[override]
        self,
        filename_or_obj: Any,
        *,
        drop_variables: str | Iterable[str] | None = None,
        mask_and_scale: bool | None = True,
        lock: Any = None,
        storage_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> xr.DataTree:
        store = NWBStore(filename_or_obj, lock, storage_options)
        try:
            tree = xr.DataTree.from_dict(
                _groups(store, drop_variables, mask_and_scale is not False))
        except BaseException:
            store.close()
            raise
        tree.set_close(store.close)
        return tree


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
    file : str, path-like, URL, file object, h5py.File, pynwb.NWBFile or NWB-zarr store
        The file; an already opened ``pynwb.NWBFile`` is read through its h5py file
        (which stays open and owned by its ``NWBHDF5IO``). URLs (``https://``,
        ``s3://``, ...), open binary file objects and NWB-zarr stores (a directory,
        ``.zarr`` URL or fsspec mapper) are read as described in the remote-reading page
        of the docs.
    lazy_loading : bool, default True
        Keep array data in the file until indexed; ``False`` loads each object into
        memory when it is first accessed.
    chunks : dict, int, "auto" or None, optional
        Give series dask arrays, as ``xr.open_dataset(..., chunks=)`` does: ``{}`` uses
        the HDF5 chunks of each dataset, a dict ``{"time": n}`` overrides them. ``None``
        (default) keeps the lazily indexed arrays. Ignored when ``lazy_loading=False``.
    storage_options : dict, optional
        For URLs: options of the byte source (:mod:`xr_nap.io.remote`).

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

    Raises
    ------
    NWBFormatError
        At open, if the file is not an NWB 2.x file; from ``data[key]``, if that object
        cannot be read (the message names the file and the object).

    Notes
    -----
    Series (``Ts``/``Tsd``/``TsdFrame``/``TsdTensor``) are DataArrays, ``TsGroup`` and
    ``IntervalSet`` are Datasets. A table with several ``*_times`` columns gives a dict of
    ``Ts``, as in pynapple. Keys can also be given as pynapple's full path
    (``data["/behavior/Position/pos"]``). After :meth:`close`, access raises ``ValueError``.

    Examples
    --------
    >>> import tempfile
    >>> import xr_nap as nap
    >>> from xr_nap.testing import write_sample_nwb
    >>> path = write_sample_nwb(f"{tempfile.mkdtemp()}/session.nwb", duration=20.0, n_units=2)
    >>> with nap.load_file(path) as data:
    ...     print(data.type_of("units"), data["units"].sizes["unit"])
    TsGroup 2
    """

    def __init__(self, file: Any, lazy_loading: bool = True,
                 chunks: Mapping[str, Any] | int | str | None = None,
                 storage_options: dict[str, Any] | None = None):
        self._store = NWBStore(file, storage_options=storage_options)
        self.name = self._store.name
        where = self._store.where  # a URL or a file object's description stays a string
        self.path = Path(where) if os.path.exists(where) else where
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
            built = build(self._store, obj)
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
        return table(self.name, ["Keys", "Type"],
                     [[k, o.kind] for k, o in self._store.index.items()])

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
