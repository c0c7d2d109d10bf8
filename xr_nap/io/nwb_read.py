"""Low-level h5py readers for NWB files: attributes, whole datasets, strings, references.

These read numbers and strings out of HDF5 objects and know nothing of NWB types. The
scan (:mod:`xr_nap.io.nwb_scan`) and the builders (:mod:`xr_nap.io.nwb_build`) call
them while holding the store's lock; none of them reads through a lazy array.
"""

from __future__ import annotations

from typing import Any

import h5py
import numpy as np
from h5py import h5a, h5d, h5p, h5r, h5s, h5t

from xr_nap.io.nwb_zarr import ZDataset, ZGroup, ZNode

__all__ = ["attr_text", "read_attr", "has_attr", "colnames", "read_all", "open_whole",
           "as_dataset", "read_strings", "read_scalar", "stored_bytes", "reference_paths",
           "METADATA_BYTES", "FILE_ERRORS", "GROUPS", "DATASETS"]

# The node types the scan and builders walk: h5py's, and the NWB-zarr wrappers that
# imitate them (:mod:`xr_nap.io.nwb_zarr`). Only the low-level readers below tell
# them apart.
GROUPS = (h5py.Group, ZGroup)
DATASETS = (h5py.Dataset, ZDataset)

# What HDF5 (through h5py) and numpy raise on bad bytes: damaged or missing objects
# (KeyError, OSError; RuntimeError for some HDF5 error classes, e.g. a damaged link
# table), types that do not convert (TypeError, ValueError), indexes out of range
# (IndexError). Raised by a read, these are facts about the file.
FILE_ERRORS = (KeyError, OSError, RuntimeError, TypeError, ValueError, IndexError)

# A metadata value (an attribute of the file's root, a dataset under /general) larger
# than this is not metadata but data; it is skipped instead of copied into attrs.
METADATA_BYTES = 1 << 20


def attr_text(obj: Any, name: str, default: Any = None) -> Any:
    """Attribute ``name`` of ``obj``, bytes decoded (undecodable bytes replaced)."""
    value = obj.attrs.get(name, default)
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def read_attr(obj: Any, name: str) -> Any:
    """Attribute ``name`` of an h5py object, or None if it is missing or empty.

    Read with the low-level API (no h5py ``AttributeManager`` per call); strings come
    back as ``bytes`` (``str`` from an NWB-zarr store).
    """
    if isinstance(obj, ZNode):
        return obj.read_attr(name)
    key = name.encode()
    if not h5a.exists(obj.id, key):
        return None
    attr = h5a.open(obj.id, key)
    shape = attr.shape
    if shape is None:
        return None
    out = np.empty(shape, attr.dtype)
    attr.read(out)
    return out[()] if out.ndim == 0 else out


def has_attr(obj: Any, name: str) -> bool:
    """True if the object (or low-level dataset id) ``obj`` has attribute ``name``."""
    if isinstance(obj, ZNode):
        return name in obj.attrs
    return bool(h5a.exists(obj if isinstance(obj, h5d.DatasetID) else obj.id, name.encode()))


def as_dataset(ds: Any) -> Any:
    """A dataset object for a low-level id from :func:`open_whole`."""
    return h5py.Dataset(ds) if isinstance(ds, h5d.DatasetID) else ds


def colnames(group: h5py.Group) -> list[str]:
    """The ``colnames`` attribute of a DynamicTable as a list of str."""
    names = read_attr(group, "colnames")
    if names is None:
        names = ()
    return [n.decode(errors="replace") if isinstance(n, bytes) else str(n)
            for n in np.atleast_1d(names)]


def stored_bytes(ds: h5py.Dataset) -> int:
    """Bytes the values of ``ds`` take in memory (variable-length items count as 16)."""
    return int(ds.size or 0) * max(int(ds.dtype.itemsize), 16 if ds.dtype.kind == "O" else 1)


def read_all(ds: h5py.Dataset | h5d.DatasetID, dtype: Any = None) -> np.ndarray:
    """A whole numeric dataset as ``dtype`` (default: its own) in one read.

    ``ds[()]`` builds an h5py selection and a new array first, which costs more than the
    read itself on the column-sized datasets of a table. HDF5 converts the type. ``ds``
    may be a low-level dataset id (see :func:`open_whole`).
    """
    if isinstance(ds, ZDataset):
        return np.asarray(ds.read(), dtype=ds.dtype if dtype is None else dtype)
    dsid = ds if isinstance(ds, h5d.DatasetID) else ds.id
    own = dsid.dtype
    dtype = own if dtype is None else np.dtype(dtype)
    shape = dsid.shape
    if shape is None or own.kind not in "biuf":
        high = h5py.Dataset(dsid) if ds is dsid else ds
        return np.asarray(high[()], dtype=dtype)
    out = np.empty(shape, dtype)
    if out.size:
        dsid.read(h5s.ALL, h5s.ALL, out)
    return out


def _whole_access() -> Any:
    dapl = h5p.create(h5p.DATASET_ACCESS)
    dapl.set_chunk_cache(0, 0, 1.0)
    return dapl


# Whole reads go around the chunk cache: it is no help to them and copies each chunk
# that does not fit it once more.
_WHOLE = _whole_access()


def open_whole(group: h5py.Group, name: str) -> h5d.DatasetID | None:
    """The low-level id of dataset ``name`` of ``group``, opened for whole reads, or
    None if there is no such dataset (a low-level open makes no h5py object)."""
    if isinstance(group, ZGroup):
        node = group.get(name)
        return node if isinstance(node, ZDataset) else None
    try:
        return h5d.open(group.id, name.encode(), _WHOLE)
    except (KeyError, ValueError, OSError):  # missing, or not a dataset
        return None


def _fixed_strings(width: int) -> h5t.TypeID:
    mtype = h5t.C_S1.copy()
    mtype.set_size(width)
    mtype.set_strpad(h5t.STR_NULLPAD)  # all ``width`` bytes may hold characters
    return mtype


_STRING_WIDTH = 64
_STRINGS = _fixed_strings(_STRING_WIDTH)


def read_strings(dsid: h5d.DatasetID) -> np.ndarray | None:
    """A 1-D variable-length string dataset as a numpy ``str`` array, or None when the
    fast path does not apply (then :func:`read_scalar` reads it).

    HDF5 converts variable-length to fixed-width strings during the read, without a
    Python object per value. Values that may be cut (one fills the width) or are not
    ASCII fall back to the exact reader.
    """
    if not isinstance(dsid, h5d.DatasetID):
        return None
    info = h5py.check_string_dtype(dsid.dtype)
    shape = dsid.shape
    if info is None or info.length is not None or shape is None or len(shape) != 1:
        return None
    raw = np.empty(shape, f"S{_STRING_WIDTH}")
    if not raw.size:
        return raw.astype("U1")
    dsid.read(h5s.ALL, h5s.ALL, raw, mtype=_STRINGS)
    width = int(np.char.str_len(raw).max())
    if width == _STRING_WIDTH:
        return None
    try:
        return raw.astype(f"U{max(width, 1)}")
    except UnicodeDecodeError:  # not ASCII
        return None


def read_scalar(obj: Any) -> Any:
    """A small dataset as Python/numpy values, strings decoded."""
    if obj.ndim and obj.dtype.kind in "biuf":
        return read_all(obj)
    value = obj.asstr(errors="replace")[()] if h5py.check_string_dtype(obj.dtype) \
        else obj[()]
    if isinstance(value, np.ndarray) and value.dtype == object:
        value = value.astype(str)
    return value


def reference_paths(f: h5py.File, refs: np.ndarray, where: str) -> np.ndarray:
    """The HDF5 paths that object (or region) references point to, as an object array
    of str; a null reference gives ``""``.

    Raises
    ------
    KeyError
        If a reference points to no object of ``f`` (``where`` names the dataset).
    """
    refs = np.asarray(refs)
    out = np.empty(refs.shape, dtype=object)
    for i, ref in np.ndenumerate(refs):
        if not ref:
            out[i] = ""
            continue
        if isinstance(ref, str):  # NWB-zarr: its reader gives references as paths
            out[i] = ref if ref.startswith("/") else "/" + ref
            continue
        try:
            name = h5r.get_name(ref, f.id)
        except (ValueError, OSError) as err:
            raise KeyError(f"{where}: reference {i} points to no object ({err})") from err
        if name is None:  # the object it pointed to was deleted
            raise KeyError(f"{where}: reference {i} points to no object")
        out[i] = name.decode(errors="replace")
    return out
