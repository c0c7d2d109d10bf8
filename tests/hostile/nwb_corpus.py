"""Hostile, damaged and foreign NWB files, and what reading each must give.

Every case writes one file (pynwb for what pynwb can write, then h5py to break it) and
states its expected outcome, independently of xr-nap:

- ``read``: the file opens; the listed objects have exactly the listed values (the
  others equal those of the untouched base file), objects in ``absent`` are left out
  with a :class:`~xr_nap.errors.SkippedObjectWarning` naming them, objects in
  ``broken`` raise an :class:`~xr_nap.errors.XrNapError` naming the file and the
  object when read (``open_datatree`` leaves them out with a warning, ``xr-nap info``
  marks them unreadable), and each ``warns`` pattern is in a warning.
- ``error``: opening fails with an ``XrNapError`` whose message names the file.
- ``damaged`` (truncations, flipped bytes): a clear error, a warning-and-skip, or the
  values of the undamaged file. A flipped byte inside a stored value (a name, a number
  in an attribute) is read as the file now says: HDF5 files written without checksums
  cannot tell; such results are counted as ``changed``, not as failures.

``scenarios`` are cases that act between opening and reading (truncating the file under
a lazy array, replacing it under a pickled one).
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h5py
import numpy as np

# --------------------------------------------------------------------------- the base file
RAW = (np.arange(50, dtype=np.int16) - 25) * 3  # "signal": int16, conversion 0.5, offset 1
RATE, T0 = 10.0, 2.0
STAMPS = np.cumsum(np.full(20, 0.25))  # "stamped"
STAMPED = np.linspace(-1.0, 1.0, 20)
WORDS = ["a", "bb", "ccc", "dddd"]
WORD_TIMES = [1.0, 2.0, 3.0, 4.0]
EPHYS = np.arange(30.0).reshape(10, 3)
UNIT_SPIKES = {4: [0.5, 1.5, 2.5], 9: [1.0, 3.0], 11: [0.25, 0.75, 1.25, 4.0]}
EPOCHS = ([0.0, 2.0, 5.0], [1.0, 4.0, 6.0], [["a"], ["b", "c"], []])


def base_session(path: Path) -> Path:
    """A small session written by pynwb: every kind of object the cases break."""
    import pynwb
    from pynwb.ecephys import ElectricalSeries

    nwb = pynwb.NWBFile(session_description="hostile base", identifier="hostile-base",
                        session_start_time=datetime(2024, 1, 1, tzinfo=UTC))
    nwb.add_acquisition(pynwb.TimeSeries(name="signal", data=RAW, unit="V", rate=RATE,
                                         starting_time=T0, conversion=0.5, offset=1.0))
    nwb.add_acquisition(pynwb.TimeSeries(name="stamped", data=STAMPED, unit="a.u.",
                                         timestamps=STAMPS))
    nwb.add_acquisition(pynwb.TimeSeries(name="words", data=WORDS, unit="n/a",
                                         timestamps=WORD_TIMES))
    device = nwb.create_device("probe")
    group = nwb.create_electrode_group("shank", description="d", location="CA1",
                                       device=device)
    for i in range(4):
        nwb.add_electrode(group=group, location="CA1", x=float(i), y=0.0, z=0.0,
                          imp=1.0, filtering="none")
    region = nwb.create_electrode_table_region([1, 2, 3], "three")
    nwb.add_acquisition(ElectricalSeries(name="ephys", data=EPHYS, electrodes=region,
                                         rate=100.0))
    for uid, spikes in UNIT_SPIKES.items():
        nwb.add_unit(id=uid, spike_times=spikes, electrode_group=group)
    for start, stop, tags in zip(*EPOCHS, strict=True):
        nwb.add_epoch(start, stop, tags=tags)
    return _write(nwb, path)


def _write(nwb: Any, path: Path) -> Path:
    import pynwb

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pynwb.NWBHDF5IO(str(path), "w") as io:
            io.write(nwb)
    return path


def _replace(f: h5py.File, name: str, value: Any, **kwargs: Any) -> h5py.Dataset:
    """Replace dataset ``name`` by ``value``, keeping its attributes."""
    attrs = dict(f[name].attrs)
    del f[name]
    ds = f.create_dataset(name, data=value, **kwargs)
    ds.attrs.update(attrs)
    return ds


def _typed(g: h5py.Group, ntype: str) -> h5py.Group:
    g.attrs.update({"neurodata_type": ntype, "namespace": "core",
                    "object_id": str(uuid.uuid4())})
    return g


# --------------------------------------------------------------------------- cases
@dataclass
class Case:
    """One input and its expected outcome (see the module docstring)."""

    name: str
    make: Callable[[Path], None]  # writes/patches the file at the given path
    kind: str = "read"  # "read", "error" or "damaged"
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    absent: dict[str, str] = field(default_factory=dict)  # HDF5 path -> reason pattern
    broken: dict[str, str] = field(default_factory=dict)  # key -> (path, message) pattern
    warns: list[str] = field(default_factory=list)
    error: str = ""  # for kind "error": a pattern of the message
    base: bool = True  # patched from the base file (else written from scratch)
    setup: str = ""  # name of a function of this module run in the child first
    subset: bool = False  # objects of the base file may be missing (not listed)
    ops: tuple[str, ...] = ("load_file", "open_dataset", "open_datatree", "info")


def _patch(fn: Callable[[h5py.File], None]) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        with h5py.File(path, "a") as f:
            fn(f)
    return make


def _set_attr(name: str, attr: str, value: Any) -> Callable[[Path], None]:
    return _patch(lambda f: f[name].attrs.__setitem__(attr, value))


def _set_value(name: str, value: Any, **kw: Any) -> Callable[[Path], None]:
    return _patch(lambda f: _replace(f, name, value, **kw))


def _signal(values: np.ndarray) -> dict[str, dict[str, Any]]:
    return {"signal": {"signal": values, "time": T0 + np.arange(RAW.size) / RATE}}


def _strings_only(path: Path) -> None:
    """A file with nothing but a string TimeSeries, written by pynwb (no patching)."""
    import pynwb

    nwb = pynwb.NWBFile(session_description="s", identifier="strings",
                        session_start_time=datetime(2024, 1, 1, tzinfo=UTC))
    nwb.add_acquisition(pynwb.TimeSeries(name="labels", data=["x", "yy"], unit="n/a",
                                         timestamps=[0.5, 1.5]))
    _write(nwb, path)


def _refs(f: h5py.File) -> None:
    target = f["acquisition/stamped"].ref
    data = _replace(f, "acquisition/words/data", [target, h5py.Reference(), target, target],
                    dtype=h5py.ref_dtype)
    del data.attrs["conversion"]  # pynwb wrote the defaults, 1.0 and 0.0
    del data.attrs["offset"]


def _dangling_refs(f: h5py.File) -> None:
    f["acquisition/gone"] = np.arange(3.0)
    ref = f["acquisition/gone"].ref
    _replace(f, "acquisition/words/data", [ref] * 4, dtype=h5py.ref_dtype)
    del f["acquisition/gone"]


def _cycle(f: h5py.File) -> None:
    f["acquisition/loop"] = f["acquisition"]  # a hard link to its own parent


def _fan_out(f: h5py.File) -> None:
    # 30 hard links to the next level, 6 levels: 30**6 paths to 6 groups (no cycle)
    levels = [f.create_group(f"analysis/level{i}") for i in range(6)]
    for upper, lower in zip(levels, levels[1:], strict=False):
        for k in range(30):
            upper[f"link{k}"] = lower


def _deep_groups(f: h5py.File) -> None:
    g = f["analysis"]
    for i in range(150):
        g = g.create_group(f"d{i}")
    ts = _typed(g.create_group("deep_ts"), "TimeSeries")
    ts["data"] = np.arange(3.0)
    ts["timestamps"] = np.arange(3.0)


def _ext_series(f: h5py.File, spec: str) -> None:
    specs = f.require_group("specifications/evil/0.1")
    specs["namespace"] = spec
    g = f.create_group("acquisition/ext_ts")
    g.attrs.update({"neurodata_type": "EvilSeries", "namespace": "evil",
                    "object_id": str(uuid.uuid4())})
    g["data"] = np.arange(4.0)
    g["timestamps"] = np.arange(4.0)


def _deep_spec_lists(f: h5py.File) -> None:
    _ext_series(f, "[" * 100_000 + "]" * 100_000)


def _deep_spec_dicts(f: h5py.File) -> None:
    _ext_series(f, '{"a":' * 50_000 + "1" + "}" * 50_000)


def _inc_cycle_spec(f: h5py.File) -> None:
    spec = {"groups": [{"neurodata_type_def": "EvilSeries", "neurodata_type_inc": "Other"},
                       {"neurodata_type_def": "Other", "neurodata_type_inc": "EvilSeries"}]}
    _ext_series(f, json.dumps(spec))


def _big_general(f: h5py.File) -> None:
    # 50 MB of zeros, a few kB on disk: reading it into attrs would be the blow-up
    f.create_dataset("general/huge_notes", shape=(50 * 2**20,), dtype="u1",
                     chunks=(2**20,), compression="gzip", fillvalue=0)


def _region_rows(rows: list[int]) -> Callable[[h5py.File], None]:
    def patch(f: h5py.File) -> None:
        _replace(f, "acquisition/ephys/electrodes", np.array(rows))
    return patch


def _unit_ids(f: h5py.File) -> None:
    _replace(f, "units/id", np.array([4, 9, 4]))


def _many_members(f: h5py.File) -> None:
    g = f.create_group("analysis/many")
    for i in range(300):
        g.create_group(f"g{i:03d}")


def small_scan_bound() -> None:
    """setup: lower the scan's member bound so a small file reaches it."""
    from xr_nap.io import nwb_scan

    nwb_scan.MAX_MEMBERS = 200





def _noise(path: Path) -> None:
    path.write_bytes(np.random.default_rng(0).bytes(4096))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _plain_hdf5(path: Path) -> None:
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3)


def _nwb1(path: Path) -> None:
    with h5py.File(path, "w") as f:
        f["nwb_version"] = "NWB-1.0.6"


def _weird_root(path: Path) -> None:
    with h5py.File(path, "w") as f:
        f.attrs["neurodata_type"] = np.frombuffer(b"\xff\xfe\x00", dtype="S3")[0]


CASES: list[Case] = [
    Case("base", lambda p: None, values={
        "signal": _signal(RAW * 0.5 + 1.0)["signal"],
        "stamped": {"stamped": STAMPED, "time": STAMPS},
        "words": {"words": np.array(WORDS, dtype=object), "time": np.array(WORD_TIMES)},
        "ephys": {"ephys": EPHYS, "column": np.array([1, 2, 3])},
        "units": {"spike_time": np.concatenate(list(UNIT_SPIKES.values())),
                  "unit": np.array(list(UNIT_SPIKES))},
        "epochs": {"start": np.array(EPOCHS[0]), "end": np.array(EPOCHS[1])}}),
    # 1. strings and references
    Case("strings_only_pynwb", _strings_only, base=False, values={
        "labels": {"labels": np.array(["x", "yy"], dtype=object),
                   "time": np.array([0.5, 1.5])}}),
    Case("references", _patch(_refs), values={"words": {"words": np.array(
        ["/acquisition/stamped", "", "/acquisition/stamped", "/acquisition/stamped"],
        dtype=object)}}),
    Case("dangling_references", _patch(_dangling_refs),
         broken={"words": r"/acquisition/words.*points to no object"}),
    # 2. silent wrong results
    Case("starting_time_nan", _set_value("acquisition/signal/starting_time", np.nan),
         absent={"/acquisition/signal": "starting_time is nan"}),
    Case("starting_time_inf", _set_value("acquisition/signal/starting_time", -np.inf),
         absent={"/acquisition/signal": "starting_time is -inf"}),
    Case("rate_zero", _set_attr("acquisition/signal/starting_time", "rate", 0.0),
         absent={"/acquisition/signal": "rate is 0.0"}),
    Case("rate_negative", _set_attr("acquisition/signal/starting_time", "rate", -5.0),
         absent={"/acquisition/signal": "rate is -5.0"}),
    Case("rate_nan", _set_attr("acquisition/signal/starting_time", "rate", np.nan),
         absent={"/acquisition/signal": "rate is nan"}),
    Case("rate_text", _set_attr("acquisition/signal/starting_time", "rate", "fast"),
         absent={"/acquisition/signal": "cannot be read as a number"}),
    Case("rate_subnormal", _set_attr("acquisition/signal/starting_time", "rate", 5e-324),
         broken={"signal": r"/acquisition/signal.*last of 50 samples"}),
    Case("conversion_nan", _set_attr("acquisition/signal/data", "conversion", np.nan),
         values=_signal(RAW.astype(float)), warns=[r"/acquisition/signal: conversion"]),
    Case("conversion_zero", _set_attr("acquisition/signal/data", "conversion", 0.0),
         values=_signal(RAW.astype(float)), warns=[r"/acquisition/signal: conversion"]),
    Case("offset_inf", _set_attr("acquisition/signal/data", "offset", np.inf),
         values=_signal(RAW.astype(float)), warns=[r"/acquisition/signal: offset"]),
    Case("conversion_text", _set_attr("acquisition/signal/data", "conversion", "x"),
         values=_signal(RAW.astype(float)), warns=[r"/acquisition/signal: conversion"]),
    Case("region_negative_row", _patch(_region_rows([1, 2, -1])),
         values={"ephys": {"ephys": EPHYS, "column": np.arange(3)}},
         warns=[r"ephys/electrodes: row -1 is outside"]),
    Case("region_row_too_large", _patch(_region_rows([1, 2, 40])),
         values={"ephys": {"ephys": EPHYS, "column": np.arange(3)}},
         warns=[r"ephys/electrodes: row 40 is outside"]),
    Case("tags_index_out_of_range", _set_value("intervals/epochs/tags_index",
                                               np.array([1, 3, 9], dtype=np.uint8)),
         broken={"epochs": r"/intervals/epochs/tags_index does not index"}),
    Case("tags_index_decreasing", _set_value("intervals/epochs/tags_index",
                                             np.array([2, 1, 3], dtype=np.uint8)),
         broken={"epochs": r"/intervals/epochs/tags_index does not index"}),
    Case("tags_index_short", _set_value("intervals/epochs/tags_index",
                                        np.array([1], dtype=np.uint8)),
         broken={"epochs": r"/intervals/epochs/tags_index has 1 rows"}),
    Case("spike_index_out_of_range", _set_value("units/spike_times_index",
                                                np.array([3, 5, 90], dtype=np.uint8)),
         broken={"units": r"/units/spike_times_index does not index"}),
    Case("spike_index_float", _set_value("units/spike_times_index", np.array([3.0, 5, 9])),
         broken={"units": r"/units/spike_times_index is not a column of integers"}),
    Case("unit_ids_duplicate", _patch(_unit_ids),
         broken={"units": r"/units/id: unit ids are not unique"}),
    Case("spike_time_nan", _set_value("units/spike_times",
                                      np.r_[0.5, np.nan, 2.5, 1.0, 3.0, 0.25, 0.75, 1.25, 4]),
         broken={"units": r"/units/spike_times are not all finite"}),
    Case("timestamps_nan", _set_value("acquisition/stamped/timestamps",
                                      np.r_[STAMPS[:5], np.nan, STAMPS[6:]]),
         broken={"stamped": r"/acquisition/stamped/timestamps: time 5 is nan"}),
    Case("epoch_stop_inf", _set_value("intervals/epochs/stop_time", np.r_[1.0, 4.0, np.inf]),
         broken={"epochs": r"/intervals/epochs: start_time/stop_time must be finite"}),
    Case("epoch_lengths_differ", _set_value("intervals/epochs/stop_time", np.r_[1.0, 4.0]),
         broken={"epochs": r"/intervals/epochs: 3 start_time but 2 stop_time"}),
    # 3. hangs, blow-ups, unreadable structures
    Case("hard_link_cycle", _patch(_cycle),
         absent={"/acquisition/loop": "hard link back to /acquisition"}),
    Case("hard_link_fan_out", _patch(_fan_out)),
    Case("deep_groups", _patch(_deep_groups), absent={"/analysis/d0/d1": "nested more"}),
    Case("deep_spec_lists", _patch(_deep_spec_lists),
         absent={"/specifications/evil/0.1/namespace": "nested too deeply"},
         values={"ext_ts": {"ext_ts": np.arange(4.0)}}),
    Case("deep_spec_dicts", _patch(_deep_spec_dicts),
         absent={"/specifications/evil/0.1/namespace": "nested too deeply"},
         values={"ext_ts": {"ext_ts": np.arange(4.0)}}),
    Case("type_inc_cycle", _patch(_inc_cycle_spec),
         values={"ext_ts": {"ext_ts": np.arange(4.0)}}),
    Case("big_general_dataset", _patch(_big_general),
         absent={"/general/huge_notes": "too large for metadata"}),
    Case("scan_bound", _patch(_many_members), setup="small_scan_bound", subset=True,
         absent={"/analysis/many/g": "the scan stopped after 200 members"}),
    Case("compound_data", _set_value("acquisition/stamped/data", np.zeros(
        20, dtype=[("a", "f8"), ("b", "i4")])), absent={"/acquisition/stamped": "compound"}),
    Case("vlen_numbers", _set_value("acquisition/stamped/data", np.array(
        [np.arange(i % 3) for i in range(20)], dtype=object),
        dtype=h5py.vlen_dtype(np.float64)), absent={"/acquisition/stamped": "unsupported"}),
    Case("timestamps_2d", _set_value("acquisition/stamped/timestamps", np.zeros((20, 2))),
         absent={"/acquisition/stamped": "timestamps have shape"}),
    Case("timestamps_text", _set_value("acquisition/stamped/timestamps", ["t"] * 20),
         absent={"/acquisition/stamped": "timestamps are not numbers"}),
    Case("data_scalar", _set_value("acquisition/stamped/data", 1.0),
         absent={"/acquisition/stamped": "scalar"}),
    Case("data_rows_mismatch", _set_value("acquisition/stamped/data", np.zeros(7)),
         absent={"/acquisition/stamped": "7 data rows but 20 timestamps"}),
    Case("region_table_not_ref", _set_attr("acquisition/ephys/electrodes", "table", "x"),
         values={"ephys": {"ephys": EPHYS, "column": np.arange(3)}},
         warns=[r"ephys/electrodes: cannot follow"]),
    Case("colnames_garbage", _set_attr("units", "colnames", np.arange(3)), values={
        "units": {"spike_time": np.concatenate(list(UNIT_SPIKES.values()))}}),
    Case("neurodata_type_bad_utf8", _set_attr("acquisition/stamped", "neurodata_type",
                                              np.bytes_(b"\xff\xfe"))),
    Case("dangling_soft_link", _patch(lambda f: f.__setitem__(
        "acquisition/soft", h5py.SoftLink("/nowhere")))),
    Case("external_link", _patch(lambda f: f.__setitem__(
        "acquisition/ext", h5py.ExternalLink("missing.h5", "/x")))),
    # not NWB at all
    Case("random_bytes", _noise, kind="error", base=False, error="cannot read"),
    Case("empty_file", _empty, kind="error", base=False, error="cannot read"),
    Case("plain_hdf5", _plain_hdf5, kind="error", base=False, error="without the NWB layout"),
    Case("nwb_1x", _nwb1, kind="error", base=False, error="only NWB 2"),
    Case("root_type_bad_utf8", _weird_root, kind="error", base=False,
         error="without the NWB layout"),
]


def _truncate(size: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        os.truncate(path, size if size >= 0 else path.stat().st_size + size)
    return make


def _flip(offset: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        with open(path, "r+b") as fh:
            fh.seek(offset)
            byte = fh.read(1)
            fh.seek(offset)
            fh.write(bytes([byte[0] ^ 0xFF]))
    return make


def header_offsets(path: Path, per_object: int = 3) -> list[int]:
    """Byte offsets inside the superblock and the object headers of a few objects."""
    # superblock version 0: signature, versions, sizes, group K, base/EOF addresses, root
    offsets = [0, 8, 13, 16, 24, 40, 56, 80]
    with h5py.File(path, "r") as f:
        names = ["/", "acquisition/signal", "acquisition/signal/data",
                 "acquisition/signal/starting_time", "units/spike_times_index",
                 "intervals/epochs/tags_index", "acquisition/words/data"]
        rng = np.random.default_rng(1)
        for name in names:
            info = h5py.h5o.get_info(f[name].id)
            size = max(int(info.hdr.space.total), 16)
            offsets += [int(info.addr) + int(k) for k in
                        sorted(rng.choice(size, size=per_object, replace=False))]
    return offsets


def damaged_cases(base: Path) -> list[Case]:
    """Truncations at several offsets and flipped bytes in headers of ``base``."""
    size = base.stat().st_size
    out = [Case(f"truncated_at_{n}", _truncate(n), kind="damaged")
           for n in (0, 96, size // 10, size // 2, 9 * size // 10, -1)]
    out += [Case(f"flipped_byte_{n}", _flip(n), kind="damaged") for n in header_offsets(base)]
    return out


# --------------------------------------------------------------------------- scenarios
def _copy(src: Path, work: Path, name: str = "x.nwb") -> Path:
    work.mkdir(parents=True, exist_ok=True)
    dest = work / name
    shutil.copyfile(src, dest)
    return dest


def truncated_under_lazy_array(src: Path, work: Path) -> tuple[str, str]:
    """A lazily opened series whose file is truncated before it is read must raise,
    never read zeros."""
    import xr_nap as nap
    from xr_nap.errors import FileFormatError

    path = _copy(src, work)
    data = nap.load_file(path)
    lazy = data["signal"]
    os.truncate(path, path.stat().st_size // 4)
    try:
        values = lazy.values
    except FileFormatError as err:
        return ("clear" if "x.nwb" in str(err) else "wrong"), str(err)
    return "wrong", f"read {values[:5]} from a truncated file"


def truncated_before_first_access(src: Path, work: Path) -> tuple[str, str]:
    """The file is truncated after open, before an object is built."""
    import xr_nap as nap
    from xr_nap.errors import FileFormatError

    path = _copy(src, work)
    data = nap.load_file(path)
    os.truncate(path, path.stat().st_size - 100)
    try:
        units = data["units"]
        values = units.spike_time.values
    except FileFormatError as err:
        return ("clear" if "x.nwb" in str(err) else "wrong"), str(err)
    return "wrong", f"read {values[:5]} from a truncated file"


def _pickled_relative(src: Path, work: Path) -> bytes:
    import xarray as xr

    path = _copy(src, work)
    os.chdir(work)
    with xr.open_dataarray(Path(path.name), engine="nwb", group="stamped") as da:
        return pickle.dumps(da)


def pickled_then_moved_cwd(src: Path, work: Path) -> tuple[str, str]:
    """A lazy array pickled from a relative path reads the same file elsewhere."""
    blob = _pickled_relative(src, work)
    os.chdir(work.parent)
    values = pickle.loads(blob).values
    same = np.array_equal(values, STAMPED)
    return ("ok" if same else "wrong"), f"values {values[:3]}"


def pickled_then_replaced(src: Path, work: Path) -> tuple[str, str]:
    """A lazy array pickled, then its file replaced by another NWB file, must refuse."""
    from xr_nap.errors import FileFormatError

    blob = _pickled_relative(src, work)
    other = work / "other.nwb"
    base_session(other)  # the same layout, another file (object_id differs)
    os.replace(other, work / "x.nwb")
    os.chdir(work.parent)
    try:
        values = pickle.loads(blob).values
    except FileFormatError as err:
        return ("clear" if "x.nwb" in str(err) else "wrong"), str(err)
    return "wrong", f"read {values[:3]} from another file"


def pickled_then_truncated(src: Path, work: Path) -> tuple[str, str]:
    from xr_nap.errors import FileFormatError

    blob = _pickled_relative(src, work)
    os.truncate(work / "x.nwb", 1000)
    try:
        values = pickle.loads(blob).values
    except FileFormatError as err:
        return ("clear" if "x.nwb" in str(err) else "wrong"), str(err)
    return "wrong", f"read {values[:3]} from a truncated file"


SCENARIOS: list[Callable[[Path, Path], tuple[str, str]]] = [
    truncated_under_lazy_array, truncated_before_first_access, pickled_then_moved_cwd,
    pickled_then_replaced, pickled_then_truncated,
]


def build(case: Case, base: Path, folder: Path) -> Path:
    """Write the file of ``case`` into ``folder``."""
    path = folder / f"{case.name}.nwb"
    if case.base:
        shutil.copyfile(base, path)
    case.make(path)
    return path


# --------------------------------------------------------------------------- reading
CAP = 100_000  # values of larger variables are summarised, not returned


def _error(err: BaseException) -> dict[str, Any]:
    from xr_nap.errors import XrNapError

    return {"error": f"{type(err).__module__}.{type(err).__qualname__}",
            "xrnap": isinstance(err, XrNapError), "message": str(err)}


def _summary(obj: Any) -> dict[str, Any]:
    import xarray as xr

    if isinstance(obj, xr.DataArray):
        obj = obj.to_dataset(name=obj.name if obj.name is not None else "_")
    return {str(name): var.values if var.size <= CAP else ("big", var.shape, str(var.dtype))
            for name, var in obj.variables.items()}


def _read_load_file(path: Path, objects: dict) -> None:
    import xr_nap as nap
    from xr_nap.errors import XrNapError

    with nap.load_file(path) as data:
        for key in data:
            try:
                obj = data[key]
                items = obj.items() if isinstance(obj, dict) else [("", obj)]
                for col, item in items:
                    objects["/".join(p for p in (key, col) if p)] = _summary(item)
            except XrNapError as err:
                objects[key] = _error(err)


def _read_open_dataset(path: Path, objects: dict) -> None:
    import xarray as xr

    from xr_nap.errors import XrNapError

    with xr.open_dataset(path, engine="nwb") as root:
        keys = list(root.attrs["nwb_keys"])
    for key in keys:
        try:
            with xr.open_dataset(path, engine="nwb", group=key) as ds:
                objects[key] = _summary(ds.load())
        except XrNapError as err:
            objects[key] = _error(err)


def _read_open_datatree(path: Path, objects: dict) -> None:
    import xarray as xr

    with xr.open_datatree(path, engine="nwb") as tree:
        for node in tree.subtree:
            if node.path != "/" and node.has_data:
                objects[node.path.lstrip("/")] = _summary(node.to_dataset().load())


def _read_info(path: Path, objects: dict) -> None:
    import contextlib
    import io

    from xr_nap.cli import info

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        info(Path(path))
    for line in out.getvalue().splitlines()[4:-1]:  # title, rule, header, rule ... rule
        cells = [c.strip() for c in line.strip("│").split("│")]
        objects[cells[0]] = {"info": cells[1:]}


READERS = {"load_file": _read_load_file, "open_dataset": _read_open_dataset,
           "open_datatree": _read_open_datatree, "info": _read_info}


def read(op: str, path: str, setup: str = "") -> dict[str, Any]:
    """What ``op`` gives on ``path``: the objects read (values of each variable, or
    the error an object raised), the error that stopped the open, and the warnings."""
    if setup:
        globals()[setup]()
    view: dict[str, Any] = {"open_error": None, "objects": {}, "warnings": []}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            READERS[op](Path(path), view["objects"])
        except Exception as err:  # judged by the test: only XrNapError is clear
            view["open_error"] = _error(err)
    view["warnings"] = [(w.category.__name__, str(w.message)) for w in caught]
    return view


def scenario(name: str, src: str, work: str) -> tuple[str, str]:
    """Run the scenario ``name`` on a copy of ``src`` in the folder ``work``."""
    return globals()[name](Path(src), Path(work))
