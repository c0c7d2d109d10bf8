"""A corpus of hostile, damaged and foreign NPZ files and folders.

``generate(root)`` writes every input under ``root`` and returns the cases, each a dict:

- ``id``: a unique name; ``path``: the input (an NPZ path, or a folder for folder cases);
- ``kind``: ``"npz"`` (opened through every NPZ entry point) or ``"folder"``;
- ``expect``: ``"ok"`` (must load and equal ``reference``), ``"same"`` (equal to
  ``reference`` or a clear error: damage that may not matter), ``"warn"`` (must load,
  equal ``reference``, with a :class:`~xr_nap.errors.SkippedObjectWarning`),
  ``"error"`` (a clear error), ``"finish"`` (folders: must list in finite time);
- ``reference``: a trusted NPZ written by xr-nap whose content a successful load must
  equal (or None); ``member``: the member an error must name (or None);
- ``isolate``: run alone in its own process (an input that could crash one);
- ``marker``: a file a pickled payload would create if anything ran it.

The groups: pristine files in pynapple's layout (and compressed, big-endian, Fortran,
old-metadata variants), flipped bits at many offsets, truncations at many offsets,
damaged or hostile zip structures (duplicate names, encryption, unknown compression,
overlapping members, zip bombs), hostile ``.npy`` headers (huge and zero-size shapes,
structured dtypes, expressions), crafted pickles (pickle's BUILD giving ``numpy.dtype``
an object field with the object flag cleared, zero-stride arrays, memo and reference
blow-ups, code-running payloads), paths that are not regular files (a directory, a
symlink loop, a FIFO, a device) and folder trees with symlink loops.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

P = pickle  # opcode constants


# --------------------------------------------------------------------------- helpers
def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asanyarray(arr), allow_pickle=True)
    return buf.getvalue()


def _npy_raw(header: str, data: bytes = b"") -> bytes:
    """A .npy member with a header of our choosing (padded as numpy pads it)."""
    body = header.encode("latin1")
    pad = 64 - (10 + len(body) + 1) % 64
    body += b" " * (pad % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body + data


def _npy_pickle(payload: bytes, shape: str = "()") -> bytes:
    """A .npy member whose header says object array and whose data are ``payload``."""
    return _npy_raw(f"{{'descr': '|O', 'fortran_order': False, 'shape': {shape}, }}",
                    payload)


def _zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for key, data in members.items():
            zf.writestr(key if "." in key else key + ".npy", data)
    return path


def _object(value: Any) -> np.ndarray:
    holder = np.empty((), dtype=object)
    holder[()] = value
    return holder


def _s(text: str) -> bytes:
    b = text.encode()
    return P.SHORT_BINUNICODE + bytes([len(b)]) + b


def _i(n: int) -> bytes:
    return P.BININT + struct.pack("<i", n)


def _dtype_pickle(spec: str, state: bytes) -> bytes:
    """Opcodes building ``numpy.dtype(spec)`` then BUILD with the tuple ``state``."""
    return (P.GLOBAL + b"numpy\ndtype\n" + _s(spec) + P.NEWFALSE + P.NEWTRUE + P.TUPLE3
            + P.REDUCE + P.MARK + state + P.TUPLE + P.BUILD)


_OBJECT_DTYPE = _dtype_pickle("O8", P.BININT1 + b"\x03" + _s("|") + P.NONE * 3 + _i(-1)
                              + _i(-1) + P.BININT1 + b"\x3f")


_ARRAY_HEAD = (P.GLOBAL + b"numpy.core.multiarray\n_reconstruct\n" + P.GLOBAL
               + b"numpy\nndarray\n" + P.BININT1 + b"\x00" + P.TUPLE1 + P.SHORT_BINBYTES
               + b"\x01b" + P.TUPLE3 + P.REDUCE)


def _array_pickle(shape: tuple[int, ...], dtype: bytes, data: bytes) -> bytes:
    """Opcodes rebuilding an ndarray of ``shape`` from raw ``data`` (numpy's layout)."""
    dims = b"".join(_i(n) if n < 2**31 else
                    P.LONG1 + bytes([8]) + n.to_bytes(8, "little", signed=True)
                    for n in shape)
    return (_ARRAY_HEAD + P.MARK + P.BININT1 + b"\x01" + P.MARK + dims + P.TUPLE + dtype
            + P.NEWFALSE + P.BINBYTES + struct.pack("<I", len(data)) + data + P.TUPLE
            + P.BUILD)


def forged_object_field(data: bytes = b"\x41" * 8) -> bytes:
    """A 1-element array whose dtype has an object field and no object flag: a general
    unpickler makes ``data`` into an object pointer (reading it crashes)."""
    dtype = _dtype_pickle(
        "V8", P.BININT1 + b"\x03" + _s("|") + P.NONE + _s("f0") + P.TUPLE1 + P.EMPTY_DICT
        + _s("f0") + _OBJECT_DTYPE + P.BININT1 + b"\x00" + P.TUPLE2 + P.SETITEM
        + P.BININT1 + b"\x08" + P.BININT1 + b"\x01" + P.BININT1 + b"\x00")
    return P.PROTO + b"\x03" + _array_pickle((1,), dtype, data) + P.STOP


def forged_object_flagless(data: bytes = b"\x41" * 8) -> bytes:
    """An object-dtype array (``O8``) whose dtype state clears the object flags."""
    dtype = _dtype_pickle("O8", P.BININT1 + b"\x03" + _s("|") + P.NONE * 3 + _i(-1)
                          + _i(-1) + P.BININT1 + b"\x00")
    return P.PROTO + b"\x03" + _array_pickle((1,), dtype, data) + P.STOP


def _wrapped(inner: bytes, key: str = "area") -> bytes:
    """The pickle ``inner`` as the value of ``{key: ...}`` in a 0-d object array (how
    pynapple's ``_metadata`` is laid out)."""
    body = inner[2:-1]  # without PROTO and STOP
    return (P.PROTO + b"\x03" + _ARRAY_HEAD + P.MARK + P.BININT1 + b"\x01" + P.EMPTY_TUPLE
            + _OBJECT_DTYPE + P.NEWFALSE + P.EMPTY_LIST + P.EMPTY_DICT + _s(key) + body
            + P.SETITEM + P.APPEND + P.TUPLE + P.BUILD + P.STOP)


class _Run:
    def __init__(self, func: Any, *args: Any):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


# --------------------------------------------------------------------------- generator
class Corpus:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.cases: list[dict[str, Any]] = []
        self.refs = self.root / "_references"
        self.refs.mkdir(parents=True, exist_ok=True)

    def path(self, case_id: str, name: str = "x.npz") -> Path:
        folder = self.root / case_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name

    def add(self, case_id: str, path: Path, expect: str, reference: Path | None = None,
            member: str | None = None, isolate: bool = False, marker: Path | None = None,
            kind: str = "npz") -> None:
        self.cases.append({"id": case_id, "path": str(path), "kind": kind, "expect": expect,
                           "reference": None if reference is None else str(reference),
                           "member": member, "isolate": isolate,
                           "marker": None if marker is None else str(marker)})


def _bases(c: Corpus) -> dict[str, tuple[Path, Path]]:
    """Pristine files in pynapple's layout (as np.savez writes them) with xr-nap's own
    save of the same object as the reference."""
    import xr_nap as nap

    rng = np.random.default_rng(0)
    t = np.arange(12) / 10.0
    made: dict[str, tuple[dict[str, Any], Any]] = {}
    made["tsd"] = (dict(t=t, d=rng.standard_normal(12), start=[0.0], end=[1.1],
                        type=np.array(["Tsd"])), None)
    made["ts"] = (dict(t=t, start=[0.0], end=[1.1], type=np.array(["Ts"])), None)
    made["tensor"] = (dict(t=t, d=rng.integers(0, 9, (12, 2, 3)), start=[0.0], end=[1.1],
                           type=np.array(["TsdTensor"])), None)
    made["frame"] = (dict(t=t, d=rng.standard_normal((12, 3)), start=[0.0, 0.6],
                          end=[0.4, 1.1], columns=np.array(["a", "b", "c"]),
                          type=np.array(["TsdFrame"]),
                          _metadata=_object({"area": np.array(["ca1", "ca3", "ca1"])})),
                     None)
    spikes = np.sort(rng.uniform(0, 10, 60))
    index = rng.choice([0, 3, 7], 60)
    made["group"] = (dict(type=np.array(["TsGroup"]), t=spikes, index=index,
                          keys=np.array([0, 3, 7]), start=[0.0], end=[10.0],
                          d=np.arange(60.0),
                          _metadata=_object({"area": np.array(["ca1", "pfc", "ca1"]),
                                             "depth": np.array([1.5, 2.0, 3.5])})), None)
    made["intervals"] = (dict(start=[0.0, 5.0, 9.0], end=[2.0, 7.0, 12.0],
                              type=np.array(["IntervalSet"]),
                              _metadata=_object({"label": np.array(["a", "b", "c"]),
                                                 "xy": np.arange(6.0).reshape(3, 2)})), None)
    out = {}
    for name, (members, _) in made.items():
        path = c.refs / f"{name}_pynapple.npz"
        np.savez(path, **members)
        obj = nap.load_npz(path)
        ref = nap.save(obj, c.refs / f"{name}_ref.npz")
        out[name] = (path, ref)
    return out


def _pristine(c: Corpus, bases: dict[str, tuple[Path, Path]]) -> None:
    for name, (path, ref) in bases.items():
        c.add(f"pristine-{name}", path, "ok", ref)
        raw = dict(np.load(path, allow_pickle=True))
        comp = c.path(f"compressed-{name}")
        np.savez_compressed(comp, **raw)
        c.add(f"compressed-{name}", comp, "ok", ref)
        swapped = {k: (v.astype(v.dtype.newbyteorder(">")) if v.dtype.kind in "iuf" else v)
                   for k, v in raw.items()}
        big = c.path(f"bigendian-{name}")
        np.savez(big, **swapped)
        c.add(f"bigendian-{name}", big, "ok", ref)
    # Fortran-ordered data
    raw = dict(np.load(bases["frame"][0], allow_pickle=True))
    raw["d"] = np.asfortranarray(raw["d"])
    path = c.path("fortran-frame")
    np.savez(path, **raw)
    c.add("fortran-frame", path, "ok", bases["frame"][1])
    # bzip2 and lzma members (numpy reads them through zipfile)
    for method, label in ((zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "lzma")):
        members = {k + ".npy": _npy(v) for k, v in
                   np.load(bases["tsd"][0], allow_pickle=True).items()}
        path = c.path(f"{label}-tsd")
        _zip(path, members, method)
        c.add(f"{label}-tsd", path, "ok", bases["tsd"][1])
    # older pynapple metadata: {column: {row label: value}} with numpy scalars
    raw = dict(np.load(bases["intervals"][0], allow_pickle=True))
    raw["_metadata"] = _object({"label": {0: np.str_("a"), 1: np.str_("b"), 2: np.str_("c")},
                                "xy": {0: np.array([0.0, 1.0]), 1: np.array([2.0, 3.0]),
                                       2: np.array([4.0, 5.0])}})
    path = c.path("old-metadata-intervals")
    np.savez(path, **raw)
    c.add("old-metadata-intervals", path, "ok", bases["intervals"][1])
    # a TsdFrame column with two values per column: skipped with a warning
    raw = dict(np.load(bases["frame"][0], allow_pickle=True))
    raw["_metadata"] = _object({**raw["_metadata"].item(), "pos": np.arange(6).reshape(3, 2)})
    path = c.path("frame-2d-metadata")
    np.savez(path, **raw)
    c.add("frame-2d-metadata", path, "warn", bases["frame"][1])
    # a metadata column named like xr-nap's own variable: skipped with a warning
    raw = dict(np.load(bases["group"][0], allow_pickle=True))
    raw["_metadata"] = _object({**raw["_metadata"].item(),
                                "row_size": np.array([9, 9, 9])})
    path = c.path("clashing-metadata-group")
    np.savez(path, **raw)
    c.add("clashing-metadata-group", path, "warn", bases["group"][1])


def _flips(c: Corpus, bases: dict[str, tuple[Path, Path]], step: int) -> None:
    """One damaged copy per offset: XOR a byte (alternating bit patterns)."""
    sources = [(name, path, ref) for name, (path, ref) in bases.items()]
    comp = c.root / "compressed-frame" / "x.npz"
    sources.append(("compressed-frame", comp, bases["frame"][1]))
    for name, path, ref in sources:
        data = path.read_bytes()
        for k, offset in enumerate(range(0, len(data), step)):
            damaged = bytearray(data)
            damaged[offset] ^= (0x01, 0x80, 0xFF, 0x10)[k % 4]
            target = c.path(f"flip-{name}-{offset}")
            target.write_bytes(bytes(damaged))
            c.add(f"flip-{name}-{offset}", target, "same", ref)


def _truncations(c: Corpus, bases: dict[str, tuple[Path, Path]], step: int) -> None:
    for name, (path, _) in bases.items():
        data = path.read_bytes()
        for offset in sorted({0, 1, 4, 29, 30, len(data) - 1, len(data) - 22,
                              *range(0, len(data), step)}):
            target = c.path(f"cut-{name}-{offset}")
            target.write_bytes(data[:offset])
            c.add(f"cut-{name}-{offset}", target, "error")


def _patch_method(data: bytes, name: bytes, method: int = None, flags: int = None) -> bytes:
    """Set the compression method / flag bits of member ``name`` in both headers."""
    out = bytearray(data)
    for sig, at_method, at_flags, at_name in ((b"PK\x03\x04", 8, 6, 30),
                                              (b"PK\x01\x02", 10, 8, 46)):
        pos = 0
        while (pos := out.find(sig, pos)) >= 0:
            if out[pos + at_name:pos + at_name + len(name)] == name:
                if method is not None:
                    out[pos + at_method:pos + at_method + 2] = struct.pack("<H", method)
                if flags is not None:
                    old, = struct.unpack("<H", out[pos + at_flags:pos + at_flags + 2])
                    out[pos + at_flags:pos + at_flags + 2] = struct.pack("<H", old | flags)
            pos += 4
    return bytes(out)


def _zeros_deflate(n_bytes: int, header: bytes) -> tuple[bytes, int]:
    """An honest deflate stream of ``header`` + ``n_bytes`` zero bytes, built from one
    compressed block repeated (full flushes make the blocks identical), and its CRC."""
    block = 16 << 20
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = comp.compress(header) + comp.flush(zlib.Z_FULL_FLUSH)
    zeros = bytes(block)
    unit = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    stream = head + unit * (n_bytes // block) + comp.flush(zlib.Z_FINISH)
    crc = zlib.crc32(header)
    for _ in range(n_bytes // block):
        crc = zlib.crc32(zeros, crc)
    return stream, crc


def _raw_zip(path: Path, entries: list[tuple[str, bytes, int, int, int, int]]) -> Path:
    """A zip written by hand: entries ``(name, data, method, crc, size, offset)``;
    ``offset`` -1 puts the entry's local header next, else points the directory entry
    at an earlier offset (overlapping members)."""
    body = bytearray()
    central = bytearray()
    for name, data, method, crc, size, offset in entries:
        n = name.encode()
        if offset < 0:
            offset = len(body)
            body += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, method, 0, 0, crc,
                                len(data), size, len(n), 0) + n + data
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, method, 0,
                               0, crc, len(data), size, len(n), 0, 0, 0, 0, 0, offset) + n
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                      len(central), len(body), 0)
    path.write_bytes(bytes(body + central + end))
    return path


def _zip_structure(c: Corpus, bases: dict[str, tuple[Path, Path]]) -> None:
    tsd_path = bases["tsd"][0]
    members = {k: _npy(v) for k, v in np.load(tsd_path, allow_pickle=True).items()}
    data = tsd_path.read_bytes()
    # the same member name twice (zipfile warns; numpy would pick one silently)
    path = c.path("duplicate-member")
    with zipfile.ZipFile(path, "w") as zf:
        for key, value in members.items():
            zf.writestr(key + ".npy", value)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            zf.writestr("d.npy", _npy(np.zeros(12)))
    c.add("duplicate-member", path, "error", member="d.npy")
    # encrypted flag, an unknown compression method, a method numpy cannot read
    for case_id, kwargs in (("encrypted-member", {"flags": 1}),
                            ("unknown-compression", {"method": 99}),
                            ("implode-compression", {"method": 6})):
        path = c.path(case_id)
        path.write_bytes(_patch_method(data, b"d.npy", **kwargs))
        c.add(case_id, path, "error", member="d.npy")
    # two directory entries for one local header (a differently named one)
    header = _npy_raw("{'descr': '<f8', 'fortran_order': False, 'shape': (12,), }",
                      bytes(96))
    entries = [(k + ".npy", v, 0, zlib.crc32(v), len(v), -1) for k, v in members.items()]
    entries.append(("e.npy", header, 0, zlib.crc32(header), len(header), 0))
    c.add("overlapping-members", _raw_zip(c.path("overlapping-members"), entries), "error")
    # a zip bomb: an honest deflate stream of 1 GiB of zeros, about 1 MB on disk
    npy_head = _npy_raw(f"{{'descr': '<f8', 'fortran_order': False, "
                        f"'shape': ({(1 << 30) // 8},), }}")
    stream, crc = _zeros_deflate(1 << 30, npy_head)
    entries = [(k + ".npy", v, 0, zlib.crc32(v), len(v), -1) for k, v in members.items()
               if k != "d"]
    entries.append(("d.npy", stream, 8, crc, len(npy_head) + (1 << 30), -1))
    path = _raw_zip(c.path("zip-bomb-deflate"), entries)
    c.add("zip-bomb-deflate", path, "error", isolate=True)
    # a lying size: a small deflate stream claiming gigabytes
    small = zlib.compress(npy_head + bytes(4096))[2:-4]
    entries[-1] = ("d.npy", small, 8, 0, 0xF000_0000, -1)  # claims 3.75 GiB
    c.add("zip-lying-size", _raw_zip(c.path("zip-lying-size"), entries), "error",
          isolate=True)
    # a bzip2 member expanding about 20000 times
    import bz2

    huge = _npy_raw("{'descr': '<f8', 'fortran_order': False, 'shape': (1048576,), }",
                    bytes(8 << 20))
    entries[-1] = ("d.npy", bz2.compress(huge), 12, zlib.crc32(huge), len(huge), -1)
    c.add("zip-bomb-bzip2", _raw_zip(c.path("zip-bomb-bzip2"), entries), "error",
          isolate=True)
    # not zips at all
    for case_id, content in (("empty-file", b""), ("text-file", b"hello, world\n" * 10),
                             ("random-bytes", np.random.default_rng(1).bytes(4096)),
                             ("eocd-only", b"PK\x05\x06" + bytes(18))):
        path = c.path(case_id)
        path.write_bytes(content)
        c.add(case_id, path, "error")


def _headers(c: Corpus, bases: dict[str, tuple[Path, Path]]) -> None:
    """Members whose .npy header is hostile; the rest of the file is a valid Tsd."""
    plain = {k: _npy(v) for k, v in np.load(bases["tsd"][0], allow_pickle=True).items()}
    bad = {
        "huge-shape": _npy_raw("{'descr': '<f8', 'fortran_order': False, "
                               "'shape': (1000000000000,), }", bytes(96)),
        "overflowing-shape": _npy_raw("{'descr': '<f8', 'fortran_order': False, "
                                      "'shape': (4611686018427387904, 4), }", bytes(96)),
        "absurd-empty-shape": _npy_raw("{'descr': '<f8', 'fortran_order': False, "
                                       "'shape': (0, 1000000000000000), }"),
        "zero-itemsize": _npy_raw("{'descr': '<U0', 'fortran_order': False, "
                                  "'shape': (1000000000000,), }"),
        "void-dtype": _npy_raw("{'descr': '|V8', 'fortran_order': False, 'shape': (12,), }",
                               bytes(96)),
        "structured-object": _npy_raw("{'descr': [('a', '|O')], 'fortran_order': False, "
                                      "'shape': (12,), }", bytes(96)),
        "expression-header": _npy_raw("{'descr': __import__('os').getcwd(), "
                                      "'fortran_order': False, 'shape': (12,), }"),
        "unterminated-header": _npy_raw("{'descr': '<f8, 'fortran_order': False"),
        "nested-header": _npy_raw("(" * 2000 + ")" * 2000),
        "huge-header": b"\x93NUMPY\x02\x00" + (1 << 30).to_bytes(4, "little") + b"{",
        "bad-version": b"\x93NUMPY\x09\x09" + plain["d"][8:],
        "short-data": plain["d"][:-8],
        "long-data": plain["d"] + bytes(8),
        "not-npy": b"just some bytes",
    }
    for case_id, member in bad.items():
        path = _zip(c.path(f"header-{case_id}"), {**plain, "d": member})
        c.add(f"header-{case_id}", path, "error", member="d")


def _pickles(c: Corpus, bases: dict[str, tuple[Path, Path]]) -> None:
    """Crafted pickles in each member that may hold one; each runs in its own process."""
    interval = {k: _npy(v) for k, v in np.load(bases["intervals"][0], allow_pickle=True)
                .items()}
    frame = {k: _npy(v) for k, v in np.load(bases["frame"][0], allow_pickle=True).items()}
    group = {k: _npy(v) for k, v in np.load(bases["group"][0], allow_pickle=True).items()}
    tsd = {k: _npy(v) for k, v in np.load(bases["tsd"][0], allow_pickle=True).items()}
    forged = forged_object_field()
    flagless = forged_object_flagless()
    zero_stride = pickle.dumps(np.empty(10**12, dtype=np.dtype([])), protocol=3)
    zero_unicode = P.PROTO + b"\x03" + _array_pickle(
        (10**12,), _dtype_pickle("U0", P.BININT1 + b"\x03" + _s("<") + P.NONE * 3
                                 + P.BININT1 + b"\x00" + P.BININT1 + b"\x04"
                                 + P.BININT1 + b"\x08"), b"") + P.STOP
    memo = P.PROTO + b"\x03" + P.NONE + P.LONG_BINPUT + b"\xf0\xff\xff\x7f" + P.STOP
    nested = [1]
    for _ in range(14):
        nested = [nested, nested]
    shared = pickle.dumps(_object({"area": nested}), protocol=3)
    loop = P.PROTO + b"\x03" + P.EMPTY_LIST + P.BINPUT + b"\x00" + P.BINGET + b"\x00" \
        + P.APPEND + P.STOP
    huge_string = P.PROTO + b"\x04" + P.BINUNICODE8 + struct.pack("<Q", 1 << 60) + P.STOP
    pickles = {
        "forged-object-field": forged,
        "forged-object-field-in-dict": _wrapped(forged),
        "forged-object-flags": flagless,
        "forged-object-flags-in-dict": _wrapped(flagless),
        "zero-stride": zero_stride,
        "zero-itemsize-unicode": zero_unicode,
        "memo-blowup": memo,
        "shared-references": shared,
        "self-reference": loop,
        "huge-string-length": huge_string,
        "newobj": P.PROTO + b"\x03" + P.GLOBAL + b"numpy\nndarray\n" + P.EMPTY_TUPLE
        + P.NEWOBJ + P.STOP,
        "masked-array": pickle.dumps(np.ma.masked_array([1, 2], [0, 1]), protocol=3),
        "truncated-pickle": forged[:40],
        "set": P.PROTO + b"\x04" + P.EMPTY_SET + P.STOP,
    }
    hosts = {
        "intervals-_metadata": (interval, "_metadata"),
        "frame-columns": (frame, "columns"),
        "tsd-type": (tsd, "type"),
        "tsd-d": (tsd, "d"),
        "group-quality": (group, "quality"),
        "group-_metadata": (group, "_metadata"),
    }
    for host, (members, key) in hosts.items():
        for name, payload in pickles.items():
            shape = "(3,)" if key in ("columns", "quality") else "(1,)" if key == "type" else \
                "(12,)" if key == "d" else "()"
            case_id = f"pickle-{name}-{host}"
            path = _zip(c.path(case_id), {**members, key: _npy_pickle(payload, shape)})
            c.add(case_id, path, "error", member=key, isolate=True)
    # code-running payloads: the marker must never appear
    for name, func, args in (("system", os.system, "touch {m}"), ("open", open, "{m}"),
                             ("eval", eval, "open({m!r}, 'w')"),
                             ("exec", exec, "open({m!r}, 'w')")):
        case_id = f"payload-{name}"
        path = c.path(case_id)
        marker = path.parent / "pwned"
        arg = args.format(m=str(marker))
        payload = pickle.dumps(_object({"label": _Run(func, arg, "w") if func is open
                                        else _Run(func, arg)}), protocol=3)
        _zip(path, {**interval, "_metadata": _npy_pickle(payload)})
        c.add(case_id, path, "error", member="_metadata", isolate=True, marker=marker)


def _not_files(c: Corpus) -> None:
    folder = c.path("a-directory", "x.npz")
    folder.mkdir()
    c.add("a-directory", folder, "error")
    loop = c.path("symlink-loop")
    os.symlink(loop.name, loop)
    c.add("symlink-loop", loop, "error")
    pair = c.path("symlink-pair")
    os.symlink("y.npz", pair)
    os.symlink(pair.name, pair.with_name("y.npz"))
    c.add("symlink-pair", pair, "error")
    fifo = c.path("fifo")
    os.mkfifo(fifo)
    c.add("fifo", fifo, "error", isolate=True)
    device = c.path("device")
    os.symlink("/dev/zero", device)
    c.add("device", device, "error", isolate=True)


def _folders(c: Corpus, bases: dict[str, tuple[Path, Path]]) -> None:
    import shutil

    root = c.root / "folder-loops" / "root"
    (root / "a" / "b").mkdir(parents=True)
    shutil.copy(bases["tsd"][0], root / "a" / "x.npz")
    os.symlink("../..", root / "a" / "b" / "up")       # back to root
    os.symlink(".", root / "a" / "self")               # itself
    os.symlink("missing", root / "dangling.npz")      # dangling
    os.symlink("loop.npz", root / "loop.npz")         # a loop as a file name
    os.mkfifo(root / "pipe.npz")
    c.add("folder-symlink-loops", root, "finish", kind="folder")
    # two links per level, 24 levels: 2**24 paths through 24 folders
    deep = c.root / "folder-diamond" / "root"
    deep.mkdir(parents=True)
    level = deep
    for i in range(24):
        nxt = deep / f"level{i}"
        nxt.mkdir()
        os.symlink(nxt, level / "left")
        os.symlink(nxt, level / "right")
        level = nxt
    shutil.copy(bases["ts"][0], level / "leaf.npz")
    c.add("folder-diamond", deep, "finish", kind="folder")


def generate(root: str | os.PathLike, flip_step: int = 41, cut_step: int = 211
             ) -> list[dict[str, Any]]:
    """Write the corpus under ``root``; the cases (see the module docstring)."""
    c = Corpus(Path(root))
    bases = _bases(c)
    _pristine(c, bases)
    _flips(c, bases, flip_step)
    _truncations(c, bases, cut_step)
    _zip_structure(c, bases)
    _headers(c, bases)
    _pickles(c, bases)
    _not_files(c)
    _folders(c, bases)
    return c.cases
