"""``xr-nap convert`` writes every object of an NWB/NPZ file to one netCDF/zarr file;
``load_file``, ``Folder`` and ``xr-nap info`` read it back to the same objects (keys,
values, time support, metadata, ragged columns, file attributes)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
from conftest import new_nwbfile, write

import xr_nap as nap
from xr_nap.cli import main
from xr_nap.core.blocks import in_memory
from xr_nap.errors import SkippedObjectWarning
from xr_nap.io.netcdf import write_objects
from xr_nap.testing import assert_same_object

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:zarr.*")


def allen_like(path):
    """Stimulus presentations with a TimeSeriesReference column (Allen Institute
    style), epochs with several references per row, an ElectricalSeries."""
    import pynwb
    from pynwb.ecephys import ElectricalSeries
    from pynwb.epoch import TimeIntervals

    nwb = new_nwbfile()
    device = nwb.create_device("probe")
    shanks = [nwb.create_electrode_group(f"shank{i}", description="d", location=loc,
                                         device=device) for i, loc in enumerate(["CA1", "CA3"])]
    for i in range(4):
        nwb.add_electrode(group=shanks[i % 2], location=["CA1", "CA3"][i % 2], x=float(i),
                          y=1.0, z=2.0, imp=1.0, filtering="none")
    region = nwb.create_electrode_table_region([0, 1, 3], "three electrodes")
    ephys = ElectricalSeries(name="ephys", data=np.random.default_rng(0).normal(size=(300, 3)),
                             electrodes=region, rate=1000.0)
    nwb.add_acquisition(ephys)
    stim = pynwb.TimeSeries(name="stim", data=np.arange(50.0), unit="a.u.",
                            timestamps=np.arange(50.0) * 0.1)
    nwb.add_stimulus(stim)
    shown = TimeIntervals(name="scenes_presentations", description="Allen-style")
    shown.add_column("frame", "frame shown")
    for i in range(5):
        shown.add_interval(start_time=float(i), stop_time=i + 0.5, timeseries=[stim], frame=i,
                           tags=["a", "b"][: i % 2 + 1])
    nwb.add_time_intervals(shown)
    nwb.add_epoch(0.0, 2.0, tags=["x"], timeseries=[stim, ephys])
    nwb.add_epoch(3.0, 4.0, tags=[], timeseries=[stim])
    return write(nwb, path)


@pytest.fixture(scope="module")
def allen_nwb(tmp_path_factory):
    return allen_like(tmp_path_factory.mktemp("allen") / "allen.nwb")


def convert(src, out, *extra):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no serialization or format warnings
        warnings.filterwarnings("ignore", module="zarr")
        assert main(["convert", str(src), str(out), *extra]) == 0


def assert_same_file(src, out):
    """Every object of ``src`` (opened by xr-nap) equals the one read back from ``out``."""
    with nap.load_file(src) as original, nap.load_file(out) as back:
        assert list(back) == list(original)
        for key in original:
            assert_same_object(original[key], back[key], key)
        assert back.attrs == original.attrs


@pytest.mark.parametrize("fmt", ["nc", "zarr"])
def test_convert_nwb_and_load_back(session_nwb, allen_nwb, tmp_path, fmt):
    for src in (session_nwb, allen_nwb):
        out = tmp_path / f"{src.stem}.{fmt}"
        convert(src, out)
        assert_same_file(src, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"allen.{fmt}", f"session.{fmt}"]
    # xarray alone reads the file: one group per key, the ragged tags as a CF pair
    tree = xr.open_datatree(tmp_path / f"allen.{fmt}", engine="zarr" if fmt == "zarr" else None)
    tags = tree["scenes_presentations"].to_dataset()
    assert tags["tags_row_size"].attrs["sample_dimension"] == "tags_element"
    assert tags["tags"].values.tolist() == ["a", "a", "b", "a", "a", "b", "a"]
    # lazily: data stay in the file until used
    with nap.load_file(tmp_path / f"session.{fmt}") as back:
        assert not in_memory(back["signal"])
        assert back["signal"].nap.restrict(nap.interval_set(1, 2)).size == 101


def test_real_file_converts_object_by_object(shared_dir, tmp_path):
    src = shared_dir / "data" / "nwb" / "phy_A8604-211122.nwb"
    for fmt in ("nc", "zarr"):
        convert(src, tmp_path / f"phy.{fmt}")
        assert_same_file(src, tmp_path / f"phy.{fmt}")
        with nap.load_file(tmp_path / f"phy.{fmt}") as back:
            assert back["epochs"].tags.values[0].tolist() == ["wake"]
            assert back["units"].row_size.values.tolist() == [11020, 4690, 5644]


def test_multi_times_table_is_a_dict(multi_times_nwb, tmp_path):
    convert(multi_times_nwb, tmp_path / "m.nc")
    assert_same_file(multi_times_nwb, tmp_path / "m.nc")
    with nap.load_file(tmp_path / "m.nc") as back:
        assert back.type_of("licks") == "dict of Ts" and "dict of Ts" in repr(back)


NPZ_OBJECTS = {
    "ts": nap.ts([0.5, 1.0, 4.0], time_support=([0.0, 3.0], [2.0, 5.0])),
    "tsd": nap.tsd(np.arange(10.0), np.arange(10.0) ** 2, name="sq"),
    "frame": nap.tsd_frame(np.arange(4.0), np.ones((4, 2)), columns=["a", "b"],
                           metadata={"area": ["ca1", "ca3"]}),
    "tensor": nap.tsd_tensor(np.arange(3.0), np.zeros((3, 2, 2))),
    "group": nap.ts_group({3: [1.0, 2.0], 7: [1.5]}, metadata={"label": ["x", "yy"],
                                                              "good": [True, False]}),
    "epochs": nap.interval_set([0, 5], [1, 6], metadata={"label": ["a", "b"]}),
}


@pytest.mark.parametrize("name", list(NPZ_OBJECTS))
def test_convert_every_npz_kind(name, tmp_path, capsys):
    src = nap.save(NPZ_OBJECTS[name], tmp_path / name)
    original = nap.load_npz(src)
    for fmt in ("nc", "zarr"):
        out = tmp_path / f"{name}.{fmt}"
        convert(src, out)
        back = nap.load_file(out)  # one object: at the root, as load_file(npz) gives it
        assert_same_object(original, back, name)
        assert not xr.open_datatree(out, engine="zarr" if fmt == "zarr" else None).children
        capsys.readouterr()
        assert main(["info", str(out)]) == 0
        assert nap.nap_type(original) in capsys.readouterr().out


def test_info_lists_a_converted_file(session_nwb, tmp_path, capsys):
    convert(session_nwb, tmp_path / "s.nc")
    capsys.readouterr()
    assert main(["info", str(tmp_path / "s.nc")]) == 0
    out = capsys.readouterr().out
    for word in ("TsGroup", "3 units", "IntervalSet", "TsdTensor", "Position/pos"):
        assert word in out


def test_an_unreadable_object_is_skipped_with_a_warning(session_nwb, tmp_path, capsys):
    import shutil

    import h5py

    src = shutil.copy(session_nwb, tmp_path / "broken.nwb")
    with h5py.File(src, "a") as f:  # the units' index runs past its spikes
        index = f["units/spike_times_index"]
        ends = index[()]
        ends[-1] = np.iinfo(ends.dtype).max
        index[...] = ends
    assert main(["convert", str(src), str(tmp_path / "b.nc")]) == 0
    err = capsys.readouterr().err
    assert "SkippedObjectWarning: skipped 'units'" in err and "spike_times_index" in err
    with nap.load_file(tmp_path / "b.nc") as back:
        assert "units" not in back and "epochs" in back


def test_a_file_without_objects_writes_nothing(tmp_path, capsys):
    src = write(new_nwbfile(), tmp_path / "empty.nwb")
    assert main(["convert", str(src), str(tmp_path / "e.nc")]) == 2
    assert "holds no object xr-nap can read; nothing written" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.nwb"]


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == \
        f"xr-nap {nap.__version__}"


def test_folder_lists_and_reads_netcdf_and_zarr(tmp_path):
    group = NPZ_OBJECTS["group"]
    write_objects(group, tmp_path / "spikes.nc")
    write_objects({"x": NPZ_OBJECTS["tsd"], "ep": NPZ_OBJECTS["epochs"]},
                  tmp_path / "session.zarr")
    (tmp_path / "plain").mkdir()
    folder = nap.Folder(tmp_path)
    assert sorted(folder.files) == ["session", "spikes"] and list(folder.subfolders) == ["plain"]
    assert "spikes.nc | netCDF file" in repr(folder) and "session.zarr | zarr store" in repr(folder)
    assert_same_object(group, folder.spikes)
    assert_same_object(NPZ_OBJECTS["epochs"], folder.session["ep"])
    folder.close()


def test_what_cannot_be_stored_is_left_out_with_a_warning(tmp_path):
    x = nap.tsd([0.0, 1.0], [1.0, 2.0], name="x",
                attrs={"nested": {"a": 1}, "flag": True, "grid": np.ones((2, 2)),
                       "tags": ["a", "b"]})
    ep = nap.interval_set([0, 2], [1, 3]).assign(
        obj=("interval", np.array([{"a": 1}, None], dtype=object)))
    with pytest.warns(SkippedObjectWarning) as caught:
        write_objects({"x": x, "ep": ep}, tmp_path / "o.nc")
    messages = " ".join(str(w.message) for w in caught)
    assert "'nested'" in messages and "'grid'" in messages and "'obj'" in messages
    back = nap.load_file(tmp_path / "o.nc")
    assert sorted(back["x"].attrs) == ["flag", "tags"]
    assert back["x"].attrs["flag"] == 1 and back["x"].attrs["tags"].tolist() == ["a", "b"]
    assert "obj" not in back["ep"]


def test_user_written_files_load(tmp_path):
    """``obj.to_netcdf`` (xarray's own writer) then ``load_file`` gives the object back
    with its time support (adopted from the time coordinate's attribute)."""
    x = nap.tsd(np.arange(20.0), np.arange(20.0), time_support=([0, 12], [8, 19]))
    x.to_netcdf(tmp_path / "x.nc")
    back = nap.load_file(tmp_path / "x.nc")
    assert isinstance(back.xindexes["time"], nap.TimeIndex)
    assert_same_object(x.rename(None), back)
    with pytest.raises(nap.FileFormatError, match="not a readable netCDF/zarr"):
        (tmp_path / "bad.nc").write_bytes(b"nonsense")
        nap.load_file(tmp_path / "bad.nc")


def test_a_failed_write_leaves_nothing(session_nwb, tmp_path, monkeypatch, capsys):
    def fail(self, path, *args, **kwargs):
        with open(path, "wb") as fh:
            fh.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(xr.DataTree, "to_netcdf", fail)
    assert main(["convert", str(session_nwb), str(tmp_path / "s.nc")]) == 2
    assert "disk full" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_nwb_series_have_a_cf_time_axis(session_nwb):
    pytest.importorskip("cf_xarray")
    with nap.load_file(session_nwb) as data:
        for key in ("signal", "stamped", "Position/pos", "video"):  # rate- and time-based
            assert data[key].cf.axes == {"T": ["time"]}, key
            assert data[key].time.attrs["standard_name"] == "time"
        assert data["units"].cf.cf_roles == {"timeseries_id": ["unit"]}


def test_results_and_datasets_in_one_file(tmp_path, capsys):
    t = np.arange(0, 10, 0.1)
    tc = nap.tuning_curves(nap.ts_group({0: t}), nap.tsd(t, t, name="x"), bins=4)
    both = xr.Dataset({"a": nap.tsd(t, t), "b": nap.tsd(t, -t)})
    objects = {"tc": tc, "mi": nap.compute_mutual_information(tc), "both": both}
    write_objects(objects, tmp_path / "res.nc")
    back = nap.load_file(tmp_path / "res.nc")
    for key, obj in objects.items():
        assert_same_object(obj, back[key].load(), key)
    assert main(["info", str(tmp_path / "res.nc")]) == 0
    out = capsys.readouterr().out
    assert "DataArray" in out and "time: 100" in out
    assert main(["convert", str(tmp_path / "res.nc"), str(tmp_path / "res.zarr")]) == 0
    assert_same_object(tc, nap.load_file(tmp_path / "res.zarr")["tc"].load())
