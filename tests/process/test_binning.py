import warnings

import dask.array as da
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import interval_bounds, sorted_times

import xr_nap as nap
from xr_nap.core.lazy import lazy_array
from xr_nap.testing import CountingArray

SETTINGS = settings(max_examples=80, deadline=None)
bin_sizes = st.sampled_from([0.001, 0.01, 0.1, 0.25, 0.3, 1.0, 3.0, 7.5])


def pyn_ep(pnap, b):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pnap.IntervalSet(*b)


def check_same(ours, theirs):
    np.testing.assert_array_equal(ours.time.values, theirs.index.values)
    np.testing.assert_array_equal(ours.values, theirs.values)
    np.testing.assert_array_equal(ours.time.attrs["time_support"][0::2], theirs.time_support.start)


@SETTINGS
@given(sorted_times(unique=False), interval_bounds(), bin_sizes)
def test_count_ts_matches_pynapple(pnap, t, b, bin_size):
    ours = nap.count(nap.ts(t), bin_size, ep=nap.interval_set(*b))
    theirs = pnap.Ts(t=t).count(bin_size, ep=pyn_ep(pnap, b))
    check_same(ours, theirs)
    check_same(nap.count(nap.ts(t), ep=nap.interval_set(*b)),
               pnap.Ts(t=t).count(ep=pyn_ep(pnap, b)))


@SETTINGS
@given(st.lists(sorted_times(), min_size=1, max_size=4), interval_bounds(), bin_sizes)
def test_count_group_matches_pynapple(pnap, trains, b, bin_size):
    units = dict(enumerate(trains))
    group = nap.ts_group(units, time_support=(0, 20))
    pgroup = pnap.TsGroup({k: pnap.Ts(v) for k, v in units.items()},
                          time_support=pnap.IntervalSet(0, 20))
    for size in (bin_size, None):
        ours = nap.count(group, size, ep=nap.interval_set(*b))
        theirs = pgroup.count(size, ep=pyn_ep(pnap, b))
        check_same(ours, theirs)
        assert ours.dims == ("time", "unit")


@SETTINGS
@given(sorted_times(min_size=1), interval_bounds(), bin_sizes)
def test_bin_average_matches_pynapple(pnap, t, b, bin_size):
    d = np.sin(t)[:, None] * np.array([1.0, -2.0])
    d[::7, 0] = np.nan
    ours = nap.bin_average(nap.tsd(t, d), bin_size, ep=nap.interval_set(*b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pnap.TsdFrame(t=t, d=d).bin_average(bin_size, ep=pyn_ep(pnap, b))
    np.testing.assert_array_equal(ours.time.values, theirs.index.values)
    np.testing.assert_allclose(ours.values, theirs.values, rtol=1e-12, equal_nan=True)


def test_event_on_interval_end_is_dropped_like_pynapple(pnap):
    t = np.array([0.0, 1.0, 10.0])
    ours = nap.count(nap.ts(t), 1.0, ep=(0, 10))
    theirs = pnap.Ts(t=t).count(1.0, ep=pnap.IntervalSet(0, 10))
    np.testing.assert_array_equal(ours.values, theirs.values)
    assert ours.values.sum() == 2  # the event at t = 10 is outside the last bin [9, 10)


def test_event_in_binless_interval_not_counted_in_previous_bin(pnap):
    """[0, 0.25] gets a last bin [0.2, 0.3) reaching past its end; [0.251, 0.252] is
    too short for any bin, so a spike at 0.251 is counted nowhere (found by hypothesis)."""
    ep = ([0.0, 0.251], [0.25, 0.252])
    for obj in (nap.ts_group({0: [0.251]}, time_support=(0, 1)), nap.ts([0.251])):
        assert nap.count(obj, 0.1, ep=ep).values.sum() == 0
    theirs = pnap.Ts(t=np.array([0.251])).count(0.1, ep=pnap.IntervalSet(*ep))
    assert theirs.values.sum() == 0


def test_count_defaults_to_time_support_and_dtype():
    s = nap.ts([0.1, 0.2, 1.7], time_support=(0, 2))
    c = s.nap.count(1.0, dtype=np.int32)
    assert c.dtype == np.int32 and c.values.tolist() == [2, 1]
    assert c.time.attrs["time_support"].tolist() == [0.0, 2.0]


def test_count_group_keeps_unit_metadata():
    g = nap.ts_group({3: [0.5], 7: [1.5]}, time_support=(0, 2), metadata={"area": ["a", "b"]})
    c = g.nap.count(1.0)
    assert c.unit.values.tolist() == [3, 7] and c.area.values.tolist() == ["a", "b"]
    assert c.values.tolist() == [[1, 0], [0, 1]]


@pytest.mark.parametrize("bad", [0, -1, np.nan])
def test_bad_bin_size(bad):
    with pytest.raises(ValueError, match="bin_size"):
        nap.count(nap.ts([1.0]), bad)


def test_bin_average_rejects_ts():
    with pytest.raises(TypeError):
        nap.bin_average(nap.ts([1.0, 2.0]), 1.0)


def test_bin_average_lazy_and_dask_equal_numpy_and_read_in_blocks(monkeypatch):
    t = np.arange(0, 100, 0.01)
    d = np.cos(t)[:, None] * np.arange(1, 4)
    ep = nap.interval_set([5, 50], [20, 80])
    want = nap.bin_average(nap.tsd(t, d), 0.5, ep)
    counting = CountingArray(d)
    monkeypatch.setattr("xr_nap.core.blocks.BLOCK_BYTES", 1000 * 3 * 8)
    lazy = nap.tsd(t, lazy_array(counting))
    got = nap.bin_average(lazy, 0.5, ep)
    np.testing.assert_allclose(got.values, want.values, rtol=1e-12)
    assert max(counting.rows_read()) <= 1000  # never more than one block in memory
    dask_backed = nap.tsd(t, da.from_array(d, chunks=(700, 3)))
    np.testing.assert_allclose(nap.bin_average(dask_backed, 0.5, ep).values, want.values,
                               rtol=1e-12)


def test_bin_average_lazy_skips_rows_between_distant_epochs(monkeypatch):
    t = np.arange(100_000) / 100.0
    d = np.sin(t)
    counting = CountingArray(d)
    monkeypatch.setattr("xr_nap.core.blocks.BLOCK_BYTES", 1000 * 8)  # 1000-row windows
    ep = nap.interval_set([10.0, 900.0], [20.0, 910.0])
    got = nap.bin_average(nap.tsd(t, lazy_array(counting)), 1.0, ep)
    np.testing.assert_allclose(got.values, nap.bin_average(nap.tsd(t, d), 1.0, ep).values)
    assert sum(counting.rows_read()) <= 2_002  # the two epochs, never the 88 000 rows between


@SETTINGS
@given(sorted_times(unique=False), interval_bounds(),
       st.sampled_from([1 / 3, 8 / 3, 0.7 / 3, 2**-0.5, 1 / 7]))
def test_count_bin_sizes_with_more_than_9_decimals(pnap, t, b, bin_size):
    # pynapple rounds each edge to 9 decimals after adding the bin size to the
    # previous one; round(start + k * bin_size, 9) drifts away from that
    ours = nap.count(nap.ts(t), bin_size, ep=nap.interval_set(*b))
    theirs = pnap.Ts(t=t).count(bin_size, ep=pyn_ep(pnap, b))
    check_same(ours, theirs)


@pytest.mark.parametrize("bin_size", [0.5, 2.0, 1 / 3, 0.01])
def test_group_count_both_strategies_match_pynapple(pnap, bin_size):
    # coarse bins (fewer bins x units than spikes) search each unit's spikes for the
    # edges; fine bins place each spike in its bin
    rng = np.random.default_rng(0)
    units = {k: np.sort(rng.uniform(0, 100, 2000)) for k in range(3)}
    bounds = ([0.0, 40.0], [35.5, 99.0])
    ours = nap.count(nap.ts_group(units), bin_size, ep=bounds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pnap.TsGroup({k: pnap.Ts(v) for k, v in units.items()}).count(
            bin_size, ep=pnap.IntervalSet(*bounds))
    check_same(ours, theirs)
