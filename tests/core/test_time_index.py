"""xarray's own operations keep the time support true (issue 12).

Each test builds a random session (several epochs with gaps), runs an ordinary xarray
operation, then compares the result with pynapple's ``restrict`` on the epochs the
operation stands for (the table in :mod:`xr_nap.core.time_index`), number by number:
samples, support, ``count``, ``bin_average`` and spike tuning curves.
"""

import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import interval_bounds, sorted_times

import xr_nap as nap
from xr_nap.core.time_index import TimeIndex, clip_support, rate_time_coords
from xr_nap.core.time_series import support_bounds

warnings.filterwarnings("ignore", module="pynapple")


# --------------------------------------------------------------------------- helpers
@st.composite
def sessions(draw):
    """A Tsd on a ms grid with a multi-epoch support, and 2-D frame twin."""
    t = draw(sorted_times(min_size=4, max_size=60))
    starts, ends = draw(interval_bounds(max_size=4))
    assume(starts.size >= 1)
    keep = np.zeros(t.size, bool)
    for s, e in zip(starts, ends, strict=True):
        keep |= (t >= s) & (t <= e)
    assume(keep.sum() >= 2)
    return t, (starts, ends)


def build(pnap, t, support):
    d = np.cos(t) * 10 + np.arange(t.size)
    ours = nap.tsd(t, d, time_support=support)
    theirs = pnap.Tsd(t=t, d=d, time_support=pnap.IntervalSet(*support))
    return ours, theirs


def epochs(pnap, starts, ends):
    return pnap.IntervalSet(np.asarray(starts, float), np.asarray(ends, float))


def check_same(pnap, ours, theirs, bin_size=0.25):
    """Same support, samples in it, and derived numbers as pynapple.

    xarray cannot drop a sample that a selection keeps but that lies on a zero-length
    piece of the support (an edge sample: zero-length intervals are dropped); such a
    sample is outside the support and every function ignores it, as pynapple's
    restrict drops it. So the samples are compared inside the support.
    """
    inside = nap.restrict(ours, nap.time_support(ours))
    if theirs.time_support.shape[0] == 0 and len(theirs) == 1:
        inside = ours  # pynapple's own one-sample Tsd: empty support, one sample
    np.testing.assert_array_equal(inside.time.values, theirs.t)
    np.testing.assert_allclose(inside.values, theirs.values)
    support = nap.time_support(ours)
    np.testing.assert_array_equal(support.start.values, theirs.time_support.start)
    np.testing.assert_array_equal(support.end.values, theirs.time_support.end)
    if theirs.time_support.shape[0] == 0:
        return
    c_ours, c_theirs = nap.count(ours, bin_size), theirs.count(bin_size)
    np.testing.assert_array_equal(c_ours.time.values, c_theirs.t)
    np.testing.assert_array_equal(c_ours.values, c_theirs.values)
    b_ours, b_theirs = nap.bin_average(ours, bin_size), theirs.bin_average(bin_size)
    np.testing.assert_array_equal(b_ours.time.values, b_theirs.t)
    np.testing.assert_allclose(b_ours.values, b_theirs.values, equal_nan=True)
    spikes = np.sort(np.random.default_rng(1).uniform(0, 21, 50))
    group = nap.ts_group({0: spikes, 1: spikes[::3]}, time_support=(0.0, 21.0))
    pgroup = pnap.TsGroup({0: pnap.Ts(spikes), 1: pnap.Ts(spikes[::3])},
                          time_support=pnap.IntervalSet(0.0, 21.0))
    if theirs.values.size > 1 and np.nanmax(theirs.values) > np.nanmin(theirs.values):
        tc_ours = nap.tuning_curves(group, ours, 4)
        tc_theirs = pnap.compute_tuning_curves(pgroup, theirs, 4)
        np.testing.assert_allclose(tc_ours.values, tc_theirs.values, equal_nan=True)


# --------------------------------------------------------------------------- the table
@settings(max_examples=60, deadline=None)
@given(session=sessions(), a=st.integers(0, 21_000), length=st.integers(0, 15_000))
def test_sel_slice_is_restrict_to_support_and_window(pnap, session, a, length):
    t, support = session
    lo, hi = a / 1000, (a + length) / 1000
    ours, theirs = build(pnap, t, support)
    window = clip_support(*support, lo, hi)
    selected = ours.sel(time=slice(lo, hi))
    if window[0].size == 0:
        # the window meets the support in single points at most: no support is left
        # (zero-length intervals are dropped, as in pynapple), though xarray keeps a
        # sample lying exactly on such a point, as pynapple's Tsd([t], [d]) does
        assert support_bounds(selected)[0].size == 0
        points = np.r_[lo, hi, support[0], support[1]]
        assert np.isin(selected.time.values, points).all()
        return
    check_same(pnap, selected, theirs.restrict(epochs(pnap, *window)))
    # the same numbers as xr-nap's own restrict to that window
    xr.testing.assert_identical(nap.restrict(selected, window), nap.restrict(ours, window))


@settings(max_examples=60, deadline=None)
@given(session=sessions(), data=st.data())
def test_isel_and_masks_cut_the_support_at_the_kept_samples(pnap, session, data):
    t, support = session
    ours, theirs = build(pnap, t, support)
    n = ours.sizes["time"]
    i = data.draw(st.integers(0, n - 1))
    j = data.draw(st.integers(i + 1, n))
    kept = theirs.t[i:j]
    window = clip_support(*support_bounds(ours), kept[0], kept[-1])
    expected = theirs.restrict(epochs(pnap, *window))
    if i == 0 and j == n:
        expected = theirs  # keeping every sample keeps the support
    elif j - i == 1:  # one sample: no support left, as pynapple's Tsd([t], [d])
        expected = pnap.Tsd(t=kept, d=theirs.values[i:j])
    check_same(pnap, ours.isel(time=slice(i, j)), expected)
    # a boolean mask: where(drop=True), dropna and isel with positions agree
    if n < 3:
        return
    picked = data.draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=n - 1,
                                unique=True))
    mask = np.isin(np.arange(n), picked)
    kept = theirs.t[mask]
    window = clip_support(*support_bounds(ours), kept[0], kept[-1])
    expected = pnap.Tsd(t=kept, d=theirs.values[mask],
                        time_support=epochs(pnap, *window))
    masked = ours.time.copy(data=mask)  # keeps the TimeIndex (xarray < 2026.9 aligns
    # a plain index with a TimeIndex only when they are the same type)
    check_same(pnap, ours.where(masked, drop=True), expected)
    check_same(pnap, ours.where(masked).dropna("time"), expected)
    check_same(pnap, ours.isel(time=np.flatnonzero(mask)), expected)


@settings(max_examples=40, deadline=None)
@given(session=sessions(), cut=st.integers(1, 20_000))
def test_concat_of_restricted_pieces_is_the_union(pnap, session, cut):
    t, support = session
    ours, theirs = build(pnap, t, support)
    c = cut / 1000
    ep1 = nap.intersect(nap.time_support(ours), nap.interval_set(-1.0, c))
    ep2 = nap.intersect(nap.time_support(ours), nap.interval_set(c + 0.0005, 30.0))
    pieces = [nap.restrict(ours, ep1), nap.restrict(ours, ep2)]
    joined = xr.concat(pieces, "time")
    union = nap.union(ep1, ep2)
    check_same(pnap, joined, theirs.restrict(epochs(pnap, union.start.values,
                                                    union.end.values)))
    if pieces[0].sizes["time"] and pieces[1].sizes["time"]:
        with pytest.raises(nap.TimeAxisError, match="unsorted"):
            xr.concat(pieces[::-1], "time")


@settings(max_examples=40, deadline=None)
@given(session=sessions(), a=st.integers(0, 20_000), b=st.integers(0, 20_000))
def test_arithmetic_and_joins_intersect_or_unite_supports(pnap, session, a, b):
    t, support = session
    ours, theirs = build(pnap, t, support)
    lo, hi = sorted((a / 1000, b / 1000))
    first = ours.sel(time=slice(None, hi))
    second = ours.sel(time=slice(lo, None))
    s1, e1 = support_bounds(first)
    s2, e2 = support_bounds(second)
    inner = nap.intersect(nap.interval_set(s1, e1), nap.interval_set(s2, e2))
    summed = first + second  # xarray's default: inner join
    expected = theirs.restrict(epochs(pnap, inner.start.values, inner.end.values))
    expected = pnap.Tsd(t=expected.t, d=expected.values * 2,
                        time_support=expected.time_support)
    check_same(pnap, summed, expected)
    outer = xr.Dataset({"a": first, "b": second})  # the Dataset constructor: outer join
    union = nap.union(nap.interval_set(s1, e1), nap.interval_set(s2, e2))
    np.testing.assert_array_equal(nap.time_support(outer).start.values, union.start.values)
    np.testing.assert_array_equal(nap.time_support(outer).end.values, union.end.values)
    aligned = xr.align(first, second, join="inner")
    for x in aligned:
        np.testing.assert_array_equal(nap.time_support(x).start.values, inner.start.values)


@settings(max_examples=30, deadline=None)
@given(session=sessions(), shift=st.integers(-5000, 5000))
def test_new_time_coordinate_gets_first_to_last_sample(pnap, session, shift):
    t, support = session
    ours, theirs = build(pnap, t, support)
    expected = pnap.Tsd(t=theirs.t + shift / 1000, d=theirs.values)
    check_same(pnap, ours.assign_coords(time=np.asarray(ours.time) + shift / 1000), expected)
    with xr.set_options(keep_attrs=True):  # the default from xarray 2025.11
        moved = ours.assign_coords(time=ours.time + shift / 1000)  # keeps the coord's attrs
    if shift == 0:  # the same samples: the encoded support still fits them
        check_same(pnap, moved, theirs)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nap.StaleSupportWarning)
        check_same(pnap, moved, expected)


def test_reductions_leave_no_time_support_or_type_behind():
    x = nap.tsd_frame(np.arange(10.0), np.ones((10, 3)), time_support=(0, 20))
    for reduced in (x.mean("time"), x.groupby_bins("time", 3).mean(),
                    x.max(), x.sum("column").mean("time")):
        assert "time" not in reduced.dims
        assert not {"nap_type", "time_support"} & set(reduced.attrs)
        for coord in reduced.coords.values():
            assert "time_support" not in coord.attrs or coord.name != "time"
    s = nap.ts([1.0, 2.0, 3.0])
    assert nap.nap_type(s) == "Ts"  # the one kind marked by an attribute


# --------------------------------------------------------------------------- time axis
def test_time_dimension_is_found_by_name(pnap):
    t = np.arange(0, 10, 0.1)
    frame = nap.tsd_frame(t, np.c_[np.sin(t), np.cos(t)], time_support=([0, 6], [4, 9]))
    late = xr.apply_ufunc(np.abs, frame, input_core_dims=[["time"]],
                          output_core_dims=[["time"]])
    assert late.dims == ("column", "time")
    ep = nap.interval_set(1, 7)
    r = late.nap.restrict(ep)
    assert r.dims == ("column", "time")
    xr.testing.assert_identical(r.transpose("time", "column"),
                                abs(frame).nap.restrict(ep))
    for func in (lambda x: nap.count(x, 0.5), lambda x: nap.bin_average(x, 0.5)):
        np.testing.assert_array_equal(
            func(late).transpose("time", ...).values, func(abs(frame)).values)
    group = nap.ts_group({0: t[::7]})
    np.testing.assert_array_equal(nap.tuning_curves(group, late, 5).values,
                                  nap.tuning_curves(group, abs(frame), 5).values)


def test_open_dataset_group_works_with_the_accessor(tmp_path):
    x = nap.tsd(np.arange(10.0), np.arange(10.0), time_support=(0, 20), name="pos")
    ds = x.to_dataset()
    r = ds.nap.restrict(nap.interval_set(2, 5))
    assert isinstance(r, xr.Dataset) and r.pos.values.tolist() == [2, 3, 4, 5]
    assert nap.count(ds, 5.0).values.tolist() == [5, 5, 0, 0]


@pytest.mark.parametrize("bad, match", [
    (np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[ns]"), "to_seconds"),
    (np.array([0, 1], dtype="timedelta64[s]"), "to_seconds"),
    (np.array([2.0, 1.0]), "sorted"),
    (np.array([0.0, np.nan]), "finite"),
])
def test_foreign_time_axes_are_refused_clearly(bad, match):
    x = xr.DataArray([1.0, 2.0], dims="time", coords={"time": bad})
    for call in (lambda: nap.count(x, 1.0), lambda: nap.restrict(x, (0, 1)),
                 lambda: nap.time_support(x), lambda: nap.get(x, 0.5)):
        with pytest.raises(nap.TimeAxisError, match=match):
            call()


def test_non_second_units_and_missing_coordinate_are_refused():
    x = xr.DataArray([1.0, 2.0], dims="time", coords={"time": ("time", [0.0, 5.0],
                                                               {"units": "ms"})})
    with pytest.raises(nap.TimeAxisError, match="units 'ms'"):
        nap.count(x, 1.0)
    with pytest.raises(nap.TimeAxisError, match="no coordinate"):
        nap.restrict(xr.DataArray([1.0, 2.0], dims="time"), (0, 1))


def test_to_seconds_converts_explicitly():
    t = np.array(["2024-01-01T00:00:00", "2024-01-01T00:00:30"], dtype="datetime64[ns]")
    x = xr.DataArray([1.0, 2.0], dims="time", coords={"time": t})
    s = nap.to_seconds(x)
    assert s.time.values.tolist() == [0.0, 30.0]
    assert nap.count(s, 10.0).values.tolist() == [1, 0, 0]  # not 3e9 bins
    epoch = nap.to_seconds(x, origin="epoch")
    assert epoch.time.values[0] == 1704067200.0
    assert nap.to_seconds(x, origin="2024-01-01T00:00:10").time.values[0] == -10.0


# --------------------------------------------------------------------------- files
def test_encoded_support_is_adopted_only_when_it_fits(tmp_path):
    x = nap.tsd(np.arange(10.0), np.arange(10.0), time_support=([-1, 6], [4, 12]))
    path = tmp_path / "x.nc"
    x.to_netcdf(path)
    back = xr.open_dataarray(path)
    assert not isinstance(back.xindexes["time"], TimeIndex)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # fits: adopted silently
        assert support_bounds(back)[1].tolist() == [4.0, 12.0]
    sliced = back.sel(time=slice(2, 7))  # a plain index: the attribute is now stale
    with pytest.warns(nap.StaleSupportWarning, match="was written for 9 samples"):
        starts, ends = support_bounds(sliced)
    assert starts.tolist() == [2.0, 6.0] and ends.tolist() == [4.0, 7.0]
    with xr.set_options(keep_attrs=True):  # the default from xarray 2025.11
        shifted = back.assign_coords(time=back.time + 100)
    with pytest.warns(nap.StaleSupportWarning, match="does not fit the samples"):
        assert support_bounds(shifted)[0].tolist() == [100.0]
    kept = nap.set_time_index(back)
    assert isinstance(kept.xindexes["time"], TimeIndex)
    assert support_bounds(kept.sel(time=slice(2, 7)))[1].tolist() == [4.0, 7.0]


@pytest.mark.parametrize("attr", [[1.0, 0.0], [0.0, 5.0, 3.0, 8.0], [0.0, np.nan],
                                  [0.0, 1.0, 2.0], "nonsense"])
def test_malformed_support_attributes_are_not_trusted(attr):
    x = xr.DataArray(np.arange(4.0), dims="time",
                     coords={"time": ("time", [1.0, 2.0, 3.0, 4.0],
                                      {"time_support": attr})})
    with pytest.warns(nap.StaleSupportWarning, match="ignoring"):
        assert support_bounds(x)[0].tolist() == [1.0]


def test_pickle_keeps_the_index():
    import pickle

    x = nap.tsd(np.arange(5.0), np.arange(5), time_support=(0, 9))
    back = pickle.loads(pickle.dumps(x))
    assert isinstance(back.xindexes["time"], TimeIndex)
    assert support_bounds(back)[1].tolist() == [9.0]


# --------------------------------------------------------------------------- rate-based
def lfp(n=2000, rate=100.0, t0=0.5):
    coords = rate_time_coords(t0, rate, n)
    return xr.DataArray(np.sin(np.arange(n) / 7.0), dims="time", coords=coords, name="lfp")


def test_rate_based_series_takes_part_in_ordinary_expressions():
    ch = lfp()
    t = ch.time.values
    pos = nap.tsd(t[::10], np.arange(200.0), name="pos")
    s = ch + pos  # inner join on the position's times
    np.testing.assert_array_equal(s.time.values, t[::10])
    np.testing.assert_allclose(s.values, ch.values[::10] + np.arange(200.0))
    ds = xr.Dataset({"lfp": ch, "pos": pos})
    assert ds.sizes["time"] == 2000 and np.isnan(ds.pos.values[1])
    merged = xr.merge([ch, pos], join="outer")
    xr.testing.assert_identical(merged, ds)
    w1, w2 = ch.sel(time=slice(1.0, 3.0)), ch.sel(time=slice(2.0, 4.0))
    both = w1 + w2
    assert both.xindexes["time"].is_rate  # two windows of one series: still lazy
    np.testing.assert_allclose(both.values, 2 * ch.sel(time=slice(2.0, 3.0)).values)
    assert support_bounds(both)[0].tolist() == [2.0]
    gap = xr.concat([ch.sel(time=slice(1.0, 2.0)), ch.sel(time=slice(5.0, 6.0))], "time")
    np.testing.assert_array_equal(gap.values, np.r_[ch.sel(time=slice(1.0, 2.0)).values,
                                                    ch.sel(time=slice(5.0, 6.0)).values])
    assert support_bounds(gap)[1].tolist() == [2.0, 6.0]
    contiguous = xr.concat([ch.isel(time=slice(0, 100)), ch.isel(time=slice(100, 300))],
                           "time")
    assert contiguous.xindexes["time"].is_rate
    pos_big = ch.where(ch > 0, drop=True)
    assert (pos_big.values > 0).all()
    # xarray aligns only indexes of one type: a plain target gets xr-nap's index first
    target = nap.set_time_index(pos.assign_coords(time=np.asarray(pos.time) + 0.004))
    nearest = ch.reindex_like(target, method="nearest")
    np.testing.assert_allclose(nearest.values, ch.values[::10])
    with pytest.raises(ValueError, match="conflicting indexes"):
        ch + pos.assign_coords(time=np.asarray(pos.time) + 0.004)


def test_rate_based_series_is_never_expanded_by_selections(monkeypatch):
    ch = lfp(n=10**8)
    calls = []
    index = ch.xindexes["time"]
    original = type(index).values
    monkeypatch.setattr(type(index), "values", property(
        lambda self: calls.append(self.size) or original.fget(self)))
    window = ch.sel(time=slice(100.0, 101.0))
    assert window.sizes["time"] == 101 and window.xindexes["time"].is_rate
    assert support_bounds(window)[0].tolist() == [100.0]
    nap.restrict(ch, nap.interval_set([10, 50], [11, 52]))
    assert max(calls, default=0) < 1000  # only the few kept samples, never 1e8


def test_index_items_and_messages():
    ch = lfp(n=100)
    index = ch.xindexes["time"]
    assert index[3] == ch.time.values[3] and index[-1] == ch.time.values[-1]
    assert index[10:20].size == 10 and index[10:20].is_rate
    with pytest.raises(ValueError, match="unsupported join"):
        index.join(index, how="left")
    with pytest.raises(ValueError, match="step"):
        ch.sel(time=slice(0.5, 0.6, 2))
    with pytest.raises(TypeError, match="seconds"):
        ch.sel(time="2024-01-01")


@settings(max_examples=80, deadline=None)
@given(t0=st.floats(-1e4, 1e4), rate=st.sampled_from([1.0, 3.0, 29.97, 1250.0, 3e4]),
       n=st.integers(2, 3000), data=st.data())
def test_windows_of_a_rate_grid_stay_exact_and_lazy(t0, rate, n, data):
    """Restricting or thresholding a rate-based series keeps its times computed from
    the rate (one pair of integers per window), bit for bit pynapple's formula, and the
    index answers searches, label selections and further restrictions like numpy."""
    t = t0 + np.arange(n) / rate
    cuts = np.unique(data.draw(st.lists(st.integers(0, n), min_size=2, max_size=10)))
    lo, hi = cuts[0::2][: cuts.size // 2], cuts[1::2]
    ch = xr.DataArray(np.arange(n), dims="time", coords=rate_time_coords(t0, rate, n))
    index = ch.xindexes["time"].take(lo, hi, np.empty(0), np.empty(0))
    keep = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=False)]
                          or [np.empty(0, int)])
    assert index.is_rate and index.size == keep.size
    np.testing.assert_array_equal(index.values, t[keep])
    kept = t[keep]
    probes = np.concatenate([kept[::7], kept[::5] + 0.3 / rate, [t0 - 1, t[-1] + 1]])
    for side in ("left", "right"):
        np.testing.assert_array_equal(index.searchsorted(probes, side),
                                      np.searchsorted(kept, probes, side))
    if kept.size:
        np.testing.assert_array_equal(index.times_at([0, kept.size - 1]), kept[[0, -1]])
        assert index[kept.size - 1] == kept[-1]
        a, b = sorted(data.draw(st.lists(st.integers(0, kept.size), min_size=2,
                                         max_size=2)))
        np.testing.assert_array_equal(index[a:b].values, kept[a:b])
        again = index.take(np.array([a]), np.array([b]), np.empty(0), np.empty(0))
        np.testing.assert_array_equal(again.values, kept[a:b])
        pos = index._positions(kept[::3], None, None)
        np.testing.assert_array_equal(pos, np.arange(kept.size)[::3])


def test_restrict_and_threshold_of_a_rate_based_series_keep_the_rate():
    ch = lfp(n=20_000)
    ep = nap.interval_set([10.0, 50.0, 120.0], [20.0, 60.0, 150.0])
    r = nap.restrict(ch, ep)
    assert r.xindexes["time"].is_rate
    np.testing.assert_array_equal(r.time.values, nap.restrict(ch.load(), ep).time.values)
    th = nap.threshold(ch, 0.5)
    assert th.xindexes["time"].is_rate
    plain = nap.tsd(ch.time.values, ch.values)
    np.testing.assert_array_equal(th.time.values, nap.threshold(plain, 0.5).time.values)
    np.testing.assert_array_equal(th.values, nap.threshold(plain, 0.5).values)
    both = xr.concat([r.sel(time=slice(None, 100)), r.sel(time=slice(100, None))], "time")
    np.testing.assert_array_equal(both.values, r.values)
    assert nap.count(r, 1.0).values.sum() == r.sizes["time"] - 3  # ends on bin edges
