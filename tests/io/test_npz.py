"""NPZ saving/loading behaviour: path rule, atomic writes, backend engine, memory maps."""

import numpy as np
import pytest
import xarray as xr

import xr_nap as nap
from xr_nap.errors import XrNapError
from xr_nap.io import npz
from xr_nap.testing import CountingArray


def tsd():
    return nap.tsd(np.arange(10.0), np.arange(10.0) ** 2, time_support=(0, 8.5))


@pytest.mark.parametrize(
    "given, written",
    [("x", "x.npz"), ("x.npz", "x.npz"), ("x.NPZ", "x.NPZ"), ("data.v2", "data.v2.npz"),
     ("x.nwb", "x.nwb.npz")],
)
def test_suffix_rule(tmp_path, given, written):
    path = nap.save(tsd(), tmp_path / given)
    assert path == tmp_path / written and path.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [written]


def test_accessor_and_load_file(tmp_path):
    path = tsd().nap.save(str(tmp_path / "x"))
    xr.testing.assert_identical(nap.load_file(path), tsd())


def test_overwrite_is_atomic(tmp_path, monkeypatch):
    """A write that fails half-way leaves the previous file intact and no temp file."""
    path = nap.save(tsd(), tmp_path / "x")
    before = path.read_bytes()
    calls = []

    def failing(zf, key, value):
        calls.append(key)
        if len(calls) == 2:
            raise OSError("disk full")
        real(zf, key, value)

    real = npz._write_member
    monkeypatch.setattr(npz, "_write_member", failing)
    with pytest.raises(OSError, match="disk full"):
        nap.save(nap.tsd([0.0], [1.0]), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["x.npz"]


def test_bad_targets(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        nap.save(tsd(), tmp_path / "missing" / "x")
    (tmp_path / "d.npz").mkdir()
    with pytest.raises(IsADirectoryError):
        nap.save(tsd(), tmp_path / "d.npz")
    with pytest.raises(TypeError):
        nap.save(xr.Dataset({"a": ("x", [1])}), tmp_path / "y")


def test_string_unit_ids_cannot_be_saved(tmp_path):
    g = nap.ts_group({"a": [1.0], "b": [2.0]})
    with pytest.raises(ValueError, match="integer unit ids"):
        nap.save(g, tmp_path / "g")


def test_backend_engine(tmp_path):
    path = nap.save(tsd(), tmp_path / "x")
    ds = xr.open_dataset(path, engine="nap_npz")
    assert list(ds.data_vars) == ["data"]
    xr.testing.assert_identical(ds["data"], tsd().rename("data"))
    xr.testing.assert_identical(xr.open_dataarray(path, engine="nap_npz"), tsd().rename("data"))
    ep = nap.interval_set([0, 5], [1, 6], metadata={"label": ["a", "b"]})
    ep_path = nap.save(ep, tmp_path / "ep")
    xr.testing.assert_identical(xr.open_dataset(ep_path, engine="nap_npz"), ep)
    assert "label" not in xr.open_dataset(ep_path, engine="nap_npz", drop_variables="label")
    assert npz.NPZBackendEntrypoint().guess_can_open(str(path))
    assert not npz.NPZBackendEntrypoint().guess_can_open("x.nwb")


def test_mmap_keeps_data_in_file(tmp_path):
    x = nap.tsd_frame(np.arange(50.0), np.arange(150.0).reshape(50, 3), columns=["a", "b", "c"])
    path = nap.save(x, tmp_path / "x")
    mapped = nap.load_npz(path, mmap=True)
    assert isinstance(mapped.data, np.memmap)
    xr.testing.assert_identical(mapped, x)
    xr.testing.assert_identical(xr.open_dataarray(path, engine="nap_npz", mmap=True),
                                x.rename("data"))


def test_lazy_data_are_saved_block_by_block(tmp_path, monkeypatch):
    from xr_nap.core import blocks

    data = CountingArray(np.arange(1000.0).reshape(500, 2))
    x = nap.tsd_frame(np.arange(500.0), data)
    assert data.reads == []
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 1600)  # 100 rows per block
    path = nap.save(x, tmp_path / "x")
    assert len(data.reads) == 5
    np.testing.assert_array_equal(nap.load_npz(path).values, data.array)


def test_mmap_maps_times_and_data(tmp_path, monkeypatch):
    """With mmap=True neither ``t`` nor ``d`` is read into memory by the reader."""
    from xr_nap.io.safe_npz import NPZArchive

    path = nap.save(tsd(), tmp_path / "x")
    read = []
    real = NPZArchive.read
    monkeypatch.setattr(NPZArchive, "read",
                        lambda self, key, **kw: read.append(key) or real(self, key, **kw))
    mapped = nap.load_npz(path, mmap=True)
    assert "t" not in read and "d" not in read
    xr.testing.assert_identical(mapped, tsd())


def test_open_dataarray_saves_like_load_npz(tmp_path):
    """The same NPZ, opened either way, is saved to the same bytes (the backend's
    wrapping of in-memory data used to send it down the lazy path)."""
    path = nap.save(tsd(), tmp_path / "x")
    a = nap.save(nap.load_npz(path), tmp_path / "a")
    b = nap.save(xr.open_dataarray(path, engine="nap_npz"), tmp_path / "b")
    assert a.read_bytes() == b.read_bytes()


def test_dask_data_are_saved_chunk_by_chunk(tmp_path):
    pytest.importorskip("dask")
    x = nap.tsd(np.arange(100.0), np.arange(100.0)).chunk({"time": 30})
    path = nap.save(x, tmp_path / "x")
    np.testing.assert_array_equal(nap.load_npz(path).values, np.arange(100.0))


def test_what_pynapple_layout_cannot_hold_is_refused(tmp_path):
    g = nap.ts_group({0: [1.0, 2.0], 1: [1.5]})
    with pytest.raises(XrNapError, match="per-spike"):
        nap.save(g.assign(amplitude=("spike", [1.0, 2.0, 3.0])), tmp_path / "g")
    ep = nap.interval_set([0, 10], [5, 20])
    odd = np.empty(2, dtype=object)
    odd[:] = [{1, 2}, None]  # a set: xr-nap's reader would refuse the pickle
    with pytest.raises(XrNapError, match=r"metadata 'odd' to .*ep.npz"):
        nap.save(ep.assign(odd=("interval", odd)), tmp_path / "ep")
    assert list(tmp_path.iterdir()) == []


def test_metadata_of_several_dimensions_round_trip(tmp_path):
    ep = nap.interval_set([0, 10], [5, 20]).assign(xy=(("interval", "axis"), [[1, 2], [3, 4]]))
    back = nap.load_npz(nap.save(ep, tmp_path / "ep"))
    assert back.xy.dims == ("interval", "xy_dim_1")
    np.testing.assert_array_equal(back.xy.values, [[1, 2], [3, 4]])
