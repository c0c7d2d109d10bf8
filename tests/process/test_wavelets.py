"""Morlet filter banks and wavelet transforms against pynapple 0.11."""

import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from signal_data import assert_same, both, signals

import xr_nap as nap
from xr_nap.errors import XrNapError
from xr_nap.process.wavelets import compute_wavelet_transform, generate_morlet_filterbank

freq_lists = st.lists(st.floats(0.5, 60.0), min_size=1, max_size=6).map(
    lambda f: np.array(sorted(f)))


@settings(max_examples=30, deadline=None)
@given(freqs=freq_lists, fs=st.sampled_from([100.0, 250.0, 1000.0]),
       width=st.floats(0.5, 3.0), length=st.floats(0.5, 2.0), precision=st.integers(6, 14))
def test_filterbank_matches_pynapple(pnap, freqs, fs, width, length, precision):
    ours = generate_morlet_filterbank(freqs, fs, width, length, precision)
    ref = pnap.generate_morlet_filterbank(freqs, fs, width, length, precision)
    assert ours.dims == ("time", "frequency")
    np.testing.assert_array_equal(ours.frequency.values, freqs)
    np.testing.assert_array_equal(ours.time.values, ref.t)
    np.testing.assert_array_equal(ours.values, ref.values)


@settings(max_examples=30, deadline=None)
@given(case=signals(min_epoch=40, max_samples=800, max_cols=2), data=st.data(),
       norm=st.sampled_from(["l1", "l2", None]), precision=st.integers(8, 14),
       given_fs=st.booleans())
def test_transform_matches_pynapple(pnap, case, data, norm, precision, given_fs):
    x, px = both(pnap, *case)
    rate = px.rate
    freqs = np.sort(np.array(data.draw(st.lists(st.floats(0.05, 0.45), min_size=1,
                                                max_size=4)))) * rate
    fs = 1 / (case[0][1] - case[0][0]) if given_fs else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # wavelets longer than an epoch: pynapple warns
        ours = compute_wavelet_transform(x, freqs, fs, 1.5, 1.0, precision, norm)
        ref = pnap.compute_wavelet_transform(px, freqs, fs, 1.5, 1.0, precision, norm)
    assert ours.dims == (*x.dims, "frequency")
    assert_same(ours, ref, rtol=1e-8, atol=1e-11)


def test_tensor_signal_matches_pynapple(pnap):
    t = np.arange(0, 5, 0.002)
    d = np.random.default_rng(0).standard_normal((t.size, 2, 2))
    x, px = both(pnap, t, d, [0, 2.5], [2, 4.998])
    freqs = np.array([5.0, 20.0, 60.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = compute_wavelet_transform(x, freqs)
        ref = pnap.compute_wavelet_transform(px, freqs)
    assert ours.dims == ("time", "dim_1", "dim_2", "frequency")
    assert_same(ours, ref)


def test_dask_equals_in_memory():
    t = np.arange(0, 30, 0.001)
    d = np.random.default_rng(1).standard_normal(t.size)
    x = nap.tsd(t, d, time_support=([0, 10.0005], [9.5, 29.999]))
    freqs = np.array([2.0, 8.0, 40.0])  # the 2 Hz wavelet is longer than a chunk
    ref = compute_wavelet_transform(x, freqs)
    lazy = compute_wavelet_transform(x.chunk(time=1500), freqs)
    assert lazy.chunks is not None
    np.testing.assert_allclose(lazy.values, ref.values, rtol=0,
                               atol=1e-12 * np.abs(ref.values).max())


def test_nan_spreads_over_each_wavelet_only(pnap):
    """pynapple's FFT convolution makes every output NaN; xr-nap makes NaN the outputs
    whose wavelet (its own taps, not the zeros padding it) covers the NaN sample."""
    from xr_nap.process.wavelets import morlet_wavelets

    t = np.arange(0, 20, 0.001)
    d = np.sin(2 * np.pi * 10 * t)
    d[10_000] = np.nan
    freqs = np.array([4.0, 40.0])
    ours = compute_wavelet_transform(nap.tsd(t, d), freqs, fs=1000.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pnap.compute_wavelet_transform(pnap.Tsd(t, d), freqs, fs=1000.0)
    assert np.isnan(ref.values).all()
    lengths = [w.size for w in morlet_wavelets(freqs, 1000.0, 1.5, 1.0, 16)[0]]
    assert np.isnan(ours.values).sum(axis=0).tolist() == lengths == [4000, 400]
    clean = compute_wavelet_transform(nap.tsd(t, np.sin(2 * np.pi * 10 * t)), freqs,
                                      fs=1000.0)
    keep = ~np.isnan(ours.values)
    np.testing.assert_allclose(ours.values[keep], clean.values[keep], atol=1e-12)


def test_coords_attrs_and_round_trip(tmp_path):
    t = np.arange(0, 4, 0.001)
    x = nap.tsd(t, np.sin(2 * np.pi * 12 * t), attrs={"units": "mV"})
    freqs = np.geomspace(4, 60, 5)
    w = compute_wavelet_transform(x, freqs, fs=1000.0)
    assert w.frequency.attrs["units"] == "Hz" and w.attrs["units"] == "mV"
    np.testing.assert_allclose(w.scale.values, 1000.0 / freqs)
    w.to_netcdf(tmp_path / "w.nc", engine="netcdf4", auto_complex=True)
    with xr.open_dataarray(tmp_path / "w.nc", auto_complex=True) as back:
        xr.testing.assert_allclose(back, w)
    bank = generate_morlet_filterbank(freqs, 1000.0)
    bank.to_netcdf(tmp_path / "b.nc", engine="netcdf4", auto_complex=True)
    with xr.open_dataarray(tmp_path / "b.nc", auto_complex=True) as back:
        xr.testing.assert_allclose(back, bank)


def test_filterbank_convolved_equals_the_transform():
    """The bank is a kernel :func:`xr_nap.convolve` takes, its frequency dim kept."""
    t = np.arange(0, 4, 0.001)
    x = nap.tsd(t, np.random.default_rng(2).standard_normal(t.size))
    freqs = np.array([8.0, 30.0])
    bank = generate_morlet_filterbank(freqs, 1000.0)
    conv = nap.convolve(x, bank)
    assert conv.dims == ("time", "frequency")
    w = compute_wavelet_transform(x, freqs, fs=1000.0, norm=None)
    np.testing.assert_allclose(conv.values, w.values, atol=1e-10)


@pytest.mark.parametrize("call, error", [
    (lambda x: compute_wavelet_transform(x, np.array([])), XrNapError),
    (lambda x: compute_wavelet_transform(x, np.array([-1.0, 2.0])), XrNapError),
    (lambda x: compute_wavelet_transform(x, 5.0), TypeError),
    (lambda x: compute_wavelet_transform(x, np.array([5.0]), norm="max"), XrNapError),
    (lambda x: compute_wavelet_transform(x, np.array([5.0]), fs="1"), TypeError),
    (lambda x: generate_morlet_filterbank(np.array([5.0]), 100.0, gaussian_width=0), XrNapError),
    (lambda x: generate_morlet_filterbank(np.array([5.0]), 100.0, precision=2.5), TypeError),
    (lambda x: generate_morlet_filterbank(np.array([5.0]), 100.0, window_length="1"),
     TypeError),
])
def test_bad_arguments(call, error):
    x = nap.tsd(np.arange(0, 1, 0.01), np.ones(100))
    with pytest.raises(error):
        call(x)
