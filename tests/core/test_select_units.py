"""select_units against pynapple's tsgroup[...], getby_threshold and getby_category."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import sorted_times

import xr_nap as nap


@st.composite
def groups(draw):
    n = draw(st.integers(1, 6))
    ids = draw(st.lists(st.integers(0, 50), min_size=n, max_size=n, unique=True))
    trains = {i: draw(sorted_times(max_size=20)) for i in ids}
    labels = draw(st.lists(st.sampled_from(["ca1", "ca3"]), min_size=n, max_size=n))
    return trains, labels


def _check_group(ours, theirs):
    assert ours.unit.values.tolist() == list(theirs.keys())
    for uid in theirs.keys():
        np.testing.assert_array_equal(nap.select_units(ours, uid).values, theirs[uid].t)
    np.testing.assert_allclose(ours.rate.values, theirs.metadata["rate"].values)
    np.testing.assert_array_equal(ours.attrs["time_support"],
                                  theirs.time_support.values.reshape(-1))


@settings(max_examples=80, deadline=None)
@given(data=groups(), picks=st.lists(st.integers(0, 5), max_size=6), thr=st.floats(0, 5))
def test_select_units_matches_pynapple(pnap, data, picks, thr):
    trains, labels = data
    ids = sorted(trains)
    ours = nap.ts_group(trains, time_support=(0.0, 20.0), metadata={"area": labels})
    theirs = pnap.TsGroup({k: pnap.Ts(v) for k, v in trains.items()},
                          time_support=pnap.IntervalSet(0.0, 20.0))
    theirs.set_info(area=np.array(labels))  # both: in the order of sorted ids
    wanted = sorted({ids[i % len(ids)] for i in picks})
    _check_group(nap.select_units(ours, wanted[::-1]), theirs[wanted])
    _check_group(nap.select_units(ours, ours.rate > thr), theirs.getby_threshold("rate", thr))
    for area, sub in theirs.getby_category("area").items():
        _check_group(ours.nap.select_units(ours["area"] == area), sub)


def test_one_unit_is_a_ts_and_the_group_stays_consistent():
    g = nap.ts_group({3: [0.1, 0.5, 2.0], 7: [1.0, 1.5], 9: [0.2, 3.0, 3.9]},
                     time_support=(0.0, 4.0), metadata={"area": ["a", "b", "a"]})
    one = nap.select_units(g, 7)
    assert nap.nap_type(one) == "Ts" and int(one.unit) == 7
    assert one.values.tolist() == [1.0, 1.5]
    np.testing.assert_array_equal(one.time.attrs["time_support"], [0.0, 4.0])
    sub = nap.select_units(g, np.array([True, False, True]))
    assert sub.row_size.values.tolist() == [3, 3]
    assert sub.spike_time.values.tolist() == [0.1, 0.5, 2.0, 0.2, 3.0, 3.9]
    assert nap.count(sub, 1.0).shape == (4, 2)  # a valid TsGroup for every function
    assert nap.select_units(g, []).sizes == {"spike": 0, "unit": 0}
    reordered = g.rate.sortby(g.rate) > 0.6  # rates 0.75, 0.5, 0.75 -> units 7, 3, 9
    assert nap.select_units(g, reordered).unit.values.tolist() == [3, 9]


def test_select_units_errors_and_the_hint_for_sel():
    g = nap.ts_group({3: [0.1], 7: [1.0, 1.5]})
    with pytest.raises(KeyError, match="no unit 5 .*units: \\[3, 7\\]"):
        nap.select_units(g, 5)
    with pytest.raises(KeyError, match="no unit 4"):
        nap.select_units(g, [3, 4])
    with pytest.raises(ValueError, match="needs 2 values"):
        nap.select_units(g, [True, False, True])
    with pytest.raises(TypeError, match="one value per unit"):
        nap.select_units(g, True)
    with pytest.raises(ValueError, match="select_units"):
        nap.count(g.sel(unit=[7]), 1.0)


def test_select_units_stays_lazy_on_dask():
    g = nap.ts_group({3: [0.1, 0.2], 7: [1.0, 1.5, 1.7]}).chunk({"spike": 2})
    sub = nap.select_units(g, [7])
    assert isinstance(sub.spike_time.data, type(g.spike_time.data))
    xr.testing.assert_identical(sub.compute(), nap.select_units(g.compute(), [7]))
