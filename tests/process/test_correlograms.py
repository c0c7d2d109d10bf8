"""Correlograms and ISI distributions against pynapple 0.11, number for number."""

import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import sorted_times

import xr_nap as nap
from xr_nap.errors import OutputSizeError, XrNapError

SETTINGS = settings(max_examples=40, deadline=None)
bin_sizes = st.sampled_from([0.001, 0.002, 0.005, 0.01, 0.1, 0.25, 1 / 3])
windows = st.sampled_from([0.01, 0.023, 0.05, 0.1, 0.5, 1.0, 3.0])


def pn_group(pnap, units, support):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pnap.TsGroup({k: pnap.Ts(t=np.asarray(v, float)) for k, v in units.items()},
                            time_support=pnap.IntervalSet(*support))


def random_units(rng, n_units=4, duration=60.0, rate=8.0, grid=None):
    units = {}
    for u in range(n_units):
        t = np.sort(rng.uniform(0, duration, rng.poisson(rate * duration)))
        if grid:
            t = np.unique(np.round(t / grid) * grid)
        units[3 * u + 1] = t
    return units


def same(ours, theirs):
    np.testing.assert_array_equal(ours.values, theirs.values)
    np.testing.assert_array_equal(ours.lag.values, theirs.index.values)


# --------------------------------------------------------------------------- differential
@pytest.mark.parametrize("seed", range(6))
def test_all_correlograms_match_pynapple(pnap, seed):
    rng = np.random.default_rng(seed)
    grid = [None, 0.001, 0.0005][seed % 3]  # grids put spikes exactly on bin edges
    units = random_units(rng, grid=grid)
    other = random_units(rng, n_units=2, grid=grid)
    support = ([0.0], [60.0])
    g, g2 = nap.ts_group(units, time_support=support), nap.ts_group(other, time_support=support)
    pg, pg2 = pn_group(pnap, units, support), pn_group(pnap, other, support)
    events = np.sort(rng.uniform(0, 60, 40))
    binsize, window = [(0.001, 0.05), (0.002, 0.023), (0.01, 0.5)][seed % 3]
    ep = (5.0, 45.0) if seed % 2 else None
    kw = {} if ep is None else {"ep": pnap.IntervalSet(*ep)}  # pynapple refuses ep=None
    for norm in (True, False):
        same(nap.compute_autocorrelogram(g, binsize, window, ep, norm),
             pnap.compute_autocorrelogram(pg, binsize, window, **kw, norm=norm))
        for reverse in (False, True):
            ours = nap.compute_crosscorrelogram(g, binsize, window, ep, norm, "s", reverse)
            theirs = pnap.compute_crosscorrelogram(pg, binsize, window, **kw, norm=norm,
                                                   reverse=reverse)
            same(ours, theirs)
            assert list(zip(ours.reference.values, ours.target.values, strict=True)) == \
                list(theirs.columns)
        same(nap.compute_crosscorrelogram((g, g2), binsize, window, ep, norm),
             pnap.compute_crosscorrelogram((pg, pg2), binsize, window, **kw, norm=norm))
        same(nap.compute_eventcorrelogram(g, nap.ts(events), binsize, window, ep, norm),
             pnap.compute_eventcorrelogram(pg, pnap.Ts(events), binsize, window, **kw,
                                           norm=norm))


@SETTINGS
@given(st.lists(sorted_times(max_size=40), min_size=1, max_size=4), bin_sizes, windows,
       st.booleans())
def test_correlograms_on_a_ms_grid_match_pynapple(pnap, trains, binsize, window, norm):
    # times on a ms grid: many spike pairs sit exactly on a bin edge
    units = dict(enumerate(trains))
    support = ([0.0], [21.0])
    g, pg = nap.ts_group(units, time_support=support), pn_group(pnap, units, support)
    same(nap.compute_autocorrelogram(g, binsize, window, norm=norm),
         pnap.compute_autocorrelogram(pg, binsize, window, norm=norm))
    if len(units) > 1:
        same(nap.compute_crosscorrelogram(g, binsize, window, norm=norm),
             pnap.compute_crosscorrelogram(pg, binsize, window, norm=norm))
    same(nap.compute_eventcorrelogram(g, nap.ts(trains[0], time_support=support), binsize,
                                      window, norm=norm),
         pnap.compute_eventcorrelogram(pg, pnap.Ts(trains[0],
                                                   time_support=pnap.IntervalSet(*support)),
                                       binsize, window, norm=norm))


def test_time_units(pnap):
    rng = np.random.default_rng(1)
    units = random_units(rng, n_units=2)
    g, pg = nap.ts_group(units, time_support=(0, 60)), pn_group(pnap, units, ([0], [60]))
    same(nap.compute_autocorrelogram(g, 2, 50, time_units="ms"),
         pnap.compute_autocorrelogram(pg, 2, 50, time_units="ms"))
    same(nap.compute_crosscorrelogram(g, 2000, 50000, time_units="us"),
         pnap.compute_crosscorrelogram(pg, 2000, 50000, time_units="us"))


@pytest.mark.parametrize("seed", range(3))
def test_isi_distribution_matches_pynapple(pnap, seed):
    rng = np.random.default_rng(seed)
    units = random_units(rng, n_units=3, rate=3.0)
    support = ([0.0, 35.0], [30.0, 60.0])
    g, pg = nap.ts_group(units, time_support=support), pn_group(pnap, units, support)
    epochs = None if seed % 2 else ([5.0, 40.0], [25.0, 55.0])
    kw = {} if epochs is None else {"epochs": pnap.IntervalSet(*epochs)}
    for bins in (10, 1, np.linspace(0, 2, 9), [0.0, 0.1, 0.5, 1.0]):
        for log_scale in (False, True):
            edges = np.log(np.asarray(bins)[1:]) if log_scale and np.ndim(bins) else bins
            ours = nap.compute_isi_distribution(g, edges, log_scale, epochs)
            theirs = pnap.compute_isi_distribution(pg, edges, log_scale, **kw)
            np.testing.assert_array_equal(ours.values, theirs.values)
            np.testing.assert_allclose(ours.isi.values, theirs.index.values)
    x = nap.tsd(units[1], np.ones(units[1].size), time_support=support)
    px = pnap.Tsd(units[1], np.ones(units[1].size), time_support=pnap.IntervalSet(*support))
    np.testing.assert_array_equal(nap.compute_isi_distribution(x, 7, False, epochs).values,
                                  pnap.compute_isi_distribution(px, 7, False, **kw).values)


# --------------------------------------------------------------------------- layout
def test_results_are_labelled_and_round_trip_through_netcdf(tmp_path):
    g = nap.ts_group({2: [0.1, 0.5, 0.52, 0.9], 5: [0.3, 0.51]},
                     metadata={"area": ["ca1", "ca3"]})
    ac = nap.autocorrelogram(g, 0.01, 0.05)
    assert ac.dims == ("lag", "unit") and ac.lag.attrs["units"] == "s"
    assert ac.area.values.tolist() == ["ca1", "ca3"] and ac.attrs["units"] == "1"
    cc = nap.crosscorrelogram(g, 0.01, 0.05, norm=False)
    assert cc.dims == ("lag", "pair") and cc.attrs["units"] == "Hz"
    assert cc.set_xindex(["reference", "target"]).sel(reference=2, target=5).dims == ("lag",)
    isi = nap.isi_distribution(g, 4)
    for obj in (ac, cc, isi, nap.eventcorrelogram(g, nap.ts([0.5]), 0.01, 0.05)):
        obj.to_netcdf(tmp_path / "x.nc")
        back = xr.open_dataarray(tmp_path / "x.nc")
        np.testing.assert_array_equal(back.values, obj.values)
        back.close()


# --------------------------------------------------------------------------- edge cases
def test_unit_without_spikes_gives_nan_as_pynapple(pnap):
    units = {0: [1.0, 1.2, 5.0], 1: []}
    g, pg = nap.ts_group(units, time_support=(0, 10)), pn_group(pnap, units, ([0], [10]))
    same(nap.compute_autocorrelogram(g, 0.1, 0.5), pnap.compute_autocorrelogram(pg, 0.1, 0.5))
    ours = nap.compute_crosscorrelogram(g, 0.1, 0.5)
    same(ours, pnap.compute_crosscorrelogram(pg, 0.1, 0.5))
    assert np.isnan(ours.values).all()  # the target has no rate


def test_one_spike_and_window_longer_than_the_data(pnap):
    units = {0: [2.0], 1: [1.0, 3.0]}
    g, pg = nap.ts_group(units, time_support=(0, 4)), pn_group(pnap, units, ([0], [4]))
    same(nap.compute_autocorrelogram(g, 0.5, 100.0),  # window >> recording
         pnap.compute_autocorrelogram(pg, 0.5, 100.0))
    same(nap.compute_crosscorrelogram(g, 0.5, 100.0, norm=False),
         pnap.compute_crosscorrelogram(pg, 0.5, 100.0, norm=False))
    ours = nap.compute_crosscorrelogram(g, 0.5, 100.0, norm=False)
    assert ours.values.sum() * 0.5 == pytest.approx(2.0)  # both pairs counted once


def test_empty_epoch_and_no_event():
    g = nap.ts_group({0: [1.0, 2.0]}, time_support=(0, 3))
    ac = nap.compute_autocorrelogram(g, 0.5, 1.0, ep=(10.0, 11.0))  # no spike there
    assert np.isnan(ac.values[ac.lag != 0]).all()
    ec = nap.compute_eventcorrelogram(g, nap.ts([10.0, 20.0]), 0.5, 1.0)  # group dropped
    assert np.isnan(ec.values).all()


def test_bad_arguments_raise_clear_errors():
    g = nap.ts_group({0: [1.0, 2.0]})
    with pytest.raises(TypeError, match="TsGroup"):
        nap.compute_autocorrelogram(nap.ts([1.0]), 0.1, 1.0)
    with pytest.raises(TypeError, match="binsize"):
        nap.compute_autocorrelogram(g, "0.1", 1.0)
    with pytest.raises(TypeError, match="norm"):
        nap.compute_autocorrelogram(g, 0.1, 1.0, norm=1)
    with pytest.raises(XrNapError, match="positive"):
        nap.compute_autocorrelogram(g, 0.0, 1.0)
    with pytest.raises(ValueError, match="time_unit"):
        nap.compute_autocorrelogram(g, 1, 10, time_units="min")
    with pytest.raises(OutputSizeError, match="time_units"):
        nap.compute_autocorrelogram(g, 1e-9, 10.0)
    with pytest.raises(TypeError, match="pair"):
        nap.compute_crosscorrelogram((g, g, g), 0.1, 1.0)
    with pytest.raises(TypeError, match="event"):
        nap.compute_eventcorrelogram(g, [1.0], 0.1, 1.0)
    with pytest.raises(TypeError, match="bins"):
        nap.compute_isi_distribution(g, 2.5)
    with pytest.raises(XrNapError, match="monotonically"):
        nap.compute_isi_distribution(g, [1.0, 0.5])
    with pytest.raises(XrNapError, match="no inter-spike interval"):
        nap.compute_isi_distribution(nap.ts([1.0]), 10)
    with pytest.raises(XrNapError, match="log"):
        nap.compute_isi_distribution(nap.ts([1.0, 1.0, 2.0]), 5, log_scale=True)


def test_pairs_are_counted_in_bounded_blocks(monkeypatch):
    # a tiny block size exercises the block loops; the result must not change
    from xr_nap.process import correlograms

    rng = np.random.default_rng(3)
    g = nap.ts_group(random_units(rng, n_units=3))
    events = nap.ts(np.sort(rng.uniform(0, 60, 30)))
    before = [nap.compute_crosscorrelogram(g, 0.01, 0.2).values,
              nap.compute_autocorrelogram(g, 0.01, 0.2).values,
              nap.compute_eventcorrelogram(g, events, 0.01, 0.2).values]
    monkeypatch.setattr(correlograms, "PAIR_BLOCK", 7)
    after = [nap.compute_crosscorrelogram(g, 0.01, 0.2).values,
             nap.compute_autocorrelogram(g, 0.01, 0.2).values,
             nap.compute_eventcorrelogram(g, events, 0.01, 0.2).values]
    for x, y in zip(before, after, strict=True):
        np.testing.assert_array_equal(x, y)
