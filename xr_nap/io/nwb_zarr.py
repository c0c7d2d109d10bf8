"""NWB-zarr stores (hdmf-zarr's layouts) seen through the same scan and builders as HDF5.

hdmf-zarr writes an NWB file as a zarr hierarchy: the same groups and datasets under
the same names, attributes as zarr attributes, and what zarr has no notion of (links,
object references, scalars) recorded in reserved attributes. Two layouts exist:

- zarr format 2 (hdmf-zarr < 0.14, most stores on DANDI): ``zarr_dtype`` on each
  dataset (``"scalar"`` for a scalar, stored with shape ``(1,)``; ``"object"`` for
  object references; ``"str"``/``"utf8"``/``"bytes"`` for text), ``zarr_link`` on a
  group for its soft links (``[{"name", "source", "path"}, ...]``), references in an
  attribute as ``{"zarr_dtype": "object", "value": {"source", "path", ...}}`` and in a
  dataset as one such reference per element, pickled (``numcodecs.Pickle``);
- zarr format 3 (hdmf-zarr >= 0.14): ``_LINKS`` for links, ``_DTYPE =
  "object_reference"`` on a dataset of references stored as plain path strings,
  ``{"_REFERENCE": {"source", "path"}}`` for a reference in an attribute, scalars with
  shape ``()``.

:class:`ZGroup` and :class:`ZDataset` give both the subset of h5py's interface the
scan and builders use (names, ``get``/``[]`` with links resolved, ``attrs`` with
references as paths, ``shape``/``dtype`` with h5py's string and reference dtypes, and
reads), so one code path reads HDF5 and zarr. The metadata of the whole store is read
once, from the consolidated metadata when the store has it, else by listing it; array
data are read with zarr-python 3, lazily.

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

_META_FILES = (".zgroup", ".zarray", ".zattrs", "zarr.json")
_RESERVED = ("zarr_dtype", "zarr_link", "_ARRAY_DIMENSIONS", "_LINKS", "_DTYPE",
             "_REFERENCE_FIELDS")


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


def is_nwb_zarr(path: Any) -> bool:
    """Whether the local zarr directory ``path`` holds an NWB file (its root group says
    ``neurodata_type: NWBFile``), rather than, e.g., xarray's ``to_zarr`` output."""
    try:
        attrs = ZarrSource(path).metadata()[""]["attrs"]
    except (NWBFormatError, OSError, KeyError):
        return False
    return attrs.get("neurodata_type") == "NWBFile"


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
        """Every node of the store: ``{path: {"format": 2 or 3, "group": bool,
        "attrs": {...}, "array": {...} or None}}`` (paths without a leading slash, the
        root ``""``), from the consolidated metadata if present, else by listing."""
        v3 = self._json("zarr.json")
        if isinstance(v3, dict):
            inline = (v3.get("consolidated_metadata") or {}).get("metadata")
            docs = inline if isinstance(inline, dict) else {
                key[: -len("/zarr.json")]: self._json(key) for key in self._keys()
                if key.endswith("/zarr.json")}
            nodes = {"": _node_v3(v3)}
            nodes.update((path.strip("/"), _node_v3(doc)) for path, doc in docs.items()
                         if isinstance(doc, dict))
            return nodes
        consolidated = self._json(".zmetadata")
        if isinstance(consolidated, dict) and isinstance(consolidated.get("metadata"), dict):
            docs = consolidated["metadata"]
        elif self._json(".zgroup") is None:
            raise NWBFormatError(f"{self.where} is not a zarr store (it has neither .zgroup "
                                 "nor zarr.json)")
        else:
            docs = {key: self._json(key) for key in self._keys()
                    if key.rsplit("/", 1)[-1] in _META_FILES}
        return _nodes_v2(docs)

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


def _nodes_v2(docs: dict[str, Any]) -> dict[str, dict]:
    """Nodes from zarr-2 documents keyed ``"a/b/.zarray"`` etc."""
    nodes: dict[str, dict] = {"": {"format": 2, "group": True, "attrs": {}, "array": None}}
    for key, doc in docs.items():
        path, _, kind = key.rpartition("/")
        if kind in (".zgroup", ".zarray") and isinstance(doc, dict):
            node = nodes.setdefault(path, {"format": 2, "attrs": {}})
            node["group"], node["array"] = kind == ".zgroup", None if kind == ".zgroup" \
                else doc
    for key, doc in docs.items():
        path, _, kind = key.rpartition("/")
        if kind == ".zattrs" and path in nodes and isinstance(doc, dict):
            nodes[path]["attrs"] = doc
    return nodes


def _node_v3(doc: dict) -> dict:
    group = doc.get("node_type") != "array"
    attrs = doc.get("attributes")
    return {"format": 3, "group": group, "attrs": attrs if isinstance(attrs, dict) else {},
            "array": None if group else doc}


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
    if isinstance(value, dict):
        if value.get("zarr_dtype") == "object" and isinstance(value.get("value"), dict):
            return str(value["value"].get("path", ""))  # zarr 2 layout
        if isinstance(value.get("_REFERENCE"), dict):
            return str(value["_REFERENCE"].get("path", ""))  # zarr 3 layout
    return value


# ------------------------------------------------------------------------ nodes
class ZNode:
    """A group or dataset of an NWB-zarr store."""

    def __init__(self, root: ZRoot, path: str):
        self._root = root
        self.name = path or "/"
        self._key = path.strip("/")

    @property
    def _node(self) -> dict:
        return self._root.nodes[self._key]

    @property
    def attrs(self) -> dict[str, Any]:
        raw = self._node["attrs"]
        return {k: _reference_value(v) for k, v in raw.items() if k not in _RESERVED}

    @property
    def id(self) -> str:  # what the scan uses to see a group twice: zarr has no hard links
        return self.name

    @property
    def file(self) -> ZRoot:
        return self._root

    def read_attr(self, name: str) -> Any:
        return self.attrs.get(name)


class ZGroup(ZNode):
    """A zarr group, with its soft links (``zarr_link`` / ``_LINKS``) as members."""

    def _links(self) -> dict[str, str]:
        attrs = self._node["attrs"]
        links = attrs.get("zarr_link", attrs.get("_LINKS", []))
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


def _dtype_v3(data_type: Any) -> np.dtype:
    """numpy dtype of a zarr-3 ``data_type`` (``"string"`` -> object)."""
    if data_type in ("string", "variable_length_utf8", "bytes", "variable_length_bytes"):
        return np.dtype(object)
    if isinstance(data_type, dict):
        fields = (data_type.get("configuration") or {}).get("fields") or []
        return np.dtype([(str(n), _dtype_v3(t) if not isinstance(t, str) or t == "string"
                          else np.dtype(t)) for n, t in fields])
    return np.dtype(data_type)


class ZDataset(ZNode):
    """A zarr array, described with h5py's dtypes (strings, references)."""

    def __init__(self, root: ZRoot, path: str):
        super().__init__(root, path)
        node, where = self._node, f"{root.where}:{self.name}"
        meta, attrs = node["array"], node["attrs"]
        shape = tuple(int(n) for n in meta.get("shape", ()))
        try:
            if node["format"] == 3:
                raw = _dtype_v3(meta.get("data_type"))
                chunks = ((meta.get("chunk_grid") or {}).get("configuration") or {}).get(
                    "chunk_shape")
                filters: list = []
                refs = attrs.get("_DTYPE") == "object_reference"
                self.scalar = False
            else:
                descr = meta.get("dtype", "|u1")
                raw = np.dtype([tuple(f) for f in descr] if isinstance(descr, list) else descr)
                chunks = meta.get("chunks")
                filters = [f.get("id") for f in meta.get("filters") or [] if isinstance(f, dict)]
                refs = attrs.get("zarr_dtype") == "object" or (
                    "pickle" in filters and raw.kind == "O")
                self.scalar = attrs.get("zarr_dtype") == "scalar" and shape == (1,)
        except (TypeError, ValueError) as err:
            raise NWBFormatError(f"{where}: unknown data type: {err}") from err
        self.format = node["format"]
        self.shape = () if self.scalar else shape
        self.chunks = tuple(int(c) for c in chunks) if chunks and self.shape else None
        if refs:
            self.kind, self.dtype = "refs", h5py.ref_dtype
        elif raw.kind == "O" and raw.names is None:
            self.kind = "bytes" if "vlen-bytes" in filters else "strings"
            self.dtype = h5py.string_dtype("utf-8")
        else:
            self.kind, self.dtype = "plain", raw

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def read(self, key: Any = ()) -> np.ndarray:
        """Values at ``key`` (an h5py-style index): numbers as stored, strings as
        ``str`` objects, references as the paths they point to."""
        if self.kind != "plain" and self.format == 2:  # see ZRoot.object_values
            values = self._root.object_values(self)
            if self.kind == "bytes":
                values = np.array([v.decode(errors="replace") if isinstance(v, bytes)
                                   else v for v in values], dtype=object)
        elif self.size == 0:
            values = np.empty(self.shape or (0,), self.dtype)
        else:
            values = self._root.array(self._key, self.format)[...]
            if self.kind != "plain":  # zarr 3 text and references: str objects
                values = np.asarray(values, dtype=object)
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
        self.nodes = source.metadata()
        self.children: dict[str, set[str]] = {}
        for path in self.nodes:
            if path:
                parent, _, name = path.rpartition("/")
                self.children.setdefault(parent, set()).add(name)
        self._arrays: dict[str, Any] = {}
        self._store: Any = None
        super().__init__(self, "")

    def node(self, key: str) -> ZNode | None:
        node = self.nodes.get(key.strip("/"))
        if node is None:
            return None
        return (ZGroup if node["group"] else ZDataset)(self, "/" + key.strip("/"))

    def array(self, key: str, zarr_format: int = 2) -> Any:
        """The zarr-python array at ``key`` (opened once)."""
        if key not in self._arrays:
            zarr = _zarr3(self.where)
            if self._store is None:
                self._store = self.source.zarr_store()
            self._arrays[key] = zarr.open_array(store=self._store, path=key, mode="r",
                                                zarr_format=zarr_format)
        return self._arrays[key]

    def object_values(self, ds: ZDataset) -> np.ndarray:
        """All values of an object-typed (string, bytes, reference) 1-D dataset of a
        zarr-2 store.

        Read chunk by chunk with numcodecs rather than through zarr-python, which
        refuses the fill value hdmf-zarr writes for them and would unpickle
        references; references are decoded by :func:`reference_strings` instead.
        """
        _zarr3(self.where)
        import numcodecs

        meta = ds._node["array"]
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
                raw = np.asarray(self.ds._root.array(self.ds._key, self.ds.format)[key])
            else:
                raw = np.asarray(self.ds.read(key))
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise NWBFormatError(f"{self.where}: cannot read {self.ds.name}: {err}") from err
        return scaled(raw, key, self.scale, self.channel_scale)
