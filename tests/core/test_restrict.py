import warnings

import dask.array as da
import numpy as np
import pytest
from hypothesis import given, settings
from strategies import interval_bounds, sorted_times

import xr_nap as nap
from xr_nap.testing import assert_nap_equal

SETTINGS = settings(max_examples=80, deadline=None)


def pyn_ep(pnap, b):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pnap.IntervalSet(*b)


@SETTINGS
@given(sorted_times(), interval_bounds())
def test_restrict_tsd_matches_pynapple(pnap, t, b):
    d = np.arange(t.size) * 1.5
    ours = nap.restrict(nap.tsd(t, d), nap.interval_set(*b))
    theirs = pnap.Tsd(t=t, d=d).restrict(pyn_ep(pnap, b))
    np.testing.assert_array_equal(ours.time.values, theirs.index.values)
    np.testing.assert_array_equal(ours.values, theirs.values)
    np.testing.assert_array_equal(ours.time.attrs["time_support"][0::2], theirs.time_support.start)
    np.testing.assert_array_equal(ours.time.attrs["time_support"][1::2], theirs.time_support.end)


@SETTINGS
@given(sorted_times(), sorted_times(), interval_bounds())
def test_restrict_group_matches_pynapple(pnap, t1, t2, b):
    units = {0: t1, 5: t2}
    ep = nap.interval_set(*b)
    ours = nap.restrict(nap.ts_group(units, time_support=(0, 20)), ep)
    theirs = pnap.TsGroup({k: pnap.Ts(v) for k, v in units.items()},
                          time_support=pnap.IntervalSet(0, 20)).restrict(pyn_ep(pnap, b))
    for (uid, spikes), key in zip(nap.core.time_series.unit_spike_times(ours), [0, 5],
                                  strict=True):
        assert uid == key
        np.testing.assert_array_equal(spikes, theirs[key].index.values)
    np.testing.assert_allclose(ours.rate.values, theirs.metadata["rate"].values)


def test_restrict_keeps_coords_attrs_and_is_lazy_on_dask():
    t = np.arange(100.0)
    x = nap.tsd_frame(t, da.from_array(np.arange(200.0).reshape(100, 2), chunks=10),
                      columns=["a", "b"], metadata={"depth": [1, 2]})
    x.attrs["units"] = "mV"
    r = x.nap.restrict(nap.interval_set([10, 50], [20, 60]))
    assert r.chunks is not None  # still dask, nothing computed
    assert r.attrs["units"] == "mV" and r.depth.values.tolist() == [1, 2]
    np.testing.assert_array_equal(r.values[:, 0], np.r_[20:42:2, 100:122:2])


def test_restrict_interval_set_is_intersection():
    a = nap.interval_set([0, 10], [5, 20])
    assert nap.restrict(a, (3, 12)).start.values.tolist() == [3.0, 10.0]


def test_restrict_empty_result_and_empty_ep():
    x = nap.tsd([1.0, 2.0], [1, 2])
    r = nap.restrict(x, nap.interval_set([], []))
    assert r.sizes["time"] == 0 and r.time.attrs["time_support"].size == 0
    r = nap.restrict(x, (5, 6))
    assert r.sizes["time"] == 0


def test_restrict_rejects_non_interval_input():
    x = nap.tsd([1.0, 2.0], [1, 2])
    with pytest.raises(TypeError, match="interval set"):
        nap.restrict(x, x)


@pytest.mark.parametrize("start,end", [(2, 4), (2.5, 4.5), (-1, 0.5), (8.5, 20), (3, 3)])
def test_get_matches_pynapple(pnap, start, end):
    t = np.arange(10.0)
    ours = nap.get(nap.tsd(t, t * 2), start, end)
    theirs = pnap.Tsd(t=t, d=t * 2).get(start, end)
    np.testing.assert_array_equal(ours.values, theirs.values)
    np.testing.assert_array_equal(ours.time.attrs["time_support"], [0.0, 9.0])


@pytest.mark.parametrize("start", [-5, 0, 3.4, 3.5, 3.6, 9, 20])
def test_get_closest_matches_pynapple(pnap, start):
    t = np.arange(10.0)
    ours = nap.get(nap.tsd(t, t), start)
    theirs = pnap.Tsd(t=t, d=t).get(start)
    assert ours.ndim == 0 and float(ours.time) == float(ours) == float(theirs)


def test_get_errors():
    x = nap.tsd([1.0, 2.0], [1, 2])
    with pytest.raises(ValueError, match="precede"):
        nap.get(x, 3, 1)
    with pytest.raises(TypeError):
        nap.get(nap.ts_group({0: [1.0, 2.0]}), 0, 1)


def test_restrict_ts_roundtrip_with_pynapple_converter(pnap):
    s = nap.ts([0.5, 1.5, 2.5, 3.5])
    r = nap.restrict(s, (1, 3))
    assert_nap_equal(nap.from_pynapple(nap.to_pynapple(r)), r)


def test_rate_based_index_is_searched_not_materialised(monkeypatch):
    """restrict/get/count/bin_average/value_from on an NWB-style rate index never
    build the float64 time array."""
    import xarray as xr

    from xr_nap.core.time_index import rate_time_coords

    n = 10_000
    lazy = xr.DataArray(np.arange(n, dtype=float), dims="time",
                        coords=rate_time_coords(2.0, 100.0, n))
    eager = nap.tsd(2.0 + np.arange(n) / 100.0, np.arange(n, dtype=float))

    def refuse(obj):
        raise AssertionError("times() materialised the lazy index")

    ep = nap.interval_set([3.0, 50.0], [10.005, 80.0])
    spikes = nap.ts([2.5, 4.444, 60.0, 99.0])
    want = [nap.restrict(eager, ep), nap.get(eager, 5.0, 6.0), nap.get(eager, 7.777),
            nap.count(eager, 0.5, ep), nap.bin_average(eager, 0.5, ep),
            nap.value_from(spikes, eager, ep)]
    monkeypatch.setattr("xr_nap.core.time_series.times", refuse)
    monkeypatch.setattr("xr_nap.core.restrict.times", refuse, raising=False)
    got = [nap.restrict(lazy, ep), nap.get(lazy, 5.0, 6.0), nap.get(lazy, 7.777),
           nap.count(lazy, 0.5, ep), nap.bin_average(lazy, 0.5, ep)]
    monkeypatch.undo()
    got.append(nap.value_from(spikes, lazy, ep))  # times of the spikes are needed
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g.values, w.values)
        np.testing.assert_array_equal(g.time.values, w.time.values)


def test_restrict_lazy_data_reads_only_the_intervals():
    """Two intervals far apart in a file-backed series: each is read as one slice,
    never the whole range between them."""
    from xr_nap.core.lazy import lazy_array
    from xr_nap.testing import CountingArray

    d = np.arange(20_000.0).reshape(10_000, 2)
    data = CountingArray(d)
    x = nap.tsd(np.arange(10_000.0), lazy_array(data))
    r = nap.restrict(x, nap.interval_set([10, 9_000], [19, 9_004]))
    assert data.reads == []
    np.testing.assert_array_equal(r.values, d[np.r_[10:20, 9000:9005]])
    assert sorted(data.rows_read()) == [5, 10]
