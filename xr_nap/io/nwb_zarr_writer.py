"""Write an NWB HDF5 file as an NWB-zarr store in hdmf-zarr's layouts.

For tests and examples (:func:`xr_nap.testing.write_nwb_zarr`): hdmf-zarr < 0.14 pins
zarr 2, which cannot live next to zarr-python 3 in one environment, and hdmf-zarr
>= 0.14 needs Python 3.12, so this writes their documented layouts by hand from an HDF5
file. The zarr-2 layout (``zarr_format=2``, hdmf-zarr < 0.14):

- a group per HDF5 group (``.zgroup`` + ``.zattrs``), an array per dataset
  (``.zarray`` + ``.zattrs`` + chunk files), same names;
- ``.zattrs`` of a dataset carry ``zarr_dtype`` (the numpy name; ``"scalar"`` for a
  scalar, stored with shape ``(1,)``; ``"str"``/``"bytes"`` for text; ``"object"`` for
  references) and ``_ARRAY_DIMENSIONS``;
- soft links of a group are listed in its ``.zattrs`` under ``zarr_link``;
- object references: an attribute holds ``{"zarr_dtype": "object", "value": {"source":
  ".", "path": ..., "object_id": ..., "source_object_id": ...}}``; a dataset holds one
  such dict per element, pickled (``numcodecs.Pickle``) -- hdmf-zarr pickles its own
  dict subclass, which the reader decodes the same way;
- chunks compressed with Blosc (lz4), text through the ``vlen-utf8``/``vlen-bytes``
  filters, and optionally consolidated metadata (``.zmetadata``).

The zarr-3 layout (``zarr_format=3``, hdmf-zarr >= 0.14), written with zarr-python 3:
links in ``_LINKS``, reference datasets as path strings with ``_DTYPE =
"object_reference"``, references in attributes as ``{"_REFERENCE": {"source", "path"}}``,
scalars with shape ``()``, text as zarr's variable-length strings; consolidated metadata
inline in the root ``zarr.json``.

Compound datasets holding references (e.g. the ``timeseries`` column of TimeIntervals)
are left out: xr-nap does not read them.
"""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path
from typing import Any

import h5py
import numcodecs
import numpy as np

__all__ = ["write_nwb_zarr"]

_BLOSC = {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}


def _attr(f: h5py.File, value: Any) -> Any:
    if isinstance(value, h5py.Reference):
        target = f[value]
        return {"zarr_dtype": "object", "value": {
            "source": ".", "path": target.name,
            "object_id": str(target.attrs.get("object_id", "")),
            "source_object_id": str(f.attrs.get("object_id", ""))}}
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray):
        return [_attr(f, v) for v in value.tolist()] if value.dtype == object \
            else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


class _Writer:
    def __init__(self, f: h5py.File, out: Path, chunk_rows: int | None):
        self.f, self.out, self.chunk_rows = f, out, chunk_rows
        self.meta: dict[str, Any] = {}

    def _put(self, key: str, doc: dict) -> None:
        self.meta[key] = doc
        path = self.out / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2))

    def _attrs(self, obj: Any) -> dict:
        return {k: _attr(self.f, v) for k, v in obj.attrs.items()}

    def group(self, g: h5py.Group, key: str) -> None:
        self._put(f"{key}/.zgroup" if key else ".zgroup", {"zarr_format": 2})
        attrs = self._attrs(g)
        links = []
        for name in g:
            link = g.get(name, getlink=True)
            child_key = f"{key}/{name}" if key else name
            if isinstance(link, h5py.SoftLink):
                links.append({"name": name, "source": ".", "path": link.path})
            elif isinstance(link, h5py.HardLink):
                child = g[name]
                if isinstance(child, h5py.Group):
                    self.group(child, child_key)
                else:
                    self.dataset(child, child_key)
        if links:
            attrs["zarr_link"] = links
        if attrs:
            self._put(f"{key}/.zattrs" if key else ".zattrs", attrs)

    def dataset(self, ds: h5py.Dataset, key: str) -> None:
        dtype = ds.dtype
        if dtype.names and any(h5py.check_ref_dtype(dtype[n]) for n in dtype.names):
            return  # compound with references: not written (see the module docstring)
        values = ds[()]
        scalar = ds.shape == ()
        values = np.asarray(values).reshape(1) if scalar else np.asarray(values)
        attrs = self._attrs(ds)
        filters = None
        text = h5py.check_string_dtype(dtype)
        if h5py.check_ref_dtype(dtype):
            refs = np.empty(values.shape, dtype=object)
            for i, ref in np.ndenumerate(values):
                target = self.f[ref]
                refs[i] = {"source": ".", "path": target.name,
                           "object_id": str(target.attrs.get("object_id", "")),
                           "source_object_id": str(self.f.attrs.get("object_id", ""))}
            values, zdtype, descr = refs, "object", "|O"
            filters = [{"id": "pickle", "protocol": 5}]
        elif text is not None:
            utf8 = text.encoding == "utf-8"
            flat = [bytes(v) if isinstance(v, bytes) else str(v).encode()
                    for v in values.reshape(-1)]
            values = np.array([v.decode() for v in flat] if utf8 else flat,
                              dtype=object).reshape(values.shape)
            zdtype, descr = ("str" if utf8 else "bytes"), "|O"
            filters = [{"id": "vlen-utf8" if utf8 else "vlen-bytes"}]
        elif dtype.names:
            zdtype = [{"name": n, "dtype": str(dtype[n])} for n in dtype.names]
            descr = [[n, dtype[n].str] for n in dtype.names]
        else:
            zdtype, descr = dtype.name, dtype.str
        if scalar:
            zdtype = "scalar"
        rows = values.shape[0] if values.ndim else 1
        step = max(1, min(rows, self.chunk_rows or (ds.chunks[0] if ds.chunks else rows)))
        chunks = [step, *values.shape[1:]]
        fill = 0 if filters or dtype.names is None else None
        self._put(f"{key}/.zarray", {
            "zarr_format": 2, "shape": list(values.shape), "chunks": chunks,
            "dtype": descr, "compressor": _BLOSC, "fill_value": fill, "order": "C",
            "filters": filters})
        attrs["zarr_dtype"] = zdtype
        attrs["_ARRAY_DIMENSIONS"] = [f"dim{i}" for i in range(values.ndim)]
        self._put(f"{key}/.zattrs", attrs)
        blosc = numcodecs.get_codec(_BLOSC)
        for i, a in enumerate(range(0, rows, step)):
            block = values[a:a + step]
            if filters is None:
                full = np.zeros(chunks, dtype=np.dtype([tuple(d) for d in descr])
                                if isinstance(descr, list) else values.dtype)
                full[:len(block)] = block
                raw = full.tobytes()
            elif filters[0]["id"] == "pickle":
                raw = pickle.dumps(block, protocol=5)
            else:
                raw = numcodecs.get_codec(filters[0]).encode(block)
            name = ".".join([str(i)] + ["0"] * (values.ndim - 1))
            (self.out / key / name).write_bytes(blosc.encode(raw))


class _WriterV3:
    """The zarr-3 layout, through zarr-python 3."""

    def __init__(self, f: h5py.File, chunk_rows: int | None):
        self.f, self.chunk_rows = f, chunk_rows

    def _attr(self, value: Any) -> Any:
        if isinstance(value, h5py.Reference):
            return {"_REFERENCE": {"source": ".", "path": self.f[value].name}}
        if isinstance(value, np.ndarray) and value.dtype == object:
            return [self._attr(v) for v in value.tolist()]
        return _attr(self.f, value)

    def group(self, g: h5py.Group, zg: Any) -> None:
        attrs = {k: self._attr(v) for k, v in g.attrs.items()}
        links = []
        for name in g:
            link = g.get(name, getlink=True)
            if isinstance(link, h5py.SoftLink):
                links.append({"name": name, "source": ".", "path": link.path})
            elif isinstance(link, h5py.HardLink):
                child = g[name]
                if isinstance(child, h5py.Group):
                    self.group(child, zg.create_group(name))
                else:
                    self.dataset(child, zg, name)
        if links:
            attrs["_LINKS"] = links
        zg.attrs.update(attrs)

    def dataset(self, ds: h5py.Dataset, zg: Any, name: str) -> None:
        dtype = ds.dtype
        if dtype.names:
            return  # compound: not written (see the module docstring)
        values = np.asarray(ds[()])
        attrs = {k: self._attr(v) for k, v in ds.attrs.items()}
        text = np.dtypes.StringDType()
        if h5py.check_ref_dtype(dtype):
            values = np.array([self.f[r].name for r in values.reshape(-1)],
                              dtype=text).reshape(values.shape)
            attrs["_DTYPE"] = "object_reference"
        elif h5py.check_string_dtype(dtype) is not None:
            values = np.array([v.decode() if isinstance(v, bytes) else str(v)
                               for v in values.reshape(-1)], dtype=text).reshape(values.shape)
        if values.ndim == 0:
            array = zg.create_array(name, data=values)
        else:
            rows = max(1, values.shape[0])
            step = max(1, min(rows, self.chunk_rows or (ds.chunks[0] if ds.chunks else rows)))
            array = zg.create_array(name, data=values, chunks=(step, *values.shape[1:]))
        array.attrs.update(attrs)


def write_nwb_zarr(h5_path: Any, out: Any, consolidated: bool = True,
                   chunk_rows: int | None = None, zarr_format: int = 2) -> Path:
    """Write the HDF5 NWB file ``h5_path`` as an NWB-zarr store (directory) at ``out``
    in hdmf-zarr's zarr-2 (default) or zarr-3 layout; ``chunk_rows`` (default: the
    HDF5 chunks, else one chunk) sets the zarr chunks."""
    out = Path(out)
    with h5py.File(h5_path, "r") as f:
        if zarr_format == 3:
            import zarr

            _WriterV3(f, chunk_rows).group(f, zarr.open_group(str(out), mode="w",
                                                              zarr_format=3))
            if consolidated:
                with warnings.catch_warnings():  # zarr: "not part of the v3 spec" (yet)
                    warnings.simplefilter("ignore")
                    zarr.consolidate_metadata(str(out))
            return out
        writer = _Writer(f, out, chunk_rows)
        writer.group(f, "")
    if consolidated:
        (out / ".zmetadata").write_text(json.dumps(
            {"zarr_consolidated_format": 1, "metadata": writer.meta}))
    return out
