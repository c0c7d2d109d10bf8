import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import sorted_times

import xr_nap as nap


@settings(max_examples=100, deadline=None)
@given(sorted_times(min_size=1), st.integers(0, 2**32 - 1),
       st.sampled_from(["above", "below", "aboveequal", "belowequal"]))
def test_threshold_matches_pynapple_single_epoch(pnap, t, seed, method):
    d = np.random.default_rng(seed).integers(-3, 4, t.size).astype(float)
    ours = nap.threshold(nap.tsd(t, d), 0.0, method)
    theirs = pnap.Tsd(t=t, d=d).threshold(0.0, method)
    np.testing.assert_array_equal(ours.time.values, theirs.index.values)
    np.testing.assert_array_equal(ours.values, theirs.values)
    np.testing.assert_allclose(ours.time.attrs["time_support"][0::2], theirs.time_support.start)
    np.testing.assert_allclose(ours.time.attrs["time_support"][1::2], theirs.time_support.end)


def test_threshold_several_epochs_matches_pynapple(pnap):
    t = np.arange(20.0)
    d = np.array([0, 5, 5, 0, 5, 5, 5, 5, 0, 0, 5, 5, 5, 0, 0, 0, 5, 5, 0, 5.0])
    ep = ([0, 6, 15], [4.5, 12, 19])
    ours = nap.threshold(nap.tsd(t, d, time_support=ep), 1.0)
    theirs = pnap.Tsd(t=t, d=d, time_support=pnap.IntervalSet(*ep)).threshold(1.0)
    np.testing.assert_array_equal(ours.time.values, theirs.index.values)
    np.testing.assert_allclose(ours.time.attrs["time_support"][0::2], theirs.time_support.start)
    np.testing.assert_allclose(ours.time.attrs["time_support"][1::2], theirs.time_support.end)


def test_threshold_errors():
    with pytest.raises(ValueError, match="not accepted"):
        nap.threshold(nap.tsd([0.0], [1.0]), 0, "sideways")
    with pytest.raises(TypeError):
        nap.threshold(nap.tsd_frame([0.0], [[1.0, 2.0]]), 0)


def test_threshold_on_lazy_and_dask_data_equals_numpy(monkeypatch):
    import dask.array as da

    from xr_nap.core.lazy import lazy_array

    t = np.arange(0, 50, 0.01)
    d = np.sin(t)
    want = nap.threshold(nap.tsd(t, d), 0.5)
    monkeypatch.setattr("xr_nap.core.blocks.BLOCK_BYTES", 800)  # 100 rows a block
    for data in (lazy_array(d), da.from_array(d, chunks=333)):
        got = nap.threshold(nap.tsd(t, data), 0.5)
        np.testing.assert_array_equal(got.time.values, want.time.values)
        np.testing.assert_array_equal(got.values, want.values)
        np.testing.assert_array_equal(got.time.attrs["time_support"],
                                      want.time.attrs["time_support"])
