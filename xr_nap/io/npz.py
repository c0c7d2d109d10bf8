"""NPZ files in pynapple's layout, read and written without a general unpickler.

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
Files without ``type`` (pynapple before 0.4) are recognised from their members, as
pynapple does.

Reading never runs a general unpickler: plain arrays are read with
``allow_pickle=False`` and pickled object arrays go through :class:`SafeUnpickler`,
which can only rebuild numpy arrays, dtypes and numpy scalars around pickle's own
containers (dict, list, tuple, str, bytes, numbers, None). Anything else in a file is
refused with :class:`UnsafeNPZError` before it can run.

Writing produces files ``pynapple.load_file`` reads back with the same times, values,
time support and metadata. TsGroup metadata are written as plain members (one per
column), which pynapple reads and which need no pickle at all; IntervalSet and TsdFrame
metadata can only be read by pynapple from the pickled ``_metadata`` dict, so xr-nap
writes that dict with numpy arrays only. Names, attributes and other coordinates of
xarray objects are not part of pynapple's layout and are not saved: use ``to_netcdf`` or
``to_zarr`` for a full-fidelity copy.

Path rule: ``.npz`` is appended unless the name already ends with ``.npz`` (any case):
``"group"`` -> ``group.npz``, ``"x.npz"`` -> ``x.npz``, ``"data.v2"`` ->
``data.v2.npz``. (pynapple replaces the last suffix instead and would write
``data.npz`` for ``"data.v2"``.)
"""

from __future__ import annotations

import io
import os
import pickle
import re
import struct
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from xarray.backends import BackendEntrypoint

from xr_nap.core.intervals import (
    INTERVAL,
    _is_canonical,
    bounds,
    drop_outside,
    interval_set,
)
from xr_nap.core.metadata import plain_array
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
from xr_nap.errors import NPZFormatError, UnsafeNPZError

__all__ = [
    "save",
    "load_npz",
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


def _allowed_globals() -> dict[tuple[str, str], Any]:
    multiarray = np._core.multiarray if hasattr(np, "_core") else np.core.multiarray
    allowed = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    # numpy 1.x pickles name numpy.core, numpy 2.x numpy._core: accept both spellings.
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "_reconstruct")] = multiarray._reconstruct
        allowed[(module, "scalar")] = multiarray.scalar
    return allowed


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that can only rebuild numpy arrays, dtypes and scalars.

    Every global a pickle refers to goes through :meth:`find_class`; only numpy's array
    reconstruction helpers are returned, so no other callable (``os.system``,
    ``builtins.eval``, a class with a ``__reduce__``, ...) can ever be called. Pickle's
    built-in containers and literals (dict, list, tuple, str, bytes, numbers, None) need
    no global and are accepted.

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

    _ALLOWED = _allowed_globals()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise UnsafeNPZError(
                f"refusing to unpickle {module}.{name}: only plain numpy arrays, scalars "
                "and strings are accepted"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafeNPZError("refusing a pickle with persistent ids")


def _read_header(fp: Any, where: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fp)
        if version == (1, 0):
            return fmt.read_array_header_1_0(fp)
        if version == (2, 0):
            return fmt.read_array_header_2_0(fp)
    except ValueError as err:
        raise NPZFormatError(f"{where}: not a valid .npy member ({err})") from None
    raise NPZFormatError(f"{where}: unsupported .npy format version {version}")


# The header numpy (and so pynapple) writes for a plain array; anything else goes to
# numpy's own (slower, ``ast.literal_eval``-based) parser.
_PLAIN_HEADER = re.compile(
    rb"\{'descr': '([<>|=][a-zA-Z][0-9]*)', 'fortran_order': (True|False), "
    rb"'shape': \(((?:[0-9]+, )*[0-9]*,?)\), \}[ ]*\n"
)


def _parse_header(block: bytes) -> tuple[tuple[int, ...], bool, np.dtype, int] | None:
    """Shape, order, dtype and header length of a ``.npy`` start read in one go
    (``None`` when the header is not numpy's usual one or does not fit in ``block``)."""
    if block[:6] != b"\x93NUMPY" or len(block) < 10:
        return None
    if block[6:8] == b"\x01\x00":
        size, length = 10, int.from_bytes(block[8:10], "little")
    elif block[6:8] == b"\x02\x00" and len(block) >= 12:
        size, length = 12, int.from_bytes(block[8:12], "little")
    else:
        return None
    match = _PLAIN_HEADER.fullmatch(block, size, size + length)
    if match is None:
        return None
    descr, fortran, dims = match.groups()
    shape = tuple(int(x) for x in dims.split(b",") if x.strip())
    try:
        dtype = np.dtype(descr.decode())
    except (TypeError, ValueError):
        return None
    return shape, fortran == b"True", dtype, size + length


class _Archive:
    """Read-only view of an NPZ file: member names, headers and safely read arrays."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as err:
            raise NPZFormatError(f"{path} is not an NPZ (zip) file: {err}") from None
        self.raw = open(path, "rb")  # for direct reads of uncompressed members
        self.members = {
            info.filename[:-4]: info
            for info in self.zip.infolist() if info.filename.endswith(".npy")
        }
        self._located: dict[str, tuple[tuple[int, ...], bool, np.dtype, int | None, int]] = {}

    def close(self) -> None:
        self.zip.close()
        self.raw.close()

    def __enter__(self) -> _Archive:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def keys(self) -> list[str]:
        return list(self.members)

    def header(self, key: str) -> tuple[tuple[int, ...], bool, np.dtype]:
        return self._locate(key)[:3]

    def _locate(self, key: str) -> tuple[tuple[int, ...], bool, np.dtype, int | None, int]:
        """Header of a member, the file offset of its data (uncompressed members, else
        None) and the number of data bytes the member holds."""
        if key not in self._located:
            self._located[key] = self._read_location(key)
        return self._located[key]

    def _read_location(self, key: str) -> tuple[tuple[int, ...], bool, np.dtype, int | None, int]:
        if key not in self.members:
            raise NPZFormatError(f"{self.path.name} has no member {key!r}")
        where = f"{self.path.name}[{key!r}]"
        info = self.members[key]
        if info.compress_type != zipfile.ZIP_STORED:
            with self.zip.open(info) as fp:
                shape, fortran, dtype = _read_header(fp, where)
            return shape, fortran, dtype, None, info.file_size
        # One read for the zip entry's local header and (usually) the whole .npy header.
        self.raw.seek(info.header_offset)
        block = self.raw.read(30 + len(info.orig_filename.encode()) + 512)
        if len(block) < 30 or block[:4] != b"PK\x03\x04":
            raise NPZFormatError(f"{where}: corrupted zip entry")
        name_len, extra_len = struct.unpack("<HH", block[26:30])
        begin = info.header_offset + 30 + name_len + extra_len
        parsed = _parse_header(block[30 + name_len + extra_len:])
        if parsed is not None:
            shape, fortran, dtype, length = parsed
            offset = begin + length
        else:
            self.raw.seek(begin)
            shape, fortran, dtype = _read_header(self.raw, where)
            offset = self.raw.tell()
        return shape, fortran, dtype, offset, info.file_size - (offset - begin)

    def __getitem__(self, key: str) -> np.ndarray:
        shape, fortran, dtype, offset, stored = self._locate(key)
        where = f"{self.path.name}[{key!r}]"
        if dtype.hasobject:
            with self.zip.open(self.members[key]) as fp:
                _read_header(fp, where)
                return self._unpickle(fp, where)
        # Refuse members whose header promises more data than the member holds
        # (truncated files, zip bombs) before allocating anything.
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if nbytes > stored:
            raise NPZFormatError(
                f"{where}: header announces {nbytes} bytes of data but the member holds "
                f"{stored} (truncated or corrupted file)"
            )
        order = "F" if fortran else "C"
        if nbytes == 0:
            return np.empty(shape, dtype=dtype, order=order)
        if offset is None:  # compressed: let numpy inflate it
            with self.zip.open(self.members[key]) as fp:
                return np.lib.format.read_array(fp, allow_pickle=False)
        # Uncompressed (as pynapple writes): one read straight into the array.
        buf = np.empty(nbytes, dtype=np.uint8)
        self.raw.seek(offset)
        if self.raw.readinto(memoryview(buf)) != nbytes:
            raise NPZFormatError(f"{where}: file ends inside the array data")
        return buf.view(dtype).reshape(shape, order=order)

    def memmap(self, key: str) -> np.ndarray:
        """Memory-map an uncompressed member (the array stays in the file)."""
        shape, fortran, dtype, offset, stored = self._locate(key)
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if offset is None or dtype.hasobject or nbytes == 0 or nbytes > stored:
            return self[key]
        return np.memmap(self.path, dtype=dtype, mode="r", offset=offset, shape=shape,
                         order="F" if fortran else "C")

    def _unpickle(self, fp: Any, where: str) -> np.ndarray:
        try:
            obj = SafeUnpickler(fp).load()
        except UnsafeNPZError as err:
            raise UnsafeNPZError(f"{where}: {err}") from None
        except Exception as err:  # malformed pickles raise many kinds of errors
            raise NPZFormatError(f"{where}: unreadable pickled object array ({err})") from None
        if not isinstance(obj, np.ndarray):
            raise NPZFormatError(f"{where}: expected a pickled array, got {type(obj).__name__}")
        return obj


# --------------------------------------------------------------------------- loading
def _kind(archive: _Archive) -> str:
    """The pynapple class stored in the file: its ``type`` member, else the layout."""
    keys = set(archive.keys())
    if "type" in keys:
        raw = archive["type"]
        kind = str(raw.reshape(-1)[0]) if raw.size else ""
        if kind in EXPECTED:
            missing = EXPECTED[kind] - keys
            if missing:
                raise NPZFormatError(
                    f"{archive.path.name} says it holds a {kind} but lacks member(s) "
                    f"{sorted(missing)}"
                )
            return kind
    if EXPECTED["TsGroup"] <= keys:
        return "TsGroup"
    if "d" in keys and EXPECTED["Tsd"] <= keys:
        ndim = len(archive.header("d")[0])
        return "Tsd" if ndim == 1 else "TsdFrame" if ndim == 2 else "TsdTensor"
    for kind in ("Ts", "IntervalSet"):
        if EXPECTED[kind] <= keys:
            return kind
    raise NPZFormatError(
        f"{archive.path.name} is not a pynapple NPZ file: it has members "
        f"{sorted(keys)}, but every pynapple object needs at least 'start' and 'end' "
        "(plus 't' for time series, 'd' for data, 'index' for a TsGroup)"
    )


def _vector(archive: _Archive, key: str, numeric: bool = True) -> np.ndarray:
    arr = archive[key]
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise NPZFormatError(f"{archive.path.name}[{key!r}] must be 1-D, got shape {arr.shape}")
    if numeric and arr.dtype.kind not in "biuf":
        raise NPZFormatError(
            f"{archive.path.name}[{key!r}] must be numeric, got dtype {arr.dtype}"
        )
    return arr


def _support(archive: _Archive) -> tuple[np.ndarray, np.ndarray]:
    start, end = _vector(archive, "start"), _vector(archive, "end")
    if start.size != end.size:
        raise NPZFormatError(
            f"{archive.path.name}: {start.size} starts but {end.size} ends"
        )
    start, end = start.astype(np.float64), end.astype(np.float64)
    if _is_canonical(start, end):  # the usual case; skip building an interval set
        return start, end
    return bounds(interval_set(start, end))


def _metadata(archive: _Archive, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Decode ``_metadata``: ``{col: values}`` or ``{col: {label: value}}``."""
    if "_metadata" not in archive.members:
        return {}
    raw = archive["_metadata"]
    where = f"{archive.path.name}['_metadata']"
    obj = raw.item() if raw.size == 1 else None
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
            except KeyError as err:
                raise NPZFormatError(f"{where}: column {col!r} has no value for {err}") from None
        arr = np.asarray(values)
        if arr.shape[:1] != (len(labels),):
            raise NPZFormatError(
                f"{where}: column {col!r} has {len(arr)} values for {len(labels)} rows"
            )
        out[str(col)] = plain_array(arr)
    return out


def _plain(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def _load_series(archive: _Archive, kind: str, mmap: bool) -> xr.DataArray:
    name = archive.path.name
    t = _vector(archive, "t")
    support = np.stack(_support(archive), axis=1)
    if support.size == 0 and t.size:
        # pynapple gives a series whose samples all share one time an empty support,
        # saves it, and its loader then drops every sample. Keep the samples (as the
        # object pynapple saved had them), with the default support.
        support = None
    if kind == "Ts":
        return ts(t, time_support=support)
    d = archive.memmap("d") if mmap else archive["d"]
    if d.dtype.hasobject:
        raise NPZFormatError(f"{name}['d'] holds Python objects; expected numeric data")
    if d.ndim == 0 or d.shape[0] != t.size:
        raise NPZFormatError(f"{name}: 't' has {t.size} times but 'd' has shape {d.shape}")
    if kind == "TsdFrame":
        if d.ndim != 2:
            raise NPZFormatError(f"{name}: a TsdFrame needs 2-D 'd', got shape {d.shape}")
        columns = _vector(archive, "columns", numeric=False) if "columns" in archive.members \
            else np.arange(d.shape[1])
        if columns.size != d.shape[1]:
            raise NPZFormatError(
                f"{name}: {columns.size} column names for {d.shape[1]} data columns"
            )
        meta = _metadata(archive, columns)
        return tsd_frame(t, d, columns=columns, time_support=support, metadata=meta or None)
    if (kind == "Tsd") != (d.ndim == 1) or (kind == "TsdTensor" and d.ndim < 3):
        raise NPZFormatError(f"{name}: a {kind} cannot hold 'd' of shape {d.shape}")
    return tsd(t, d, time_support=support)


def _load_group(archive: _Archive) -> xr.Dataset:
    name = archive.path.name
    t = _vector(archive, "t")
    index = _vector(archive, "index")
    if index.size != t.size:
        raise NPZFormatError(f"{name}: {t.size} spike times but {index.size} unit indices")
    if index.dtype.kind == "f" and not np.array_equal(index, np.round(index)):
        raise NPZFormatError(f"{name}['index'] holds non-integer unit ids")
    keys = np.unique(_vector(archive, "keys") if "keys" in archive.members else index)
    data = archive["d"] if "d" in archive.members else None
    if data is not None and data.shape != t.shape:
        raise NPZFormatError(f"{name}: 'd' has shape {data.shape} for {t.size} spikes")
    starts, ends = _support(archive)
    t = t.astype(np.float64, copy=False)

    counts = _grouped_counts(t, index, keys, starts, ends)
    if counts is None:
        t, counts, data = _regroup(name, t, index, keys, starts, ends, data)

    meta = _metadata(archive, keys)
    for key in archive.keys():  # one member per column (pynapple's second route)
        if key not in _GROUP_RESERVED and key not in meta:
            shape = archive.header(key)[0]
            if len(shape) >= 1 and shape[0] == keys.size:
                meta[key] = plain_array(archive[key])
    meta.pop("rate", None)
    group = _ragged_flat(keys, t, counts, starts, ends, meta or None)
    if data is not None:
        group[SPIKE_DATA] = xr.Variable(SPIKE, data)
    return group


def _grouped_counts(t: np.ndarray, index: np.ndarray, keys: np.ndarray,
                    starts: np.ndarray, ends: np.ndarray) -> np.ndarray | None:
    """Spike count of each unit when the spikes are already grouped by ascending unit
    id, time-sorted within each unit, all of listed units and inside the support (the
    layout :func:`save` writes); ``None`` otherwise.

    Spike times that pass are finite: comparisons with NaN are false and the support's
    bounds are finite, so no separate ``isfinite`` pass is needed.
    """
    if t.size == 0 or not (np.isfinite(starts).all() and np.isfinite(ends).all()):
        return None
    if not np.all(index[1:] >= index[:-1]):
        return None
    first = np.searchsorted(index, keys, side="left")
    counts = np.searchsorted(index, keys, side="right") - first
    if int(counts.sum()) != t.size:
        return None
    rising = t[1:] >= t[:-1]
    rising[first[(first > 0) & (counts > 0)] - 1] = True  # a unit may begin lower
    if not rising.all():
        return None
    if starts.size == 1:  # each unit's first and last spike bound all of them
        nonempty = counts > 0
        lo, hi = t[first[nonempty]], t[first[nonempty] + counts[nonempty] - 1]
        return counts if starts[0] <= lo.min() and hi.max() <= ends[0] else None
    slot = np.minimum(np.searchsorted(ends, t, side="left"), max(ends.size - 1, 0))
    if ends.size == 0 or not np.all((starts[slot] <= t) & (t <= ends[slot])):
        return None
    return counts


def _regroup(name: str, t: np.ndarray, index: np.ndarray, keys: np.ndarray,
             starts: np.ndarray, ends: np.ndarray, data: np.ndarray | None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Spikes (and their data) grouped by unit, each unit in time order, and the spike
    count of each unit. Spikes of unlisted units or outside the support are dropped,
    as pynapple does."""
    by_time = bool(np.all(t[1:] >= t[:-1]))  # pynapple's own layout; false at any NaN
    finite = np.isfinite(t[[0, -1]]).all() if by_time and t.size else np.isfinite(t).all()
    if not finite:
        raise NPZFormatError(f"{name}['t'] holds non-finite spike times")
    pos, all_known = _unit_positions(keys, index)
    if by_time:  # a few searchsorted calls on the bounds
        inside = drop_outside(t, starts, ends)
        keep = None
        if inside is not None:
            keep = np.zeros(t.size, dtype=bool)
            keep[inside] = True
    else:
        slot = np.searchsorted(ends, t, side="left")
        keep = slot < ends.size
        keep[keep] = starts[slot[keep]] <= t[keep]
    if not all_known:
        keep = pos < keys.size if keep is None else keep & (pos < keys.size)
    if keep is not None and not keep.all():
        t, pos = t[keep], pos[keep]
        data = None if data is None else data[keep]
    if not by_time:  # any other order: a lexsort
        order = np.lexsort((t, pos))
        counts = np.bincount(pos, minlength=keys.size)
        return t[order], counts, None if data is None else data[order]
    if t.size <= _WHOLE_SORT:  # one radix argsort (8/16-bit positions) and a gather
        order = np.argsort(pos, kind="stable")
        counts = np.bincount(pos, minlength=keys.size)
        return t[order], counts, None if data is None else data[order]
    dest, counts = _unit_destinations(pos, keys.size)
    spikes = np.empty_like(t)
    spikes[dest] = t
    if data is not None:
        grouped = np.empty_like(data)
        grouped[dest] = data
        data = grouped
    return spikes, counts, data


# Up to this many spikes one stable argsort of all unit positions is fastest; above,
# its index arrays leave the cache and a chunked counting sort wins (measured: equal
# at 1e6 spikes, chunked 20-25% faster at 2e6 with 200-1000 units, 2-3x slower at 1e5).
_WHOLE_SORT = 1 << 19


def _unit_destinations(pos: np.ndarray, n_units: int, chunk: int = 1 << 16
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Where each spike goes when spikes are grouped by unit, keeping their order.

    A stable counting sort done one cache-sized chunk at a time (a radix argsort of
    each chunk's small unit positions), which beats one argsort plus a gather over the
    whole array for millions of spikes. Returns the destinations and the spike count
    of each unit.
    """
    small = pos.astype(np.uint8 if n_units <= 2**8 else np.uint16 if n_units <= 2**16
                       else np.int64, copy=False)
    counts = np.bincount(small, minlength=n_units)
    dest = np.empty(pos.size, dtype=np.int64)
    cursor = np.cumsum(counts) - counts
    for a in range(0, pos.size, chunk):
        part = small[a:a + chunk]
        order = np.argsort(part, kind="stable")
        part_counts = np.bincount(part, minlength=n_units)
        first = np.cumsum(part_counts) - part_counts  # each unit's start in the chunk
        dest[a + order] = np.repeat(cursor - first, part_counts) + np.arange(part.size)
        cursor += part_counts
    return dest, counts


def _unit_positions(keys: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, bool]:
    """Position in the sorted ``keys`` of each spike's unit id (``keys.size`` for ids
    not in ``keys``), in the smallest integer type that holds them, and whether every
    id is known."""
    n = keys.size
    small = np.uint8 if n < 2**8 else np.uint16 if n < 2**16 else np.int64
    if n == 0 or index.size == 0:
        return np.full(index.size, n, dtype=small), index.size == 0
    lo, hi = keys[0], keys[-1]
    if keys.dtype.kind in "iu" and index.dtype.kind in "iu":
        if hi - lo == n - 1 and lo <= index.min() and index.max() <= hi:
            # ids lo..hi, all listed (the usual case): the position is the id's offset.
            return (index - lo if lo else index).astype(small), True
        if hi - lo < 4 * n + 4096:
            # Dense integer ids: a lookup table beats a binary search.
            table = np.full(int(hi - lo) + 1, n, dtype=small)
            table[keys - lo] = np.arange(n)
            known = (index >= lo) & (index <= hi)
            if known.all():
                pos = table[index - lo]
            else:
                pos = np.full(index.size, n, dtype=small)
                pos[known] = table[index[known] - lo]
            return pos, bool((pos < n).all())
    pos = np.searchsorted(keys, index)
    found = pos < n
    found[found] = keys[pos[found]] == index[found]
    return np.where(found, pos, n).astype(small), bool(found.all())


def load_npz(path: str | os.PathLike, mmap: bool = False) -> xr.DataArray | xr.Dataset:
    """Read an NPZ file written by pynapple (any version) or by :func:`save`.

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file.
    mmap : bool, default False
        Memory-map the data (``d``) of a time series instead of reading it, when the
        member is stored uncompressed (pynapple and xr-nap never compress): the
        DataArray then reads only what is indexed.

    Returns
    -------
    xarray.DataArray or xarray.Dataset
        Ts/Tsd/TsdFrame/TsdTensor as a DataArray, TsGroup/IntervalSet as a Dataset,
        with time support and metadata.

    Raises
    ------
    NPZFormatError
        If the file is not a pynapple NPZ file, misses members or has inconsistent
        lengths (the message names the member).
    UnsafeNPZError
        If a pickled member would build anything but plain numpy data.

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
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    with _Archive(path) as archive:
        kind = _kind(archive)
        if kind == "TsGroup":
            return _load_group(archive)
        if kind == "IntervalSet":
            starts, ends = _vector(archive, "start"), _vector(archive, "end")
            if starts.size != ends.size:
                raise NPZFormatError(f"{path.name}: {starts.size} starts but {ends.size} ends")
            meta = _metadata(archive, np.arange(starts.size))
            return interval_set(starts, ends, metadata=meta or None)
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


def _write_member(zf: zipfile.ZipFile, key: str, value: Any) -> None:
    """Write one ``.npy`` member; lazy DataArrays are written one time block at a time."""
    with zf.open(key + ".npy", "w", force_zip64=True) as fp:
        if isinstance(value, xr.DataArray):
            from xr_nap.core.blocks import time_blocks

            header = {"descr": np.lib.format.dtype_to_descr(value.dtype),
                      "fortran_order": False, "shape": tuple(value.shape)}
            np.lib.format.write_array_header_1_0(fp, header)
            for c0, c1 in time_blocks(value, 0, value.shape[0]):
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


def _atomic_npz(path: Path, members: Iterable[tuple[str, Any]]) -> None:
    if path.is_dir():
        raise IsADirectoryError(f"cannot save to {path}: it is a directory")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot save to {path}: folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as raw:
            with zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
                for key, value in members:
                    _write_member(zf, key, value)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _type_member(kind: str) -> np.ndarray:
    return np.array([kind], dtype=np.str_)


def _column(values: Any, what: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"metadata {what!r} must be 1-D to be saved, got shape {arr.shape}")
    return plain_array(arr)


def _pickled_dict(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """pynapple's ``_metadata`` member: a 0-d object array holding ``{name: array}``."""
    holder = np.empty((), dtype=object)
    holder[()] = dict(columns)
    return holder


def _series_members(obj: xr.DataArray, kind: str) -> list[tuple[str, Any]]:
    members: list[tuple[str, Any]] = [("t", np.asarray(obj[TIME].values, np.float64))]
    if kind != "Ts":
        in_memory = isinstance(obj.variable._data, np.ndarray)
        members.append(("d", obj.values if in_memory else obj))
    starts, ends = support_bounds(obj)
    members += [("start", starts), ("end", ends), ("type", _type_member(kind))]
    if kind == "TsdFrame":
        dim = obj.dims[1]
        columns = np.asarray(obj[dim].values) if dim in obj.coords else np.arange(obj.shape[1])
        members.append(("columns", plain_array(columns)))
        meta = {str(k): _column(c.values, str(k)) for k, c in obj.coords.items()
                if c.dims == (dim,) and k != dim}
        if meta:
            members.append(("_metadata", _pickled_dict(meta)))
    return members


def _group_members(group: xr.Dataset) -> list[tuple[str, Any]]:
    ids = np.asarray(group[UNIT].values)
    if ids.dtype.kind not in "iu":
        raise ValueError(f"pynapple needs integer unit ids to save a TsGroup, got {ids.dtype}")
    offsets = unit_offsets(group)
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
    plain, pickled = [], {}
    for key, var in group.data_vars.items():
        if var.dims != (UNIT,) or key in ("row_size", "rate"):
            continue
        values = _column(var.values, str(key))
        # Plain members need no pickle; names pynapple reserves and object columns
        # go to the pickled dict it also reads.
        if key in _GROUP_RESERVED or values.dtype.hasobject:
            pickled[str(key)] = values
        else:
            plain.append((str(key), values))
    if pickled:
        members.append(("_metadata", _pickled_dict(pickled)))
    return members + plain


def _interval_members(ep: xr.Dataset) -> list[tuple[str, Any]]:
    starts, ends = bounds(ep)
    members: list[tuple[str, Any]] = [
        ("start", starts), ("end", ends), ("type", _type_member("IntervalSet")),
    ]
    meta = {str(k): _column(v.values, str(k)) for k, v in ep.data_vars.items()
            if v.dims == (INTERVAL,) and k not in ("start", "end")}
    if meta:
        members.append(("_metadata", _pickled_dict(meta)))
    return members


def save(obj: xr.DataArray | xr.Dataset, path: str | os.PathLike) -> Path:
    """Save ``obj`` as an NPZ file in pynapple's layout (``obj.nap.save(path)``).

    ``pynapple.load_file`` reads the file back with the same times, values, time
    support and metadata. The file is written to a temporary name in the same folder
    and renamed over ``path`` only when complete.

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
    ValueError
        If ``obj`` cannot be represented in pynapple's layout (e.g. non-integer unit
        ids, metadata that are not 1-D).

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
    if kind == "TsGroup":
        members = _group_members(obj)
    elif kind == "IntervalSet":
        members = _interval_members(obj)
    else:
        members = _series_members(obj, kind)
    target = npz_path(path)
    _atomic_npz(target, members)
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
        if isinstance(filename_or_obj, io.IOBase):
            raise TypeError("the nap_npz engine reads files by path, not file objects")
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
