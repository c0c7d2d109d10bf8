"""netCDF and zarr files of xr-nap objects: what ``xr-nap convert`` writes and
:func:`xr_nap.load_file` reads back.

A file holds one object at its root (what ``obj.to_netcdf(path)`` writes, and what
``convert`` writes for an NPZ file) or one group per key (what ``convert`` writes for an
NWB file: a TsGroup is one group, a table with several ``*_times`` columns a group with
one sub-group per column). The root's attributes are the file's metadata.

Everything is written so that xarray alone reads it, and so that xr-nap reads back the
same objects:

- a time series is the only data variable of its group; an unnamed one takes xarray's
  own name for that, ``__xarray_dataarray_variable__`` (as ``DataArray.to_netcdf``);
  its time support is the ``time_support`` attribute of the time coordinate, adopted
  on reading (:mod:`xr_nap.core.time_index`);
- a ragged column (a value per row that is itself an array: the ``tags`` of NWB
  intervals) is written as a CF-style contiguous ragged pair: the values, one after
  the other, on their own dimension ``<name>_element``, and ``<name>_row_size`` on the
  row dimension with ``sample_dimension = "<name>_element"``; the values name the row
  sizes in their attribute ``ragged_row_size``;
- object arrays of strings are written as strings, of numbers as numbers; booleans in
  attributes (which netCDF cannot hold) as 0/1 int8, lists as 1-D arrays;
- what cannot be stored (arbitrary Python objects, dict or n-D attributes) is left out
  with a :class:`~xr_nap.errors.SkippedObjectWarning` naming it.

Files are written atomically (:mod:`xr_nap.io.atomic`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Mapping
from numbers import Number
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from xr_nap.core.metadata import plain_array
from xr_nap.core.time_series import TIME, TYPE_ATTR, nap_type, set_time_index
from xr_nap.errors import FileFormatError, SkippedObjectWarning, warn
from xr_nap.io.describe import table

__all__ = ["encode", "decode", "write_objects", "open_objects", "ObjectFile", "SUFFIXES"]

SUFFIXES = (".nc", ".zarr")
UNNAMED = "__xarray_dataarray_variable__"  # xarray's name for an unnamed DataArray
DICT = "dict"  # ``nap_type`` of a group holding a dict of objects (sub-groups)
KEYS_ATTR = "xr_nap_keys"  # the keys in their order (nested groups are listed apart)
RAGGED_ATTR = "ragged_row_size"


def is_zarr(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() == ".zarr"


# --------------------------------------------------------------------------- encoding
def _safe_attr(value: Any) -> tuple[bool, Any]:
    """``(ok, value)``: an attribute value netCDF and zarr both store (strings, numbers,
    1-D arrays of them), converted where that keeps its meaning."""
    if isinstance(value, bool | np.bool_):
        return True, np.int8(value)
    if isinstance(value, str | Number | np.number):
        return True, value
    if isinstance(value, list | tuple):
        try:
            value = plain_array(list(value)) if value else np.array([], dtype=np.float64)
        except ValueError:  # ragged
            return False, value
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            value = plain_array(value)
        if value.ndim > 1 or value.dtype.kind not in "biufU":
            return False, value
        return True, value.astype(np.int8) if value.dtype.kind == "b" else value
    return False, value


def safe_attrs(attrs: Mapping[Any, Any], where: str) -> dict[str, Any]:
    """The attributes of ``attrs`` a netCDF/zarr file can store (see :func:`_safe_attr`);
    the others are left out with a :class:`SkippedObjectWarning` naming them."""
    out = {}
    for key, value in attrs.items():
        ok, safe = _safe_attr(value)
        if ok:
            out[str(key)] = safe
        else:
            shape = f" of shape {np.shape(value)}" if isinstance(value, np.ndarray) else ""
            warn(f"{where}: attribute {key!r} ({type(value).__name__}{shape}) cannot be "
                 "stored in netCDF/zarr (strings, numbers and 1-D arrays only); left out",
                 SkippedObjectWarning)
    return out


def _ragged(name: str, var: xr.Variable, cells: np.ndarray, where: str
            ) -> dict[str, xr.Variable] | None:
    """The contiguous ragged pair for a 1-D variable whose values are arrays."""
    parts = [np.asarray(c).reshape(-1) for c in cells]
    sizes = np.array([p.size for p in parts], dtype=np.int64)
    nonempty = [p for p in parts if p.size]
    values = plain_array(np.concatenate(nonempty)) if nonempty else \
        np.empty(0, dtype=parts[0].dtype if parts else np.str_)
    if values.dtype.kind not in "biufU":
        return None
    element = f"{name}_element"
    count = f"{name}_row_size"
    attrs = {k: v for k, v in var.attrs.items()}
    attrs[RAGGED_ATTR] = count
    return {
        name: xr.Variable(element, values, attrs),
        count: xr.Variable(var.dims, sizes, {
            "sample_dimension": element,
            "long_name": f"number of {name} values per {var.dims[0]}"}),
    }


def _encode_objects(name: str, var: xr.Variable, where: str) -> dict[str, xr.Variable] | None:
    """Variables that store an object array: strings, numbers, or a ragged pair; None
    when its values are not any of those."""
    values = np.asarray(var.values)
    cells = values.reshape(-1)
    if all(isinstance(c, str) for c in cells):
        return {name: var.copy(data=values.astype(str) if cells.size else
                                values.astype("U1"))}
    if all(isinstance(c, Number | np.number) and not isinstance(c, bool | np.bool_)
           for c in cells) or all(isinstance(c, bool | np.bool_) for c in cells):
        return {name: var.copy(data=np.array(values.tolist()))}
    if var.ndim == 1 and all(isinstance(c, np.ndarray | list | tuple) for c in cells):
        return _ragged(name, var, cells, where)
    return None


def _native(var: xr.Variable) -> xr.Variable:
    """``var`` with its native dtype spelled ``=`` rather than ``<`` (as h5py gives it):
    xarray converts such dtypes before writing netCDF, but dask takes the conversion
    to an equal dtype for a no-op, and netCDF4 then warns about the byte order."""
    native = var.dtype.newbyteorder("=")
    data = var.data
    if hasattr(data, "map_blocks") and hasattr(data, "dask"):
        return var.copy(data=data.map_blocks(lambda b: b.astype(native), dtype=native))
    return var.copy(data=np.asarray(data).astype(native))


def encode(obj: xr.DataArray | xr.Dataset, where: str = "object") -> xr.Dataset:
    """``obj`` as a Dataset that netCDF and zarr store, and :func:`decode` turns back
    into ``obj`` (``where`` names it in warnings)."""
    if isinstance(obj, xr.DataArray):
        name = obj.name if isinstance(obj.name, str) and obj.name not in obj.coords \
            else UNNAMED
        ds = obj.to_dataset(name=name, promote_attrs=False)
    elif isinstance(obj, xr.Dataset):
        ds = obj.copy(deep=False)
    else:
        raise TypeError(f"{where}: cannot store a {type(obj).__name__} in netCDF/zarr")
    replaced: dict[str, xr.Variable] = {}
    dropped = []
    for name, var in ds.variables.items():
        if var.dtype != object:
            continue
        new = _encode_objects(str(name), var, where)
        if new is None:
            kinds = sorted({type(c).__name__ for c in np.asarray(var.values).reshape(-1)})
            warn(f"{where}: variable {name!r} holds Python objects ({', '.join(kinds)}) "
                 "that netCDF/zarr cannot store; left out", SkippedObjectWarning)
            dropped.append(name)
        else:
            replaced.update(new)
    if dropped:
        ds = ds.drop_vars(dropped)
    coords = [k for k in replaced if k in ds.coords]
    if replaced:
        ds = ds.drop_vars([k for k in replaced if k in ds.variables])
        ds = ds.assign({k: v for k, v in replaced.items()}).set_coords(coords)
    ds.attrs = safe_attrs(ds.attrs, where)
    respelled = {k: _native(v) for k, v in ds.variables.items()
                 if v.dtype.byteorder in "<>" and v.dtype.isnative and k not in ds.indexes}
    if respelled:
        ds = ds.assign_coords({k: v for k, v in respelled.items() if k in ds.coords}).assign(
            {k: v for k, v in respelled.items() if k not in ds.coords})
    for name, var in ds.variables.items():
        var.attrs = safe_attrs(var.attrs, f"{where}/{name}")
        enc = var.encoding
        # raw integers scaled on read (NWB conversion/offset) are written back packed;
        # they need a fill value for the NaNs xarray may write
        if np.dtype(enc.get("dtype", "f8")).kind in "iu" and "scale_factor" in enc:
            enc.setdefault("_FillValue", np.iinfo(enc["dtype"]).min)
    return ds


# --------------------------------------------------------------------------- decoding
def _unragged(ds: xr.Dataset) -> xr.Dataset:
    """Rebuild the ragged columns :func:`encode` wrote as pairs."""
    for name in [k for k, v in ds.variables.items() if RAGGED_ATTR in v.attrs]:
        var = ds[name].variable
        count = var.attrs[RAGGED_ATTR]
        if count not in ds.variables or var.ndim != 1:
            continue
        sizes = np.asarray(ds[count].values, dtype=np.int64)
        values = plain_array(np.asarray(var.values))
        if sizes.sum() != values.size or (sizes < 0).any():
            raise FileFormatError(f"{name!r}: {count!r} does not add up to its "
                                  f"{values.size} values")
        cells = np.empty(sizes.size, dtype=object)
        cells[:] = np.split(values, np.cumsum(sizes)[:-1]) if sizes.size else []
        attrs = {k: v for k, v in var.attrs.items() if k != RAGGED_ATTR}
        rows = ds[count].dims
        is_coord = name in ds.coords
        ds = ds.drop_vars([name, count]).assign({name: xr.Variable(rows, cells, attrs)})
        if is_coord:
            ds = ds.set_coords(name)
    return ds


def _plain_attrs(attrs: Mapping[Any, Any]) -> dict[Any, Any]:
    """Lists (how netCDF gives string arrays back, and zarr every array) as arrays."""
    return {k: plain_array(v) if isinstance(v, list) else v for k, v in attrs.items()}


def _strings(ds: xr.Dataset) -> xr.Dataset:
    """Variables of strings as numpy ``str`` arrays (netCDF gives object arrays back);
    small by nature (metadata), so they are read."""
    ds = ds.copy(deep=False)
    fixed = {}
    for name, var in ds.variables.items():
        var.attrs = _plain_attrs(var.attrs)
        if var.dtype == object and var.ndim:
            values = plain_array(var.values)
            if values.dtype != object:
                fixed[name] = var.copy(data=values)
    ds.attrs = _plain_attrs(ds.attrs)
    return ds.assign_coords({k: v for k, v in fixed.items() if k in ds.coords}).assign(
        {k: v for k, v in fixed.items() if k not in ds.coords})


def kind_of(ds: xr.Dataset) -> str:
    """The kind :func:`decode` gives for ``ds``, without reading data."""
    try:
        return nap_type(ds)
    except TypeError:
        pass
    if len(ds.data_vars) == 1:
        var = next(iter(ds.data_vars.values()))
        if TIME in var.dims:
            return "Ts" if var.ndim == 1 and var.attrs.get(TYPE_ATTR) == "Ts" else \
                "Tsd" if var.ndim == 1 else "TsdFrame" if var.ndim == 2 else "TsdTensor"
        return "DataArray"
    return "Dataset" if ds.variables else "empty group"


def decode(ds: xr.Dataset) -> xr.DataArray | xr.Dataset:
    """The xr-nap object a group of a netCDF/zarr file holds (see the module notes).

    A TsGroup or interval set gives its Dataset; a group with one data variable gives
    that DataArray (a time series with xr-nap's time index, its support adopted from
    the file); a group of several time series gives a Dataset with the time index.
    """
    ds = _strings(_unragged(ds))
    if "spike_time" in ds.data_vars and "row_size" in ds.variables:
        ds = ds.set_coords("spike_time")  # written by xr-nap before it was a coordinate
    if kind_of(ds) in ("TsGroup", "IntervalSet"):
        return ds
    if len(ds.data_vars) == 1:
        name = next(iter(ds.data_vars))
        da = ds[name]
        if name == UNNAMED:
            da = da.rename(None)
        return set_time_index(da) if TIME in da.dims else da
    return set_time_index(ds) if TIME in ds.dims else ds


# --------------------------------------------------------------------------- writing
def _tree_dict(objects: Mapping[str, Any], prefix: str = "") -> dict[str, xr.Dataset]:
    out: dict[str, xr.Dataset] = {}
    for key, obj in objects.items():
        path = f"{prefix}/{key}"
        if isinstance(obj, Mapping) and not isinstance(obj, xr.Dataset):
            out[path] = xr.Dataset(attrs={TYPE_ATTR: DICT})
            out.update(_tree_dict(obj, path))
        else:
            out[path] = encode(obj, path.lstrip("/"))
    return out


def write_objects(objects: Any, path: str | os.PathLike,
                  attrs: Mapping[str, Any] | None = None) -> Path:
    """Write xr-nap objects to one netCDF (``.nc``) file or zarr (``.zarr``) store.

    Parameters
    ----------
    objects : mapping key -> object, or one object
        A mapping gives one group per key (a nested mapping, sub-groups); one object
        is written at the root.
    path : path
        ``.zarr`` writes a zarr store, anything else netCDF-4. Written atomically.
    attrs : mapping, optional
        Attributes of the root (the file's metadata).

    Notes
    -----
    xarray's own ``to_netcdf`` refuses an object with a ragged column (NWB ``tags``:
    "unable to infer dtype"); this writes it as a CF ragged pair, which
    :func:`xr_nap.load_file` turns back into the column.

    Examples
    --------
    >>> import tempfile, pathlib, xr_nap as nap
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "two.nc"
    >>> _ = nap.write_objects({"g": nap.ts_group({0: [1.0, 2.0]}),
    ...                        "x": nap.tsd([0.0, 1.0], [3.0, 4.0])}, out)
    >>> sorted(nap.load_file(out))
    ['g', 'x']
    """
    from xr_nap.io.atomic import atomic_path

    path = Path(path)
    if isinstance(objects, Mapping) and not isinstance(objects, xr.Dataset):
        keys = np.array([str(k) for k in objects])
        tree = {"/": xr.Dataset(attrs={**safe_attrs(attrs or {}, "file"), KEYS_ATTR: keys}),
                **_tree_dict(objects)}
    else:
        root = encode(objects, path.name)
        root.attrs.update(safe_attrs(attrs or {}, "file"))
        tree = {"/": root}
    dt = xr.DataTree.from_dict(tree)
    with warnings.catch_warnings(), atomic_path(path, directory=is_zarr(path)) as tmp:
        # zarr 3 warns that consolidated metadata and fixed-width strings are not in
        # its specification yet; nothing a user can act on
        warnings.filterwarnings("ignore", module="zarr")
        if is_zarr(path):
            dt.to_zarr(tmp, mode="w-")
        else:
            dt.to_netcdf(tmp, engine="netcdf4")
    return path


# --------------------------------------------------------------------------- reading
def _open_tree(path: Path, chunks: Any) -> xr.DataTree:
    engine = "zarr" if is_zarr(path) else None
    kwargs = {} if chunks is None else {"chunks": chunks}
    try:
        return xr.open_datatree(path, engine=engine, **kwargs)
    except (OSError, ValueError, KeyError) as err:
        raise FileFormatError(f"{path}: not a readable netCDF/zarr file ({err})") from None


def open_objects(path: str | os.PathLike, lazy_loading: bool = True,
                 chunks: Any = None) -> Any:
    """The objects of a netCDF/zarr file: the object at its root, or an
    :class:`ObjectFile` mapping key -> object when it has groups."""
    path = Path(path)
    tree = _open_tree(path, chunks)
    if not tree.children:
        obj = decode(tree.to_dataset())
        return obj.load() if not lazy_loading else obj
    return ObjectFile(tree, path, lazy_loading)


def _is_dict(node: xr.DataTree) -> bool:
    return node.attrs.get(TYPE_ATTR) == DICT and not node.has_data


def _object_nodes(tree: xr.DataTree, prefix: str = "") -> Iterator[tuple[str, xr.DataTree]]:
    """``(key, node)`` of each object: groups with data or holding a dict; groups with
    neither are parts of a key."""
    for name, node in tree.children.items():
        key = f"{prefix}{name}"
        if node.has_data or _is_dict(node):
            yield key, node
        else:
            yield from _object_nodes(node, key + "/")


class ObjectFile(Mapping):
    """A netCDF/zarr file with one group per object, as a read-only mapping key ->
    xr-nap object (what ``xr-nap convert`` writes for an NWB file).

    Objects are built from their group when first asked for, lazily (data stay in
    the file until used) unless ``lazy_loading=False``; a group with sub-groups
    gives a dict of them (a table with several ``*_times`` columns).

    Attributes
    ----------
    name : str
        File name without its suffix.
    attrs : dict
        The root's attributes (the file's metadata).
    """

    def __init__(self, tree: xr.DataTree, path: Path, lazy_loading: bool = True):
        self._tree = tree
        self.path = Path(path)
        self.name = self.path.stem
        self.attrs = _plain_attrs({k: v for k, v in tree.attrs.items() if k != KEYS_ATTR})
        self._lazy_loading = lazy_loading
        self._cache: dict[str, Any] = {}
        # a key with "/" (NWB's "Position/pos") is a path of nested groups
        nodes = dict(_object_nodes(tree))
        order = [str(k) for k in np.atleast_1d(tree.attrs.get(KEYS_ATTR, []))]
        self._nodes = {k: nodes[k] for k in [*order, *nodes] if k in nodes}

    def _build(self, node: xr.DataTree) -> Any:
        if _is_dict(node):
            return {k: self._build(child) for k, child in node.children.items()}
        obj = decode(node.to_dataset())
        return obj if self._lazy_loading else obj.load()

    def __getitem__(self, key: str) -> Any:
        if key not in self._nodes:
            raise KeyError(f"Can't find key {key!r} in {self.path.name}; keys: {list(self)}")
        if key not in self._cache:
            self._cache[key] = self._build(self._nodes[key])
        return self._cache[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def type_of(self, key: str) -> str:
        """The kind of ``key`` (``"TsGroup"``, ``"Tsd"``, ...), reading no data."""
        node = self._nodes[key]
        return "dict of Ts" if _is_dict(node) else kind_of(node.to_dataset())

    def __repr__(self) -> str:
        return table(self.path.name, ["Keys", "Type"], [[k, self.type_of(k)] for k in self])

    __str__ = __repr__

    def close(self) -> None:
        """Close the file."""
        self._tree.close()

    def __enter__(self) -> ObjectFile:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
