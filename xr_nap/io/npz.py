"""NPZ files in pynapple's layout: reading, writing, and the ``nap_npz`` xarray backend.

pynapple saves each object as an uncompressed ``.npz`` (a zip of ``.npy`` members):

============  ====================================================================
kind          members
============  ====================================================================
Ts            ``t``, ``start``, ``end``, ``type``
Tsd           ``t``, ``d``, ``start``, ``end``, ``type``
TsdTensor     ``t``, ``d`` (3-D or more), ``start``, ``end``, ``type``
TsdFrame      ``t``, ``d`` (2-D), ``columns``, ``start``, ``end``, ``type``, ``_metadata``
TsGroup       ``t`` (all spikes: pynapple sorts them by time, xr-nap keeps them grouped
              by unit, which pynapple's loader accepts), ``index`` (unit id per spike),
              ``keys`` (unit ids), ``start``, ``end``, ``type``, ``_metadata``, optional
              ``d`` (one value per spike), one member per metadata column (older files)
IntervalSet   ``start``, ``end``, ``type``, ``_metadata``
============  ====================================================================

``_metadata`` is a pickled 0-d object array holding a dict ``{column: array}`` (pynapple
0.9 and later) or ``{column: {row label: value}}`` (``DataFrame.to_dict()``, older files).
A column may have more than one dimension (one row per unit or interval); xr-nap names
its other dimensions ``<column>_dim_1``, ... (a TsdFrame's such columns are skipped
with a :class:`~xr_nap.errors.SkippedObjectWarning`: a DataArray's coordinates cannot
add a dimension). Files without ``type``
(pynapple before 0.4) are recognised from their members, as pynapple does.

Reading goes through :class:`xr_nap.io.safe_npz.NPZArchive`, which checks the zip
structure, every header and every CRC-32 before using any data, and rebuilds pickled
members with :mod:`xr_nap.io.safe_pickle`, never with a general unpickler. Only the
members that may hold text (``type``, ``columns``, ``_metadata`` and metadata columns)
may be pickled at all. Every error names the file and the member.

Writing produces files ``pynapple.load_file`` reads back with the same times, values,
time support and metadata. TsGroup metadata are written as plain members (one per
column), which pynapple reads and which need no pickle at all; IntervalSet and TsdFrame
metadata can only be read by pynapple from the pickled ``_metadata`` dict, so xr-nap
writes that dict with numpy arrays, strings and numbers only (and refuses to save
metadata its own reader would refuse). Names, attributes and variables that are not
on the time, unit, interval or column dimension are not part of pynapple's layout and
are not saved: use ``to_netcdf`` or ``to_zarr`` for a full-fidelity copy. Files are
written atomically (:mod:`xr_nap.io.atomic`).

Path rule: ``.npz`` is appended unless the name already ends with ``.npz`` (any case):
``"group"`` -> ``group.npz``, ``"x.npz"`` -> ``x.npz``, ``"data.v2"`` ->
``data.v2.npz``. (pynapple replaces the last suffix instead and would write
``data.npz`` for ``"data.v2"``.)
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import struct
import zipfile
from collections.abc import Hashable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from xarray.backends import BackendEntrypoint

from xr_nap.core.blocks import TILE_BYTES
from xr_nap.core.intervals import INTERVAL, _is_canonical, bounds, interval_set
from xr_nap.core.metadata import plain_array
from xr_nap.core.ragged import grouped_counts, regroup
from xr_nap.core.time_index import TimeIndex, time_index
from xr_nap.core.time_series import (
    SPIKE,
    TIME,
    UNIT,
    _ragged_flat,
    nap_type,
    series,
    support_bounds,
    ts,
    tsd,
    tsd_frame,
    unit_offsets,
)
from xr_nap.errors import (
    NPZFormatError,
    SkippedObjectWarning,
    TimeAxisError,
    UnsafeNPZError,
    XrNapError,
    warn,
)
from xr_nap.io import safe_pickle
from xr_nap.io.atomic import atomic_path
from xr_nap.io.safe_npz import NPZArchive

__all__ = [
    "save",
    "load_npz",
    "npz_kind",
    "NPZFormatError",
    "UnsafeNPZError",
    "SafeUnpickler",
    "NPZBackendEntrypoint",
]

# Members each kind needs, in the order pynapple tries them when ``type`` is absent.
EXPECTED = {
    "TsGroup": {"t", "start", "end", "index"},
    "TsdFrame": {"t", "d", "start", "end", "columns"},
    "TsdTensor": {"t", "d", "start", "end"},
    "Tsd": {"t", "d", "start", "end"},
    "Ts": {"t", "start", "end"},
    "IntervalSet": {"start", "end"},
}
# TsGroup members that are never per-unit metadata (pynapple's list).
_GROUP_RESERVED = {"start", "end", "t", "index", "d", "rate", "keys", "_metadata", "type"}
SPIKE_DATA = "spike_data"  # per-spike values of a TsGroup of Tsd (pynapple's ``d``)
DATA_VAR = "data"  # the variable holding a time series in the backend's Dataset
# Names xr-nap's own layout uses: metadata columns of these names are skipped on reading
_TAKEN = {
    "TsGroup": {"spike_time", "row_size", "rate", UNIT, SPIKE, SPIKE_DATA},
    "IntervalSet": {"start", "end", INTERVAL},
    "TsdFrame": {TIME, "column"},
}


class SafeUnpickler:
    """Rebuild a pickled object from a binary file with :func:`xr_nap.io.safe_pickle.load`.

    Kept for code that used the name; nothing in the pickle can run.

    Examples
    --------
    >>> import io, pickle, numpy as np
    >>> SafeUnpickler(io.BytesIO(pickle.dumps({"a": np.arange(2)}))).load()
    {'a': array([0, 1])}
    >>> SafeUnpickler(io.BytesIO(pickle.dumps(print))).load()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    xr_nap.errors.UnsafeNPZError: refusing to unpickle builtins.print: ...
    """

    def __init__(self, file: Any):
        self.file = file

    def load(self) -> Any:
        return safe_pickle.load(self.file.read())


# --------------------------------------------------------------------------- loading
@contextlib.contextmanager
def _named(where: str) -> Iterator[None]:
    """Name the file in errors of xr-nap's constructors, which do not know it."""
    try:
        yield
    except XrNapError as err:
        raise type(err)(f"{where}: {err}") from None
    except (ValueError, TypeError) as err:
        raise NPZFormatError(f"{where}: {err}") from None


def _kind(archive: NPZArchive) -> str:
    """The pynapple class stored in the file: its ``type`` member, else the layout."""
    keys = set(archive.keys())
    if "type" in keys:
        raw = archive.read("type", objects=True)
        kind = raw.reshape(-1)[0] if raw.size else ""
        kind = kind.decode("ascii", "replace") if isinstance(kind, bytes) else str(kind)
        if kind in EXPECTED:
            missing = EXPECTED[kind] - keys
            if missing:
                raise NPZFormatError(
                    f"{archive.name} says it holds a {kind} but lacks member(s) "
                    f"{sorted(missing)}"
                )
            return kind
    if EXPECTED["TsGroup"] <= keys:
        return "TsGroup"
    if "d" in keys and EXPECTED["Tsd"] <= keys:
        ndim = len(archive.header("d").shape)
        return "Tsd" if ndim == 1 else "TsdFrame" if ndim == 2 else "TsdTensor"
    for kind in ("Ts", "IntervalSet"):
        if EXPECTED[kind] <= keys:
            return kind
    raise NPZFormatError(
        f"{archive.name} is not a pynapple NPZ file: it has members "
        f"{sorted(keys)}, but every pynapple object needs at least 'start' and 'end' "
        "(plus 't' for time series, 'd' for data, 'index' for a TsGroup)"
    )


def npz_kind(path: str | os.PathLike) -> str:
    """The pynapple class stored in an NPZ file, reading only its ``type`` member.

    Examples
    --------
    >>> import tempfile, pathlib, xr_nap as nap
    >>> path = nap.save(nap.ts([1.0, 2.0]), pathlib.Path(tempfile.mkdtemp()) / "x")
    >>> npz_kind(path)
    'Ts'
    """
    with NPZArchive(path) as archive:
        return _kind(archive)


def _vector(archive: NPZArchive, key: str, numeric: bool = True, mmap: bool = False
            ) -> np.ndarray:
    if not numeric:
        arr = archive.read(key, objects=True)
    else:
        arr = archive.mmap(key) if mmap else archive.read(key)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise NPZFormatError(f"{archive.where(key)} must be 1-D, got shape {arr.shape}")
    if numeric and arr.dtype.kind not in "biuf":
        raise NPZFormatError(f"{archive.where(key)} must be numeric, got dtype {arr.dtype}")
    return arr


def _support(archive: NPZArchive) -> tuple[np.ndarray, np.ndarray]:
    start, end = _vector(archive, "start"), _vector(archive, "end")
    if start.size != end.size:
        raise NPZFormatError(f"{archive.name}: {start.size} starts but {end.size} ends")
    start, end = start.astype(np.float64), end.astype(np.float64)
    if _is_canonical(start, end):  # the usual case; skip building an interval set
        return start, end
    with _named(f"{archive.name}['start'/'end']"):
        return bounds(interval_set(start, end))


def _metadata(archive: NPZArchive, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Decode ``_metadata``: ``{col: values}`` or ``{col: {label: value}}``."""
    if "_metadata" not in archive:
        return {}
    raw = archive.read("_metadata", objects=True)
    where = archive.where("_metadata")
    obj = raw.reshape(-1)[0] if raw.size == 1 else None
    if obj is None or (isinstance(obj, dict) and not obj):
        return {}
    if not isinstance(obj, dict):
        raise NPZFormatError(f"{where}: expected a dict of columns, got {type(obj).__name__}")
    out = {}
    for col, values in obj.items():
        if isinstance(values, dict):  # DataFrame.to_dict(): align on row labels
            lookup = {_plain(k): v for k, v in values.items()}
            try:
                values = [lookup[_plain(k)] for k in labels]
            except (KeyError, TypeError) as err:
                raise NPZFormatError(f"{where}: column {col!r} has no value for {err}") \
                    from None
        try:
            arr = plain_array(values)
        except ValueError as err:  # ragged lists
            raise NPZFormatError(f"{where}: column {col!r} is not an array ({err})") from None
        if arr.shape[:1] != (len(labels),):
            raise NPZFormatError(f"{where}: column {col!r} has shape {arr.shape} for "
                                 f"{len(labels)} rows")
        out[str(col)] = arr
    return out


def _plain(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def _split(meta: dict[str, np.ndarray], kind: str, where: str
           ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """One-value-per-row columns and columns of more dimensions; names xr-nap's layout
    uses are skipped with a warning."""
    flat, nd = {}, {}
    for key, arr in meta.items():
        if key in _TAKEN[kind]:
            warn(f"{where}: metadata column {key!r} skipped: xr-nap's {kind} uses that "
                 "name itself", SkippedObjectWarning)
        elif arr.ndim == 1:
            flat[key] = arr
        else:
            nd[key] = arr
    return flat, nd


def _nd_variables(nd: dict[str, np.ndarray], dim: str) -> dict[str, tuple]:
    """Metadata of more than one dimension as ``(dims, values)``, row dimension first."""
    return {key: ((dim, *(f"{key}_dim_{i}" for i in range(1, arr.ndim))), arr)
            for key, arr in nd.items()}


def _load_series(archive: NPZArchive, kind: str, mmap: bool) -> xr.DataArray:
    name = archive.name
    # Times are mapped only where their data are aligned (files xr-nap writes): numpy
    # works on unaligned memory much more slowly, and the time index is built in
    # memory from them anyway.
    t = _vector(archive, "t", mmap=mmap and archive.aligned("t"))
    support = np.stack(_support(archive), axis=1)
    if support.size == 0 and t.size:
        # pynapple gives a series whose samples all share one time an empty support,
        # saves it, and its loader then drops every sample. Keep the samples (as the
        # object pynapple saved had them), with the default support.
        support = None
    if kind == "Ts":
        with _named(archive.where("t")):
            return ts(t, time_support=support)
    d = archive.mmap("d") if mmap else archive.read("d")
    if d.ndim == 0 or d.shape[0] != t.size:
        raise NPZFormatError(f"{name}: 't' has {t.size} times but 'd' has shape {d.shape}")
    if kind == "TsdFrame":
        if d.ndim != 2:
            raise NPZFormatError(f"{name}: a TsdFrame needs 2-D 'd', got shape {d.shape}")
        columns = _vector(archive, "columns", numeric=False) if "columns" in archive \
            else np.arange(d.shape[1])
        if columns.size != d.shape[1]:
            raise NPZFormatError(
                f"{name}: {columns.size} column names for {d.shape[1]} data columns"
            )
        where = archive.where("_metadata")
        flat, nd = _split(_metadata(archive, columns), "TsdFrame", where)
        for key in nd:  # a DataArray's coordinates cannot add a dimension
            warn(f"{where}: metadata column {key!r} skipped: it has several values per "
                 "column, which a DataArray coordinate cannot hold", SkippedObjectWarning)
        with _named(name):
            return tsd_frame(t, d, columns=columns, time_support=support,
                             metadata=flat or None)
    if (kind == "Tsd") != (d.ndim == 1) or (kind == "TsdTensor" and d.ndim < 3):
        raise NPZFormatError(f"{name}: a {kind} cannot hold 'd' of shape {d.shape}")
    with _named(name):
        return tsd(t, d, time_support=support)


def _load_group(archive: NPZArchive) -> xr.Dataset:
    name = archive.name
    t = _vector(archive, "t")
    index = _vector(archive, "index")
    if index.size != t.size:
        raise NPZFormatError(f"{name}: {t.size} spike times but {index.size} unit indices")
    if index.dtype.kind == "f" and not (np.isfinite(index).all()
                                        and np.array_equal(index, np.round(index))):
        raise NPZFormatError(f"{archive.where('index')} holds non-integer unit ids")
    keys = np.unique(_vector(archive, "keys") if "keys" in archive else index)
    data = archive.read("d") if "d" in archive else None
    if data is not None and data.shape != t.shape:
        raise NPZFormatError(f"{name}: 'd' has shape {data.shape} for {t.size} spikes")
    starts, ends = _support(archive)
    t = t.astype(np.float64, copy=False)

    counts = grouped_counts(t, index, keys, starts, ends)
    if counts is None:
        try:
            t, counts, data = regroup(t, index, keys, starts, ends, data)
        except TimeAxisError:
            raise NPZFormatError(f"{archive.where('t')} holds non-finite spike times") \
                from None

    meta = _metadata(archive, keys)
    for key in archive.keys():  # one member per column (pynapple's second route)
        if key not in _GROUP_RESERVED and key not in meta:
            shape = archive.header(key).shape
            if len(shape) >= 1 and shape[0] == keys.size:
                meta[key] = plain_array(archive.read(key, objects=True))
    meta.pop("rate", None)  # pynapple recomputes it, and so does xr-nap
    flat, nd = _split(meta, "TsGroup", name)
    with _named(name):
        group = _ragged_flat(keys, t, counts, starts, ends, flat or None)
    if data is not None:
        group[SPIKE_DATA] = xr.Variable(SPIKE, data)
    return group.assign(_nd_variables(nd, UNIT)) if nd else group


def _load_intervals(archive: NPZArchive) -> xr.Dataset:
    starts, ends = _vector(archive, "start"), _vector(archive, "end")
    if starts.size != ends.size:
        raise NPZFormatError(f"{archive.name}: {starts.size} starts but {ends.size} ends")
    flat, nd = _split(_metadata(archive, np.arange(starts.size)), "IntervalSet",
                      archive.where("_metadata"))
    row = "__row__"
    while row in flat:
        row += "_"
    if nd:  # follow the rows through sorting (interval_set keeps 1-D metadata only)
        flat[row] = np.arange(starts.size)
    with _named(archive.name):
        ep = interval_set(starts, ends, metadata=flat or None)
    if not nd:
        return ep
    if row not in ep:  # intervals were merged: metadata dropped, as pynapple does
        return ep
    rows = ep[row].values
    return ep.drop_vars(row).assign(
        _nd_variables({k: v[rows] for k, v in nd.items()}, INTERVAL))


def load_npz(path: str | os.PathLike, mmap: bool = False) -> xr.DataArray | xr.Dataset:
    """Read an NPZ file written by pynapple (any version) or by :func:`save`.

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file.
    mmap : bool, default False
        Memory-map the data (``d``) of a time series instead of reading them, when
        stored uncompressed (pynapple and xr-nap never compress): the data then stay in
        the file until indexed. The times (``t``) are mapped too where the file keeps
        them aligned (files :func:`save` writes); the time index is built in memory
        from them. Each mapped member's CRC-32 is checked once per file version and
        process, in one pass over the file.

    Returns
    -------
    xarray.DataArray or xarray.Dataset
        Ts/Tsd/TsdFrame/TsdTensor as a DataArray, TsGroup/IntervalSet as a Dataset,
        with time support and metadata.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    NPZFormatError
        If the file is not a regular file, not a sound zip archive, damaged (a CRC-32
        mismatch, a truncated member), not in pynapple's layout, or has inconsistent
        members. The message names the file and the member.
    UnsafeNPZError
        If a pickled member would build anything but plain numpy data, strings and
        numbers.

    Warns
    -----
    SkippedObjectWarning
        For a metadata column whose name xr-nap's layout uses itself (e.g. a TsGroup
        column called ``row_size``), or a TsdFrame column with several values per
        column; the column is not read.

    Notes
    -----
    A memory map stays valid when :func:`save` replaces the file (it writes a new file
    and renames it). Truncating a mapped file in place makes reads past the new end
    fail with a bus error, as with any memory map.

    Examples
    --------
    >>> import tempfile, pathlib, xr_nap as nap
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> path = nap.save(nap.tsd([0.0, 1.0, 2.0], [5, 6, 7]), tmp / "x")
    >>> path.name
    'x.npz'
    >>> nap.load_npz(path).values
    array([5, 6, 7])
    """
    with NPZArchive(path) as archive:
        kind = _kind(archive)
        if kind == "TsGroup":
            return _load_group(archive)
        if kind == "IntervalSet":
            return _load_intervals(archive)
        return _load_series(archive, kind, mmap)


# --------------------------------------------------------------------------- saving
def npz_path(path: str | os.PathLike) -> Path:
    """Where :func:`save` writes: ``.npz`` appended unless the name ends with it.

    Examples
    --------
    >>> npz_path("a/group").name, npz_path("x.NPZ").name, npz_path("data.v2").name
    ('group.npz', 'x.NPZ', 'data.v2.npz')
    """
    path = Path(path)
    if path.suffix.lower() != ".npz":
        path = path.with_name(path.name + ".npz")
    return path


def _time_blocks(value: xr.DataArray) -> list[tuple[int, int]]:
    """Row ranges to write a series in: its dask chunks, else bounded windows."""
    n = value.sizes[TIME]
    if value.chunks is not None:
        edges = np.cumsum((0, *value.chunksizes[TIME]))
        return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    from xr_nap.core import blocks

    row = max(int(np.prod(value.shape[1:], dtype=np.int64)) * value.dtype.itemsize, 1)
    step = max(blocks.BLOCK_BYTES // row, 1)
    return [(a, min(a + step, n)) for a in range(0, n, step)]


# The zip extra-field id of alignment padding (the one Android's zipalign writes)
_PADDING_ID = 0xD935
_ALIGN = 64  # numpy pads .npy headers to 64 bytes: aligned members keep data aligned


def _aligned_entry(zf: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    """A ZipInfo whose local header ends on a multiple of :data:`_ALIGN` in the file, so
    the array data (after numpy's 64-byte-padded header) are aligned there too and can
    be memory-mapped as fast as memory."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    # local header: 30 bytes, the name, then our padding and the zip64 record (20 bytes)
    end = zf.fp.tell() + 30 + len(name.encode()) + 20
    need = -end % _ALIGN
    if need:
        need += _ALIGN if need < 4 else 0  # a padding record takes 4 bytes at least
        info.extra = struct.pack("<HH", _PADDING_ID, need - 4) + bytes(need - 4)
    return info


def _write_member(zf: zipfile.ZipFile, key: str, value: Any) -> None:
    """Write one ``.npy`` member; a DataArray (time first) is written one block of time
    rows at a time, so lazy data are never loaded whole."""
    with zf.open(_aligned_entry(zf, key + ".npy"), "w", force_zip64=True) as fp:
        if isinstance(value, TimeIndex):
            n = value.size
            np.lib.format.write_array_header_1_0(
                fp, {"descr": "<f8", "fortran_order": False, "shape": (n,)})
            step = TILE_BYTES // 8
            for a in range(0, n, step):
                block = value.times_at(np.arange(a, min(a + step, n)))
                fp.write(memoryview(block.astype("<f8", copy=False)).cast("B"))
            return
        if isinstance(value, xr.DataArray):
            header = {"descr": np.lib.format.dtype_to_descr(value.dtype),
                      "fortran_order": False, "shape": tuple(value.shape)}
            np.lib.format.write_array_header_1_0(fp, header)
            for c0, c1 in _time_blocks(value):
                block = np.ascontiguousarray(value.isel({TIME: slice(c0, c1)}).values)
                fp.write(memoryview(block).cast("B"))
            return
        arr = np.asarray(value)
        if arr.dtype.hasobject:  # pynapple's pickled _metadata dict
            np.lib.format.write_array(fp, arr, allow_pickle=True)
            return
        arr = np.ascontiguousarray(arr)
        np.lib.format.write_array_header_1_0(fp, np.lib.format.header_data_from_array_1_0(arr))
        if arr.size:  # straight from the array's memory, no intermediate copy
            fp.write(memoryview(arr.reshape(-1).view(np.uint8)))


def _write_npz(path: Path, members: Iterable[tuple[str, Any]]) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as raw, \
            zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, value in members:
            _write_member(zf, key, value)


def _type_member(kind: str) -> np.ndarray:
    return np.array([kind], dtype=np.str_)


def _row_variables(obj: xr.DataArray | xr.Dataset, dim: Hashable, skip: set[Hashable],
                   target: Path) -> dict[str, np.ndarray]:
    """Every variable (data or coordinate) along ``dim`` except ``skip``, as arrays with
    ``dim`` first: the per-row metadata pynapple's layout can carry."""
    out = {}
    for key, var in obj.variables.items() if isinstance(obj, xr.Dataset) else \
            obj.coords.variables.items():
        if dim not in var.dims or key in skip or key == dim:
            continue
        if TIME in var.dims or SPIKE in var.dims:
            raise XrNapError(f"cannot save {key!r} to {target}: it runs along "
                             f"{var.dims}, and pynapple's layout has no place for it")
        values = plain_array(var.transpose(dim, ...).values)
        out[str(key)] = values
    return out


def _check_readable(columns: Mapping[str, np.ndarray], target: Path) -> None:
    """Refuse metadata that xr-nap's own reader would refuse (Python objects other
    than strings, numbers and None)."""
    for key, values in columns.items():
        if not values.dtype.hasobject:
            continue
        try:
            safe_pickle.load(pickle.dumps(values, protocol=3))
        except NPZFormatError as err:
            raise XrNapError(f"cannot save metadata {key!r} to {target}: it holds Python "
                             f"objects NPZ files cannot carry safely ({err})") from None


def _pickled_dict(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """pynapple's ``_metadata`` member: a 0-d object array holding ``{name: array}``."""
    holder = np.empty((), dtype=object)
    holder[()] = dict(columns)
    return holder


def _series_members(obj: xr.DataArray, kind: str, target: Path) -> list[tuple[str, Any]]:
    obj = obj.transpose(TIME, ...)
    # the times are written block by block like the data: a rate-based index computes
    # each block of times, never the whole array
    members: list[tuple[str, Any]] = [("t", time_index(obj))]
    if kind != "Ts":
        members.append(("d", obj))
    starts, ends = support_bounds(obj)
    members += [("start", starts), ("end", ends), ("type", _type_member(kind))]
    if kind == "TsdFrame":
        dim = obj.dims[1]
        columns = np.asarray(obj[dim].values) if dim in obj.coords else np.arange(obj.shape[1])
        members.append(("columns", plain_array(columns)))
        meta = _row_variables(obj, dim, {TIME}, target)
        _check_readable(meta, target)
        if meta:
            members.append(("_metadata", _pickled_dict(meta)))
    return members


def _group_members(group: xr.Dataset, target: Path) -> list[tuple[str, Any]]:
    ids = np.asarray(group[UNIT].values)
    if ids.dtype.kind not in "iu":
        raise XrNapError(f"cannot save to {target}: pynapple needs integer unit ids, got "
                         f"{ids.dtype}")
    offsets = unit_offsets(group)
    extra = [k for k, v in group.variables.items()
             if SPIKE in v.dims and k not in ("spike_time", SPIKE_DATA)]
    if extra:
        raise XrNapError(f"cannot save {extra} to {target}: pynapple's layout holds one "
                         f"per-spike variable ({SPIKE_DATA!r}, its 'd')")
    # Spikes stay grouped by unit (pynapple's loader accepts any order; pynapple itself
    # writes them sorted by time), which saves a sort on writing and on reading.
    spikes = np.asarray(group["spike_time"].values, dtype=np.float64)
    index = np.repeat(ids.astype(np.int64), np.diff(offsets))
    starts, ends = support_bounds(group)
    members: list[tuple[str, Any]] = [
        ("type", _type_member("TsGroup")), ("t", spikes), ("index", index),
    ]
    if SPIKE_DATA in group:
        members.append(("d", np.asarray(group[SPIKE_DATA].values)))
    members += [("keys", ids), ("start", starts), ("end", ends)]
    meta = _row_variables(group, UNIT, {"row_size", "rate"}, target)
    _check_readable(meta, target)
    # Plain members need no pickle; names pynapple reserves and object columns go to
    # the pickled dict it also reads.
    pickled = {k: v for k, v in meta.items() if k in _GROUP_RESERVED or v.dtype.hasobject}
    plain = [(k, v) for k, v in meta.items() if k not in pickled]
    if pickled:
        members.append(("_metadata", _pickled_dict(pickled)))
    return members + plain


def _interval_members(ep: xr.Dataset, target: Path) -> list[tuple[str, Any]]:
    starts, ends = bounds(ep)
    members: list[tuple[str, Any]] = [
        ("start", starts), ("end", ends), ("type", _type_member("IntervalSet")),
    ]
    meta = _row_variables(ep, INTERVAL, {"start", "end"}, target)
    _check_readable(meta, target)
    if meta:
        members.append(("_metadata", _pickled_dict(meta)))
    return members


def save(obj: xr.DataArray | xr.Dataset, path: str | os.PathLike) -> Path:
    """Save ``obj`` as an NPZ file in pynapple's layout (``obj.nap.save(path)``).

    ``pynapple.load_file`` reads the file back with the same times, values, time
    support and metadata (metadata of several dimensions included). The file is
    written under a temporary name in the same folder and renamed over ``path`` only
    when complete (see :mod:`xr_nap.io.atomic`); its permissions follow the umask, or
    those of the file it replaces, as with :func:`numpy.savez`.

    Parameters
    ----------
    obj : DataArray or Dataset
        Any xr-nap object (Ts, Tsd, TsdFrame, TsdTensor, TsGroup, IntervalSet). Lazy
        data are written one block at a time.
    path : str or path-like
        Target file; ``.npz`` is appended unless the name already ends with ``.npz``.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    FileNotFoundError
        If the folder does not exist.
    IsADirectoryError
        If ``path`` is a directory.
    XrNapError
        If ``obj`` cannot be represented in pynapple's layout: non-integer unit ids,
        a per-spike variable besides ``spike_data``, metadata along time, or metadata
        holding Python objects other than strings, numbers and None.

    Examples
    --------
    >>> import tempfile, pathlib, xr_nap as nap
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> ep = nap.interval_set([0, 10], [5, 20], metadata={"label": ["a", "b"]})
    >>> back = nap.load_npz(ep.nap.save(tmp / "epochs"))
    >>> back.end.values, back.label.values
    (array([ 5., 20.]), array(['a', 'b'], dtype='<U1'))
    """
    obj = series(obj)
    kind = nap_type(obj)
    target = npz_path(path)
    if kind == "TsGroup":
        members = _group_members(obj, target)
    elif kind == "IntervalSet":
        members = _interval_members(obj, target)
    else:
        members = _series_members(obj, kind, target)
    _write_npz(target, members)
    return target


# --------------------------------------------------------------------------- xarray backend
class NPZBackendEntrypoint(BackendEntrypoint):
    """``xr.open_dataset(path, engine="nap_npz")``: a pynapple NPZ file as a Dataset.

    TsGroup and IntervalSet files give their Dataset. A time series (Ts, Tsd, TsdFrame,
    TsdTensor) gives a Dataset with one variable, ``"data"``, carrying the series'
    attributes (``nap_type``, ``time_support``); ``xr.open_dataarray(path,
    engine="nap_npz")`` returns that DataArray directly. ``mmap=True`` memory-maps the
    data instead of reading them.

    Examples
    --------
    >>> import tempfile, pathlib, xarray as xr, xr_nap as nap
    >>> path = nap.save(nap.tsd([0.0, 1.0], [1.5, 2.5]), pathlib.Path(tempfile.mkdtemp()) / "x")
    >>> ds = xr.open_dataset(path, engine="nap_npz")
    >>> nap.nap_type(ds.data), ds.data.values
    ('Tsd', array([1.5, 2.5]))
    """

    description = "pynapple NPZ files (Ts, Tsd, TsdFrame, TsdTensor, TsGroup, IntervalSet)"
    open_dataset_parameters = ("filename_or_obj", "drop_variables", "mmap")

    def open_dataset(
        self,
        filename_or_obj: Any,
        *,
        drop_variables: str | Iterable[str] | None = None,
        mmap: bool = False,
    ) -> xr.Dataset:
        if isinstance(filename_or_obj, io.IOBase) or not isinstance(
                filename_or_obj, str | os.PathLike):
            raise TypeError("the nap_npz engine reads files by path, not "
                            f"{type(filename_or_obj).__name__} objects")
        obj = load_npz(filename_or_obj, mmap=mmap)
        if isinstance(obj, xr.DataArray):
            obj = obj.to_dataset(name=DATA_VAR)
        if drop_variables is not None:
            obj = obj.drop_vars(
                [drop_variables] if isinstance(drop_variables, str) else list(drop_variables),
                errors="ignore",
            )
        return obj

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        try:
            return Path(filename_or_obj).suffix.lower() == ".npz"
        except TypeError:
            return False
