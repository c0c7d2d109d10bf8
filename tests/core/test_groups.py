"""TsGroup to_tsd, value_from, merge and merge_group against pynapple 0.11."""

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import xr_nap as nap
from xr_nap.errors import XrNapError

META = {"area": ["a", "b", "c"], "depth": [1.0, 2.0, 3.0]}


def groups(pnap, seed, support=(0.0, 100.0)):
    rng = np.random.default_rng(seed)
    t = np.arange(0, 100, 0.01)
    units = {k: np.sort(rng.choice(t, rng.integers(1, 300), replace=False)) for k in (1, 3, 8)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pnap.TsGroup({k: pnap.Ts(v) for k, v in units.items()},
                              time_support=pnap.IntervalSet(*support), metadata=META)
    return nap.ts_group(units, time_support=support, metadata=META), theirs, units


@pytest.mark.parametrize("seed", range(4))
def test_value_from_matches_pynapple(pnap, seed):
    g, pg, _ = groups(pnap, seed)
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 100, 500))
    values = rng.normal(size=(500, 2))
    ep = None if seed % 2 else ([5.0, 50.0], [40.0, 90.0])
    kw = {} if ep is None else {"ep": pnap.IntervalSet(*ep)}
    for ours_data, theirs_data in ((nap.tsd(t, values[:, 0]), pnap.Tsd(t, values[:, 0])),
                                   (nap.tsd_frame(t, values), pnap.TsdFrame(t, values)),
                                   (nap.tsd(t, np.arange(500)), pnap.Tsd(t, np.arange(500)))):
        for mode in ("closest", "before", "after"):
            ours = nap.value_from_group(g, ours_data, ep, mode)
            theirs = pg.value_from(theirs_data, **kw, mode=mode)
            offsets = np.concatenate([[0], np.cumsum(ours.row_size.values)])
            for i, k in enumerate(theirs.keys()):
                part = slice(offsets[i], offsets[i + 1])
                np.testing.assert_array_equal(ours.spike_time.values[part], theirs[k].t)
                np.testing.assert_array_equal(ours.spike_data.values[part], theirs[k].values)
            np.testing.assert_allclose(ours.rate.values, theirs.rate.values)
            assert ours.area.values.tolist() == META["area"]


def test_to_tsd_matches_pynapple(pnap):
    g, pg, _ = groups(pnap, 0)
    for args in ((), ("depth",), ([-1, 0, 1],), (pd.Series([5, 6, 7], index=[1, 3, 8]),)):
        ours, theirs = nap.to_tsd(g, *args), pg.to_tsd(*args)
        np.testing.assert_array_equal(ours.time.values, theirs.t)
        # spikes at the same time: pynapple's unstable sort may order them either way
        np.testing.assert_array_equal(np.sort(ours.values), np.sort(theirs.values))
    assert nap.to_tsd(g, "area").dtype.kind == "U"  # pynapple cannot convert strings
    with pytest.raises(KeyError, match="metadata"):
        nap.to_tsd(g, "nope")
    with pytest.raises(XrNapError, match="values"):
        nap.to_tsd(g, [1, 2])


def test_merge_matches_pynapple(pnap):
    g, pg, units = groups(pnap, 1)
    other = {5: units[1], 20: units[8]}
    meta = {"area": ["z", "y"], "depth": [9.0, 8.0]}
    g2 = nap.ts_group(other, time_support=(0, 100), metadata=meta)
    pg2 = pnap.TsGroup({k: pnap.Ts(v) for k, v in other.items()},
                       time_support=pnap.IntervalSet(0, 100), metadata=meta)
    for kwargs in ({}, {"reset_index": True}, {"ignore_metadata": True}):
        ours, theirs = nap.merge(g, g2, **kwargs), pg.merge(pg2, **kwargs)
        assert ours.unit.values.tolist() == list(theirs.keys())
        np.testing.assert_allclose(ours.rate.values, theirs.rate.values)
        if not kwargs.get("ignore_metadata"):
            assert ours.area.values.tolist() == theirs.area.values.tolist()
    g3 = nap.ts_group({30: [-4.0, 4.0]}, time_support=(-5, 5), metadata={
        "area": ["q"], "depth": [0.0]})
    pg3 = pnap.TsGroup({30: pnap.Ts([-4.0, 4.0])}, time_support=pnap.IntervalSet(-5, 5),
                       metadata={"area": ["q"], "depth": [0.0]})
    ours, theirs = nap.merge_group(g, g3, reset_time_support=True), pnap.TsGroup.merge_group(
        pg, pg3, reset_time_support=True)
    np.testing.assert_allclose(ours.rate.values, theirs.rate.values)
    np.testing.assert_array_equal(nap.time_support(ours).start.values,
                                  theirs.time_support.start)


def test_merge_errors():
    a = nap.ts_group({0: [1.0, 2.0]}, time_support=(0, 3), metadata={"area": ["x"]})
    with pytest.raises(XrNapError, match="overlapping keys"):
        nap.merge(a, a)
    with pytest.raises(XrNapError, match="time support"):
        nap.merge(a, nap.ts_group({1: [1.0]}, time_support=(0, 4), metadata={"area": ["y"]}))
    with pytest.raises(XrNapError, match="metadata"):
        nap.merge(a, nap.ts_group({1: [1.0]}, time_support=(0, 3)))
    with pytest.raises(TypeError, match="positions \\[2\\]"):
        nap.merge_group(a, nap.ts([1.0]))
    assert nap.merge_group(a) is a


def test_value_from_group_round_trips_and_checks(tmp_path):
    g = nap.ts_group({0: [0.4, 2.6], 1: [8.7]})
    x = nap.tsd_frame(np.arange(10.0), np.arange(20.0).reshape(10, 2), columns=["x", "y"])
    out = nap.value_from_group(g, x, ep=(0.0, 5.0))
    assert out.spike_data.dims == ("spike", "column") and out.row_size.values.tolist() == [2, 0]
    out.to_netcdf(tmp_path / "g.nc")
    with xr.open_dataset(tmp_path / "g.nc") as back:
        np.testing.assert_array_equal(back.spike_data.values, out.spike_data.values)
    with pytest.raises(TypeError, match="Tsd"):
        nap.value_from_group(g, nap.ts([1.0]))
    with pytest.raises(XrNapError, match="mode"):
        nap.value_from_group(g, x, mode="nearest")
