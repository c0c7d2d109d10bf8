"""Trial tensors against pynapple 0.11."""

import warnings

import numpy as np
import pytest
import xarray as xr

import xr_nap as nap
from xr_nap.errors import XrNapError


def trials_and_data(seed, uniform_times):
    rng = np.random.default_rng(seed)
    duration = 200.0
    t = np.arange(0, duration, 0.05) if uniform_times else np.sort(
        rng.uniform(0, duration, 3000))
    values = rng.normal(size=(t.size, 2, 3))
    units = {k: np.sort(rng.uniform(0, duration, rng.integers(1, 400))) for k in (0, 4, 6)}
    starts = np.sort(rng.choice(np.arange(1, 190, 3.0), 8, replace=False))
    starts += rng.uniform(0, 0.5, 8)
    ends = starts + rng.uniform(0.3, 2.5, 8)
    return t, values, units, starts, ends


def series_pairs(pnap, t, values):
    return ((nap.tsd(t, values[:, 0, 0]), pnap.Tsd(t, values[:, 0, 0])),
            (nap.tsd_frame(t, values[:, 0]), pnap.TsdFrame(t, values[:, 0])),
            (nap.tsd_tensor(t, values), pnap.TsdTensor(t, values)))


@pytest.mark.parametrize("seed", range(4))
def test_tensors_match_pynapple(pnap, seed):
    t, values, units, starts, ends = trials_and_data(seed, uniform_times=bool(seed % 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pg = pnap.TsGroup({k: pnap.Ts(v) for k, v in units.items()},
                          time_support=pnap.IntervalSet(0, 200))
    g = nap.ts_group(units, time_support=(0, 200))
    ep, pep = nap.interval_set(starts, ends), pnap.IntervalSet(starts, ends)
    for align in ("start", "end"):
        for bin_size in (0.1, 0.037, 1 / 3):
            np.testing.assert_array_equal(nap.build_tensor(g, ep, bin_size, align).values,
                                          pnap.build_tensor(pg, pep, bin_size, align))
            np.testing.assert_array_equal(
                nap.trial_count(nap.ts(units[4]), ep, bin_size, align).values,
                pnap.Ts(units[4]).trial_count(pep, bin_size, align))
        np.testing.assert_array_equal(nap.build_tensor(g, ep, 100, align, -1.0, "ms").values,
                                      pnap.build_tensor(pg, pep, 100, align, -1.0, "ms"))
        for ours, theirs in series_pairs(pnap, t, values):
            np.testing.assert_array_equal(nap.build_tensor(ours, ep, align=align).values,
                                          pnap.build_tensor(theirs, pep, align=align))
            np.testing.assert_array_equal(nap.to_trial_tensor(ours, ep, align, 0.0).values,
                                          theirs.to_trial_tensor(pep, align, 0.0))
    for num_bins in (3, 10, 40):
        np.testing.assert_array_equal(nap.warp_tensor(g, ep, num_bins).values,
                                      pnap.warp_tensor(pg, pep, num_bins))
        for ours, theirs in series_pairs(pnap, t, values):
            np.testing.assert_allclose(nap.warp_tensor(ours, ep, num_bins).values,
                                       pnap.warp_tensor(theirs, pep, num_bins), rtol=1e-12)


def test_layout_trial_metadata_and_netcdf(tmp_path):
    g = nap.ts_group({3: np.arange(0.0, 100.0), 8: np.arange(0.5, 100.0, 2.0)},
                     metadata={"area": ["ca1", "ca3"]})
    trials = nap.interval_set([20, 40, 60], [22, 44, 66],
                              metadata={"condition": ["left", "right", "left"]})
    counts = nap.build_tensor(g, trials, 1.0)
    assert counts.dims == ("unit", "trial", "bin") and counts.area.values.tolist() == [
        "ca1", "ca3"]
    assert counts.condition.values.tolist() == ["left", "right", "left"]
    np.testing.assert_array_equal(counts.start.values, [20, 40, 60])
    mean = counts.groupby("condition").mean("trial")
    assert mean.sizes["condition"] == 2
    x = nap.tsd_frame(np.arange(100.0), np.ones((100, 2)), columns=["a", "b"])
    samples = nap.to_trial_tensor(x, trials)
    assert samples.dims == ("column", "trial", "sample") and samples.column.values.tolist() == [
        "a", "b"]
    assert nap.warp_tensor(x, trials, 4).dims == ("column", "trial", "bin")
    for obj in (counts, samples):
        obj.to_netcdf(tmp_path / "t.nc")
        with xr.open_dataarray(tmp_path / "t.nc") as back:
            np.testing.assert_array_equal(back.values, obj.values)


def test_lazy_series_give_the_same_tensors():
    t = np.arange(0, 100, 0.01)
    x = nap.tsd_frame(t, np.sin(t)[:, None] * [1.0, 2.0])
    trials = nap.interval_set([10, 30.005, 50], [11, 32, 50.03])
    for func, args in ((nap.to_trial_tensor, ()), (nap.warp_tensor, (20,))):
        np.testing.assert_array_equal(func(x.chunk({"time": 333}), trials, *args).values,
                                      func(x, trials, *args).values)


def test_trial_without_bins_is_padding(pnap):
    # a trial shorter than half a bin has no bin; pynapple fails aligning it on its end
    g = nap.ts_group({0: np.arange(0.0, 10.0, 0.1)})
    trials = nap.interval_set([1.0, 5.0], [1.2, 5.02])
    out = nap.build_tensor(g, trials, 0.1, align="end")
    assert np.isnan(out.values[0, 1]).all() and not np.isnan(out.values[0, 0]).all()
    pg = pnap.TsGroup({0: pnap.Ts(np.arange(0.0, 10.0, 0.1))})
    with pytest.raises(ValueError):
        pnap.build_tensor(pg, pnap.IntervalSet([1.0, 5.0], [1.2, 5.02]), 0.1, align="end")


def test_warp_of_empty_and_short_trials():
    x = nap.tsd(np.arange(10.0), np.arange(10.0))
    out = nap.warp_tensor(x, nap.interval_set([2.0, 20.0], [3.0, 30.0]), 5)
    np.testing.assert_allclose(out.values[0], [2.0, 2.25, 2.5, 2.75, 3.0])  # interpolated
    assert np.isnan(out.values[1]).all()  # no sample in the trial


def test_bad_inputs():
    g = nap.ts_group({0: [1.0, 2.0]})
    trials = nap.interval_set([0.0], [3.0])
    with pytest.raises(XrNapError, match="bin_size"):
        nap.build_tensor(g, trials)
    with pytest.raises(XrNapError, match="align"):
        nap.build_tensor(g, trials, 1.0, align="middle")
    with pytest.raises(XrNapError, match="time_unit"):
        nap.build_tensor(g, trials, 1.0, time_unit="h")
    with pytest.raises(XrNapError, match="num_bins"):
        nap.warp_tensor(g, trials, 0)
    with pytest.raises(TypeError, match="num_bins"):
        nap.warp_tensor(g, trials, 2.5)
    with pytest.raises(XrNapError, match="at least one trial"):
        nap.to_trial_tensor(nap.tsd([1.0, 2.0], [1, 2]), nap.interval_set([], []))
    with pytest.raises(TypeError, match="interval set"):
        nap.build_tensor(g, nap.tsd([1.0, 2.0], [1, 2]), 1.0)
