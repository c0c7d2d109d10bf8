"""The NWB backend: xarray integration, laziness, pickling, dask, closing, broken files."""

from __future__ import annotations

import pickle
import warnings

import h5py
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import xr_nap as nap
from xr_nap.core.time_index import TimeIndex, rate_time_coords
from xr_nap.errors import NWBFormatError
from xr_nap.io.nwb import NWBArray, NWBBackendEntrypoint


@pytest.fixture
def reads(monkeypatch):
    """Record the key of every read from an NWB dataset."""
    log: list[tuple] = []
    original = NWBArray._read

    def counted(self, key):
        log.append((self.path, key))
        return original(self, key)

    monkeypatch.setattr(NWBArray, "_read", counted)
    return log


# --------------------------------------------------------------------------- xarray API
def test_engine_registered_and_guess(session_nwb, tmp_path):
    assert "nwb" in xr.backends.list_engines()
    entry = NWBBackendEntrypoint()
    assert entry.guess_can_open(session_nwb)
    renamed = tmp_path / "session.h5"
    renamed.write_bytes(session_nwb.read_bytes())
    assert entry.guess_can_open(renamed)
    with h5py.File(tmp_path / "plain.h5", "w") as f:
        f["x"] = np.arange(3)
    assert not entry.guess_can_open(tmp_path / "plain.h5")
    assert not entry.guess_can_open(tmp_path / "missing.h5")


def test_open_dataset_without_group_gives_file_metadata(session_nwb):
    with xr.open_dataset(session_nwb, engine="nwb") as ds:
        assert not ds.data_vars
        assert ds.attrs["identifier"] == "xr-nap-test"
        assert ds.attrs["session_description"] == "xr-nap test session"
        assert ds.attrs["session_start_time"].startswith("2024-01-02T03:04:05")
        assert "units" in ds.attrs["nwb_keys"] and "Position/pos" in ds.attrs["nwb_keys"]


def test_group_by_key_full_path_or_hdf5_path(session_nwb):
    for group in ("Position/pos", "/behavior/Position/pos", "/processing/behavior/Position/pos"):
        with xr.open_dataset(session_nwb, engine="nwb", group=group) as ds:
            assert ds.pos.dims == ("time", "column")
            assert ds.column.values.tolist() == ["x", "y"]
    with pytest.raises(KeyError, match="no NWB object 'nope'.*keys"):
        xr.open_dataset(session_nwb, engine="nwb", group="nope")


def test_open_dataarray_and_drop_variables(session_nwb):
    with xr.open_dataarray(session_nwb, engine="nwb", group="stamped") as da:
        assert nap.nap_type(da) == "Tsd" and da.sizes["time"] == 200
    with xr.open_dataset(session_nwb, engine="nwb", group="units",
                         drop_variables=["depth", "quality"]) as ds:
        assert "depth" not in ds and "quality" not in ds and "is_good" in ds


def test_electrical_series_columns_are_electrode_ids(session_nwb):
    with xr.open_dataarray(session_nwb, engine="nwb", group="ephys") as da:
        assert da.column.values.tolist() == [0, 1, 2]
        assert da.coords["x"].values.tolist() == [0.0, 1.0, 2.0]
        assert da.coords["location"].values.tolist() == ["CA1"] * 3


def test_datatree(session_nwb):
    with xr.open_datatree(session_nwb, engine="nwb") as tree:
        assert tree.attrs["identifier"] == "xr-nap-test"
        assert set(tree["other"].children) == {"pos"}
        assert tree["events"]["reward_times"].values.tolist() == [0.5, 1.5, 4.0]
        assert tree["Position/pos"]["pos"].dims == ("time", "column")
        assert tree["units"].ds.attrs["nap_type"] == "TsGroup"
        assert tree["trials"]["condition"].values.tolist() == ["left", "right"] * 2


def test_several_times_columns(multi_times_nwb):
    data = nap.load_file(multi_times_nwb)
    assert list(data) == ["licks"]
    assert set(data["licks"]) == {"left_times", "right_times"}
    assert data["licks"]["right_times"].values.tolist() == [0.7, 2.5]
    with pytest.raises(ValueError, match="several Ts.*licks/<column>"):
        xr.open_dataset(multi_times_nwb, engine="nwb", group="licks")
    with xr.open_dataset(multi_times_nwb, engine="nwb", group="licks/left_times") as ds:
        assert ds.left_times.values.tolist() == [0.5, 1.5]
    with xr.open_datatree(multi_times_nwb, engine="nwb") as tree:
        assert set(tree["licks"].children) == {"left_times", "right_times"}


# --------------------------------------------------------------------------- time index
def test_rate_based_time_index_is_lazy_and_exact(session_nwb):
    with xr.open_dataarray(session_nwb, engine="nwb", group="signal") as da:
        assert isinstance(da.xindexes["time"], TimeIndex) and da.xindexes["time"].is_rate
        np.testing.assert_array_equal(da.time.values, 0.5 + np.arange(500) / 100.0)
        window = da.sel(time=slice(1.0, 1.05))
        np.testing.assert_array_equal(window.time.values, 0.5 + np.arange(50, 56) / 100.0)
        assert window.xindexes["time"].is_rate
        assert da.isel(time=slice(10, 20)).sel(time=slice(0.6, 0.65)).sizes["time"] == 6
        assert float(da.sel(time=0.52).time) == 0.52
        with pytest.raises(KeyError, match="not a sample time"):
            da.sel(time=0.525)
        assert float(da.sel(time=0.525, method="nearest").time) in (0.52, 0.53)


@settings(max_examples=80, deadline=None)
@given(t0=st.floats(-1e4, 1e4), rate=st.sampled_from([1.0, 3.0, 29.97, 100.0, 1250.0, 3e4]),
       n=st.integers(1, 5000), picks=st.lists(st.floats(-0.2, 1.2), min_size=2, max_size=7),
       on_sample=st.booleans())
def test_rate_index_search_matches_searchsorted(t0, rate, n, picks, on_sample):
    """Scalar (window) and vector searches and label slices agree with numpy, bit for bit
    on the exact sample times too."""
    t = t0 + np.arange(n) / rate
    span = n / rate
    labels = np.array([t[int(np.clip(p * n, 0, n - 1))] if on_sample else t0 + p * span
                       for p in picks])
    da = xr.DataArray(np.arange(n), dims="time", coords=rate_time_coords(t0, rate, n))
    index = da.xindexes["time"]
    for side in ("left", "right"):
        expected = np.searchsorted(t, labels, side=side)
        np.testing.assert_array_equal(index.searchsorted(labels, side=side), expected)
        for value, want in zip(labels[:2], expected[:2], strict=True):
            assert index.searchsorted([value], side=side)[0] == want
    lo, hi = np.sort(labels[:2])
    window = da.sel(time=slice(lo, hi))
    np.testing.assert_array_equal(window.values, np.flatnonzero((t >= lo) & (t <= hi)))
    np.testing.assert_array_equal(window.time.values, t[(t >= lo) & (t <= hi)])


# --------------------------------------------------------------------------- laziness
def test_nothing_read_at_open_and_slices_read_only_the_window(big_rate_nwb, reads):
    with xr.open_dataarray(big_rate_nwb, engine="nwb", group="lfp") as da:
        assert reads == []
        window = da.sel(time=slice(100.0, 110.0))
        assert reads == []
        values = window.values
        np.testing.assert_array_equal(values, np.arange(100_000, 110_001, dtype=np.float32))
        assert reads == [("/acquisition/lfp/data", (slice(100_000, 110_001, 1),))]
        # the time support is known without reading the data or building the times
        assert da.time.attrs["time_support"].tolist() == [0.0, 1999.999]


def test_lazy_indexing_matches_loaded_values(session_nwb):
    """Plain slices and non-negative ints go straight to h5py; the rest through xarray's
    adapter: every form gives the values of the loaded array."""
    with xr.open_dataarray(session_nwb, engine="nwb", group="multi") as da:
        loaded = da.load().copy()
    with xr.open_dataarray(session_nwb, engine="nwb", group="multi") as da:
        for idx in [{"time": 5}, {"time": -1}, {"time": slice(10, 100, 7)},
                    {"time": slice(None, None, -3)}, {"time": [3, 1, 2]},
                    {"time": 5, "column": 2}, {"column": slice(0, 3, 2)},
                    {"time": slice(-50, -3)}, {"time": np.int64(7)},
                    {"time": xr.DataArray([1, 5, 2], dims="z"),
                     "column": xr.DataArray([0, 2, 1], dims="z")}]:
            np.testing.assert_array_equal(da.isel(idx).values, loaded.isel(idx).values)


def test_nwbfile_getitem_reads_no_series_data(session_nwb, reads):
    with nap.load_file(session_nwb) as data:
        for key in data:
            data[key]
        assert reads == []
        assert data["multi"].isel(time=slice(5, 8)).values.shape == (3, 3)
        assert reads == [("/acquisition/multi/data", (slice(5, 8, 1), slice(None)))]


def test_lazy_loading_false_loads(session_nwb, reads):
    with nap.load_file(session_nwb, lazy_loading=False) as data:
        da = data["stamped"]
        assert isinstance(da.variable._data, np.ndarray)
        assert len(reads) == 1


def test_pickle_lazy_dataarray(session_nwb):
    with xr.open_dataarray(session_nwb, engine="nwb", group="signal") as da:
        clone = pickle.loads(pickle.dumps(da))
        xr.testing.assert_identical(clone.load(), da.load())


def test_dask_chunks(session_nwb):
    dask = pytest.importorskip("dask")
    with xr.open_dataarray(session_nwb, engine="nwb", group="multi", chunks={}) as da:
        assert da.chunks == ((100,) * 4, (3,))
        with dask.config.set(scheduler="processes", num_workers=2):
            total = float(da.sum().compute())
    with xr.open_dataarray(session_nwb, engine="nwb", group="multi") as da:
        assert total == pytest.approx(float(da.sum()))


# --------------------------------------------------------------------------- closing
def test_nwbfile_mapping_and_close(session_nwb):
    data = nap.load_file(session_nwb)
    text = repr(data)
    assert text.splitlines()[0] == "session"
    assert "│ Keys" in text and "units" in text and "TsGroup" in text
    assert data["/behavior/Position/pos"] is data["Position/pos"]
    assert len(data.key_to_id["units"]) == 36
    with pytest.raises(KeyError, match="Can't find key"):
        data["nope"]
    data.close()
    assert data.closed
    with pytest.raises(ValueError, match="closed"):
        data["units"]


def test_from_pynwb_file(session_nwb):
    import pynwb

    io = pynwb.NWBHDF5IO(str(session_nwb), "r")
    nwbfile = io.read()
    data = nap.NWBFile(nwbfile)
    assert data.name == "sess-1"
    lazy = data["stamped"]
    np.testing.assert_array_equal(lazy.values[:3], nwbfile.acquisition["stamped"].data[:3])
    data.close()  # leaves the pynwb file open
    assert nwbfile.acquisition["stamped"].data.id.valid
    lazy = nap.NWBFile(nwbfile)["signal"]
    io.close()
    with pytest.raises(ValueError, match="closed"):
        lazy.load()
    with pytest.raises(ValueError, match="closed"):
        nap.NWBFile(nwbfile)


def test_in_memory_pynwb_file_rejected():
    from conftest import new_nwbfile

    with pytest.raises(ValueError, match="not read from an HDF5 file"):
        nap.NWBFile(new_nwbfile())


# --------------------------------------------------------------------------- bad files
def test_broken_files(session_nwb, tmp_path):
    truncated = tmp_path / "truncated.nwb"
    truncated.write_bytes(session_nwb.read_bytes()[: session_nwb.stat().st_size // 2])
    noise = tmp_path / "noise.nwb"
    noise.write_bytes(np.random.default_rng(0).bytes(4096))
    plain = tmp_path / "plain.nwb"
    with h5py.File(plain, "w") as f:
        f["x"] = np.arange(3)
    old = tmp_path / "old.nwb"
    with h5py.File(old, "w") as f:
        f["nwb_version"] = "NWB-1.0.6"
    for path, error, match in [(truncated, NWBFormatError, "cannot read .*truncated.nwb"),
                               (noise, NWBFormatError, "cannot read .*noise.nwb"),
                               (plain, NWBFormatError, "without the NWB layout"),
                               (old, NWBFormatError, "NWB NWB-1.0.6 file; only NWB 2")]:
        with pytest.raises(error, match=match):
            nap.load_file(path)
        with pytest.raises(error, match=match):
            xr.open_dataset(path, engine="nwb", group="x")
    with pytest.raises(FileNotFoundError):
        nap.load_file(tmp_path / "missing.nwb")


def test_backcompat_files_open_or_warn(shared_dir):
    files = sorted((shared_dir / "data" / "nwb" / "backcompat").glob("*.nwb"))
    assert files
    for path in files:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with nap.load_file(path) as data:
                for key in data:
                    np.asarray(data[key].values)
            with xr.open_datatree(path, engine="nwb") as tree:
                assert "nwb_version" in tree.attrs
        for w in caught:
            assert "/acquisition/test_imageseries" in str(w.message), path.name
        if "external" in path.name or "imageseries_no_data" in path.name:
            assert caught, path.name


def test_extension_type_resolved(shared_dir):
    path = shared_dir / "data" / "nwb" / "backcompat" / "2.1.0_nwbfile_with_extension.nwb"
    with nap.load_file(path) as data:
        da = data["test_ts"]
        assert da.attrs["neurodata_type"] == "TimeSeriesWithID"
        assert da.values.tolist() == [1.0, 2.0, 3.0]


def test_restrict_to_distant_intervals_reads_each_run_only(session_nwb, reads):
    with nap.load_file(session_nwb) as data:
        stamped = data["stamped"]
        t = stamped.time.values
        ep = nap.interval_set([t[5], t[150]], [t[9], t[152]])
        reads.clear()
        values = nap.restrict(stamped, ep).values
    assert [key[0].indices(200) for _, key in reads] == [(5, 10, 1), (150, 153, 1)]
    assert values.shape == (8,)


def test_load_file_accepts_an_open_pynwb_file(session_nwb):
    import pynwb

    with pynwb.NWBHDF5IO(str(session_nwb), "r") as io:
        data = nap.load_file(io.read())
        assert "units" in data and data["units"].sizes["unit"] > 0


def test_units_layout_recorded_at_open_matches_a_fresh_lookup(session_nwb):
    """The scan records the units table's members, columns and description; building
    from them gives the same TsGroup as looking them up in the file again."""
    import dataclasses

    from xr_nap.io.nwb_build import build as _build

    with nap.load_file(session_nwb) as data:
        store = data._store
        obj = store.index["units"]
        assert obj.table is not None and "spike_times" in obj.table.colnames
        assert "spike_times_index" in obj.table.members
        recorded = _build(store, obj)
        fresh = _build(store, dataclasses.replace(obj, table=None))
        xr.testing.assert_identical(recorded, fresh)
        assert all(o.table is None for o in store.index.values() if o.kind != "TsGroup")


# --------------------------------------------------------------------------- channel_conversion
@pytest.fixture
def channel_nwb(tmp_path):
    """int16 ElectricalSeries with conversion, offset and per-channel factors."""
    from conftest import new_nwbfile, write
    from pynwb.ecephys import ElectricalSeries

    nwb = new_nwbfile()
    device = nwb.create_device("probe")
    group = nwb.create_electrode_group("shank", description="d", location="CA1", device=device)
    for i in range(3):
        nwb.add_electrode(group=group, location="CA1", x=float(i), y=0.0, z=0.0, imp=1.0,
                          filtering="none")
    region = nwb.create_electrode_table_region([0, 1, 2], "all")
    raw = np.random.default_rng(3).integers(-1000, 1000, (200, 3)).astype(np.int16)
    nwb.add_acquisition(ElectricalSeries(
        name="ephys", data=raw, electrodes=region, rate=100.0, conversion=1e-3, offset=0.5,
        channel_conversion=[1.0, 2.0, 0.25]))
    return write(nwb, tmp_path / "channels.nwb"), raw


def test_channel_conversion_applied_lazily(channel_nwb):
    path, raw = channel_nwb
    physical = raw * 1e-3 * np.array([1.0, 2.0, 0.25]) + 0.5
    with xr.open_dataarray(path, engine="nwb", group="ephys") as da:
        loaded = da.load().copy()
    np.testing.assert_allclose(loaded.values, physical, rtol=1e-15)
    # no CF packing holds per-channel factors: written back as floats
    assert "scale_factor" not in loaded.encoding and loaded.encoding["dtype"] == np.float64
    with xr.open_dataarray(path, engine="nwb", group="ephys") as da:
        for idx in [{"time": 5}, {"time": 5, "column": 2}, {"column": 1},
                    {"column": slice(1, 3)}, {"column": [2, 0]}, {"time": [3, 1, 150]},
                    {"time": slice(None, None, -7), "column": slice(None, None, -1)}]:
            np.testing.assert_array_equal(da.isel(idx).values, loaded.isel(idx).values)
        runs = nap.restrict(da, nap.interval_set([0.1, 1.5], [0.3, 1.7])).values
        np.testing.assert_array_equal(runs, loaded.values[np.r_[10:31, 150:171]])
    with nap.load_file(path, chunks={"time": 64}) as data:
        np.testing.assert_array_equal(data["ephys"].values, loaded.values)


def test_channel_conversion_raw_and_unusable(channel_nwb, tmp_path):
    path, raw = channel_nwb
    with xr.open_dataarray(path, engine="nwb", group="ephys", mask_and_scale=False) as da:
        np.testing.assert_array_equal(da.values, raw)
        np.testing.assert_array_equal(da.attrs["channel_conversion"], [1.0, 2.0, 0.25])
        assert da.attrs["scale_factor"] == 1e-3
    for factors, message in [([1.0, 2.0], "of shape \\(2,\\).*not applied"),  # 3 columns
                             ([1.0, np.nan, 2.0], "is not all finite; not applied")]:
        bad = tmp_path / "bad_channels.nwb"
        bad.write_bytes(path.read_bytes())
        with h5py.File(bad, "a") as f:
            del f["acquisition/ephys/channel_conversion"]
            f["acquisition/ephys/channel_conversion"] = factors
        with pytest.warns(UserWarning, match=f"channel_conversion {message}"), \
                nap.load_file(bad) as data:
            np.testing.assert_allclose(data["ephys"].values, raw * 1e-3 + 0.5, rtol=1e-15)


# --------------------------------------------------------------------------- hostile input
STRING_SCRIPT = """
import sys, warnings
from datetime import UTC, datetime
import h5py, pynwb, xarray as xr
import xr_nap as nap
from xr_nap.cli import main

path, out = sys.argv[1], sys.argv[2]
nwb = pynwb.NWBFile(session_description="s", identifier="strings",
                    session_start_time=datetime(2024, 1, 1, tzinfo=UTC))
nwb.add_acquisition(pynwb.TimeSeries(name="words", data=["a", "bb", "ccc"], unit="n/a",
                                     timestamps=[1.0, 2.0, 3.0]))
nwb.add_acquisition(pynwb.TimeSeries(name="refs", data=[0, 0, 0], unit="n/a",
                                     timestamps=[1.0, 2.0, 3.0]))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    with pynwb.NWBHDF5IO(path, "w") as io:
        io.write(nwb)
with h5py.File(path, "a") as f:  # pynwb cannot write references as TimeSeries data
    del f["acquisition/refs/data"]
    ref = f["acquisition/words"].ref
    f.create_dataset("acquisition/refs/data", data=[ref, h5py.Reference(), ref],
                     dtype=h5py.ref_dtype)
with nap.load_file(path) as data:
    print(data["words"].values.tolist(), data["refs"].values.tolist())
with xr.open_dataset(path, engine="nwb", group="words") as ds:
    print(ds.words.values.tolist())
with xr.open_datatree(path, engine="nwb") as tree:
    print(tree["refs"].refs.values.tolist())
assert main(["info", path]) == 0
assert main(["convert", path, out]) == 0
with xr.open_datatree(out) as tree:
    print(tree["words"].words.values.tolist())
"""


def test_string_and_reference_series_read_without_deadlock(tmp_path):
    """A pynwb TimeSeries of strings deadlocked every reader (the store lock was held
    while xarray sampled the data through the same lock); run in a process of its own
    so that a deadlock fails this test instead of hanging the run."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", STRING_SCRIPT, str(tmp_path / "s.nwb"), str(tmp_path / "s.nc")],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "['a', 'bb', 'ccc'] ['/acquisition/words', '', '/acquisition/words']"
    assert lines[1] == "['a', 'bb', 'ccc']"
    assert lines[2] == "['/acquisition/words', '', '/acquisition/words']"
    assert lines[-1] == "['a', 'bb', 'ccc']"


def test_reading_through_the_lock_while_holding_it_raises(session_nwb):
    from xr_nap.io.nwb_store import LockOrderError, holding

    with nap.load_file(session_nwb) as data:
        lazy = data["stamped"]
        with holding(data._store.lock), pytest.raises(LockOrderError):
            lazy.values  # noqa: B018
        assert lazy.values.shape == (200,)  # the lock was released


def test_warnings_point_at_the_callers_line(session_nwb, tmp_path):
    path = tmp_path / "bad.nwb"
    path.write_bytes(session_nwb.read_bytes())
    with h5py.File(path, "a") as f:
        f["acquisition/signal/data"].attrs["conversion"] = np.nan
        f["acquisition/multi/starting_time"][()] = np.inf
    with pytest.warns(UserWarning) as caught:
        data = nap.load_file(path)
        data["signal"]
    data.close()
    messages = {type(w.message).__name__: str(w.message) for w in caught}
    assert "multi: its starting_time is inf" in messages["SkippedObjectWarning"]
    assert "/acquisition/signal: conversion = nan" in messages["XrNapWarning"]
    assert {w.filename for w in caught} == {__file__}
    assert "multi" not in data


def test_open_groups_as_dict_closes_the_store_when_a_builder_fails(session_nwb, monkeypatch):
    from xr_nap.io import nwb
    from xr_nap.io.nwb_store import NWBStore

    closed = []
    monkeypatch.setattr(NWBStore, "close", lambda self: closed.append(self.where))

    def fail(*args, **kwargs):
        raise RuntimeError("builder bug")

    monkeypatch.setattr(nwb, "build", fail)
    for open_ in (NWBBackendEntrypoint().open_groups_as_dict,
                  NWBBackendEntrypoint().open_datatree):
        with pytest.raises(RuntimeError, match="builder bug"):
            open_(session_nwb)
    assert closed == [str(session_nwb)] * 2


def test_pynwb_file_without_h5py_datasets_is_reopened_by_path(tmp_path):
    """pynwb holds h5py datasets for its containers; a file of metadata only holds
    none, and is then read from its path (the public route, not pynwb's private file)."""
    import pynwb
    from conftest import new_nwbfile, write

    path = write(new_nwbfile(), tmp_path / "meta.nwb")
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        with nap.NWBFile(io.read()) as data:
            assert len(data) == 0 and data.attrs["identifier"] == "xr-nap-test"
            assert data.name == "sess-1"
