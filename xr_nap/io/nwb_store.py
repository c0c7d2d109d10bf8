"""An opened NWB file (:class:`NWBStore`) and its lazily read arrays (:class:`NWBArray`).

As in xarray's own HDF5 backends, the file is held by a file manager
(:class:`~xarray.backends.CachingFileManager` for a path, so arrays pickle and reopen
it in another process) and every HDF5 call runs under one lock.

Lock discipline: the lock is non-reentrant, so code holding it must never read
through an :class:`NWBArray` (which takes it again). The store's :meth:`NWBStore.reading`
is the only place builders take it, and they do plain h5py reads inside it; anything
that may read through a lazy array (xarray's decoding samples object data) runs after.
A read attempted while the same thread holds the lock raises instead of deadlocking.

Damage after open: every read checks that the file has not shrunk (HDF5 reads past the
end of a truncated file as zeros), and an array that reopens its file (after pickling,
or when the file manager closed it) first checks that the file is still the one it was
opened from (same size, same root ``object_id``).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from xarray.backends import BackendArray, CachingFileManager, FileManager
from xarray.backends.locks import HDF5_LOCK
from xarray.core import indexing

from xr_nap.core.lazy import read_row_runs
from xr_nap.errors import NWBFormatError, XrNapError
from xr_nap.io.nwb_read import FILE_ERRORS, attr_text, reference_paths
from xr_nap.io.nwb_scan import NWBObject, check_nwb, describe_skipped, file_metadata, scan
from xr_nap.io.nwb_zarr import ZarrArray

__all__ = ["NWBArray", "NWBStore", "FileIdentity", "Source", "open_source", "h5_file_of_pynwb",
           "scaled"]

_held = threading.local()


class LockOrderError(RuntimeError):
    """xr-nap read through its lock while holding it: a bug, never a fact of a file."""


# xarray's mark of variable-length strings: written as strings without loading the data
# first to find their type (as for h5netcdf's own string variables)
_VLEN_STR = np.dtype(object, metadata={"element_type": str})


class holding:  # lower case, like contextlib.suppress: ``with holding(lock):``
    """Hold ``lock``; raise if this thread holds it already (that would deadlock)."""

    __slots__ = ("lock",)

    def __init__(self, lock: Any):
        self.lock = lock

    def __enter__(self) -> None:
        if getattr(_held, "lock", False):
            raise LockOrderError("xr-nap internal error: an NWB read was attempted while "
                                 "the same thread holds the NWB read lock")
        self.lock.acquire()
        _held.lock = True

    def __exit__(self, *exc: Any) -> None:
        _held.lock = False
        self.lock.release()


@dataclass(frozen=True)
class FileIdentity:
    """What tells an opened file from another one later found at its path."""

    size: int
    object_id: str

    @classmethod
    def of(cls, f: h5py.File) -> FileIdentity:
        size = int(f.id.get_filesize()) if isinstance(f, h5py.File) else 0  # zarr: no size
        return cls(size, str(attr_text(f, "object_id", "")))


def descriptor(f: h5py.File) -> int | None:
    """The OS file descriptor behind ``f`` if it is a plain file (else None); asking
    the driver costs more than a read, so callers keep the answer with the file."""
    return f.id.get_vfd_handle() if getattr(f, "driver", None) == "sec2" else None


def check_not_truncated(fd: int | None, identity: FileIdentity, where: str) -> None:
    """Raise if the file open as ``fd`` shrank since it was opened (HDF5 reads the
    missing part as zeros)."""
    if fd is None:
        return
    size = os.fstat(fd).st_size
    if size < identity.size:
        raise NWBFormatError(f"{where} was truncated after it was opened ({size} bytes, "
                             f"was {identity.size}); its data can no longer be read")


def check_same_file(f: h5py.File, identity: FileIdentity, where: str) -> int | None:
    """Raise unless ``f`` (just opened again) is the file ``identity`` describes;
    return its :func:`descriptor`."""
    fd = descriptor(f)
    check_not_truncated(fd, identity, where)
    now = FileIdentity.of(f)
    if now != identity:
        raise NWBFormatError(
            f"{where} is no longer the file that was opened (size {now.size} bytes and "
            f"object_id {now.object_id!r}, was {identity.size} and "
            f"{identity.object_id!r}); open it again")
    return fd


def _acquire(manager: FileManager, where: str) -> h5py.File:
    try:
        f = manager.acquire()
    except OSError as err:  # reopening a file that was replaced, truncated or deleted
        raise NWBFormatError(f"cannot reopen {where}: {err}") from err
    if not f.id.valid:
        raise ValueError(f"the NWB file {where} is closed")
    return f


class NWBArray(BackendArray):
    """One HDF5 dataset of an NWB file, read slice by slice under a lock.

    With ``scale=(conversion, offset)`` values come back as float64
    ``raw * conversion + offset`` (xarray's CF decoding, bit for bit, without its extra
    lazy layer on every indexing and read). ``channel_scale`` (an ElectricalSeries'
    ``channel_conversion``) multiplies 2-D data column by column as well. String data
    come back as ``str`` objects and object references as the HDF5 paths they point
    to (``""`` for a null reference).
    """

    def __init__(self, manager: FileManager, lock: Any, path: str, shape: tuple,
                 dtype: Any, where: str, identity: FileIdentity,
                 scale: tuple[float, float] | None = None,
                 channel_scale: np.ndarray | None = None):
        self.manager, self.lock, self.path, self.where = manager, lock, path, where
        self.identity = identity
        self.shape = tuple(int(n) for n in shape)
        self.scale = scale
        self.channel_scale = channel_scale  # applied with ``scale``
        self.refs = h5py.check_ref_dtype(dtype) is not None
        self.strings = h5py.check_string_dtype(dtype) is not None
        self.dtype = np.dtype(np.float64) if scale else _VLEN_STR if self.refs or self.strings \
            else np.dtype(dtype)
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

    def _dataset(self) -> tuple[Any, h5py.File, int | None]:
        # a dataset lookup costs more than a small read: keep the handle while its file
        # stays open (closing a file invalidates the ids of all its objects)
        if self._handle is not None and self._handle[0].id.valid:
            return self._handle[1:]
        f = _acquire(self.manager, self.where)
        fd = check_same_file(f, self.identity, self.where)
        ds = f[self.path]
        reader = ds.asstr(errors="replace") if self.strings else ds
        self._handle = (ds, reader, f, fd)
        return reader, f, fd

    def _read(self, key: tuple) -> np.ndarray:
        with holding(self.lock):
            reader, f, fd = self._dataset()
            try:
                raw = reader[key]
                if self.refs:
                    raw = reference_paths(f, raw, f"{self.where}:{self.path}")
            except FILE_ERRORS as err:
                check_not_truncated(fd, self.identity, self.where)  # the likely cause
                raise NWBFormatError(f"{self.where}: cannot read {self.path}: {err}") \
                    from err
            check_not_truncated(fd, self.identity, self.where)
        return scaled(raw, key, self.scale, self.channel_scale)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_handle": None}


def scaled(raw: Any, key: tuple, scale: tuple[float, float] | None,
           channel_scale: np.ndarray | None) -> np.ndarray:
    """``raw`` (read at ``key``) as ``raw * conversion [* channel factors] + offset``."""
    if scale is None:
        return np.asarray(raw)
    # cast, then scale in place: one buffered cast instead of a mixed-type multiply
    out = np.asarray(raw, dtype=np.float64)  # a fresh array of ours: no copy needed
    conversion, offset = scale
    if conversion != 1.0:
        out *= conversion
    if channel_scale is not None:  # key[1] picks the columns; they are out's last axis
        out *= channel_scale[key[1]]
    if offset != 0.0:
        out += offset
    return out


def h5_file_of_pynwb(nwbfile: Any) -> h5py.File | None:
    """The open h5py file a ``pynwb.NWBFile`` was read from, or None if none of its
    containers holds an h5py object (a file of metadata only, or not read from HDF5).

    pynwb keeps the datasets of the containers it reads as h5py objects, and each of
    them names its file: this uses that public route, not the reader's private handle.

    Raises
    ------
    ValueError
        If that file is closed.
    """
    for container in nwbfile.objects.values():
        for value in container.fields.values():
            if isinstance(value, h5py.Dataset | h5py.Group):
                if not value.id.valid:
                    raise ValueError(f"the NWB file {nwbfile.container_source} is closed")
                return value.file
    return None


class _Options(dict):
    """``storage_options`` as a file-manager argument: the manager hashes its
    arguments, and a dict cannot be hashed."""

    __hash__ = object.__hash__  # type: ignore[assignment]


def _url_stem(url: str) -> str:
    return Path(url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]).stem or url


def _describe(fileobj: Any) -> str:
    """A name for an open file object in messages: its URL or path if it has one."""
    for attr in ("url", "path", "name", "_url"):
        value = getattr(fileobj, attr, None)
        if isinstance(value, str):
            return f"{type(fileobj).__name__}({value})"
    return f"a {type(fileobj).__name__} file object"


def _h5_from_fileobj(fileobj: Any, mode: str = "r") -> h5py.File:
    from xr_nap.io.remote import H5FileObject

    if mode != "r":
        raise ValueError(f"NWB files are opened read-only (mode {mode!r})")
    try:
        fileobj.seek(0)
        return H5FileObject(fileobj, owns_source=False)
    except OSError as err:
        raise NWBFormatError(f"cannot read {_describe(fileobj)} as an HDF5 (NWB) file: "
                             f"{err}") from err


class BorrowedFile(FileManager):
    """The caller's open h5py file, used as it is and never closed here.

    Pickled (with a lazy array), it becomes a manager that reopens the same path in the
    other process. A file h5py reads through a Python file object cannot be reopened
    (h5py does not give the object back): pickling then raises a TypeError that says
    to give xr-nap the file object (or URL) itself.
    """

    def __init__(self, f: h5py.File):
        self._file = f

    def acquire(self, needs_lock: bool = True) -> h5py.File:
        return self._file

    @contextmanager
    def acquire_context(self, needs_lock: bool = True) -> Iterator[h5py.File]:
        yield self._file

    def close(self, needs_lock: bool = True) -> None:
        pass  # the caller's file

    def __reduce__(self) -> tuple:
        if self._file.driver == "fileobj":
            raise TypeError(
                f"lazy arrays of an NWB file opened as h5py.File({self._file.filename}) "
                "cannot be pickled (h5py does not give the file object back to reopen): "
                "give the file object or its URL to xr-nap instead of an h5py.File")
        return functools.partial(CachingFileManager, h5py.File, self._file.filename,
                                 mode="r"), ()


def _borrowed(f: h5py.File) -> Source:
    if f.driver == "fileobj":  # its filename is the repr of a Python file object
        return Source(BorrowedFile(f), f"h5py.File({f.filename})", "file object", False)
    return Source(BorrowedFile(f), f.filename, Path(f.filename).stem, False)


@dataclass
class Source:
    """Where an NWB file's bytes come from (see :func:`open_source`)."""

    manager: FileManager | None  # None for an NWB-zarr store
    where: str  # for messages: path, URL or description
    name: str  # short name (file stem or session id)
    owns: bool  # whether closing the store closes the file
    local: bool = False  # a local HDF5 path
    zarr: Any = None  # the root of an NWB-zarr store


def open_source(source: Any, storage_options: dict[str, Any] | None = None) -> Source:
    """Turn what the user gave into a :class:`Source`.

    Local paths are kept absolute and resolved, so an array pickled here reopens this
    file from any working directory (and checks that it still is the same file). URLs
    stay strings, reopened by :func:`~xr_nap.io.remote.open_h5_url`; an open file
    object is reopened from itself (so arrays pickle if it does).
    """
    from xr_nap.io.nwb_zarr import ZarrSource, ZRoot, is_zarr_source
    from xr_nap.io.remote import is_url, open_h5_url

    if type(source).__name__ == "NWBFile" and hasattr(source, "objects"):
        f = h5_file_of_pynwb(source)
        if f is not None:
            found = _borrowed(f)
            found.name = source.session_id or found.name
            return found
        path = source.container_source
        if source.read_io is None or not isinstance(path, str) or not (
                os.path.isfile(path) or is_zarr_source(path)):
            raise ValueError(
                "this pynwb.NWBFile was not read from an HDF5 file or NWB-zarr store; "
                "write it with pynwb.NWBHDF5IO and open the file instead")
        found = open_source(path)  # metadata only: read it here
        found.name = source.session_id or found.name
        return found
    if isinstance(source, h5py.File):
        if not source.id.valid:
            raise ValueError("the h5py file is closed")
        return _borrowed(source)
    if is_zarr_source(source):
        root = ZRoot(ZarrSource(source, storage_options))
        return Source(None, root.where, _url_stem(root.where), True, zarr=root)
    if is_url(source):
        manager = CachingFileManager(open_h5_url, source, mode="r", kwargs={
            "storage_options": _Options(storage_options or {})})
        return Source(manager, source, _url_stem(source), True)
    if storage_options:
        raise ValueError("storage_options apply to URLs only (http(s)://, s3://, ...)")
    if hasattr(source, "read") and hasattr(source, "seek"):  # an open binary file
        if getattr(source, "closed", False):
            raise ValueError(f"{_describe(source)} is closed")
        return Source(CachingFileManager(_h5_from_fileobj, source, mode="r"),
                      _describe(source),
                      _url_stem(_describe(source).rstrip(")")), True)
    if not isinstance(source, str | os.PathLike):
        raise TypeError(f"cannot open a {type(source).__name__} as an NWB file: give a "
                        "path, a URL, an open binary file, an h5py.File, a pynwb.NWBFile "
                        "or an NWB-zarr store")
    path = Path(os.fspath(source))
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    manager = CachingFileManager(h5py.File, str(path.resolve()), mode="r")
    return Source(manager, str(path), path.stem, True, local=True)


class NWBStore:
    """An opened NWB file: file manager, lock, object index, file metadata.

    Parameters
    ----------
    source : str, path-like, URL, file object, h5py.File, pynwb.NWBFile or zarr store
        The file (see :func:`open_source`). An open h5py/pynwb file or file object
        stays owned by the caller.
    lock : lock, optional
        The lock every HDF5 call runs under (xarray's HDF5 lock by default).
    storage_options : dict, optional
        For URLs and remote NWB-zarr stores (see :mod:`xr_nap.io.remote`).

    Raises
    ------
    NWBFormatError
        If the file is not HDF5 (or NWB-zarr), not NWB 2.x, or damaged beyond opening.
    """

    def __init__(self, source: Any, lock: Any = None,
                 storage_options: dict[str, Any] | None = None):
        self.lock = HDF5_LOCK if lock in (None, True) else lock
        found = open_source(source, storage_options)
        self.manager, self.where, self.name, self.owns = (found.manager, found.where,
                                                          found.name, found.owns)
        self.local, self.zarr = found.local, found.zarr
        self.closed = False
        try:
            with holding(self.lock):
                f = self._open_first()
                try:
                    check_nwb(f, self.where)
                    self.identity = FileIdentity.of(f)
                    self._checked = (f, descriptor(f))
                    self.index, self.skipped = scan(f)
                    self.attrs, notes = file_metadata(f)
                except FILE_ERRORS as err:  # the root itself is damaged
                    if isinstance(err, XrNapError):
                        raise
                    raise NWBFormatError(f"cannot read {self.where} as an NWB file: "
                                         f"{err}") from err
        except BaseException:
            self.close()
            raise
        describe_skipped(self.where, self.skipped + notes)

    def _open_first(self) -> Any:
        if self.zarr is not None:
            return self.zarr
        try:
            f = self.manager.acquire()
        except OSError as err:
            if not self.local:  # remote: the byte source's error names the URL already
                raise
            with open(self.where, "rb"):  # an OSError of its own (permissions) propagates
                pass
            raise NWBFormatError(f"cannot read {self.where} as an HDF5 (NWB) file: {err}") \
                from err
        if not f.id.valid:
            raise ValueError(f"the NWB file {self.where} is closed")
        return f

    def _file(self) -> tuple[Any, int | None]:
        """The open h5py file (checked to be the one opened, if it was reopened) and
        its :func:`descriptor`; the root group of an NWB-zarr store."""
        if self.closed:
            raise ValueError(f"the NWB file {self.where} is closed")
        if self.zarr is not None:
            return self.zarr, None
        f = _acquire(self.manager, self.where)
        checked = getattr(self, "_checked", None)
        if checked is None or f is not checked[0]:
            self._checked = (f, check_same_file(f, self.identity, self.where))
        return self._checked

    @contextmanager
    def reading(self, obj: NWBObject) -> Iterator[h5py.Group]:
        """Hold the lock and give the group of ``obj``; errors from the file become
        :class:`~xr_nap.errors.NWBFormatError` naming the file and the object.

        Only plain h5py reads belong inside (see the module docstring).
        """
        with holding(self.lock):
            f, fd = self._file()
            try:
                yield f[obj.path]
            except FILE_ERRORS as err:
                if isinstance(err, XrNapError | LockOrderError):
                    raise
                check_not_truncated(fd, self.identity, self.where)
                raise NWBFormatError(f"{self.where}: cannot read {obj.path} "
                                     f"({obj.neurodata_type}): {err}") from err
            check_not_truncated(fd, self.identity, self.where)

    def __getstate__(self) -> dict:  # xarray pickles a Dataset's close callback
        return {k: v for k, v in self.__dict__.items() if k != "_checked"}

    def close(self) -> None:
        self.closed = True
        if self.owns and self.manager is not None:
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

    def array(self, ds: Any, scale: tuple[float, float] | None = None,
              channel_scale: np.ndarray | None = None) -> indexing.LazilyIndexedArray:
        """A lazily indexed array over dataset ``ds`` of this file."""
        if self.zarr is not None:
            return indexing.LazilyIndexedArray(ZarrArray(ds, self.where, scale,
                                                         channel_scale))
        return indexing.LazilyIndexedArray(NWBArray(
            self.manager, self.lock, ds.name, ds.shape, ds.dtype, self.where,
            self.identity, scale, channel_scale))
