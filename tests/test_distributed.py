"""The same reductions on a ``dask.distributed`` cluster of worker processes.

A dask-backed NWB series (``chunks={}``: the HDF5 chunks) is reduced while a
``LocalCluster`` client is active, so every chunk task runs in another process, which
reopens the HDF5 file through the backend's file manager. Results must equal the
single-process (lazy, no dask) computation.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import xr_nap as nap

distributed = pytest.importorskip("distributed")

RATE = 500.0
N = 400_000  # 800 s, HDF5 chunks of 25_000 rows -> 16 chunk tasks


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Path:
    import pynwb
    from hdmf.backends.hdf5 import H5DataIO

    rng = np.random.default_rng(1)
    t = np.arange(N) / RATE
    pos = np.stack([50 + 40 * np.sin(t / 7.0), 50 + 40 * np.cos(t / 11.0)], axis=1)
    nwb = pynwb.NWBFile(session_description="distributed test", identifier="dist",
                        session_start_time=datetime(2024, 1, 1, tzinfo=UTC))
    nwb.add_acquisition(pynwb.TimeSeries(name="position", unit="cm", rate=RATE,
                                         starting_time=0.0,
                                         data=H5DataIO(pos, chunks=(25_000, 2))))
    for _ in range(4):
        nwb.add_unit(spike_times=np.sort(rng.uniform(0, N / RATE, 3_000)))
    path = tmp_path_factory.mktemp("dist") / "session.nwb"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pynwb.NWBHDF5IO(str(path), "w") as io:
            io.write(nwb)
    return path


def reductions(units: xr.Dataset, position: xr.DataArray) -> dict[str, xr.DataArray]:
    epochs = nap.interval_set([10.0, 300.0], [250.0, 700.0])
    return {
        "count": nap.count(units, 1.0, ep=epochs),
        "bin_average": position.nap.bin_average(2.0, ep=epochs),
        "tuning_curves": nap.tuning_curves(units, position, bins=(8, 6), epochs=epochs),
        "eta": nap.event_triggered_average(units, position.isel(column=0), 0.05, 0.5),
        "value_from": nap.value_from(nap.ts(units.spike_time.values[:2_000]), position),
    }


@pytest.mark.slow
def test_local_cluster_matches_single_process(session):
    with nap.load_file(session) as data:
        expected = reductions(data["units"], data["position"])
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, host="127.0.0.1")
    with cluster, distributed.Client(cluster) as client, \
            nap.load_file(session, chunks={}) as data:
        position = data["position"]
        assert position.chunks is not None and len(position.chunks[0]) == N // 25_000
        with distributed.get_task_stream(client) as stream:
            got = reductions(data["units"], position)
        # the chunk tasks ran in the worker processes (each reopened the file)
        workers = {w["worker"] for w in stream.data}
        assert len(stream.data) >= N // 25_000
        assert workers <= set(client.scheduler_info()["workers"])
    for name, exp in expected.items():
        xr.testing.assert_allclose(got[name].load(), exp, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(got[name].attrs.get("time_support", []),
                                      exp.attrs.get("time_support", []))
