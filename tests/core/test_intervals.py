import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import interval_bounds, raw_intervals, sorted_times

import xr_nap as nap

SETTINGS = settings(max_examples=80, deadline=None)


def quiet(f, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*args, **kwargs)


def same_bounds(ours, theirs):
    np.testing.assert_array_equal(ours["start"].values, theirs.start)
    np.testing.assert_array_equal(ours["end"].values, theirs.end)


@SETTINGS
@given(raw_intervals())
def test_construction_matches_pynapple(pnap, pairs):
    starts, ends = pairs
    same_bounds(quiet(nap.interval_set, starts, ends), quiet(pnap.IntervalSet, starts, ends))


@pytest.mark.parametrize(
    "starts, ends, want_s, want_e",
    [
        ([0, 1], [1, 2], [0, 1], [1 - 1e-6, 2]),  # touching: pynapple's 1 us gap
        ([5, 0], [6, 1], [0, 5], [1, 6]),  # unsorted
        ([0, 1, 3], [2, 4, 3.5], [0], [4]),  # chained overlaps
        ([0, 3], [10, 4], [0], [10]),  # one inside another
        ([0, 2], [0, 3], [2], [3]),  # zero length dropped
        ([], [], [], []),
    ],
)
def test_construction_edge_cases(pnap, starts, ends, want_s, want_e):
    ours = quiet(nap.interval_set, starts, ends)
    np.testing.assert_allclose(ours.start.values, want_s, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.end.values, want_e, rtol=0, atol=1e-12)
    same_bounds(ours, quiet(pnap.IntervalSet, np.array(starts, float), np.array(ends, float)))


def test_construction_warns_and_keeps_metadata_when_only_sorting():
    with pytest.warns(UserWarning, match="not sorted"):
        ep = nap.interval_set([5, 0], [6, 1], metadata={"label": ["b", "a"]})
    assert ep.label.values.tolist() == ["a", "b"]  # sorted as pairs, labels follow
    with pytest.warns(UserWarning, match="dropping metadata"):
        merged = nap.interval_set([0, 1], [2, 3], metadata={"label": ["a", "b"]})
    assert "label" not in merged


def test_reversed_and_empty_intervals_differ_from_pynapple(pnap):
    """pynapple sorts starts and ends separately, so a reversed or empty interval
    changes its neighbours; xr-nap drops just that pair, as pynapple's own warning
    ("Dropping them!") promises."""
    ours = quiet(nap.interval_set, [0, 3], [10, 3])  # [3, 3] is empty
    theirs = quiet(pnap.IntervalSet, np.array([0.0, 3.0]), np.array([10.0, 3.0]))
    assert ours.end.values.tolist() == [10.0]
    assert theirs.end.tolist() == [3.0 - 1e-6, 10.0]  # pynapple cut [0, 10] at 3
    ours = quiet(nap.interval_set, [0, 2], [3, 1])  # [2, 1] is reversed
    assert ours.start.values.tolist() == [0.0] and ours.end.values.tolist() == [3.0]


def test_nan_rows_dropped_with_warning():
    with pytest.warns(UserWarning, match="NaN"):
        ep = nap.interval_set([0, np.nan], [1, 2])
    assert ep.sizes["interval"] == 1


@pytest.mark.parametrize("bad", [np.zeros((3, 3)), [[0, 1, 2]], "abc"])
def test_bad_shapes_raise(bad):
    with pytest.raises(ValueError):
        nap.interval_set(bad)


def test_mismatched_lengths_and_infinite_raise():
    with pytest.raises(ValueError, match="2 starts but 1 ends"):
        nap.interval_set([0, 1], [2])
    with pytest.raises(ValueError, match="finite"):
        nap.interval_set([0], [np.inf])


def test_accepts_pairs_frames_and_datasets():
    import pandas as pd

    a = nap.interval_set((0, 1))
    b = nap.interval_set(np.array([[0, 1]]))
    c = nap.interval_set(pd.DataFrame({"start": [0], "end": [1], "x": ["q"]}))
    d = nap.interval_set(c)
    for ep in (a, b, c, d):
        assert ep.start.values.tolist() == [0.0] and ep.end.values.tolist() == [1.0]
    assert d.x.values.tolist() == ["q"]


@SETTINGS
@given(interval_bounds(), interval_bounds())
def test_algebra_matches_pynapple(pnap, a, b):
    xa, xb = nap.interval_set(*a), nap.interval_set(*b)
    pa, pb = quiet(pnap.IntervalSet, *a), quiet(pnap.IntervalSet, *b)
    if not np.isin(np.concatenate([a[0], a[1]]), np.concatenate([b[0], b[1]])).any():
        same_bounds(quiet(nap.union, xa, xb), quiet(pa.union, pb))  # see test below
    same_bounds(quiet(nap.intersect, xa, xb), quiet(pa.intersect, pb))
    same_bounds(quiet(nap.set_diff, xa, xb), quiet(pa.set_diff, pb))


@SETTINGS
@given(interval_bounds(), sorted_times())
def test_in_interval_and_lengths_match_pynapple(pnap, a, t):
    xa, pa = nap.interval_set(*a), quiet(pnap.IntervalSet, *a)
    np.testing.assert_array_equal(nap.in_interval(xa, t), pa.in_interval(pnap.Ts(t=t)))
    assert nap.tot_length(xa) == pytest.approx(pa.tot_length(), abs=1e-12)
    for thr in (0.0, 0.5, 2.0):
        same_bounds(nap.drop_short_intervals(xa, thr), pa.drop_short_intervals(thr))
        same_bounds(nap.drop_long_intervals(xa, thr), pa.drop_long_intervals(thr))
        same_bounds(quiet(nap.merge_close_intervals, xa, thr),
                    quiet(pa.merge_close_intervals, thr))


def test_union_merges_touching_intervals_unlike_pynapple(pnap):
    """pynapple's union keeps [0, 1] and [1, 2] apart (1 us gap) but merges
    [0, 2] | [0, 1] | [2, 3] through its overlap chain; xr-nap always merges
    closed intervals that touch."""
    ours = nap.union(nap.interval_set(0, 1), nap.interval_set(1, 2))
    assert ours.start.values.tolist() == [0.0] and ours.end.values.tolist() == [2.0]
    theirs = quiet(pnap.IntervalSet(0, 1).union, pnap.IntervalSet(1, 2))
    assert theirs.end.tolist() == [1 - 1e-6, 2.0]
    chain = quiet(pnap.IntervalSet(0, 0.002).union, pnap.IntervalSet([0, 0.002], [0.001, 0.003]))
    assert chain.end.tolist() == [0.003]
    ours = nap.union(nap.interval_set(0, 0.002), nap.interval_set([0, 0.002], [0.001, 0.003]))
    assert ours.end.values.tolist() == [0.003]


def test_intersect_and_set_diff_keep_metadata():
    a = nap.interval_set([0, 10], [5, 20], metadata={"label": ["x", "y"]})
    b = nap.interval_set([3], [12], metadata={"trial": [7]})
    i = nap.intersect(a, b)
    assert i.label.values.tolist() == ["x", "y"] and i.trial.values.tolist() == [7, 7]
    d = nap.set_diff(a, b)
    assert d.start.values.tolist() == [0, 12] and d.label.values.tolist() == ["x", "y"]


def test_accessor_delegates():
    a = nap.interval_set([0, 10], [5, 20])
    assert a.nap.tot_length() == nap.tot_length(a) == 15.0
    assert a.nap.time_span().end.values.tolist() == [20.0]


def test_unsorted_dataset_input_keeps_its_metadata():
    import xarray as xr

    raw = xr.Dataset({"start": ("interval", [10.0, 0.0]), "end": ("interval", [20.0, 5.0]),
                      "label": ("interval", ["b", "a"])})
    ep = quiet(nap.drop_short_intervals, raw, 1.0)
    assert ep.start.values.tolist() == [0.0, 10.0] and ep.label.values.tolist() == ["a", "b"]
