"""NWB files as other writers lay them out (MatNWB, NWB 2.0 betas), built with h5py.

MatNWB writes fixed-length (not variable-length) strings for attributes, table text
columns and ``colnames``, float32 attributes, small unsigned index types and vectors
as ``(n, 1)`` column arrays.
"""

from __future__ import annotations

import uuid

import h5py
import numpy as np
import pytest

import xr_nap as nap


def _typed(g: h5py.Group, neurodata_type: str, **attrs: str) -> h5py.Group:
    for key, value in {"neurodata_type": neurodata_type, "namespace": "core",
                       "object_id": str(uuid.uuid4()), **attrs}.items():
        g.attrs[key] = np.bytes_(value)  # fixed-length
    return g


def write_matnwb_like(path, version="2.6.0"):
    with h5py.File(path, "w") as f:
        _typed(f, "NWBFile", nwb_version=version)
        f["identifier"] = np.bytes_("mat-id")
        f["session_description"] = np.bytes_("matnwb session")
        f["session_start_time"] = np.bytes_("2024-01-01T00:00:00+00:00")
        f["file_create_date"] = np.array([b"2024-01-01T00:00:00+00:00"])
        for name in ["acquisition", "analysis", "processing", "stimulus/presentation",
                     "stimulus/templates", "general", "intervals"]:
            f.require_group(name)

        lfp = _typed(f.create_group("acquisition/lfp"), "TimeSeries", description="lfp")
        data = lfp.create_dataset("data", data=np.arange(200, dtype=np.int16).reshape(100, 2))
        data.attrs["unit"] = np.bytes_("volts")
        data.attrs["conversion"] = np.float32(0.5)
        start = lfp.create_dataset("starting_time", data=1.0)
        start.attrs["rate"] = np.float32(10.0)

        pos = _typed(f.create_group("acquisition/pos"), "TimeSeries")
        pos.create_dataset("data", data=np.arange(50.0)).attrs["unit"] = np.bytes_("m")
        pos.create_dataset("timestamps", data=np.linspace(0.0, 5.0, 50).reshape(50, 1))

        units = _typed(f.create_group("units"), "Units", description="units")
        units.attrs["colnames"] = np.array([b"spike_times", b"quality"])
        units.create_dataset("id", data=np.arange(3))
        spikes = units.create_dataset("spike_times", data=[0.1, 0.2, 0.5, 0.3, 0.4, 1.0])
        units.create_dataset("spike_times_index", data=np.array([2, 3, 6], dtype=np.uint8))
        units["spike_times_index"].attrs["target"] = spikes.ref
        units.create_dataset("quality", data=np.array([b"good", b"mua", b"good"]))

        trials = _typed(f.create_group("intervals/trials"), "TimeIntervals",
                        description="trials")
        trials.attrs["colnames"] = np.array([b"start_time", b"stop_time", b"cond"])
        trials.create_dataset("id", data=np.arange(2))
        trials.create_dataset("start_time", data=[0.0, 2.0])
        trials.create_dataset("stop_time", data=[1.0, 3.0])
        trials.create_dataset("cond", data=np.array([b"L", b"R"]))
    return path


@pytest.mark.parametrize("version", ["2.6.0", "2.0b"])
def test_matnwb_like_file_reads(tmp_path, version):
    with nap.load_file(write_matnwb_like(tmp_path / "mat.nwb", version)) as data:
        assert sorted(data) == ["lfp", "pos", "trials", "units"]
        assert data.attrs["identifier"] == "mat-id"
        assert data.attrs["nwb_version"] == version
        lfp = data["lfp"]
        np.testing.assert_array_equal(lfp.values, np.arange(200).reshape(100, 2) * 0.5)
        np.testing.assert_allclose(lfp.time.values, 1.0 + np.arange(100) / np.float32(10.0))
        assert lfp.attrs["units"] == "volts" and lfp.attrs["description"] == "lfp"
        pos = data["pos"]
        np.testing.assert_array_equal(pos.time.values, np.linspace(0.0, 5.0, 50))
        units = data["units"]
        assert units.row_size.values.tolist() == [2, 1, 3]
        assert units.quality.values.tolist() == ["good", "mua", "good"]
        assert nap.select_units(units, 2).values.tolist() == [0.3, 0.4, 1.0]
        trials = data["trials"]
        assert trials.cond.values.tolist() == ["L", "R"]
        np.testing.assert_array_equal(trials.end.values, [1.0, 3.0])
