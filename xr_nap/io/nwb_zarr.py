"""NWB-zarr stores (hdmf-zarr's layout) seen through the same scan and builders as HDF5.

hdmf-zarr writes an NWB file as a zarr (format 2) hierarchy: the same groups and
datasets under the same names, attributes in ``.zattrs``, and three things zarr has no
notion of, recorded in reserved attributes:

- ``zarr_dtype`` on each dataset: ``"scalar"`` for a scalar (stored with shape
  ``(1,)``), ``"object"`` for object references, ``"str"``/``"utf8"``/``"bytes"`` for
  strings, a list of fields for a compound type;
- ``zarr_link`` on a group: its soft links, ``[{"name", "source", "path"}, ...]``;
- object references: in an attribute, ``{"zarr_dtype": "object", "value": {"source",
  "path", ...}}``; in a dataset, one such reference per element, pickled
  (``numcodecs.Pickle``).

:class:`ZGroup` and :class:`ZDataset` give these the subset of h5py's interface the
scan and builders use (names, ``get``/``[]`` with links resolved, ``attrs`` with
references as paths, ``shape``/``dtype`` with h5py's string and reference dtypes, and
reads), so one code path reads both formats. The metadata of the whole store is read
once, from ``.zmetadata`` when the store has consolidated metadata, else by listing it;
array data are read with zarr-python 3, lazily.

Pickled references are never unpickled (a pickle can run code): the pickle's opcodes
are decoded with :mod:`pickletools` and only the path strings are kept.
"""

from __future__ import annotations

import json
import os
import pickletools
from collections.abc import Iterator, Mapping
from typing import Any

import h5py
import numpy as np
from xarray.backends import BackendArray
from xarray.core import indexing

from xr_nap.core.lazy import read_row_runs
from xr_nap.errors import NWBFormatError

__all__ = ["ZarrSource", "ZGroup", "ZDataset", "ZarrArray", "is_zarr_source",
           "reference_strings"]

_META_FILES = (".zgroup", ".zarray", ".zattrs")
_RESERVED = ("zarr_dtype", "zarr_link", "_ARRAY_DIMENSIONS")
_STRING_TYPES = ("str", "utf", "utf8", "utf-8", "text", "ascii", "bytes", "isodatetime")


def is_zarr_source(source: Any) -> bool:
    """True for what :class:`ZarrSource` opens: a mapping (an fsspec mapper), a local
    directory, or a URL/path ending in ``.zarr``."""
    if isinstance(source, Mapping):
        return True
    if not isinstance(source, str | os.PathLike):
        return False
    text = os.fspath(source)
    if text.rstrip("/").lower().endswith(".zarr"):
        return True
    from xr_nap.io.remote import is_url

    return not is_url(text) and os.path.isdir(text)


class ZarrSource:
    """The keys and values of a zarr store: a local directory, a URL (through fsspec,
    with ``storage_options``) or a mapping such as an fsspec mapper. Picklable."""

    def __init__(self, source: Any, storage_options: dict[str, Any] | None = None):
        from xr_nap.io.remote import is_url, missing_dependency

        self.storage_options = dict(storage_options or {})
        self.mapper: Any = None
        self.root: str | None = None
        if isinstance(source, Mapping):
            self.mapper = source
            self.where = str(getattr(source, "root", type(source).__name__))
        elif is_url(os.fspath(source)):
            url = os.fspath(source).rstrip("/")
            try:
                import fsspec

                self.mapper = fsspec.get_mapper(url, **self.storage_options)
            except ImportError as err:
                raise missing_dependency("fsspec (and, for http, aiohttp)", url,
                                         err) from None
            self.where = url
        else:
            self.root = os.path.abspath(os.fspath(source))
            if not os.path.isdir(self.root):
                raise FileNotFoundError(f"no such NWB-zarr store (directory): {self.root}")
            self.where = self.root

    def get(self, key: str) -> bytes | None:
        """The value at ``key``, or None if there is none."""
        if self.root is not None:
            path = os.path.join(self.root, *key.split("/"))
            if not os.path.isfile(path):
                return None
            with open(path, "rb") as fh:
                return fh.read()
        try:
            return self.mapper[key]
        except KeyError:
            return None

    def _json(self, key: str) -> Any:
        raw = self.get(key)
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as err:
            raise NWBFormatError(f"{self.where}: {key} is not JSON: {err}") from err

    def metadata(self) -> dict[str, dict]:
        """Every metadata document: ``{"a/b/.zattrs": {...}, ...}`` (root keys without
        a leading slash), from ``.zmetadata`` if present, else by listing the store."""
        consolidated = self._json(".zmetadata")
        if isinstance(consolidated, dict) and isinstance(consolidated.get("metadata"), dict):
            return consolidated["metadata"]
        if self._json("zarr.json") is not None:
            raise NWBFormatError(f"{self.where} is a zarr format 3 store; xr-nap reads "
                                 "NWB-zarr stores in zarr format 2 (hdmf-zarr < 0.14)")
        if self._json(".zgroup") is None:
            raise NWBFormatError(f"{self.where} is not a zarr store (it has no .zgroup)")
        return {key: self._json(key) for key in self._keys()
                if key.rsplit("/", 1)[-1] in _META_FILES}

    def _keys(self) -> Iterator[str]:
        if self.root is None:
            try:
                return iter(list(self.mapper))
            except (NotImplementedError, OSError, ValueError) as err:
                raise NWBFormatError(
                    f"{self.where}: this store cannot be listed and has no consolidated "
                    f"metadata (.zmetadata) to read its layout from ({err})") from err
        keys = []
        for dirpath, _, files in os.walk(self.root):
            rel = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
            keys += files if rel == "." else [f"{rel}/{f}" for f in files]
        return iter(keys)

    def zarr_store(self) -> Any:
        """A read-only zarr-python 3 store over the same keys."""
        import zarr.storage

        if self.root is not None:
            return zarr.storage.LocalStore(self.root, read_only=True)
        if hasattr(self.mapper, "fs"):
            return zarr.storage.FsspecStore.from_mapper(self.mapper, read_only=True)
        return _MappingStore(self.mapper)


def _MappingStore(mapping: Mapping) -> Any:  # noqa: N802 (a factory of a store)
    """A zarr store over a plain mapping of keys to bytes (read into memory)."""
    import zarr.storage
    from zarr.core.buffer import default_buffer_prototype

    proto = default_buffer_prototype()
    return zarr.storage.MemoryStore({k: proto.buffer.from_bytes(bytes(v))
                                     for k, v in mapping.items()}, read_only=True)


def _zarr3(where: str) -> Any:
    """zarr-python 3 (which reads the data of NWB-zarr stores), or a clear ImportError."""
    try:
        import zarr
    except ImportError:
        zarr = None
    if zarr is None or int(zarr.__version__.split(".")[0]) < 3:
        raise ImportError(f"reading the NWB-zarr store {where} needs zarr-python 3: "
                          'pip install "xr-nap[zarr]"')
    return zarr


# ------------------------------------------------------------------------ references
_STRING_OPS = frozenset({"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"})
_GET_OPS = frozenset({"GET", "BINGET", "LONG_BINGET"})
_PUT_OPS = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})


def reference_strings(data: bytes, n: int, where: str) -> np.ndarray:
    """The ``path`` of each of ``n`` pickled hdmf-zarr references, without unpickling.

    The opcodes are decoded (:func:`pickletools.genops` runs nothing) and the string
    that follows each ``"path"`` key is kept; memoized strings are followed.

    Raises
    ------
    NWBFormatError
        If the pickle is damaged or holds another number of paths than ``n``.
    """
    memo: dict[int, Any] = {}
    last: Any = None
    strings: list[str] = []
    try:
        for op, arg, _ in pickletools.genops(data):
            name = op.name
            if name in _STRING_OPS:
                last = arg
                strings.append(arg)
            elif name == "MEMOIZE":
                memo[len(memo)] = last
            elif name in _PUT_OPS:
                memo[int(arg)] = last
            elif name in _GET_OPS:
                last = memo.get(int(arg))
                if isinstance(last, str):
                    strings.append(last)
            else:
                last = None
    except (ValueError, TypeError, KeyError) as err:
        raise NWBFormatError(f"{where}: damaged object references: {err}") from err
    paths = [strings[i + 1] for i, s in enumerate(strings[:-1]) if s == "path"]
    if len(paths) != n:
        raise NWBFormatError(f"{where}: {len(paths)} object references found, expected {n}")
    return np.array(paths, dtype=object)


def _reference_value(value: Any) -> Any:
    """An attribute value with hdmf-zarr references replaced by their paths."""
    if isinstance(value, dict) and value.get("zarr_dtype") == "object" \
            and isinstance(value.get("value"), dict):
        return str(value["value"].get("path", ""))
    return value


# ------------------------------------------------------------------------ nodes
class ZNode:
    """A group or dataset of an NWB-zarr store."""

    def __init__(self, root: ZRoot, path: str):
        self._root = root
        self.name = path or "/"
        self._key = path.strip("/")

    def _doc(self, kind: str) -> dict:
        key = f"{self._key}/{kind}" if self._key else kind
        doc = self._root.meta.get(key)
        return doc if isinstance(doc, dict) else {}

    @property
    def attrs(self) -> dict[str, Any]:
        raw = self._doc(".zattrs")
        return {k: _reference_value(v) for k, v in raw.items() if k not in _RESERVED}

    @property
    def id(self) -> str:  # what the scan uses to see a group twice: zarr has no hard links
        return self.name

    @property
    def file(self) -> ZRoot:
        return self._root

    def read_attr(self, name: str) -> Any:
        value = self.attrs.get(name)
        return None if value is None else value


class ZGroup(ZNode):
    """A zarr group, with its ``zarr_link`` soft links as members."""

    def _links(self) -> dict[str, str]:
        links = self._doc(".zattrs").get("zarr_link", [])
        out = {}
        for link in links if isinstance(links, list) else []:
            if isinstance(link, dict) and link.get("source", ".") == "." \
                    and isinstance(link.get("name"), str):
                out[link["name"]] = str(link.get("path", ""))
        return out

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(set(self._root.children.get(self._key, ())) | set(self._links())))

    def __len__(self) -> int:
        return len(list(iter(self)))

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def get(self, name: str, default: Any = None, getlink: bool = False) -> Any:
        if "/" in name.strip("/"):
            try:
                return self[name]
            except KeyError:
                return default
        if getlink:
            if name in self._root.children.get(self._key, ()):
                return h5py.HardLink()
            links = self._links()
            return h5py.SoftLink(links[name]) if name in links else default
        child = self._root.node(f"{self._key}/{name}" if self._key else name)
        if child is None:
            target = self._links().get(name)
            child = self._root.node(target.strip("/")) if target else None
        return default if child is None else child

    def __getitem__(self, name: str) -> Any:
        if name.startswith("/"):
            node = self._root
            name = name.strip("/")
        else:
            node = self
        for part in [p for p in name.split("/") if p]:
            node = node.get(part) if isinstance(node, ZGroup) else None
            if node is None:
                raise KeyError(f"no object {name!r} in {self.name} of {self._root.where}")
        return node

    def values(self) -> Iterator[Any]:
        return (self[name] for name in self)


class ZDataset(ZNode):
    """A zarr array, described with h5py's dtypes (strings, references)."""

    def __init__(self, root: ZRoot, path: str):
        super().__init__(root, path)
        meta = self._doc(".zarray")
        self._zarr_dtype = self._doc(".zattrs").get("zarr_dtype")
        shape = tuple(int(n) for n in meta.get("shape", ()))
        self.scalar = self._zarr_dtype == "scalar" and shape == (1,)
        self.shape = () if self.scalar else shape
        chunks = meta.get("chunks")
        self.chunks = tuple(int(c) for c in chunks) if chunks and not self.scalar else None
        filters = [f.get("id") for f in meta.get("filters") or [] if isinstance(f, dict)]
        self.pickled = "pickle" in filters
        descr = meta.get("dtype", "|u1")
        try:
            raw = np.dtype([tuple(f) for f in descr] if isinstance(descr, list) else descr)
        except (TypeError, ValueError) as err:
            raise NWBFormatError(f"{root.where}:{self.name}: unknown dtype {descr!r}"
                                 ) from err
        if self._zarr_dtype == "object" or (self.pickled and raw.kind == "O"):
            self.kind = "refs"
            self.dtype = h5py.ref_dtype
        elif raw.kind == "O" and raw.names is None:
            self.kind = "bytes" if "vlen-bytes" in filters else "strings"
            self.dtype = h5py.string_dtype("utf-8")
        else:
            self.kind = "plain"
            self.dtype = raw

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def read(self, key: Any = ()) -> np.ndarray:
        """Values at ``key`` (an h5py-style index): numbers as stored, strings as
        ``str`` objects, references as the paths they point to."""
        if self.kind != "plain":
            values = self._root.object_values(self)
            if self.kind == "bytes":
                values = np.array([v.decode(errors="replace") if isinstance(v, bytes)
                                   else v for v in values], dtype=object)
        elif self.size == 0:
            values = np.empty(self.shape or (0,), self.dtype)
        else:
            values = self._root.array(self._key)[...]
        if self.scalar:
            values = np.asarray(values).reshape(())
        out = np.asarray(values)[key]
        return out

    def __getitem__(self, key: Any) -> Any:
        out = self.read(key)
        return out[()] if isinstance(out, np.ndarray) and out.ndim == 0 else out

    def asstr(self, errors: str = "strict") -> ZDataset:
        return self  # strings are read as str already

    def __len__(self) -> int:
        return self.shape[0]


class ZRoot(ZGroup):
    """The root group of an NWB-zarr store: the metadata of every node, and the
    zarr-python arrays its datasets are read through."""

    def __init__(self, source: ZarrSource):
        self.source = source
        self.where = source.where
        self.meta = source.metadata()
        self.children: dict[str, set[str]] = {}
        self.kinds: dict[str, str] = {"": ".zgroup"}
        for key in self.meta:
            path, _, kind = key.rpartition("/")
            if kind not in (".zgroup", ".zarray"):
                continue
            self.kinds[path] = kind
            parent, _, name = path.rpartition("/")
            if path:
                self.children.setdefault(parent, set()).add(name)
        self._arrays: dict[str, Any] = {}
        self._store: Any = None
        super().__init__(self, "")

    def node(self, key: str) -> ZNode | None:
        kind = self.kinds.get(key.strip("/"))
        if kind is None:
            return None
        return ZGroup(self, "/" + key.strip("/")) if kind == ".zgroup" else \
            ZDataset(self, "/" + key.strip("/"))

    def array(self, key: str) -> Any:
        """The zarr-python array at ``key`` (opened once)."""
        if key not in self._arrays:
            zarr = _zarr3(self.where)

            if self._store is None:
                self._store = self.source.zarr_store()
            self._arrays[key] = zarr.open_array(store=self._store, path=key, mode="r",
                                                zarr_format=2)
        return self._arrays[key]

    def object_values(self, ds: ZDataset) -> np.ndarray:
        """All values of an object-typed (string, bytes, reference) 1-D dataset.

        Read chunk by chunk with numcodecs rather than through zarr-python, which
        refuses the fill value hdmf-zarr writes for them and would unpickle
        references; references are decoded by :func:`reference_strings` instead.
        """
        _zarr3(self.where)
        import numcodecs

        meta = ds._doc(".zarray")
        where = f"{self.where}:{ds.name}"
        shape = tuple(int(n) for n in meta.get("shape", ()))
        if len(shape) != 1:
            raise NWBFormatError(f"{where}: text or references of shape {shape} are not read")
        step = int((meta.get("chunks") or [1])[0]) or 1
        compressor = meta.get("compressor")
        codec = numcodecs.get_codec(compressor) if compressor else None
        filters = [f for f in meta.get("filters") or [] if isinstance(f, dict)]
        parts = []
        for i in range((shape[0] + step - 1) // step):
            rows = min(step, shape[0] - i * step)
            raw = self.source.get(f"{ds._key}/{i}")
            if raw is None:  # never written: the fill value
                parts.append(np.full(rows, "", dtype=object))
                continue
            data: Any = codec.decode(raw) if codec is not None else raw
            for spec in reversed(filters):
                if spec.get("id") == "pickle":
                    data = reference_strings(bytes(data), rows, where)
                elif spec.get("id") in ("vlen-utf8", "vlen-bytes"):
                    data = numcodecs.get_codec(spec).decode(data)
                else:
                    raise NWBFormatError(f"{where}: unsupported filter {spec.get('id')!r} "
                                         "on text or reference data")
            parts.append(np.asarray(data, dtype=object)[:rows])
        return np.concatenate(parts) if parts else np.empty(0, dtype=object)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_arrays": {}, "_store": None}


class ZarrArray(BackendArray):
    """A dataset of an NWB-zarr store, read lazily (see :class:`~xr_nap.io.nwb_store.NWBArray`
    for ``scale`` and ``channel_scale``, applied the same way)."""

    def __init__(self, ds: ZDataset, where: str, scale: tuple[float, float] | None = None,
                 channel_scale: np.ndarray | None = None):
        from xr_nap.io.nwb_store import _VLEN_STR

        self.ds, self.where = ds, where
        self.shape = ds.shape
        self.scale, self.channel_scale = scale, channel_scale
        self.dtype = np.dtype(np.float64) if scale else _VLEN_STR \
            if ds.kind != "plain" else ds.dtype

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        if not isinstance(key, indexing.VectorizedIndexer):
            rows = read_row_runs(key, self._read)
            if rows is not None:
                return rows
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.BASIC, self._read)

    def _read(self, key: tuple) -> np.ndarray:
        from xr_nap.io.nwb_store import scaled

        try:
            if self.ds.kind == "plain" and self.ds.size:
                raw = np.asarray(self.ds._root.array(self.ds._key)[key])
            else:
                raw = np.asarray(self.ds.read(key))
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise NWBFormatError(f"{self.where}: cannot read {self.ds.name}: {err}") from err
        return scaled(raw, key, self.scale, self.channel_scale)
