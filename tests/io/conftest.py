"""NWB fixtures: small files written with pynwb in a temporary directory."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

pynwb = pytest.importorskip("pynwb")


def new_nwbfile(**kwargs) -> pynwb.NWBFile:
    return pynwb.NWBFile(
        session_description="xr-nap test session", identifier="xr-nap-test",
        session_start_time=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        session_id="sess-1", **kwargs,
    )


def write(nwb: pynwb.NWBFile, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pynwb.NWBHDF5IO(str(path), "w") as io:
            io.write(nwb)
    return path


def build_session(path: Path) -> Path:
    """One of every object type pynapple maps, plus two objects named ``pos``."""
    from hdmf.common import DynamicTable, VectorData
    from pynwb.behavior import Position, SpatialSeries
    from pynwb.ecephys import ElectricalSeries
    from pynwb.misc import AnnotationSeries

    rng = np.random.default_rng(0)
    nwb = new_nwbfile()
    device = nwb.create_device("probe")
    egroup = nwb.create_electrode_group("shank0", description="d", location="CA1",
                                        device=device)
    for i in range(4):
        nwb.add_electrode(group=egroup, location="CA1", x=float(i), y=0.0, z=0.0,
                          imp=1.0, filtering="none")
    region = nwb.create_electrode_table_region([0, 1, 2], "three electrodes")

    # rate-based 1-D with conversion/offset on int16 raw data
    nwb.add_acquisition(pynwb.TimeSeries(
        name="signal", data=rng.integers(-100, 100, 500).astype(np.int16), unit="V",
        rate=100.0, starting_time=0.5, conversion=0.25, offset=-1.0))
    # rate-based 2-D (chunked, so dask gets the HDF5 chunks)
    from hdmf.backends.hdf5 import H5DataIO

    nwb.add_acquisition(pynwb.TimeSeries(
        name="multi", data=H5DataIO(rng.normal(size=(400, 3)), chunks=(100, 3)), unit="a.u.",
        rate=30.0, starting_time=1.0))
    # timestamps-based 1-D
    t = np.cumsum(rng.uniform(0.01, 0.05, 200))
    nwb.add_acquisition(pynwb.TimeSeries(name="stamped", data=rng.normal(size=200),
                                         unit="a.u.", timestamps=t))
    # 3-D data
    nwb.add_acquisition(pynwb.TimeSeries(name="video", data=rng.normal(size=(20, 4, 5)),
                                         unit="a.u.", rate=10.0))
    nwb.add_acquisition(ElectricalSeries(name="ephys", data=rng.normal(size=(300, 3)),
                                         electrodes=region, rate=1000.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated in pynwb 4, still read by pynapple
        nwb.add_acquisition(AnnotationSeries(name="notes", data=["a", "b", "c"],
                                             timestamps=[1.0, 2.0, 3.5]))

    behavior = nwb.create_processing_module("behavior", "behaviour")
    position = Position(name="Position")
    position.add_spatial_series(SpatialSeries(
        name="pos", data=rng.normal(size=(150, 2)), reference_frame="arena",
        timestamps=np.linspace(0.0, 15.0, 150)))
    behavior.add(position)
    other = nwb.create_processing_module("other", "same names elsewhere")
    other.add(pynwb.TimeSeries(name="pos", data=rng.normal(size=50), unit="m", rate=5.0))
    other.add(DynamicTable(name="events", description="reward times", columns=[
        VectorData(name="reward_times", description="t", data=[0.5, 1.5, 4.0])]))

    nwb.add_unit_column("quality", "string label")
    nwb.add_unit_column("is_good", "bool flag")
    nwb.add_unit_column("depth", "float")
    for uid, (q, good, depth) in zip([12, 3, 7], [("good", True, 10.5), ("mua", False, 2.0),
                                                  ("good", True, -1.0)], strict=True):
        spikes = np.sort(rng.uniform(0.0, 20.0, 30 + uid))
        nwb.add_unit(id=uid, spike_times=spikes, quality=q, is_good=good, depth=depth,
                     electrode_group=egroup)

    nwb.add_epoch(0.0, 5.0, tags=["sleep"])
    nwb.add_epoch(6.0, 12.0, tags=["wake"])
    nwb.add_trial_column("condition", "string condition")
    nwb.add_trial_column("correct", "bool")
    for i in range(4):
        nwb.add_trial(start_time=2.0 * i, stop_time=2.0 * i + 1.0,
                      condition=["left", "right"][i % 2], correct=bool(i % 3))
    return write(nwb, path)


@pytest.fixture(scope="session")
def session_nwb(tmp_path_factory) -> Path:
    return build_session(tmp_path_factory.mktemp("nwb") / "session.nwb")


@pytest.fixture
def unsorted_nwb(tmp_path) -> Path:
    nwb = new_nwbfile()
    nwb.add_acquisition(pynwb.TimeSeries(name="shuffled", data=np.array([30.0, 10.0, 20.0]),
                                         unit="a.u.", timestamps=[3.0, 1.0, 2.0]))
    return write(nwb, tmp_path / "unsorted.nwb")


@pytest.fixture
def same_path_nwb(tmp_path) -> Path:
    """Two objects whose container paths are both ``/x`` (pynapple keeps only one)."""
    nwb = new_nwbfile()
    nwb.add_acquisition(pynwb.TimeSeries(name="x", data=np.arange(5.0), unit="a", rate=1.0))
    nwb.add_stimulus(pynwb.TimeSeries(name="x", data=np.arange(7.0), unit="a", rate=2.0))
    return write(nwb, tmp_path / "same_path.nwb")


@pytest.fixture
def big_rate_nwb(tmp_path) -> Path:
    """A rate-based series of 2e6 float32 samples in 1e4-sample chunks."""
    from hdmf.backends.hdf5 import H5DataIO

    nwb = new_nwbfile()
    data = np.arange(2_000_000, dtype=np.float32)
    nwb.add_acquisition(pynwb.TimeSeries(name="lfp", data=H5DataIO(data, chunks=(10_000,)),
                                         unit="V", rate=1000.0, starting_time=0.0))
    return write(nwb, tmp_path / "big.nwb")


@pytest.fixture
def multi_times_nwb(tmp_path) -> Path:
    """A table with two ``*_times`` columns (pynapple: a dict of two Ts)."""
    from hdmf.common import DynamicTable, VectorData

    nwb = new_nwbfile()
    module = nwb.create_processing_module("events", "events")
    module.add(DynamicTable(name="licks", description="d", columns=[
        VectorData(name="left_times", description="t", data=[0.5, 1.5]),
        VectorData(name="right_times", description="t", data=[0.7, 2.5])]))
    return write(nwb, tmp_path / "multi_times.nwb")
