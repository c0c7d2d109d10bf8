"""derivative, interpolate, decimate, time_diff and find_support against pynapple 0.11."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import interval_bounds, sorted_times

import xr_nap as nap
from xr_nap.errors import XrNapError

SETTINGS = settings(max_examples=60, deadline=None)
ULP = 4e-16  # time_diff "end": one rounding step


def pairs(pnap, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 400))
    t = np.arange(n) * 0.1 if seed % 4 == 0 else np.sort(
        rng.choice(np.arange(0, 100, 0.01), n, replace=False))  # even and uneven steps
    values = rng.normal(size=(n, 3))
    middle = (t[0] + t[-1]) / 2
    support = ([t[0], middle + 0.013], [middle, t[-1]]) if seed % 2 else ([t[0]], [t[-1]])
    ps = pnap.IntervalSet(*support)
    out = [(nap.tsd(t, values[:, 0], time_support=support),
            pnap.Tsd(t, values[:, 0], time_support=ps)),
           (nap.tsd_frame(t, values, time_support=support),
            pnap.TsdFrame(t, values, time_support=ps))]
    ep = None if seed % 3 else ([t[0] + 1, t[-1] / 2 + 3], [t[-1] / 2, t[-1] - 1])
    return t, out, ep, ({} if ep is None else {"ep": pnap.IntervalSet(*ep)})


def same(ours, theirs, time_rtol=0.0):
    np.testing.assert_allclose(ours.time.values, theirs.index.values, rtol=time_rtol, atol=0)
    np.testing.assert_array_equal(ours.values, theirs.values)


@pytest.mark.parametrize("seed", range(12))
def test_series_methods_match_pynapple_bit_for_bit(pnap, seed):
    t, series, ep, kw = pairs(pnap, seed)
    rng = np.random.default_rng(seed + 100)
    new_times = np.sort(rng.uniform(t[0] - 1, t[-1] + 1, 50))
    for ours, theirs in series:
        try:
            expected = theirs.derivative(**kw)
        except (ValueError, IndexError):  # pynapple fails on a one-sample epoch
            expected = None
        if expected is not None:
            same(nap.derivative(ours, ep), expected)
        for extra in ({}, {"left": -5.0, "right": 7.0}):
            same(nap.interpolate(ours, nap.ts(new_times), ep, **extra),
                 theirs.interpolate(pnap.Ts(new_times), **kw, **extra))
        for align in ("start", "center", "end"):
            epochs = {"epochs": kw["ep"]} if kw else {}
            same(nap.time_diff(ours, align, ep), theirs.time_diff(align, **epochs), ULP)
        try:
            expected = theirs.decimate(3, **kw)
        except ValueError:  # an epoch too short for scipy's filter
            continue
        ours_d = nap.decimate(ours, 3, ep=ep)
        np.testing.assert_array_equal(ours_d.time.values, expected.index.values)
        np.testing.assert_allclose(ours_d.values, expected.values, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(nap.decimate(series[0][0], 2, 4, "fir").values,
                               series[0][1].decimate(2, 4, "fir").values, atol=1e-12)


@SETTINGS
@given(sorted_times(min_size=1), interval_bounds(max_size=3))
def test_time_diff_and_find_support_on_a_grid(pnap, t, bounds):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = nap.ts(t), pnap.Ts(t)
        if bounds[0].size:
            ours_d = nap.time_diff(ours, "end", bounds)
            # pynapple's t[i] + (t[i+1] - t[i]) can land one ulp past t[i+1], even past an
            # epoch's end (kept outside its own support); xr-nap gives t[i+1] itself
            same(ours_d, theirs.time_diff("end", pnap.IntervalSet(*bounds)), ULP)
            assert np.isin(ours_d.time.values, t).all()
        for gap in (0.001, 0.5, 3.0):
            a, b = nap.find_support(ours, gap), theirs.find_support(gap)
            np.testing.assert_array_equal(a.start.values, b.start)
            np.testing.assert_array_equal(a.end.values, b.end)


def test_group_time_diff_is_a_dict_of_tsd(pnap):
    units = {0: [1.0, 3.0, 5.0, 6.0, 8.0, 12.0], 1: [2.0, 8.0, 9.0, 13.0, 14.0, 17.0]}
    ours = nap.time_diff(nap.ts_group(units), epochs=(2, 9))
    theirs = pnap.TsGroup({k: pnap.Ts(v) for k, v in units.items()}).time_diff(
        epochs=pnap.IntervalSet(2, 9))
    assert list(ours) == list(theirs)
    for k in ours:
        same(ours[k], theirs[k])


def test_lazy_series_give_the_same_numbers():
    t = np.arange(0, 50, 0.01)
    x = nap.tsd_frame(t, np.c_[np.sin(t), np.cos(t)], time_support=([0, 30], [20, 49.99]))
    lazy = x.chunk({"time": 777})
    for func, args in ((nap.derivative, ()), (nap.interpolate, (nap.ts(t[::7] + 0.003),)),
                       (nap.decimate, (4,))):
        np.testing.assert_array_equal(func(lazy, *args).values, func(x, *args).values)


def test_edge_cases():
    # one sample in an epoch: NaN (pynapple raises from numpy.gradient)
    x = nap.tsd([0.0, 1.0, 2.0, 10.0], [0.0, 1.0, 4.0, 5.0], time_support=([0, 9], [2, 11]))
    np.testing.assert_array_equal(nap.derivative(x).values, [1.0, 2.0, 3.0, np.nan])
    # NaN samples propagate as in numpy
    y = nap.tsd(np.arange(4.0), [0.0, np.nan, 2.0, 3.0])
    assert np.isnan(nap.derivative(y).values[[0, 2]]).all()
    assert np.isnan(nap.interpolate(y, nap.ts([0.5, 2.5])).values[0])
    # an epoch where the series has no sample: NaN
    z = nap.interpolate(x, nap.ts([1.5, 5.0]), ep=([0, 4], [3, 8]))
    assert z.values[0] == 2.5 and np.isnan(z.values[1])
    # empty series
    assert nap.find_support(nap.ts([]), 1.0).sizes["interval"] == 0
    assert nap.time_diff(nap.ts([1.0])).sizes["time"] == 0
    # an epoch too short for decimate's filter is named
    with pytest.raises(XrNapError, match="epoch 0"):
        nap.decimate(nap.tsd(np.arange(10.0), np.ones(10)), 2)
    with pytest.raises(XrNapError, match="down"):
        nap.decimate(x, 0)
    with pytest.raises(XrNapError, match="align"):
        nap.time_diff(x, "middle")
    with pytest.raises(TypeError, match="min_gap"):
        nap.find_support(x, "1")
    with pytest.raises(TypeError, match="Tsd"):
        nap.derivative(nap.ts([1.0, 2.0]))
