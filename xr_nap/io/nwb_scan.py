"""Find the objects of an NWB file from its HDF5 layout, without pynwb.

pynwb builds every container of a file when it opens it; here only group attributes
(``neurodata_type``, ``namespace``, ``object_id``), dataset shapes and the scalars of
rate-based series are read. The mapping from NWB types to pynapple types and the key
naming follow ``pynapple.io.interface_nwb`` (0.11):

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

The scan is bounded: each group is visited once (a hard link to a group already seen is
not followed again; one back to an ancestor, a cycle, is reported), at most
:data:`MAX_DEPTH` groups deep and over at most :data:`MAX_MEMBERS` members. What it
cannot read is listed as skipped, with the reason, and the rest of the file is read.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

import h5py
import numpy as np

from xr_nap.errors import NWBFormatError, SkippedObjectWarning, warn
from xr_nap.io.nwb_read import (
    DATASETS,
    FILE_ERRORS,
    GROUPS,
    METADATA_BYTES,
    attr_text,
    colnames,
    read_all,
    read_attr,
    read_scalar,
    stored_bytes,
)
from xr_nap.io.nwb_zarr import ZGroup

__all__ = ["NWBObject", "TableLayout", "table_layout", "scan", "file_metadata", "check_nwb",
           "is_nwb_file", "rate_and_start", "describe_skipped", "unique_keys"]

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

MAX_DEPTH = 64  # NWB nests a few groups deep; deeper is damage or a trap
MAX_MEMBERS = 1_000_000  # group members looked at, over the whole file
MAX_ANCESTRY = 50  # neurodata_type_inc steps followed from a type to a core type


@dataclass(frozen=True)
class TableLayout:
    """What a units table's first access needs besides its data: member names, the
    ``colnames`` attribute and the ``description`` attribute (None if missing)."""

    members: frozenset[str]
    colnames: tuple[str, ...]
    description: str | None


def table_layout(group: GROUPS) -> TableLayout:
    """The :class:`TableLayout` of ``group``."""
    desc = read_attr(group, "description")
    if isinstance(desc, bytes):
        desc = desc.decode(errors="replace")
    return TableLayout(frozenset(group), tuple(colnames(group)),
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


def is_nwb_file(f: h5py.File) -> bool:
    """True if ``f`` has an NWB 2 root (``neurodata_type == "NWBFile"``)."""
    return attr_text(f, "neurodata_type") == "NWBFile"


def check_nwb(f: h5py.File, where: Any) -> None:
    """Raise a clear error unless ``f`` is an NWB 2.x file.

    Raises
    ------
    NWBFormatError
        If the file is NWB 1.x, or HDF5 without the NWB layout.
    """
    if is_nwb_file(f):
        return
    version = attr_text(f, "nwb_version")
    if version is None and isinstance(f.get("nwb_version"), DATASETS):
        version = read_scalar(f["nwb_version"])
    if isinstance(version, bytes):
        version = version.decode(errors="replace")
    if version is not None and str(version).removeprefix("NWB-").startswith("1."):
        raise NWBFormatError(f"{where} is an NWB {version} file; only NWB 2.x files can "
                             "be read")
    kind = "a zarr store" if isinstance(f, ZGroup) else "an HDF5 file"
    raise NWBFormatError(
        f"{where} is {kind} without the NWB layout (its root has no "
        "neurodata_type='NWBFile' attribute)"
    )


class _Ancestry:
    """Resolve the base type of a neurodata_type, reading extension specs on demand."""

    def __init__(self, f: h5py.File, skipped: list[tuple[str, str]]):
        self.f = f
        self.skipped = skipped
        self.parents: dict[str, str] | None = None

    def _load_specs(self) -> dict[str, str]:
        parents: dict[str, str] = {}
        try:
            specs = self.f.get("specifications")
            if not isinstance(specs, GROUPS):
                return parents
            for ns in specs:
                if ns in CORE_NAMESPACES or not isinstance(specs.get(ns), GROUPS):
                    continue
                for version in specs[ns].values():
                    if not isinstance(version, GROUPS):
                        continue
                    for item in version.values():
                        self._read_spec(item, parents)
        except FILE_ERRORS as err:  # damaged: the types not yet resolved stay unknown
            self.skipped.append(("/specifications", f"unreadable: {err}"))
        return parents

    def _read_spec(self, item: Any, parents: dict[str, str]) -> None:
        if not isinstance(item, DATASETS) or item.shape != ():
            return
        try:
            spec = json.loads(item[()])
        except (TypeError, ValueError):  # not JSON text: not a spec we can use
            return
        except RecursionError:  # json's decoder recurses once per nesting level
            self.skipped.append((item.name, "extension specification nested too deeply "
                                 "to parse; its types are treated as unknown"))
            return
        _collect_parents(spec, parents)

    def chain(self, ntype: str) -> list[str]:
        """``[ntype, parent, ...]`` up to the first core type (or as far as known)."""
        out = [ntype]
        while out[-1] not in TIMESERIES and out[-1] not in TABLES and len(out) < MAX_ANCESTRY:
            if self.parents is None:
                self.parents = self._load_specs()
            parent = self.parents.get(out[-1])
            if parent is None or parent in out:
                break
            out.append(parent)
        return out


def _collect_parents(spec: Any, parents: dict[str, str]) -> None:
    """Record ``neurodata_type_def -> neurodata_type_inc`` of every type in a parsed
    specification (a loop, not recursion: the nesting depth is the file's choice)."""
    todo = [spec]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            name, inc = item.get("neurodata_type_def"), item.get("neurodata_type_inc")
            if isinstance(name, str) and isinstance(inc, str):
                parents.setdefault(name, inc)
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)


def rate_and_start(st: Any) -> tuple[float, float] | str:
    """``(starting_time, rate)`` of a ``starting_time`` dataset, or the reason they
    cannot give sample times (a string)."""
    if not isinstance(st, DATASETS):
        return "its starting_time is not a dataset"
    try:
        rate = read_attr(st, "rate")
        if rate is None:
            return "its starting_time has no rate"
        rate = float(np.asarray(rate, dtype=np.float64).reshape(-1)[0])
        t0 = read_all(st, np.float64).reshape(-1)
    except FILE_ERRORS:
        return "its starting_time or rate cannot be read as a number"
    if t0.size != 1:
        return f"its starting_time holds {t0.size} values, not one"
    if not np.isfinite(t0[0]):
        return f"its starting_time is {t0[0]}, not a finite number"
    if not (np.isfinite(rate) and rate > 0):
        return f"its rate is {rate}, not a positive finite number"
    return float(t0[0]), rate


def _data_problem(data: DATASETS) -> str | None:
    """Why the values of ``data`` cannot be a series (None if they can)."""
    dtype = data.dtype
    if dtype.kind in "biufc" or h5py.check_string_dtype(dtype) is not None \
            or h5py.check_ref_dtype(dtype) is not None:
        return None
    if dtype.names:
        return f"its data have a compound type ({', '.join(dtype.names)})"
    return f"its data have an unsupported type ({dtype})"


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
        if any(n.endswith("_times") for n in colnames(group)):
            return "Ts", "DynamicTable"
        return None
    if role == "AnnotationSeries":
        n_time = _n_times(group)
        if isinstance(n_time, str):
            return n_time
        return ("Ts", role) if "timestamps" in group else "it has no timestamps"
    if base not in TIMESERIES and not ("data" in group and (
            "timestamps" in group or "starting_time" in group)):
        return None  # an unknown type without the TimeSeries layout
    data = group.get("data")
    n_time = _n_times(group)
    if isinstance(n_time, str):
        return n_time
    if data is None or not isinstance(data, DATASETS):
        if n_time > 0:
            return "its data are missing (external file?)" if "external_file" in group \
                else "its data are missing"
        return "Tsd", role or "TimeSeries"  # no data, no time: an empty Tsd, as pynapple
    shape = data.shape or ()
    if len(shape) == 0:
        return "its data are a scalar"
    problem = _data_problem(data)
    if problem:
        return problem
    if n_time >= 0 and shape[0] != n_time:
        extra = " (data in an external file)" if "external_file" in group else ""
        return f"it has {shape[0]} data rows but {n_time} timestamps{extra}"
    kind = "Tsd" if len(shape) == 1 else "TsdFrame" if len(shape) == 2 else "TsdTensor"
    return kind, role or "TimeSeries"


def _n_times(group: GROUPS) -> int | str:
    """Number of timestamps, -1 for a rate-based series, or why there are no times."""
    ts = group.get("timestamps")
    if isinstance(ts, DATASETS):
        if len(ts.shape or ()) > 1 and ts.size != ts.shape[0]:  # MatNWB writes (n, 1)
            return f"its timestamps have shape {ts.shape}, not one time per row"
        if ts.dtype.kind not in "iuf":
            return f"its timestamps are not numbers ({ts.dtype})"
        return int(ts.shape[0]) if ts.shape else 1
    if "starting_time" not in group:
        return "it has neither timestamps nor starting_time/rate"
    found = rate_and_start(group.get("starting_time"))
    return found if isinstance(found, str) else -1


def _members(group: GROUPS) -> list[str]:
    return list(group)


def scan(f: h5py.File) -> tuple[dict[str, NWBObject], list[tuple[str, str]]]:
    """Map keys to the readable objects of ``f``; list ``(path, reason)`` of the others.

    The walk is depth-first in name order (the order pynapple lists objects in); see
    the module docstring for its bounds.
    """
    found: list[tuple[str, str, str, str, tuple[str, str], TableLayout | None]] = []
    skipped: list[tuple[str, str]] = []
    ancestry = _Ancestry(f, skipped)
    seen = {f.id}
    ancestors = [f.id]
    stack = [(f, "", "", iter(_members(f)))]  # group, containers, its path, members
    looked = 0
    while stack:
        group, containers, where, names = stack[-1]
        name = next(names, None)
        if name is None:
            stack.pop()
            ancestors.pop()
            continue
        path = f"{where}/{name}"
        looked += 1
        if looked > MAX_MEMBERS:
            skipped.append((path, f"the scan stopped after {MAX_MEMBERS} members; this "
                                  "and later objects are not listed"))
            break
        if path == "/specifications":
            continue
        try:
            if not isinstance(group.get(name, getlink=True), h5py.HardLink):
                continue  # links point at objects listed where they live
            child = group[name]
            if not isinstance(child, GROUPS):
                continue
            if child.id in seen:
                if child.id in ancestors:  # ancestors[i] is the group of stack[i]
                    above = stack[ancestors.index(child.id)][2] or "/"
                    skipped.append((path, f"a hard link back to {above} (a cycle); not "
                                          "followed"))
                continue  # a second link to a group already listed
            seen.add(child.id)
            if len(stack) >= MAX_DEPTH:
                skipped.append((path, f"nested more than {MAX_DEPTH} groups deep; not read"))
                continue
            members = _members(child)  # first: a damaged link table fails here
            inner = containers
            ntype = attr_text(child, "neurodata_type")
            if ntype is not None:
                inner = f"{containers}/{name}"
                result = _classify(child, ancestry.chain(str(ntype)))
                if isinstance(result, str):
                    skipped.append((path, result))
                elif result is not None:
                    # units tables: cheap here (the group is open), saves their first access
                    layout = table_layout(child) if result[0] == "TsGroup" else None
                    found.append((path, inner, str(ntype),
                                  str(attr_text(child, "object_id", "")), result, layout))
        except FILE_ERRORS as err:  # a damaged object: the rest of the file is read
            skipped.append((path, f"unreadable: {err}"))
            continue
        stack.append((child, inner, path, iter(members)))
        ancestors.append(child.id)

    full = [item[1] for item in found]
    dup = {p for p, n in Counter(full).items() if n > 1}
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
    for _ in range(MAX_DEPTH):
        clash = {k for k, n in Counter(out.values()).items() if n > 1}
        if not clash:
            return out
        for path, key in out.items():
            if key in clash:
                parts = path.split("/")
                out[path] = "/".join(parts[-len(key.split("/")) - 1:]).lstrip("/")
    raise NWBFormatError(f"cannot give unique keys to {sorted(full_path_to_key)}")


def file_metadata(f: h5py.File) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """File-level NWB metadata (identifier, session_description, the datasets directly
    under ``/general``, ...) as netCDF-safe attrs, and ``(path, reason)`` for the
    values not read (larger than :data:`~xr_nap.io.nwb_read.METADATA_BYTES`, or
    unreadable)."""
    out: dict[str, Any] = {"nwb_version": str(attr_text(f, "nwb_version", ""))}
    skipped: list[tuple[str, str]] = []
    places = [(f, ("identifier", "session_description", "session_start_time",
                   "timestamps_reference_time", "file_create_date"))]
    try:
        general = f.get("general")
        if isinstance(general, GROUPS):
            places.append((general, tuple(general)))
    except FILE_ERRORS as err:  # a damaged group
        skipped.append(("/general", f"unreadable: {err}"))
    for group, names in places:
        for name in names:
            where = f"{group.name.rstrip('/')}/{name}"
            try:
                obj = group.get(name)
                if not isinstance(obj, DATASETS) or h5py.check_ref_dtype(obj.dtype):
                    continue
                size = stored_bytes(obj)
                if size > METADATA_BYTES:
                    skipped.append((where, f"{size} bytes, too large for metadata (limit "
                                           f"{METADATA_BYTES}); not read into attrs"))
                    continue
                value = read_scalar(obj)
            except FILE_ERRORS as err:
                skipped.append((where, f"unreadable metadata: {err}"))
                continue
            if isinstance(value, np.ndarray):
                value = value.tolist()
                if len(value) == 1:
                    value = value[0]
            if isinstance(value, bytes):
                value = value.decode(errors="replace")
            if isinstance(value, str) and len(value) > METADATA_BYTES:  # one huge string
                skipped.append((obj.name, f"a string of {len(value)} characters, too "
                                          "large for metadata; not kept in attrs"))
                continue
            out[name] = value if isinstance(value, (int, float, list)) else str(value)
    return out, skipped


def describe_skipped(where: Any, skipped: list[tuple[str, str]]) -> None:
    """Warn once (a :class:`~xr_nap.errors.SkippedObjectWarning` at the user's line),
    naming every object of the file that is not read and why."""
    if skipped:
        lines = "\n".join(f"  {path}: {reason}" for path, reason in skipped)
        warn(f"{os.fspath(where) if isinstance(where, os.PathLike) else where}: "
             f"skipped {len(skipped)} NWB object(s) that cannot be read:\n{lines}",
             SkippedObjectWarning)
