import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import interval_bounds, sorted_times

import xr_nap as nap

SETTINGS = settings(max_examples=100, deadline=None)


@SETTINGS
@given(sorted_times(), sorted_times(min_size=1), interval_bounds(),
       st.sampled_from(["closest", "before", "after"]))
def test_value_from_matches_pynapple(pnap, t, tt, b, mode):
    d = np.arange(tt.size) * 1.0 + 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ep = pnap.IntervalSet(*b)
        theirs = pnap.Ts(t=t).value_from(pnap.Tsd(t=tt, d=d), ep=ep, mode=mode)
    ours = nap.value_from(nap.ts(t), nap.tsd(tt, d), ep=nap.interval_set(*b), mode=mode)
    np.testing.assert_array_equal(ours.time.values, theirs.index.values)
    np.testing.assert_array_equal(ours.values, theirs.values)


def test_value_from_frame_keeps_columns_and_default_support():
    pos = nap.tsd_frame(np.arange(5.0), np.arange(10.0).reshape(5, 2), columns=["x", "y"])
    out = nap.ts([0.4, 3.9]).nap.value_from(pos)
    assert out.dims == ("time", "column") and out.column.values.tolist() == ["x", "y"]
    assert out.values.tolist() == [[0.0, 1.0], [8.0, 9.0]]
    assert out.time.attrs["time_support"].tolist() == [0.0, 4.0]


def test_value_from_bad_mode():
    with pytest.raises(ValueError, match="mode"):
        nap.value_from(nap.ts([1.0]), nap.tsd([1.0], [1.0]), mode="nearest")


def test_value_from_empty_target_gives_nan():
    out = nap.value_from(nap.ts([1.0, 2.0]), nap.tsd(np.array([]), np.array([])), ep=(0, 3))
    assert np.isnan(out.values).all() and out.sizes["time"] == 2
