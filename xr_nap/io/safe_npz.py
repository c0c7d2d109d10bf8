"""Read NPZ files (zip archives of ``.npy`` members) that may be damaged or hostile.

:class:`NPZArchive` is the only code in xr-nap that touches the bytes of an NPZ file.
Before anything is allocated or read it checks, and refuses with an
:class:`~xr_nap.errors.NPZFormatError` that names the file and the member:

- the path: a regular file (a directory, FIFO, device or symlink loop is refused
  without blocking on it);
- the zip directory: no member name twice, no encrypted member, only the compression
  methods numpy reads (stored, deflate, bzip2, lzma), every member inside the file and
  not overlapping another (overlapping members are how small zip bombs expand many
  times), no compressed member claiming to expand more than :data:`MAX_RATIO` times
  (deflate's own limit: a larger claim is a lie), and compressed members expanding to
  at most :data:`BOMB_FLOOR` bytes plus :data:`BOMB_RATIO` times the file's size in
  all (so a 1 MB file can never ask for gigabytes; pynapple and numpy's ``savez``
  write uncompressed members, which are never larger than the file);
- each ``.npy`` header: numpy's format versions, at most :data:`MAX_HEADER` bytes, a
  plain dtype (booleans, numbers, fixed-width strings, datetimes or the object dtype;
  no structured or subarray dtypes), a shape of non-negative integers whose data fill
  the member exactly, and an empty array's other dimensions below :data:`EMPTY_LIMIT`
  elements;
- each member's CRC-32 (what numpy checks through :mod:`zipfile`): verified on every
  read, including the direct reads of uncompressed members. Memory-mapped members are
  verified once per file version and process, in one streaming pass over the mapping
  (no copy is held; the pages read are those later reads use).

Object arrays (pickled members) are rebuilt by :func:`xr_nap.io.safe_pickle.load`,
never by a general unpickler.
"""

from __future__ import annotations

import ast
import math
import os
import re
import stat
import struct
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from xr_nap.errors import NPZFormatError, UnsafeNPZError
from xr_nap.io import safe_pickle

__all__ = ["NPZArchive", "MAX_HEADER", "MAX_RATIO", "BOMB_FLOOR", "BOMB_RATIO", "EMPTY_LIMIT"]

MAX_HEADER = 10_000  # bytes; numpy's own limit for headers read without pickles
MAX_RATIO = 1032  # deflate's largest expansion (258-byte matches in ~2 bits)
# Compressed members may expand to this much in all, plus BOMB_RATIO times the file:
# real arrays rarely compress 100 times, and when they do (constant runs) they are
# small enough to fit under the floor.
BOMB_FLOOR = 256 << 20
BOMB_RATIO = 100
# An empty member holds no data to back its other dimensions, yet code downstream
# builds labels from them (one per column): keep them to what a real file could hold.
EMPTY_LIMIT = 1 << 24

_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
# What zipfile and the decompressors raise on damaged input
_ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError,
    struct.error, OverflowError, NotImplementedError, RuntimeError, IndexError, KeyError,
)
try:
    import lzma

    _ZIP_ERRORS += (lzma.LZMAError,)
except ImportError:  # pragma: no cover - Python built without lzma
    pass

_LOCAL = b"PK\x03\x04"
_MAGIC = b"\x93NUMPY"
_DESCR = re.compile(
    r"[<>|=]?(b1|[iu][1248]|f(2|4|8|16)|c(8|16|32)|[US][0-9]{1,10}|O|"
    r"[Mm]8(\[[0-9]{0,10}(Y|M|W|D|h|m|s|ms|us|ns|ps|fs|as)\])?)"
)
# The header numpy writes for a plain array, parsed without ast
_PLAIN_HEADER = re.compile(
    rb"\{'descr': '([<>|=][a-zA-Z][0-9]*)', 'fortran_order': (True|False), "
    rb"'shape': \(((?:[0-9]+, )*[0-9]*,?)\), \}[ ]*\n"
)
# (dev, inode, size, mtime, ctime, member offset) of members whose CRC was verified
# through a memory map; bounded so a long session does not grow it without end
_VERIFIED: OrderedDict[tuple[int, ...], None] = OrderedDict()
_VERIFIED_MAX = 4096


class Member(NamedTuple):
    """A member's ``.npy`` header and where its data are."""

    shape: tuple[int, ...]
    fortran: bool
    dtype: np.dtype
    header: bytes  # the .npy header bytes (part of what the CRC covers)
    offset: int | None  # file offset of the data (uncompressed members), else None


# --------------------------------------------------------------------------- .npy header
def _header_length(prefix: bytes, where: str) -> int:
    """Total length of the ``.npy`` header starting ``prefix`` (>= 12 bytes or all)."""
    if prefix[:6] != _MAGIC:
        raise NPZFormatError(f"{where}: not a .npy member (no numpy magic string)")
    version = tuple(prefix[6:8])
    if version == (1, 0) and len(prefix) >= 10:
        size, start = int.from_bytes(prefix[8:10], "little"), 10
    elif version in ((2, 0), (3, 0)) and len(prefix) >= 12:
        size, start = int.from_bytes(prefix[8:12], "little"), 12
    elif version in ((1, 0), (2, 0), (3, 0)):
        raise NPZFormatError(f"{where}: the member ends inside its .npy header")
    else:
        raise NPZFormatError(f"{where}: unsupported .npy format version {version}")
    if size > MAX_HEADER:
        raise NPZFormatError(f"{where}: .npy header of {size} bytes (at most {MAX_HEADER})")
    return start + size


def parse_header(header: bytes, where: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Shape, Fortran order and dtype of a complete ``.npy`` header, all checked.

    Examples
    --------
    >>> import io, numpy as np
    >>> buf = io.BytesIO(); np.save(buf, np.zeros((2, 3), ">i4"))
    >>> parse_header(buf.getvalue()[:128], "x.npz['d']")
    ((2, 3), False, dtype('>i4'))
    """
    start = 12 if header[6:8] in (b"\x02\x00", b"\x03\x00") else 10
    match = _PLAIN_HEADER.fullmatch(header, start)
    if match is not None:
        descr, fortran, dims = match.groups()
        shape = tuple(int(x) for x in dims.split(b",") if x.strip())
        return _checked(descr.decode(), fortran == b"True", shape, where)
    text = header[start:].decode("utf-8" if header[6] == 3 else "latin1", "replace")
    try:
        fields = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as err:
        raise NPZFormatError(f"{where}: unreadable .npy header ({err})") from None
    if not isinstance(fields, dict) or sorted(fields) != ["descr", "fortran_order", "shape"]:
        raise NPZFormatError(f"{where}: a .npy header needs exactly descr, fortran_order "
                             f"and shape, got {text.strip()[:200]!r}")
    return _checked(fields["descr"], fields["fortran_order"], fields["shape"], where)


def _checked(descr: Any, fortran: Any, shape: Any, where: str
             ) -> tuple[tuple[int, ...], bool, np.dtype]:
    if not isinstance(descr, str) or _DESCR.fullmatch(descr) is None:
        raise NPZFormatError(f"{where}: dtype {descr!r} is not accepted (only booleans, "
                             "numbers, fixed-width strings, datetimes and objects)")
    try:
        dtype = np.dtype(descr)
    except (TypeError, ValueError) as err:
        raise NPZFormatError(f"{where}: bad dtype {descr!r} ({err})") from None
    safe_pickle.check_plain_dtype(dtype, where)
    if type(fortran) is not bool:
        raise NPZFormatError(f"{where}: fortran_order must be True or False")
    if (not isinstance(shape, tuple) or len(shape) > 32
            or not all(type(n) is int and n >= 0 for n in shape)):
        raise NPZFormatError(f"{where}: bad shape {shape!r}")
    if 0 in shape and math.prod(n for n in shape if n) > EMPTY_LIMIT:
        raise NPZFormatError(f"{where}: empty array of absurd shape {shape}")
    return shape, fortran, dtype


# --------------------------------------------------------------------------- reading
def _readinto(fp: Any, view: memoryview, where: str) -> None:
    """Fill ``view`` from the file object ``fp`` (reads may return less than asked)."""
    got = 0
    while got < len(view):
        n = fp.readinto(view[got:])
        if not n:
            raise NPZFormatError(f"{where}: the member's data are cut short")
        got += n


def _open_regular(path: Path) -> Any:
    """An unbuffered binary file object for ``path``, which must be a regular file.

    Opened non-blocking, so a FIFO named ``x.npz`` is refused instead of waiting for a
    writer.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except (FileNotFoundError, PermissionError):
        raise
    except IsADirectoryError:
        raise NPZFormatError(f"{path} is a directory, not an NPZ file") from None
    except OSError as err:  # symlink loop, a socket, a name too long...
        raise NPZFormatError(f"{path}: cannot open it as an NPZ file ({err.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) \
            else "not a regular file"
        raise NPZFormatError(f"{path} is {what}, not an NPZ file")
    return os.fdopen(fd, "rb", buffering=0)


def _name_bytes(info: zipfile.ZipInfo) -> bytes:
    return info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")


class NPZArchive:
    """A checked, read-only view of an NPZ file (see the module docstring).

    Parameters
    ----------
    path : str or path-like

    Raises
    ------
    FileNotFoundError, PermissionError
        If ``path`` does not exist or cannot be read.
    NPZFormatError
        If ``path`` is not a regular file or not a sound zip archive.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.npz"
    >>> np.savez(path, t=np.arange(3.0))
    >>> with NPZArchive(path) as archive:
    ...     archive.keys(), archive.read("t")
    (['t'], array([0., 1., 2.]))
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.name = str(path)
        self.raw = _open_regular(self.path)
        try:
            self.stat = os.fstat(self.raw.fileno())
            try:
                self.zip = zipfile.ZipFile(self.raw)
            except _ZIP_ERRORS as err:
                raise NPZFormatError(f"{self.name} is not an NPZ (zip) file: {err}") from None
            self.members, self._limits = self._check_directory()
        except BaseException:
            self.raw.close()
            raise
        self._headers: dict[str, Member] = {}

    def _check_directory(self) -> tuple[dict[str, zipfile.ZipInfo], dict[str, int]]:
        members: dict[str, zipfile.ZipInfo] = {}
        names: set[str] = set()
        for info in self.zip.infolist():
            where = f"{self.name}[{info.filename!r}]"
            if info.filename in names:
                raise NPZFormatError(f"{where}: the member name appears twice")
            names.add(info.filename)
            if info.flag_bits & 0x1:
                raise NPZFormatError(f"{where}: the member is encrypted")
            if info.compress_type not in _METHODS:
                raise NPZFormatError(f"{where}: compression method {info.compress_type}, "
                                     "which numpy cannot read")
            if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
                raise NPZFormatError(f"{where}: stored member with two different sizes")
            if info.file_size > MAX_RATIO * info.compress_size + 1024:
                raise NPZFormatError(
                    f"{where}: {info.compress_size} compressed bytes claim to expand to "
                    f"{info.file_size} (more than {MAX_RATIO} times: a zip bomb or a lie)")
            if info.filename.endswith(".npy"):
                members[info.filename[:-4]] = info
        expanded = sum(i.file_size for i in self.zip.infolist()
                       if i.compress_type != zipfile.ZIP_STORED)
        if expanded > BOMB_FLOOR + BOMB_RATIO * self.stat.st_size:
            raise NPZFormatError(
                f"{self.name}: its compressed members expand to {expanded} bytes, more than "
                f"{BOMB_FLOOR} + {BOMB_RATIO} x the file's size (a zip bomb?); save it "
                "uncompressed (np.savez) if it is genuine")
        # Every member's minimal extent (local header, name, data) must end before the
        # next member starts, and the last before the end of the file.
        limits: dict[str, int] = {}
        ordered = sorted(self.zip.infolist(), key=lambda i: i.header_offset)
        for i, info in enumerate(ordered):
            limit = ordered[i + 1].header_offset if i + 1 < len(ordered) else self.stat.st_size
            try:
                end = info.header_offset + 30 + len(_name_bytes(info)) + info.compress_size
            except UnicodeEncodeError:
                end = -1
            if info.header_offset < 0 or end < 0 or end > limit:
                what = "past the end of the file" if limit == self.stat.st_size else \
                    "over the next member (overlapping members)"
                raise NPZFormatError(f"{self.name}[{info.filename!r}]: the member extends "
                                     f"{what}")
            self._check_local_header(info)
            limits[info.filename] = limit
        return members, limits

    def _check_local_header(self, info: zipfile.ZipInfo) -> tuple[int, int]:
        """The name and extra-field lengths of a member's local header, which must name
        the member and its compression method as the directory does (two copies of
        the name: a damaged one is noticed even in a member xr-nap does not read)."""
        name = _name_bytes(info)
        self.raw.seek(info.header_offset)
        block = self.raw.read(30 + len(name))
        where = f"{self.name}[{info.filename!r}]"
        if len(block) < 30 or block[:4] != _LOCAL:
            raise NPZFormatError(f"{where}: damaged zip entry (no local header)")
        method, = struct.unpack("<H", block[8:10])
        name_len, extra_len = struct.unpack("<HH", block[26:30])
        if block[30:30 + name_len] != name or method != info.compress_type:
            raise NPZFormatError(f"{where}: the entry's local header does not match the "
                                 "zip directory")
        return name_len, extra_len

    def close(self) -> None:
        self.zip.close()
        self.raw.close()

    def __enter__(self) -> NPZArchive:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def keys(self) -> list[str]:
        """Names of the ``.npy`` members, without the suffix (as ``np.load`` lists them)."""
        return list(self.members)

    def __contains__(self, key: object) -> bool:
        return key in self.members

    def where(self, key: str) -> str:
        """``"path['key']"``: how errors name a member."""
        return f"{self.name}[{key!r}]"

    # ----------------------------------------------------------------- headers
    def header(self, key: str) -> Member:
        """The checked header of member ``key`` (reads only the header)."""
        if key not in self._headers:
            if key not in self.members:
                raise NPZFormatError(f"{self.name} has no member {key!r}")
            info = self.members[key]
            try:
                if info.compress_type == zipfile.ZIP_STORED:
                    self._headers[key] = self._stored_header(key, info)
                else:
                    with self._open_member(key) as fp:
                        self._headers[key] = self._stream_header(key, fp, None)
            except (NPZFormatError, *_ZIP_ERRORS) as err:
                # a bad header in a damaged member: say it is damaged
                if not self._intact(key):
                    raise NPZFormatError(f"{self.where(key)}: CRC-32 mismatch, the member "
                                         "is damaged") from None
                if isinstance(err, NPZFormatError):
                    raise
                raise NPZFormatError(f"{self.where(key)}: damaged member ({err})") from None
        return self._headers[key]

    def _intact(self, key: str) -> bool:
        """Whether the member's bytes match its CRC-32 (read in bounded pieces)."""
        info = self.members[key]
        crc = 0
        try:
            if info.compress_type == zipfile.ZIP_STORED:
                name_len, extra_len = self._check_local_header(info)
                begin = info.header_offset + 30 + name_len + extra_len
                for a in range(0, info.file_size, 1 << 20):
                    self.raw.seek(begin + a)
                    crc = zlib.crc32(self.raw.read(min(1 << 20, info.file_size - a)), crc)
                return crc == info.CRC
            with self._open_member(key) as fp:  # zipfile checks the CRC at the end
                while fp.read(1 << 20):
                    pass
            return True
        except (NPZFormatError, *_ZIP_ERRORS):
            return False

    def _stored_header(self, key: str, info: zipfile.ZipInfo) -> Member:
        name_len, extra_len = self._check_local_header(info)
        begin = info.header_offset + 30 + name_len + extra_len
        if begin + info.compress_size > self._limits[info.filename]:
            raise NPZFormatError(f"{self.where(key)}: the member's data extend over the "
                                 "next member or past the end of the file")
        return self._stream_header(key, _RawMember(self.raw, begin, info.file_size), begin)

    def _stream_header(self, key: str, fp: Any, begin: int | None) -> Member:
        where = self.where(key)
        info = self.members[key]
        prefix = fp.read(12)
        length = _header_length(prefix, where)
        if length > info.file_size:
            raise NPZFormatError(f"{where}: the member ends inside its .npy header")
        header = prefix + fp.read(length - len(prefix))
        if len(header) != length:
            raise NPZFormatError(f"{where}: the member ends inside its .npy header")
        shape, fortran, dtype = parse_header(header, where)
        if not dtype.hasobject:
            nbytes = math.prod(shape) * dtype.itemsize
            if length + nbytes != info.file_size:
                raise NPZFormatError(
                    f"{where}: the header announces {nbytes} bytes of data but the member "
                    f"holds {info.file_size - length} (truncated or corrupted file)")
        return Member(shape, fortran, dtype, header, None if begin is None else begin + length)

    def _open_member(self, key: str) -> Any:
        try:
            return self.zip.open(self.members[key])
        except _ZIP_ERRORS as err:
            raise NPZFormatError(f"{self.where(key)}: damaged zip entry ({err})") from None

    # ----------------------------------------------------------------- data
    def read(self, key: str, objects: bool = False) -> np.ndarray:
        """Member ``key`` as a numpy array, its CRC-32 verified.

        Object arrays (pickled members) are rebuilt safely when ``objects`` is true and
        refused otherwise (before any unpickling).
        """
        member = self.header(key)
        where = self.where(key)
        if member.dtype.hasobject:
            if not objects:
                raise NPZFormatError(f"{where} holds Python objects; expected numeric data")
            return self._read_objects(key, member)
        buf = np.empty(math.prod(member.shape) * member.dtype.itemsize, dtype=np.uint8)
        self._fill(key, member, memoryview(buf))
        return self._shaped(buf, member)

    def _fill(self, key: str, member: Member, buf: memoryview) -> None:
        """Fill ``buf`` with the member's bytes after its header, CRC-32 verified."""
        where = self.where(key)
        if member.offset is not None:  # stored: straight from the file into buf
            self.raw.seek(member.offset)
            _readinto(self.raw, buf, where)
            self._check_crc(key, zlib.crc32(buf, zlib.crc32(member.header)))
            return
        try:
            with self._open_member(key) as fp:
                fp.read(len(member.header))
                _readinto(fp, buf, where)
                fp.read(1)  # reach the end of the stream: zipfile checks the CRC there
        except NPZFormatError:
            raise
        except _ZIP_ERRORS as err:
            raise NPZFormatError(f"{where}: damaged member ({err})") from None

    def _read_objects(self, key: str, member: Member) -> np.ndarray:
        where = self.where(key)
        data = bytearray(self.members[key].file_size - len(member.header))
        self._fill(key, member, memoryview(data))
        try:
            obj = safe_pickle.load(bytes(data))
        except UnsafeNPZError as err:
            raise UnsafeNPZError(f"{where}: {err}") from None
        except NPZFormatError as err:
            raise NPZFormatError(f"{where}: {err}") from None
        if not isinstance(obj, np.ndarray) or obj.shape != member.shape:
            got = f"shape {obj.shape}" if isinstance(obj, np.ndarray) else type(obj).__name__
            raise NPZFormatError(f"{where}: expected a pickled array of shape "
                                 f"{member.shape}, got {got}")
        return obj

    def _check_crc(self, key: str, crc: int) -> None:
        if crc != self.members[key].CRC:
            raise NPZFormatError(f"{self.where(key)}: CRC-32 mismatch, the member is damaged")

    @staticmethod
    def _shaped(buf: np.ndarray, member: Member) -> np.ndarray:
        return buf.view(member.dtype).reshape(member.shape,
                                              order="F" if member.fortran else "C")

    def aligned(self, key: str) -> bool:
        """Whether member ``key`` is stored uncompressed with its data at a file offset
        that is a multiple of its item size (a memory map of it is then aligned)."""
        member = self.header(key)
        return member.offset is not None and member.offset % member.dtype.itemsize == 0

    def mmap(self, key: str) -> np.ndarray:
        """Memory-map an uncompressed plain member (its data stay in the file); read
        other members. The CRC-32 is verified once per file version and process."""
        member = self.header(key)
        nbytes = math.prod(member.shape) * member.dtype.itemsize
        if member.offset is None or member.dtype.hasobject or nbytes == 0:
            return self.read(key)
        try:
            mapped = np.memmap(self.raw, dtype=np.uint8, mode="r", offset=member.offset,
                               shape=(nbytes,))
        except (ValueError, OSError) as err:  # the file shrank since it was opened
            raise NPZFormatError(f"{self.where(key)}: cannot map the member ({err})") from None
        st = self.stat
        version = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns,
                   self.members[key].header_offset)
        if version not in _VERIFIED:
            self._check_crc(key, zlib.crc32(mapped, zlib.crc32(member.header)))
            _VERIFIED[version] = None
            if len(_VERIFIED) > _VERIFIED_MAX:
                _VERIFIED.popitem(last=False)
        return self._shaped(mapped, member)


class _RawMember:
    """A file-like reading one stored member's bytes straight from the raw file."""

    def __init__(self, raw: Any, begin: int, size: int):
        self.raw, self.pos, self.end = raw, begin, begin + size

    def read(self, n: int) -> bytes:
        n = max(0, min(n, self.end - self.pos))
        self.raw.seek(self.pos)
        out = self.raw.read(n)
        self.pos += len(out)
        return out
