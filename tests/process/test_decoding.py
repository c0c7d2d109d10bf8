"""Bayesian and template decoding against pynapple 0.11."""

import warnings

import numpy as np
import pytest
import xarray as xr

import xr_nap as nap
from xr_nap.errors import XrNapError

FS = 50.0


def session(seed, duration=120.0, n_units=6):
    rng = np.random.default_rng(seed)
    t = np.arange(0, duration, 1 / FS)
    x = (np.sin(t / 7.0) + 1) / 2
    y = (np.cos(t / 11.0) + 1) / 2
    units = {}
    for u in range(n_units):
        centre = rng.random()
        rate = 30 * np.exp(-(x - centre) ** 2 / 0.02)
        units[u + 2] = np.sort(t[rng.random(t.size) < rate / FS] + rng.uniform(0, 1 / FS))
    return t, x, y, units


def both(pnap, seed):
    t, x, y, units = session(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pg = pnap.TsGroup({k: pnap.Ts(v) for k, v in units.items()})
    return (nap.ts_group(units), pg, nap.tsd(t, x), pnap.Tsd(t, x),
            nap.tsd_frame(t, np.c_[x, y]), pnap.TsdFrame(t, np.c_[x, y]))


def check(ours, theirs):
    np.testing.assert_array_equal(ours[0].values, theirs[0].values)  # decoded bins
    np.testing.assert_array_equal(ours[0].time.values, theirs[0].index.values)
    np.testing.assert_allclose(ours[1].values, theirs[1].values, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_decoders_match_pynapple(pnap, seed):
    g, pg, x, px, xy, pxy = both(pnap, seed)
    ep = ([0.0, 70.0], [60.0, 120.0]) if seed % 2 else (0.0, 120.0)
    pep = pnap.IntervalSet(*ep)
    for feat, pfeat in ((x, px), (xy, pxy)):
        bins = [8, 15][seed % 2]
        tc, ptc = nap.tuning_curves(g, feat, bins), pnap.compute_tuning_curves(pg, pfeat, bins)
        for bin_size, window, uniform in ((0.1, None, True), (0.2, 3, False), (0.05, 4, True)):
            check(nap.decode_bayes(tc, g, ep, bin_size, window, "s", uniform),
                  pnap.decode_bayes(ptc, pg, pep, bin_size, window, "s", uniform))
            for metric in ("correlation", "cosine", "cityblock"):
                check(nap.decode_template(tc, g, ep, bin_size, metric, window),
                      pnap.decode_template(ptc, pg, pep, bin_size, metric, window))
        check(nap.decode_bayes(tc, g, ep, 100, time_units="ms"),
              pnap.decode_bayes(ptc, pg, pep, 100, time_units="ms"))


def test_continuous_activity_matches_pynapple(pnap):
    g, pg, x, px, _, _ = both(pnap, 7)
    ep, pep = (0.0, 120.0), pnap.IntervalSet(0.0, 120.0)
    counts = nap.count(g, 0.1, ep)
    rates = nap.tsd_frame(counts.time.values, counts.values / 0.1, columns=counts.unit.values)
    prates = pnap.TsdFrame(counts.time.values, counts.values / 0.1,
                           columns=counts.unit.values)
    tc, ptc = nap.tuning_curves(rates, x, 10), pnap.compute_tuning_curves(prates, px, 10)
    check(nap.decode_bayes(tc, rates, ep, 0.1, 2), pnap.decode_bayes(ptc, prates, pep, 0.1, 2))
    check(nap.decode_template(tc, rates, ep, 0.1), pnap.decode_template(ptc, prates, pep, 0.1))
    # a lazy (dask) TsdFrame is read block by block, same numbers
    lazy = rates.chunk({"time": 100})
    check(nap.decode_template(tc, lazy, ep, 0.1), pnap.decode_template(ptc, prates, pep, 0.1))


@pytest.mark.filterwarnings("ignore::FutureWarning")  # pynapple deprecates them
def test_legacy_decoders_match_pynapple(pnap):
    g, pg, x, px, xy, pxy = both(pnap, 3)
    ep, pep = (0.0, 120.0), pnap.IntervalSet(0.0, 120.0)
    tc1, ptc1 = nap.compute_1d_tuning_curves(g, x, 12), pnap.compute_1d_tuning_curves(pg, px, 12)
    for ours_tc in (tc1, ptc1):  # xr-nap's DataArray or pynapple's DataFrame
        check(nap.decode_1d(ours_tc, g, ep, 0.1), pnap.decode_1d(ptc1, pg, pep, 0.1))
        check(nap.decode_1d(ours_tc, g, ep, 0.1, feature=x),
              pnap.decode_1d(ptc1, pg, pep, 0.1, feature=px))
    tc2 = nap.compute_2d_tuning_curves(g, xy, 6)
    ptc2, bins_xy = pnap.compute_2d_tuning_curves(pg, pxy, 6)
    for ours_tc in (tc2, ptc2):
        check(nap.decode_2d(ours_tc, g, ep, 0.1, bins_xy),
              pnap.decode_2d(ptc2, pg, pep, 0.1, bins_xy))
        check(nap.decode_2d(ours_tc, g, ep, 0.1, bins_xy, features=xy),
              pnap.decode_2d(ptc2, pg, pep, 0.1, bins_xy, features=pxy))


def test_exact_ties_are_broken_as_pynapple(pnap):
    # pynapple's docstring case: symmetric tuning curves, many bins without spikes,
    # where the two feature bins score exactly the same
    units = {i: np.arange(0, 50, 2.0) + 50 * i for i in range(2)}
    feature = np.repeat([0.0, 1.0], 50)
    g, pg = nap.ts_group(units), pnap.TsGroup({k: pnap.Ts(v) for k, v in units.items()})
    tc = nap.tuning_curves(g, nap.tsd(np.arange(100.0), feature), 2, range=(-0.5, 1.5))
    ptc = pnap.compute_tuning_curves(pg, pnap.Tsd(np.arange(100.0), feature), 2,
                                     range=(-0.5, 1.5))
    ep, pep = (0.0, 100.0), pnap.IntervalSet(0, 100)
    check(nap.decode_bayes(tc, g, ep, 1.0), pnap.decode_bayes(ptc, pg, pep, 1.0))
    check(nap.decode_template(tc, g, ep, 1.0), pnap.decode_template(ptc, pg, pep, 1.0))


def test_blocks_do_not_change_the_result(monkeypatch):
    from xr_nap.process import decoding

    t, x, _, units = session(2)
    g = nap.ts_group(units)
    tc = nap.tuning_curves(g, nap.tsd(t, x), 10)
    whole = [r.values for r in nap.decode_bayes(tc, g, (0, 120), 0.1)]
    monkeypatch.setattr(decoding, "ROW_BLOCK_VALUES", 50)  # a few time bins per block
    for a, b in zip(whole, nap.decode_bayes(tc, g, (0, 120), 0.1), strict=True):
        np.testing.assert_array_equal(a, b.values)


def test_results_are_labelled_and_round_trip(tmp_path):
    t, x, y, units = session(4)
    g = nap.ts_group(units)
    tc = nap.tuning_curves(g, nap.tsd_frame(t, np.c_[x, y], columns=["x", "y"]), 5)
    decoded, p = nap.decode_bayes(tc, g, (0, 120), 0.5)
    assert decoded.dims == ("time", "feature") and decoded.feature.values.tolist() == ["x", "y"]
    assert p.dims == ("time", "x", "y") and p.x.size == 5
    np.testing.assert_allclose(p.sum(["x", "y"]).values, 1.0)
    assert nap.nap_type(decoded) == "TsdFrame" and nap.nap_type(p) == "TsdTensor"
    for obj in (decoded, p):
        obj.to_netcdf(tmp_path / "d.nc")
        with xr.open_dataarray(tmp_path / "d.nc") as back:
            np.testing.assert_array_equal(back.values, obj.values)


def test_no_activity_decodes_to_nan_for_templates():
    g = nap.ts_group({0: [1.0, 2.0], 1: [5.0, 6.0]})
    tc = nap.tuning_curves(g, nap.tsd(np.arange(0.0, 8.0, 0.5), np.arange(16.0) % 4), 2)
    decoded, dist = nap.decode_template(tc, g, (0.0, 8.0), 1.0)
    empty = nap.count(g, 1.0, (0.0, 8.0)).sum("unit").values == 0
    assert np.isnan(decoded.values[empty]).all() and np.isnan(dist.values[empty]).all()


def test_bad_inputs_raise_clear_errors():
    t, x, _, units = session(0)
    g = nap.ts_group(units)
    tc = nap.tuning_curves(g, nap.tsd(t, x), 5)
    with pytest.raises(TypeError, match="tuning_curves"):
        nap.decode_bayes(tc.values, g, (0, 10), 0.1)
    with pytest.raises(TypeError, match="TsGroup"):
        nap.decode_bayes(tc, nap.tsd(t, x), (0, 10), 0.1)
    with pytest.raises(XrNapError, match="different shapes"):
        nap.decode_bayes(tc.isel(unit=[0, 1]), g, (0, 10), 0.1)
    with pytest.raises(XrNapError, match="different indices"):
        nap.decode_bayes(tc.assign_coords(unit=tc.unit.values + 100), g, (0, 10), 0.1)
    with pytest.raises(XrNapError, match="occupancy"):
        nap.decode_bayes(tc.drop_vars("occupancy").drop_attrs(), g, (0, 10), 0.1,
                         uniform_prior=False)
    with pytest.raises(XrNapError, match="sliding_window_size"):
        nap.decode_bayes(tc, g, (0, 10), 0.1, sliding_window_size=0)
    with pytest.raises(XrNapError, match="bin_size"):
        nap.decode_template(tc, g, (0, 10), "0.1")
    frame = nap.count(g, 0.1, (0, 10)).astype(float)
    with pytest.warns(UserWarning, match="bin_size"):
        nap.decode_bayes(tc, frame, (0, 10), 0.3)
    with pytest.warns(UserWarning, match="Kernel size"):
        nap.decode_bayes(tc, g, (0, 10), 1.0, sliding_window_size=20)
