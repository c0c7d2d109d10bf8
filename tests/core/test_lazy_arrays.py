"""numpy memmaps, zarr arrays and h5py datasets stay lazy in xr-nap objects, and the
``.nap`` functions give the same results on them as on numpy (and as pynapple)."""

import warnings

import h5py
import numpy as np
import pytest
import xarray as xr

import xr_nap as nap
from xr_nap.core import blocks
from xr_nap.testing import CountingArray

zarr = pytest.importorskip("zarr")

N = 1000
T = np.arange(N) * 0.01
DATA = np.random.default_rng(0).standard_normal((N, 3)).astype(np.float32)
EP = nap.interval_set([0.5, 4.0], [2.25, 7.5])
SPIKES = nap.ts(np.sort(np.random.default_rng(1).uniform(0, 9.99, 40)))


@pytest.fixture(params=["memmap", "zarr", "h5py"])
def backed(request, tmp_path):
    """The same data on a memmap, a zarr array and an h5py dataset."""
    if request.param == "memmap":
        arr = np.memmap(tmp_path / "m.dat", dtype=DATA.dtype, mode="w+", shape=DATA.shape)
        arr[:] = DATA
        yield arr
    elif request.param == "zarr":
        arr = zarr.create_array(tmp_path / "z.zarr", shape=DATA.shape, chunks=(100, 3),
                                dtype=DATA.dtype)
        arr[:] = DATA
        yield arr
    else:
        with h5py.File(tmp_path / "h.h5", "w") as f:
            f["d"] = DATA
        with h5py.File(tmp_path / "h.h5", "r") as f:
            yield f["d"]


def test_memmap_stays_a_memmap(tmp_path):
    arr = np.memmap(tmp_path / "m.dat", dtype="float32", mode="w+", shape=(10, 3))
    x = nap.tsd_frame(np.arange(10.0), arr)
    assert isinstance(x.variable._data, np.memmap)
    assert isinstance(x.nap.restrict(nap.interval_set(0, 9)).variable._data, np.memmap)


@pytest.mark.parametrize("kind", ["zarr", "h5py"])
def test_file_arrays_are_not_read_at_construction(tmp_path, kind):
    if kind == "zarr":
        raw = zarr.create_array(tmp_path / "z.zarr", shape=DATA.shape, chunks=(100, 3),
                                dtype=DATA.dtype)
        raw[:] = DATA
    else:
        f = h5py.File(tmp_path / "h.h5", "w")
        f["d"] = DATA
        raw = f["d"]
    data = CountingArray(raw)
    x = nap.tsd_frame(T, data, columns=["a", "b", "c"])
    r = x.nap.restrict(EP)
    assert isinstance(r.variable._data, xr.core.indexing.ExplicitlyIndexed)
    assert data.reads == []
    np.testing.assert_array_equal(r.values, nap.tsd_frame(T, DATA).nap.restrict(EP).values)
    assert sum(data.rows_read()) < N  # only the restricted rows were read


def test_reductions_read_bounded_blocks(monkeypatch):
    data = CountingArray(DATA)
    x = nap.tsd_frame(T, data)
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 100 * 12)  # 100 rows of 3 float32
    total = blocks.Reduction(chunk=lambda b, i: b.sum(axis=0), combine=lambda a, b: a + b)
    out = blocks.reduce_time(x, total)
    np.testing.assert_allclose(out, DATA.sum(axis=0), rtol=1e-5)
    assert max(data.rows_read()) <= 100 and len(data.reads) == 10


def test_same_results_as_numpy(backed):
    lazy = nap.tsd_frame(T, backed, columns=["a", "b", "c"])
    eager = nap.tsd_frame(T, DATA, columns=["a", "b", "c"])
    xr.testing.assert_identical(lazy.nap.restrict(EP).load(), eager.nap.restrict(EP))
    xr.testing.assert_identical(lazy.nap.count(0.5, ep=EP), eager.nap.count(0.5, ep=EP))
    xr.testing.assert_allclose(lazy.nap.bin_average(0.25, ep=EP),
                               eager.nap.bin_average(0.25, ep=EP))
    xr.testing.assert_identical(SPIKES.nap.value_from(lazy, EP).load(),
                                SPIKES.nap.value_from(eager, EP))
    xr.testing.assert_identical(lazy.nap.get(1.0, 2.0).load(), eager.nap.get(1.0, 2.0))


def test_same_results_as_pynapple(pnap, backed):
    lazy = nap.tsd_frame(T, backed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pnap.TsdFrame(t=T, d=backed, load_array=False)
        ep = pnap.IntervalSet(EP.start.values, EP.end.values)
        spikes = pnap.Ts(SPIKES.time.values)
        want_restrict = theirs.restrict(ep)
        want_count = theirs.count(0.5, ep)
        want_average = theirs.bin_average(0.25, ep)
        want_value = spikes.value_from(theirs, ep)
    got = lazy.nap.restrict(EP)
    np.testing.assert_array_equal(got.values, want_restrict.values)
    np.testing.assert_array_equal(got.time.values, want_restrict.index.values)
    got = lazy.nap.count(0.5, ep=EP)
    np.testing.assert_array_equal(got.values.ravel(), want_count.values.ravel())
    np.testing.assert_allclose(got.time.values, want_count.index.values)
    got = lazy.nap.bin_average(0.25, ep=EP)
    np.testing.assert_allclose(got.values, want_average.values, rtol=1e-6)
    np.testing.assert_allclose(got.time.values, want_average.index.values)
    got = SPIKES.nap.value_from(lazy, EP)
    np.testing.assert_array_equal(got.values, want_value.values)


def test_zarr_backed_npz_roundtrip(tmp_path):
    """Saving a zarr-backed series writes it block by block; it reads back equal."""
    raw = zarr.create_array(tmp_path / "z.zarr", shape=DATA.shape, chunks=(100, 3),
                            dtype=DATA.dtype)
    raw[:] = DATA
    x = nap.tsd_frame(T, raw)
    back = nap.load_npz(nap.save(x, tmp_path / "x"))
    xr.testing.assert_identical(back, nap.tsd_frame(T, DATA))
