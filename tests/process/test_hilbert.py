"""Hilbert transform, envelope, phase and oscillatory events against pynapple 0.11."""

import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from signal_data import assert_same, both, signals

import xr_nap as nap
from xr_nap.errors import XrNapError
from xr_nap.process.hilbert import (
    apply_hilbert_transform,
    compute_hilbert_envelope,
    compute_hilbert_phase,
    detect_oscillatory_events,
)


def assert_same_phase(ours, ref):
    """Phases agree modulo 2 pi (a phase next to 0 may come out next to 2 pi)."""
    turn = np.angle(np.exp(1j * (np.asarray(ours.values) - np.asarray(ref.values))))
    np.testing.assert_allclose(turn, 0, atol=1e-9)
    assert np.all((ours.values >= 0) & (ours.values < 2 * np.pi))


@settings(max_examples=40, deadline=None)
@given(case=signals(max_cols=2))
def test_hilbert_family_matches_pynapple(pnap, case):
    x, px = both(pnap, *case)
    assert_same(apply_hilbert_transform(x), pnap.apply_hilbert_transform(px))
    assert_same(compute_hilbert_envelope(x), pnap.compute_hilbert_envelope(px))
    assert_same_phase(compute_hilbert_phase(x), pnap.compute_hilbert_phase(px))


def test_per_epoch_does_not_mix_epochs_across_a_gap(pnap):
    """pynapple transforms across the gap between epochs; per_epoch=True transforms each
    epoch alone, and so equals pynapple run on each epoch separately."""
    t = np.arange(0, 20, 0.01)
    d = np.sin(2 * np.pi * 1.3 * t) + np.where(t > 10, 3.0, 0.0)
    ep = ([0, 10.5], [9.5, 19.99])
    x, px = both(pnap, t, d, *ep)
    joined = compute_hilbert_envelope(x)
    assert_same(joined, pnap.compute_hilbert_envelope(px))
    separate = compute_hilbert_envelope(x, per_epoch=True)
    for s, e in zip(*ep, strict=True):
        piece = pnap.compute_hilbert_envelope(pnap.Tsd(t, d, time_support=pnap.IntervalSet(s, e)))
        np.testing.assert_allclose(separate.sel(time=slice(s, e)).values, piece.values,
                                   atol=1e-12)
    # near the gap, the joined transform sees the other epoch's offset
    near_gap = (t[(t >= 9) & (t <= 9.5)])
    diff = np.abs(joined.sel(time=near_gap).values - separate.sel(time=near_gap).values)
    assert diff.max() > 0.1


def test_dask_one_task_per_epoch_equals_in_memory():
    t = np.arange(0, 60, 0.001)
    d = np.random.default_rng(0).standard_normal((t.size, 2))
    x = nap.tsd_frame(t, d, time_support=([0, 20.0005, 41], [19, 40, 59.999]))
    for func in (apply_hilbert_transform, compute_hilbert_envelope, compute_hilbert_phase):
        for per_epoch in (False, True):
            lazy = func(x.chunk(time=5000), per_epoch=per_epoch)
            assert lazy.chunks is not None
            if per_epoch:
                assert lazy.data.npartitions == 3
            np.testing.assert_allclose(lazy.values, func(x, per_epoch=per_epoch).values,
                                       atol=1e-12)


def test_units_and_round_trip(tmp_path):
    t = np.arange(0, 2, 0.001)
    x = nap.tsd(t, np.sin(2 * np.pi * 7 * t), attrs={"units": "mV"})
    assert compute_hilbert_envelope(x).attrs["units"] == "mV"
    assert compute_hilbert_phase(x).attrs["units"] == "rad"
    z = apply_hilbert_transform(x)
    z.to_netcdf(tmp_path / "z.nc", engine="netcdf4", auto_complex=True)
    with xr.open_dataarray(tmp_path / "z.nc", auto_complex=True) as back:
        xr.testing.assert_allclose(back, z)


def test_bad_inputs():
    t = np.arange(0, 2, 0.01)
    with pytest.raises(TypeError, match="real"):
        apply_hilbert_transform(nap.tsd(t, np.exp(1j * t)))
    with pytest.raises(TypeError, match="Ts"):
        compute_hilbert_phase(nap.ts(t))


def bursts(seed=0, fs=1250.0, duration=120.0, n_bursts=30):
    rng = np.random.default_rng(seed)
    t = np.arange(0, duration, 1 / fs)
    d = 0.3 * rng.standard_normal(t.size)
    for centre in rng.uniform(1, duration - 1, n_bursts):
        width = rng.uniform(0.01, 0.04)
        d += rng.uniform(0.5, 2) * np.exp(-((t - centre) / width) ** 2) * np.sin(
            2 * np.pi * rng.uniform(120, 180) * t)
    return t, d


@pytest.mark.parametrize("seed", range(4))
def test_oscillatory_events_match_pynapple(pnap, seed):
    t, d = bursts(seed)
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.uniform(5, 115, 4))
    ep = ([0.0, cuts[1]], [cuts[0], cuts[2]]) if seed % 2 else ([0.0], [t[-1]])
    thr = (float(rng.uniform(0.5, 1.5)), float(rng.uniform(5, 20)))
    dur = (float(rng.uniform(0.005, 0.02)), float(rng.uniform(0.2, 1.0)))
    args = ((100.0, 200.0), thr, dur, float(rng.uniform(0, 0.05)))
    fs = None if seed < 2 else 1250.0
    size = int(rng.integers(5, 80))
    ours = detect_oscillatory_events(nap.tsd(t, d), nap.interval_set(*ep), *args, fs, size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pnap.detect_oscillatory_events(pnap.Tsd(t, d), pnap.IntervalSet(*ep), *args,
                                             fs, size)
    assert ours.sizes["interval"] == len(ref) > 0
    np.testing.assert_allclose(ours.start.values, ref.start, atol=1e-12)
    np.testing.assert_allclose(ours.end.values, ref.end, atol=1e-12)
    for key in ("power", "amplitude", "peak_time"):
        np.testing.assert_allclose(ours[key].values, ref[key].values, rtol=1e-9,
                                   equal_nan=True)


def test_no_event_gives_an_empty_set_with_its_columns():
    t, d = bursts(n_bursts=0)
    ev = detect_oscillatory_events(nap.tsd(t, d), nap.interval_set(0, 100), (100.0, 200.0),
                                   (50.0, 60.0), (0.01, 1.0), 0.01)
    assert ev.sizes["interval"] == 0
    assert {"power", "amplitude", "peak_time"} <= set(ev.data_vars)


@pytest.mark.parametrize("kwargs, error", [
    (dict(frequency_band=[100.0, 200.0]), TypeError),
    (dict(threshold_band=(2.0, 1.0)), XrNapError),
    (dict(duration_band=(0.1,)), XrNapError),
    (dict(min_interval=-1.0), XrNapError),
    (dict(min_interval="1"), TypeError),
    (dict(fs=-5.0), XrNapError),
    (dict(sliding_window_size=0), XrNapError),
    (dict(sliding_window_size=5.0), TypeError),
    (dict(epochs=(0, 10)), TypeError),
])
def test_detection_bad_arguments(kwargs, error):
    t, d = bursts(duration=10.0, n_bursts=2)
    args = dict(data=nap.tsd(t, d), epochs=nap.interval_set(0, 10),
                frequency_band=(100.0, 200.0), threshold_band=(1.0, 10.0),
                duration_band=(0.01, 1.0), min_interval=0.01)
    args.update(kwargs)
    with pytest.raises(error):
        detect_oscillatory_events(**args)


def test_detection_needs_a_1d_signal():
    t, d = bursts(duration=10.0, n_bursts=2)
    frame = nap.tsd_frame(t, np.c_[d, d])
    with pytest.raises(TypeError, match="1-D"):
        detect_oscillatory_events(frame, nap.interval_set(0, 10), (100.0, 200.0),
                                  (1.0, 10.0), (0.01, 1.0), 0.01)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 1000))
def test_phase_of_a_cosine_is_its_argument(seed):
    rng = np.random.default_rng(seed)
    f = rng.uniform(2, 20)
    t = np.arange(0, 10, 0.001)
    n_cycles = np.floor(10 * f)
    t = t[t < n_cycles / f]  # whole cycles: the circular FFT sees no edge
    ph = compute_hilbert_phase(nap.tsd(t, np.cos(2 * np.pi * f * t)))
    expected = np.mod(2 * np.pi * f * t, 2 * np.pi)
    turn = np.angle(np.exp(1j * (ph.values - expected)))
    # the window ends up to one sample short of a whole cycle: the edges are off by a
    # few hundredths of a radian, the rest by less than 1e-3 (checked over 1000 seeds)
    edge = t.size // 20
    assert np.abs(turn[edge:-edge]).max() < 2e-3
    assert np.abs(turn).max() < 0.1
