"""Event/spike-triggered averages against pynapple 0.11, documented differences, laziness."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from test_tuning_curves import Limited

import xr_nap as nap
from xr_nap.core import blocks
from xr_nap.process.trigger_average import (
    compute_event_triggered_average,
    compute_spike_triggered_average,
)

RNG = np.random.default_rng(3)
T = np.arange(0, 20, 0.01)
D = np.c_[np.sin(T), RNG.standard_normal(T.size)]
SPIKES = {0: np.sort(RNG.uniform(0, 20, 150)), 5: np.sort(RNG.uniform(0, 20, 60)),
          9: np.array([])}


def ref_eta(pnap, spikes, d, bin_size, window, ep=None, t=T):
    pg = pnap.TsGroup({k: pnap.Ts(v) for k, v in spikes.items()}, time_support=
                      pnap.IntervalSet(0, 20))
    pd_ = pnap.TsdFrame(t, d) if d.ndim == 2 else pnap.Tsd(t, d)
    return pnap.compute_event_triggered_average(pd_, pg, bin_size, window,
                                                epochs=None if ep is None else
                                                pnap.IntervalSet(*ep))


def ours_eta(spikes, d, bin_size, window, ep=None, t=T):
    g = nap.ts_group(spikes, time_support=(0, 20))
    x = nap.tsd_frame(t, d) if d.ndim == 2 else nap.tsd(t, d)
    return nap.event_triggered_average(g, x, bin_size, window,
                                       None if ep is None else nap.interval_set(*ep))


def check(ours, ref):
    np.testing.assert_allclose(ours.time.values, ref.t, atol=1e-12)
    np.testing.assert_allclose(ours.values, ref.values, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("window", [0.5, (-0.3, 0.2), (0, 0.25), 0])
@pytest.mark.parametrize("ncol", [1, 2])
def test_matches_pynapple(pnap, window, ncol):
    d = D[:, 0] if ncol == 1 else D
    ours = ours_eta(SPIKES, d, 0.05, window)
    assert ours.dims == (("time", "unit") if ncol == 1 else ("time", "unit", "column"))
    assert ours.unit.values.tolist() == [0, 5, 9]
    check(ours, ref_eta(pnap, SPIKES, d, 0.05, window))


def test_several_epochs_and_edge_events(pnap):
    spikes = {0: np.array([0.0, 0.004, 4.99, 5.0, 12.0, 19.99]), 1: np.array([19.99])}
    ep = ([0, 12], [5, 19.99])
    check(ours_eta(spikes, D, 0.02, 0.2, ep), ref_eta(pnap, spikes, D, 0.02, 0.2, ep))


def test_time_units(pnap):
    g = nap.ts_group(SPIKES)
    ours = nap.event_triggered_average(g, nap.tsd(T, D[:, 0]), 50, (100, 200), time_unit="ms")
    check(ours, ref_eta(pnap, SPIKES, D[:, 0], 0.05, (0.1, 0.2)))


@settings(max_examples=60, deadline=None)
@given(
    spikes=st.lists(st.lists(st.integers(0, 10_000), max_size=20), min_size=1, max_size=3),
    bin_size=st.sampled_from([0.02, 0.05, 0.1]),
    window=st.tuples(st.sampled_from([0, 0.05, 0.1, 0.3]), st.sampled_from([0, 0.1, 0.3])),
    cuts=st.lists(st.integers(0, 18), min_size=0, max_size=3, unique=True),
)
def test_random_inputs_match_pynapple(pnap, spikes, bin_size, window, cuts):
    t = np.arange(0, 10.005, 0.01)
    d = np.round(np.sin(t * 7) * 8)
    units = {i: np.unique(np.array(s) / 1000.0) for i, s in enumerate(spikes)}
    # epochs long enough for pynapple to keep their events (see the test below)
    starts = np.sort(cuts) * 0.5
    keep = np.r_[True, np.diff(starts) >= 1.5] if starts.size else starts.astype(bool)
    starts = starts[keep]
    ep = None if starts.size == 0 else (starts, starts + 1.0)
    ours = ours_eta(units, d, bin_size, window, ep, t=t)
    check(ours, ref_eta(pnap, units, d, bin_size, window, ep, t=t))


# --------------------------------------------------------------------------- differences
def test_nan_zeroes_only_its_own_column(pnap):
    """pynapple zeroes a whole binned row when one of its columns is NaN; xr-nap only
    the NaN value, so the other columns keep their average."""
    d = D.copy()
    d[500:700, 1] = np.nan
    ours = ours_eta(SPIKES, d, 0.05, 0.2)
    ref = ref_eta(pnap, SPIKES, d, 0.05, 0.2)
    np.testing.assert_allclose(ours.values[..., 1], ref.values[..., 1], atol=1e-12)
    clean = ours_eta(SPIKES, D, 0.05, 0.2)
    np.testing.assert_allclose(ours.values[..., 0], clean.values[..., 0], atol=1e-12)
    assert not np.allclose(ref.values[..., 0], clean.values[..., 0])


def test_events_of_short_epochs_count(pnap):
    """An epoch of at most n1 bins: pynapple drops its events from the sum but still
    divides by them; xr-nap sums them like any other event."""
    spikes = {0: np.array([2.05, 10.1])}
    ep = ([2.0, 10.0], [2.1, 15.0])  # 2 bins of 0.05 in the first epoch, n1 = 4
    ours = ours_eta(spikes, D[:, 0], 0.05, 0.2, ep)
    ref = ref_eta(pnap, spikes, D[:, 0], 0.05, 0.2, ep)
    only_second = ours_eta({0: np.array([10.1])}, D[:, 0], 0.05, 0.2, ep)
    np.testing.assert_allclose(ref.values, only_second.values / 2, atol=1e-12)
    assert not np.allclose(ours.values, ref.values)


# --------------------------------------------------------------------------- API, lazy
def test_aliases_and_accessor():
    g, x = nap.ts_group(SPIKES), nap.tsd(T, D[:, 0])
    a = nap.event_triggered_average(g, x, 0.05, 0.2)
    xr.testing.assert_identical(g.nap.event_triggered_average(x, 0.05, 0.2), a)
    xr.testing.assert_identical(nap.compute_event_trigger_average(g, x, 0.05, 0.2), a)
    xr.testing.assert_identical(compute_event_triggered_average(x, g, 0.05, 0.2), a)
    xr.testing.assert_identical(compute_spike_triggered_average(x, g, 0.05, 0.2), a)
    one = nap.event_triggered_average(nap.ts(SPIKES[0]), x, 0.05, 0.2)
    np.testing.assert_allclose(one.values[:, 0], a.sel(unit=0).values)


def test_bad_input_is_named():
    g, x = nap.ts_group(SPIKES), nap.tsd(T, D[:, 0])
    with pytest.raises(TypeError, match="feature"):
        nap.event_triggered_average(g, g, 0.05, 0.2)
    with pytest.raises(ValueError, match="bin_size"):
        nap.event_triggered_average(g, x, -1, 0.2)
    with pytest.raises(ValueError, match="window"):
        nap.event_triggered_average(g, x, 0.05, (1, 2, 3))
    with pytest.raises(ValueError, match="time_unit"):
        nap.event_triggered_average(g, x, 0.05, 0.2, time_unit="min")


def test_lazy_feature_is_read_in_bounded_blocks(monkeypatch, tmp_path):
    zarr = pytest.importorskip("zarr")
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 300 * 16)
    z = zarr.create_array(tmp_path / "d.zarr", shape=D.shape, chunks=(250, 2), dtype="f8")
    z[:] = D
    g = nap.ts_group(SPIKES)
    eager = nap.event_triggered_average(g, nap.tsd_frame(T, D), 0.05, 0.3)
    lazy = nap.tsd_frame(T, Limited(z, 300))
    xr.testing.assert_allclose(nap.event_triggered_average(g, lazy, 0.05, 0.3), eager)
    chunked = nap.tsd_frame(T, D).chunk({"time": 250})
    xr.testing.assert_allclose(nap.event_triggered_average(g, chunked, 0.05, 0.3), eager)


def test_seed_zarr_example(pnap, tmp_path):
    """The guide's example: a zarr-backed TsdFrame, kept lazy."""
    zarr = pytest.importorskip("zarr")
    z = zarr.create_array(tmp_path / "z.zarr", shape=(10000, 5), chunks=(1000, 5),
                          dtype="i4")
    z[:] = np.arange(50000).reshape(10000, 5)
    frame = nap.tsd_frame(np.arange(10000), z)
    group = nap.ts_group({0: [10, 20, 30]})
    sta = nap.compute_event_trigger_average(group, frame, 1, (-2, 3))
    assert not isinstance(frame.variable._data, np.ndarray)
    ref = pnap.compute_event_triggered_average(
        pnap.TsdFrame(t=np.arange(10000), d=z[:]), pnap.TsGroup({0: pnap.Ts([10, 20, 30])}),
        1, (-2, 3))
    np.testing.assert_allclose(sta.values, ref.values)


def test_trigger_average_keeps_feature_units():
    feature = nap.tsd(np.arange(0, 10, 0.1), np.arange(100.0), attrs={"units": "mV"})
    eta = nap.event_triggered_average(nap.ts([2.0, 5.0]), feature, 0.1, 0.3)
    assert eta.attrs["units"] == "mV"
