"""Filters and their frequency response against pynapple 0.11; laziness, edge cases."""

import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from signal_data import assert_same, both, signals

import xr_nap as nap
from xr_nap.errors import XrNapError
from xr_nap.process.filtering import (
    apply_bandpass_filter,
    apply_bandstop_filter,
    apply_highpass_filter,
    apply_lowpass_filter,
    butter_halo,
    butter_sos,
    get_filter_frequency_response,
)
from xr_nap.testing import CountingArray

FILTERS = {"bandpass": apply_bandpass_filter, "bandstop": apply_bandstop_filter,
           "lowpass": apply_lowpass_filter, "highpass": apply_highpass_filter}


@st.composite
def cutoffs(draw, filter_type, nyquist):
    """Cutoffs well inside (0, nyquist) for the given filter type."""
    low = draw(st.floats(0.05, 0.4)) * nyquist
    if filter_type in ("lowpass", "highpass"):
        return float(low)
    return (float(low), float(low + draw(st.floats(0.1, 0.5)) * nyquist))


@settings(max_examples=60, deadline=None)
@given(case=signals(min_epoch=60), data=st.data(),
       filter_type=st.sampled_from(sorted(FILTERS)), mode=st.sampled_from(["butter", "sinc"]),
       order=st.integers(1, 5), tb=st.sampled_from([0.02, 0.05, 0.2]),
       given_fs=st.booleans())
def test_filters_match_pynapple(pnap, case, data, filter_type, mode, order, tb, given_fs):
    x, px = both(pnap, *case)
    t = case[0]
    true_fs = 1 / (t[1] - t[0])
    fs = true_fs if given_fs else None
    rate = true_fs if given_fs else px.rate
    cutoff = data.draw(cutoffs(filter_type, rate / 2))
    name = f"apply_{filter_type}_filter"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sinc kernel longer than an epoch: both warn
        ours = getattr(nap, name)(x, cutoff, fs, mode, order, tb)
        ref = getattr(pnap, name)(px, cutoff, fs, mode, order, tb)
    assert_same(ours, ref, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("filter_type, cutoff", [("lowpass", 30.0), ("highpass", 5.0),
                                                 ("bandpass", (6.0, 12.0)),
                                                 ("bandstop", (45.0, 55.0))])
@pytest.mark.parametrize("mode", ["butter", "sinc"])
def test_frequency_response_matches_pynapple(pnap, filter_type, cutoff, mode):
    ours = get_filter_frequency_response(cutoff, 1000.0, filter_type, mode, 3, 0.05)
    ref = pnap.get_filter_frequency_response(cutoff, 1000.0, filter_type, mode, 3, 0.05)
    np.testing.assert_allclose(ours.frequency.values, ref.index.values)
    np.testing.assert_allclose(ours.values, ref.values, atol=1e-12)
    assert ours.dims == ("frequency",) and ours.frequency.attrs["units"] == "Hz"


def lfp(n=200_000, fs=1000.0, ncol=2, seed=0):
    t = np.arange(n) / fs
    rng = np.random.default_rng(seed)
    d = np.sin(2 * np.pi * 8 * t)[:, None] + rng.standard_normal((n, ncol))
    return t, d


@pytest.mark.parametrize("mode, cutoff", [("butter", (0.5, 4.0)), ("butter", (6.0, 10.0)),
                                          ("sinc", (6.0, 10.0))])
def test_dask_chunks_equal_in_memory_everywhere(mode, cutoff):
    """Chunks are filtered with enough context that the result is the in-memory one, at
    epoch edges too (the halo here is longer than a chunk for the 0.5 Hz band)."""
    t, d = lfp()
    x = nap.tsd_frame(t, d, time_support=([0, 70.0005, 140], [70, 139, 199.999]))
    ref = apply_bandpass_filter(x, cutoff, mode=mode)
    lazy = apply_bandpass_filter(x.chunk(time=7_000), cutoff, mode=mode)
    assert lazy.chunks is not None
    scale = np.abs(ref.values).max()
    np.testing.assert_allclose(lazy.values, ref.values, rtol=0, atol=1e-10 * scale)


def test_butter_halo_follows_the_slowest_pole():
    slow = butter_halo(butter_sos(np.array([0.5, 4.0]), "bandpass", 1000.0, 4))
    fast = butter_halo(butter_sos(np.array([100.0, 200.0]), "bandpass", 1000.0, 4))
    assert slow > 10 * fast > 0


def test_file_backed_input_is_read_in_bounded_windows(monkeypatch):
    from xr_nap.process import per_epoch

    t, d = lfp(100_000, ncol=1)
    source = CountingArray(d[:, 0])
    monkeypatch.setattr(per_epoch, "BLOCK_BYTES", 8 * 20_000)
    out = apply_lowpass_filter(nap.tsd(t, source), 40.0)
    ref = apply_lowpass_filter(nap.tsd(t, d[:, 0]), 40.0)
    np.testing.assert_allclose(out.values, ref.values, rtol=0, atol=1e-10)
    assert max(source.rows_read()) < t.size / 2


def test_time_at_any_position(pnap):
    t, d = lfp(5_000, ncol=3)
    x = nap.tsd_frame(t, d).transpose("column", "time")
    out = apply_highpass_filter(x, 20.0, mode="sinc")
    assert out.dims == ("column", "time")
    ref = pnap.apply_highpass_filter(pnap.TsdFrame(t, d), 20.0, mode="sinc")
    np.testing.assert_allclose(out.values.T, ref.values, atol=1e-12)


def test_tensor_input(pnap):
    t, _ = lfp(3_000)
    d = np.random.default_rng(1).standard_normal((t.size, 2, 3))
    x, px = both(pnap, t, d, [0.0], [t[-1]])
    assert_same(apply_lowpass_filter(x, 50.0), pnap.apply_lowpass_filter(px, 50.0))


def test_epoch_shorter_than_the_filter(pnap):
    t = np.arange(0, 10, 0.01)
    ep = ([0, 5], [2, 5.05])
    x, px = both(pnap, t, np.sin(t), *ep)
    with pytest.raises(ValueError, match="padlen"):
        pnap.apply_lowpass_filter(px, 10.0)
    with pytest.raises(XrNapError, match=r"epoch 1 \[5.0, 5.05\] has 6 samples"):
        apply_lowpass_filter(x, 10.0)
    # the sinc mode pads each epoch with zeros instead, as pynapple does
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(apply_lowpass_filter(x, 10.0, mode="sinc"),
                    pnap.apply_lowpass_filter(px, 10.0, mode="sinc"))


def test_epoch_without_samples_is_skipped(pnap):
    """pynapple fails on an epoch with no sample; xr-nap filters the others."""
    t = np.arange(0, 10, 0.01)
    x = nap.tsd(t, np.sin(3 * t), time_support=([0, 3.001, 5], [2.5, 3.002, 10]))
    with pytest.raises(ValueError):
        pnap.apply_lowpass_filter(pnap.Tsd(t, np.sin(3 * t), time_support=pnap.IntervalSet(
            [0, 3.001, 5], [2.5, 3.002, 10])), 10.0)
    out = apply_lowpass_filter(x, 10.0, fs=100.0)
    ref = pnap.apply_lowpass_filter(pnap.Tsd(t, np.sin(3 * t), time_support=pnap.IntervalSet(
        [0, 5], [2.5, 10])), 10.0, fs=100.0)
    np.testing.assert_allclose(out.values, ref.values, atol=1e-12)
    np.testing.assert_allclose(nap.time_support(out).start.values, [0, 3.001, 5])


def test_nan_samples_are_refused(pnap):
    t = np.arange(0, 10, 0.01)
    d = np.sin(t)
    d[300] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        pnap.apply_lowpass_filter(pnap.Tsd(t, d), 10.0)
    for mode in ("butter", "sinc"):
        with pytest.raises(XrNapError, match="NaN"):
            apply_lowpass_filter(nap.tsd(t, d), 10.0, mode=mode)
        lazy = apply_lowpass_filter(nap.tsd(t, d).chunk(time=200), 10.0, mode=mode)
        with pytest.raises(XrNapError, match="NaN"):
            lazy.compute()


def test_integer_signal_is_filtered_to_float(pnap):
    """pynapple writes the filtered values back into an integer array (truncating)."""
    t = np.arange(0, 10, 0.001)
    d = (1000 * np.sin(2 * np.pi * 3 * t)).astype(np.int64)
    ours = apply_lowpass_filter(nap.tsd(t, d), 20.0)
    ref = pnap.apply_lowpass_filter(pnap.Tsd(t, d), 20.0)
    assert ours.dtype == np.float64 and ref.dtype == np.int64
    np.testing.assert_array_equal(np.trunc(ours.values).astype(np.int64), ref.values)
    exact = apply_lowpass_filter(nap.tsd(t, d.astype(float)), 20.0)
    np.testing.assert_allclose(ours.values, exact.values)


def test_cutoff_above_nyquist_is_an_error_in_both_modes(pnap):
    t = np.arange(0, 10, 0.01)  # fs = 100 Hz
    with pytest.raises(ValueError):
        pnap.apply_lowpass_filter(pnap.Tsd(t, np.sin(t)), 60.0, fs=100.0)
    aliased = pnap.apply_lowpass_filter(pnap.Tsd(t, np.sin(t)), 60.0, fs=100.0, mode="sinc")
    assert np.isfinite(aliased.values).all()  # pynapple's sinc mode goes ahead
    for mode in ("butter", "sinc"):
        with pytest.raises(XrNapError, match="Nyquist"):
            apply_lowpass_filter(nap.tsd(t, np.sin(t)), 60.0, fs=100.0, mode=mode)


def test_uneven_sampling_uses_the_mean_rate_like_pynapple(pnap):
    """Documented result: samples are taken as evenly spaced at pynapple's rate."""
    rng = np.random.default_rng(2)
    t = np.sort(rng.uniform(0, 20, 4000))
    d = np.sin(2 * np.pi * 2 * t) + rng.standard_normal(t.size)
    assert_same(apply_lowpass_filter(nap.tsd(t, d), 10.0),
                pnap.apply_lowpass_filter(pnap.Tsd(t, d), 10.0))


@pytest.mark.parametrize("kwargs, match", [
    (dict(cutoff=(1.0, 2.0), name="lowpass"), "single number"),
    (dict(cutoff=5.0, name="bandpass"), "tuple of two numbers"),
    (dict(cutoff=(1.0, 2.0, 3.0), name="bandstop"), "tuple of two numbers"),
    (dict(cutoff=5.0, name="lowpass", order=2.0), "order"),
    (dict(cutoff=5.0, name="lowpass", transition_bandwidth=1), "transition_bandwidth"),
    (dict(cutoff=5.0, name="lowpass", mode="fir"), "Unrecognized filter mode"),
    (dict(cutoff=5.0, name="lowpass", fs="100"), "fs"),
    (dict(cutoff=(20.0, 10.0), name="bandpass"), "low < high"),
])
def test_bad_arguments(pnap, kwargs, match):
    name = kwargs.pop("name")
    cutoff = kwargs.pop("cutoff")
    t = np.arange(0, 10, 0.01)
    with pytest.raises(ValueError, match=match):
        getattr(nap, f"apply_{name}_filter")(nap.tsd(t, np.sin(t)), cutoff, **kwargs)


def test_result_keeps_coords_attrs_and_round_trips(tmp_path):
    t, d = lfp(5_000, ncol=2)
    x = nap.tsd_frame(t, d, columns=["ca1", "ca3"], metadata={"depth": [100, 250]})
    x.attrs["units"] = "uV"
    out = apply_bandpass_filter(x, (6.0, 10.0))
    assert out.attrs["units"] == "uV" and out.depth.values.tolist() == [100, 250]
    out.to_netcdf(tmp_path / "f.nc")
    with xr.open_dataarray(tmp_path / "f.nc") as back:
        xr.testing.assert_allclose(back, out)
    response = get_filter_frequency_response((6.0, 10.0), 1000.0, "bandpass", "butter")
    response.to_netcdf(tmp_path / "r.nc")
    with xr.open_dataarray(tmp_path / "r.nc") as back:
        xr.testing.assert_identical(back, response)


def test_empty_series_gives_an_empty_result():
    empty = nap.tsd(np.empty(0), np.empty(0))
    assert apply_lowpass_filter(empty, 10.0, fs=100.0).sizes["time"] == 0
    with pytest.raises(XrNapError, match="pass fs"):
        apply_lowpass_filter(empty, 10.0)
