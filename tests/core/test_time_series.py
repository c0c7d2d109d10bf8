import pickle

import dask.array as da
import numpy as np
import pytest
import xarray as xr

import xr_nap as nap
from xr_nap.testing import assert_nap_equal, sample_session


@pytest.mark.parametrize(
    "t, d, match",
    [
        ([0.0, 2.0, 1.0], [1, 2, 3], "sorted"),
        ([0.0, np.nan], [1, 2], "finite"),
        ([0.0, np.inf], [1, 2], "finite"),
        ([[0.0, 1.0]], [1, 2], "1-D"),
        ([0.0, 1.0], [1, 2, 3], "first axis"),
        ([0.0, 1.0], 5, "first axis"),
    ],
)
def test_tsd_validation(t, d, match):
    with pytest.raises(ValueError, match=match):
        nap.tsd(t, d)


def test_dims_and_kinds():
    t = np.arange(4.0)
    assert nap.tsd(t, t).nap.nap_type() == "Tsd"
    assert nap.tsd(t, np.zeros((4, 2))).dims == ("time", "column")
    assert nap.tsd_tensor(t, np.zeros((4, 2, 3))).nap.nap_type() == "TsdTensor"
    assert nap.ts(t).nap.nap_type() == "Ts"
    assert nap.nap_type(nap.ts_group({0: t})) == "TsGroup"
    assert nap.nap_type(nap.interval_set(0, 1)) == "IntervalSet"
    assert nap.tsd(t, t)["time"].attrs["units"] == "s"
    with pytest.raises(TypeError, match="neither"):
        nap.nap_type(xr.Dataset({"x": ("a", [1])}))
    with pytest.raises(TypeError, match="needs a .time. dimension"):
        nap.nap_type(xr.DataArray([1, 2], dims="x"))
    with pytest.raises(ValueError, match="dims"):
        nap.tsd(t, t, dims=("x",))
    with pytest.raises(ValueError, match="at least 3"):
        nap.tsd_tensor(t, t)


def test_time_support_drops_outside_samples_like_pynapple(pnap):
    t = np.arange(10.0)
    ours = nap.tsd(t, t * 2, time_support=([1, 6], [3, 7.5]))
    theirs = pnap.Tsd(t=t, d=t * 2, time_support=pnap.IntervalSet([1, 6], [3, 7.5]))
    np.testing.assert_array_equal(ours.values, theirs.values)
    assert nap.time_support(ours).end.values.tolist() == [3.0, 7.5]


def test_missing_support_means_first_to_last_sample():
    x = xr.DataArray([0, 0], dims="time", coords={"time": [2.0, 5.0]})  # a plain index
    assert nap.tot_length(nap.time_support(x)) == 3.0
    assert nap.time_support(nap.tsd([], [])).sizes["interval"] == 0


def test_ts_group_matches_pynapple(pnap):
    units = {7: [1.0, 2.0, 3.0], 2: [0.5, 9.0], 4: []}
    ours = nap.ts_group(units, metadata={"area": ["a", "b", "c"]})
    theirs = pnap.TsGroup({k: pnap.Ts(np.array(v)) for k, v in units.items()})
    assert ours.unit.values.tolist() == theirs.index.tolist() == [2, 4, 7]
    np.testing.assert_allclose(ours.rate.values, theirs.metadata["rate"].values)
    assert ours.row_size.attrs["sample_dimension"] == "spike"
    assert_nap_equal(nap.from_pynapple(theirs), ours.drop_vars("area"))


def test_ts_group_errors():
    with pytest.raises(ValueError, match="unit 3"):
        nap.ts_group({3: [2.0, 1.0]})
    with pytest.raises(ValueError, match="metadata 'x' has 1 values for 2 units"):
        nap.ts_group({0: [1.0], 1: [2.0]}, metadata={"x": [1]})


def test_frame_metadata_and_columns():
    f = nap.tsd_frame(np.arange(2.0), np.zeros((2, 2)), columns=["a", "b"],
                      metadata={"depth": [1, 2]})
    assert f.depth.dims == ("column",) and f.column.dtype.kind == "U"
    with pytest.raises(ValueError, match="column names"):
        nap.tsd_frame(np.arange(2.0), np.zeros((2, 2)), columns=["a"])


class Unloadable:
    """An array-like that fails if anything reads all of it."""

    shape, dtype = (1000, 2), np.dtype("float64")

    def __getitem__(self, key):
        rows = key[0] if isinstance(key, tuple) else key
        if isinstance(rows, slice) and (rows.stop or 1000) - (rows.start or 0) >= 1000:
            raise AssertionError("the whole array was read")
        return np.ones((len(range(*rows.indices(1000))), 2))


def test_array_likes_stay_lazy_and_dask_stays_dask():
    x = nap.tsd(np.arange(1000.0), Unloadable())
    assert nap.get(x, 10, 19).values.shape == (10, 2)
    y = nap.tsd(np.arange(10.0), da.zeros((10, 2), chunks=5))
    assert y.chunks is not None and nap.restrict(y, (2, 6)).chunks is not None


def test_objects_pickle_and_survive_netcdf(tmp_path):
    s = sample_session(duration=10.0, n_units=3)
    for obj in s.values():
        assert_nap_equal(pickle.loads(pickle.dumps(obj)), obj)
    path = tmp_path / "units.nc"
    s["units"].to_netcdf(path)
    with xr.open_dataset(path) as back:
        assert_nap_equal(back.load(), s["units"])


@pytest.mark.parametrize("kind", ["position", "lfp", "units", "epochs"])
def test_pynapple_round_trip(pnap, kind):
    obj = sample_session(duration=20.0, n_units=4)[kind]
    assert_nap_equal(nap.from_pynapple(nap.to_pynapple(obj)), obj)
