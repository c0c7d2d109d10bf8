"""Find the objects of an NWB file from its HDF5 layout, without pynwb.

pynwb builds every container of a file when it opens it; here only group attributes
(``neurodata_type``, ``namespace``, ``object_id``) and dataset shapes are read, which is
several times faster. The mapping from NWB types to pynapple types and the key naming
follow ``pynapple.io.interface_nwb`` (0.11):

- a table with a ``*_times_index`` column (``Units``) -> ``TsGroup``;
- a ``TimeIntervals`` table -> ``IntervalSet``;
- another table with ``*_times`` columns, or an ``AnnotationSeries`` -> ``Ts``;
- any other ``TimeSeries`` -> ``Tsd`` / ``TsdFrame`` / ``TsdTensor`` by data ndim.

Keys are object names; when names collide, the nearest parent container names are
prepended until they are unique (pynapple's rule, e.g. ``"mod_a/pos"``). pynapple builds
those paths from container names only, so two objects whose container paths are equal
(``acquisition/x`` and ``stimulus/presentation/x`` are both ``/x``) collide and one is
lost; here such objects are named from their HDF5 paths instead (``"acquisition/x"``,
``"presentation/x"``) and both are kept.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from typing import Any

import h5py
import numpy as np
from h5py import h5a, h5d, h5p, h5s, h5t

__all__ = ["NWBObject", "TableLayout", "table_layout", "scan", "file_metadata", "check_nwb",
           "is_nwb_file"]

# Core types (pynwb 4.2 / NWB 2.9) whose ancestry matters; extensions are resolved from
# the specifications cached in the file.
TIMESERIES = frozenset({
    "AbstractFeatureSeries", "AnnotationSeries", "CurrentClampSeries",
    "CurrentClampStimulusSeries", "DecompositionSeries", "ElectricalSeries",
    "IZeroClampSeries", "ImageMaskSeries", "ImageSeries", "IndexSeries", "IntervalSeries",
    "OnePhotonSeries", "OpticalSeries", "OptogeneticSeries", "PatchClampSeries",
    "RoiResponseSeries", "SpatialSeries", "SpikeEventSeries", "TimeSeries",
    "TwoPhotonSeries", "VoltageClampSeries", "VoltageClampStimulusSeries",
})
TABLES = frozenset({
    "AlignedDynamicTable", "DynamicTable", "ElectrodesTable", "EventsTable",
    "ExperimentalConditionsTable", "FrequencyBandsTable", "IntracellularElectrodesTable",
    "IntracellularRecordingsTable", "IntracellularResponsesTable",
    "IntracellularStimuliTable", "MeaningsTable", "PlaneSegmentation", "RepetitionsTable",
    "SequentialRecordingsTable", "SimultaneousRecordingsTable", "SweepTable",
    "TimeIntervals", "Units",
})
SPECIAL = {  # pynapple treats these (and their subtypes) specially
    "AnnotationSeries": "AnnotationSeries", "TimeIntervals": "TimeIntervals",
    "SpatialSeries": "SpatialSeries", "ElectricalSeries": "ElectricalSeries",
    "SpikeEventSeries": "ElectricalSeries", "RoiResponseSeries": "RoiResponseSeries",
}
CORE_NAMESPACES = frozenset({"core", "hdmf-common", "hdmf-experimental"})


@dataclass(frozen=True)
class TableLayout:
    """What a units table's first access needs besides its data: member names, the
    ``colnames`` attribute and the ``description`` attribute (None if missing)."""

    members: frozenset[str]
    colnames: tuple[str, ...]
    description: str | None


def table_layout(group: h5py.Group) -> TableLayout:
    """The :class:`TableLayout` of ``group``."""
    desc = read_attr(group, "description")
    if isinstance(desc, bytes):
        desc = desc.decode()
    return TableLayout(frozenset(group), tuple(_colnames(group)),
                       desc if isinstance(desc, str) else None)


@dataclass(frozen=True)
class NWBObject:
    """One readable NWB object.

    Attributes
    ----------
    path : str
        HDF5 path, e.g. ``"/processing/behavior/Position/pos"``.
    full_path : str
        pynapple's full path (container names only), e.g. ``"/behavior/Position/pos"``.
    neurodata_type, object_id : str
        As written in the file.
    kind : str
        pynapple type: ``Ts``, ``Tsd``, ``TsdFrame``, ``TsdTensor``, ``TsGroup`` or
        ``IntervalSet``.
    role : str
        The special base type that decides columns/values (``"SpatialSeries"``,
        ``"ElectricalSeries"``, ``"RoiResponseSeries"``, ``"AnnotationSeries"``,
        ``"TimeIntervals"``) or ``"TimeSeries"`` / ``"DynamicTable"``.
    table : TableLayout or None
        For a ``TsGroup``: its members, columns and description, read by the scan (which
        opens the group anyway) so that the first access does not look them up again.
    """

    path: str
    full_path: str
    neurodata_type: str
    object_id: str
    kind: str
    role: str
    table: TableLayout | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def _attr(obj: Any, name: str, default: Any = None) -> Any:
    value = obj.attrs.get(name, default)
    return value.decode() if isinstance(value, bytes) else value


def is_nwb_file(f: h5py.File) -> bool:
    """True if ``f`` has an NWB 2 root (``neurodata_type == "NWBFile"``)."""
    return _attr(f, "neurodata_type") == "NWBFile"


def check_nwb(f: h5py.File, where: Any) -> None:
    """Raise a clear error unless ``f`` is an open NWB 2.x file.

    Raises
    ------
    ValueError
        If the file is closed, is NWB 1.x, or is HDF5 without the NWB layout.
    """
    if not f.id.valid:
        raise ValueError(f"the NWB file {where} is closed")
    if is_nwb_file(f):
        return
    version = _attr(f, "nwb_version") or (
        f["nwb_version"][()] if isinstance(f.get("nwb_version"), h5py.Dataset) else None)
    if isinstance(version, bytes):
        version = version.decode()
    if version is not None and str(version).lstrip("NWB-").startswith("1."):
        raise ValueError(f"{where} is an NWB {version} file; only NWB 2.x files can be read")
    raise ValueError(
        f"{where} is an HDF5 file without the NWB layout (its root has no "
        "neurodata_type='NWBFile' attribute)"
    )


class _Ancestry:
    """Resolve the base type of a neurodata_type, reading extension specs on demand."""

    def __init__(self, f: h5py.File):
        self.f = f
        self.parents: dict[str, str] | None = None

    def _load_specs(self) -> dict[str, str]:
        parents: dict[str, str] = {}
        specs = self.f.get("specifications")
        if not isinstance(specs, h5py.Group):
            return parents
        for ns in specs:
            if ns in CORE_NAMESPACES or not isinstance(specs[ns], h5py.Group):
                continue
            for version in specs[ns].values():
                for item in version.values():
                    try:
                        spec = json.loads(item[()])
                    except (TypeError, ValueError, OSError):
                        continue
                    _collect_parents(spec, parents)
        return parents

    def chain(self, ntype: str) -> list[str]:
        """``[ntype, parent, ...]`` up to the first core type (or as far as known)."""
        out = [ntype]
        while out[-1] not in TIMESERIES and out[-1] not in TABLES and len(out) < 50:
            if self.parents is None:
                self.parents = self._load_specs()
            parent = self.parents.get(out[-1])
            if parent is None or parent in out:
                break
            out.append(parent)
        return out


def _collect_parents(spec: Any, parents: dict[str, str]) -> None:
    if isinstance(spec, dict):
        name, inc = spec.get("neurodata_type_def"), spec.get("neurodata_type_inc")
        if name and inc:
            parents[name] = inc
        for value in spec.values():
            _collect_parents(value, parents)
    elif isinstance(spec, list):
        for value in spec:
            _collect_parents(value, parents)


def _classify(group: h5py.Group, chain: list[str]) -> tuple[str, str] | str | None:
    """``(kind, role)`` for a mapped object, an error string for an unreadable one, or
    ``None`` for objects pynapple does not map."""
    base = chain[-1]
    role = next((SPECIAL[t] for t in chain if t in SPECIAL), None)
    if base in TABLES:
        names = list(group)
        if any(n.endswith("_times_index") for n in names):
            return "TsGroup", "DynamicTable"
        if role == "TimeIntervals":
            return "IntervalSet", role
        if any(n.endswith("_times") for n in _colnames(group)):
            return "Ts", "DynamicTable"
        return None
    if role == "AnnotationSeries":
        return ("Ts", role) if "timestamps" in group else "it has no timestamps"
    if base not in TIMESERIES and not ("data" in group and (
            "timestamps" in group or "starting_time" in group)):
        return None  # an unknown type without the TimeSeries layout
    data = group.get("data")
    n_time = _n_times(group)
    if n_time is None:
        return "it has neither timestamps nor starting_time/rate"
    if data is None or not isinstance(data, h5py.Dataset):
        if n_time > 0:
            return "its data are missing (external file?)" if "external_file" in group \
                else "its data are missing"
        return "Tsd", role or "TimeSeries"  # no data, no time: an empty Tsd, as pynapple
    shape = data.shape or ()
    if len(shape) == 0:
        return "its data are a scalar"
    if n_time >= 0 and shape[0] != n_time:
        extra = " (data in an external file)" if "external_file" in group else ""
        return f"it has {shape[0]} data rows but {n_time} timestamps{extra}"
    kind = "Tsd" if len(shape) == 1 else "TsdFrame" if len(shape) == 2 else "TsdTensor"
    return kind, role or "TimeSeries"


def _n_times(group: h5py.Group) -> int | None:
    """Number of timestamps; -1 for rate-based series; None if neither is present."""
    ts = group.get("timestamps")
    if isinstance(ts, h5py.Dataset):
        return int(ts.shape[0]) if ts.shape else 1
    st = group.get("starting_time")
    if isinstance(st, h5py.Dataset) and "rate" in st.attrs:
        return -1
    return None


def read_attr(obj: Any, name: str) -> Any:
    """Attribute ``name`` of an h5py object, or None if it is missing or empty.

    Read with the low-level API (twice as fast as ``obj.attrs.get``); strings come
    back as ``bytes``.
    """
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


def _colnames(group: h5py.Group) -> list[str]:
    names = read_attr(group, "colnames")
    if names is None:
        names = ()
    return [n.decode() if isinstance(n, bytes) else str(n) for n in np.atleast_1d(names)]


def scan(f: h5py.File) -> tuple[dict[str, NWBObject], list[tuple[str, str]]]:
    """Map keys to the readable objects of ``f``; list ``(path, reason)`` of the others."""
    found: list[tuple[str, str, str, str, tuple[str, str], TableLayout | None]] = []
    skipped: list[tuple[str, str]] = []
    ancestry = _Ancestry(f)

    def walk(group: h5py.Group, containers: str) -> None:
        for name in group:
            if group.name == "/" and name == "specifications":
                continue
            link = group.get(name, getlink=True)
            if not isinstance(link, h5py.HardLink):
                continue  # links point at objects listed where they live
            try:
                child = group[name]
            except (KeyError, OSError) as err:
                skipped.append((f"{group.name.rstrip('/')}/{name}", f"unreadable: {err}"))
                continue
            if not isinstance(child, h5py.Group):
                continue
            ntype = _attr(child, "neurodata_type")
            path = child.name
            inner = containers
            if ntype is not None:
                inner = f"{containers}/{name}"
                result = _classify(child, ancestry.chain(str(ntype)))
                if isinstance(result, str):
                    skipped.append((path, result))
                elif result is not None:
                    # units tables: cheap here (the group is open), saves their first access
                    layout = table_layout(child) if result[0] == "TsGroup" else None
                    found.append((path, inner, str(ntype),
                                  str(_attr(child, "object_id", "")), result, layout))
            walk(child, inner)

    walk(f, "")
    full = [item[1] for item in found]
    dup = {p for p in full if full.count(p) > 1}
    # pynapple would lose all but one of these; name them from their HDF5 path instead
    full = [item[0] if item[1] in dup else item[1] for item in found]
    keys = unique_keys({p: p.rsplit("/", 1)[-1] for p in full})
    index = {
        keys[fp]: NWBObject(path, fp, ntype, oid, kind, role, layout)
        for (path, _, ntype, oid, (kind, role), layout), fp in zip(found, full, strict=True)
    }
    return index, skipped


def unique_keys(full_path_to_key: dict[str, str]) -> dict[str, str]:
    """pynapple's rule: prepend parent names to colliding keys until all are unique.

    Examples
    --------
    >>> unique_keys({"/a/pos": "pos", "/b/c/pos": "pos", "/units": "units"})
    {'/a/pos': 'a/pos', '/b/c/pos': 'c/pos', '/units': 'units'}
    """
    out = dict(full_path_to_key)
    for _ in range(64):
        values = list(out.values())
        clash = {k for k in values if values.count(k) > 1}
        if not clash:
            return out
        for path, key in out.items():
            if key in clash:
                parts = path.split("/")
                out[path] = "/".join(parts[-len(key.split("/")) - 1:]).lstrip("/")
    raise ValueError(f"cannot give unique keys to {sorted(full_path_to_key)}")


def read_all(ds: h5py.Dataset | h5d.DatasetID, dtype: Any = None) -> np.ndarray:
    """A whole numeric dataset as ``dtype`` (default: its own) in one read.

    ``ds[()]`` builds an h5py selection and a new array first: 2-3x slower on the
    column-sized datasets read when a table is accessed. HDF5 converts the type.
    ``ds`` may be a low-level dataset id (see :func:`open_whole`).
    """
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
# that does not fit it once more (2x slower on a 9 MB spike_times in 4 MB chunks).
_WHOLE = _whole_access()


def open_whole(group: h5py.Group, name: str) -> h5d.DatasetID | None:
    """The low-level id of dataset ``name`` of ``group``, opened for whole reads, or
    None if there is no such dataset.

    A low-level open costs a third of ``group[name]`` (no h5py object, no type lookup).
    """
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
    Python object per value (4x faster than h5py's ``asstr()[()]``). Values that may
    be cut (one fills the width) or are not ASCII fall back to the exact reader.
    """
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
    value = obj.asstr()[()] if h5py.check_string_dtype(obj.dtype) else obj[()]
    if isinstance(value, np.ndarray) and value.dtype == object:
        value = value.astype(str)
    return value


def file_metadata(f: h5py.File) -> dict[str, Any]:
    """File-level NWB metadata (identifier, session_description, ...) as netCDF-safe attrs."""
    out: dict[str, Any] = {"nwb_version": str(_attr(f, "nwb_version", ""))}
    places = [(f, ("identifier", "session_description", "session_start_time",
                   "timestamps_reference_time", "file_create_date"))]
    general = f.get("general")
    if isinstance(general, h5py.Group):
        places.append((general, tuple(general)))
    for group, names in places:
        for name in names:
            obj = group.get(name)
            if not isinstance(obj, h5py.Dataset) or h5py.check_ref_dtype(obj.dtype):
                continue
            try:
                value = read_scalar(obj)
            except (OSError, TypeError, ValueError):
                continue
            if isinstance(value, np.ndarray):
                value = value.tolist()
                if len(value) == 1:
                    value = value[0]
            if isinstance(value, bytes):
                value = value.decode(errors="replace")
            out[name] = value if isinstance(value, (int, float, list)) else str(value)
    return out


def describe_skipped(where: Any, skipped: list[tuple[str, str]]) -> None:
    """Warn once, naming every object of the file that cannot be read (called when a
    file is opened: the warning points at the caller of ``open_dataset``/``NWBFile``)."""
    if skipped:
        lines = "\n".join(f"  {path}: {reason}" for path, reason in skipped)
        warnings.warn(
            f"{os.fspath(where) if isinstance(where, os.PathLike) else where}: "
            f"skipped {len(skipped)} NWB object(s) that cannot be read:\n{lines}",
            UserWarning, stacklevel=4,
        )
