"""The guide's memory-map and zarr examples, including the trigger average on a
zarr-backed TsdFrame, compared with pynapple."""

import warnings

import numpy as np
import pytest

import xr_nap as nap

zarr = pytest.importorskip("zarr")
pytest.importorskip("xr_nap.process.trigger_average")


def test_seed_memmap(pnap, tmp_path):
    data = np.memmap(tmp_path / "memmap.dat", dtype="float32", mode="w+", shape=(10, 3))
    data[:] = np.random.default_rng(0).standard_normal((10, 3)).astype("float32")
    timestep = np.arange(10)
    eeg = nap.tsd_frame(timestep, data)
    assert isinstance(eeg.variable._data, np.memmap)
    theirs = pnap.TsdFrame(t=timestep, d=data)
    np.testing.assert_array_equal(eeg.values, theirs.values)
    assert isinstance(theirs.values, np.memmap)


@pytest.mark.parametrize("fill", ["zeros", "random"])
def test_seed_zarr_trigger_average(pnap, fill):
    zarr_array = zarr.zeros((10000, 5), chunks=(1000, 5), dtype="i4")
    if fill == "random":
        zarr_array[:] = np.random.default_rng(2).integers(-50, 50, (10000, 5), dtype="i4")
    timestep = np.arange(zarr_array.shape[0])  # zarr 3 arrays have no len()
    tsdframe = nap.tsd_frame(timestep, zarr_array)
    assert not isinstance(tsdframe.variable._data, np.ndarray)  # still zarr-backed

    restricted = tsdframe.nap.restrict(nap.interval_set(0, 10))
    assert restricted.shape == (11, 5)
    group = nap.ts_group({0: nap.ts([10, 20, 30])})
    sta = nap.compute_event_trigger_average(group, tsdframe, 1, (-2, 3))
    assert not isinstance(tsdframe.variable._data, np.ndarray)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pnap.TsdFrame(t=timestep, d=zarr_array, load_array=False)
        np.testing.assert_array_equal(
            restricted.values, theirs.restrict(pnap.IntervalSet(0, 10)).values)
        # pynapple 0.11 renamed the guide's compute_event_trigger_average(group, feature)
        want = pnap.compute_event_triggered_average(
            theirs, pnap.TsGroup({0: pnap.Ts(t=[10, 20, 30])}), 1, (-2, 3))
    np.testing.assert_allclose(sta.time.values, want.index.values)
    np.testing.assert_allclose(sta.values, np.asarray(want.values).reshape(sta.shape))
