"""FFT and power spectral densities against pynapple 0.11; bounded reads; edge cases."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from signal_data import both, signals

import xr_nap as nap
from xr_nap.errors import XrNapError
from xr_nap.process.spectrum import (
    compute_fft,
    compute_mean_power_spectral_density,
    compute_power_spectral_density,
)
from xr_nap.testing import CountingArray


def assert_spectrum(ours, ref, rtol=1e-9):
    np.testing.assert_array_equal(ours.frequency.values, ref.index.values)
    values = ref.values.reshape(ours.shape)
    scale = np.abs(values).max()
    np.testing.assert_allclose(ours.values, values, rtol=rtol, atol=1e-12 * scale)


@settings(max_examples=40, deadline=None)
@given(case=signals(max_cols=2), full_range=st.booleans(), norm=st.booleans(),
       n=st.sampled_from([None, 64, 255, 1000]), fs=st.sampled_from([None, 500.0]))
def test_fft_and_psd_match_pynapple(pnap, case, full_range, norm, n, fs):
    t, d, starts, ends = case
    x, px = both(pnap, t, d, starts[:1], ends[:1])  # one epoch
    kwargs = {} if n is None else {"n": n}
    if fs is not None:
        kwargs["fs"] = fs
    ours = compute_fft(x, fs, None, full_range, norm, n)
    assert ours.dims == ("frequency", *x.dims[1:])
    assert_spectrum(ours, pnap.compute_fft(px, full_range=full_range, norm=norm, **kwargs))
    ours = compute_power_spectral_density(x, fs, None, full_range, n)
    ref = pnap.compute_power_spectral_density(px, full_range=full_range, **kwargs)
    assert_spectrum(ours, ref)


@settings(max_examples=40, deadline=None)
@given(case=signals(min_epoch=60, max_cols=2), size=st.integers(5, 60),
       overlap=st.sampled_from([0.0, 0.25, 0.5, 0.9]), full_range=st.booleans(),
       unit=st.sampled_from(["s", "ms"]), with_ep=st.booleans())
def test_mean_psd_matches_pynapple(pnap, case, size, overlap, full_range, unit, with_ep):
    t, d, starts, ends = case
    x, px = both(pnap, t, d, starts, ends)
    interval = size * (t[1] - t[0])  # `size` samples, in seconds
    interval = round(interval * 1000, 6) if unit == "ms" else interval
    ep = (starts[-1:], ends[-1:]) if with_ep else None
    ours = compute_mean_power_spectral_density(
        x, interval, None, overlap, None if ep is None else nap.interval_set(*ep),
        full_range, unit)
    kwargs = {} if ep is None else {"ep": pnap.IntervalSet(*ep)}  # pynapple refuses None
    ref = pnap.compute_mean_power_spectral_density(
        px, interval, overlap=overlap, full_range=full_range, time_unit=unit, **kwargs)
    assert_spectrum(ours, ref)


def test_mean_psd_reads_a_file_backed_series_in_bounded_batches(monkeypatch):
    from xr_nap.process import spectrum

    fs = 1000.0
    t = np.arange(200_000) / fs
    d = np.random.default_rng(0).standard_normal((t.size, 2))
    source = CountingArray(d)
    monkeypatch.setattr(spectrum, "BLOCK_BYTES", 16 * 2 * 10_000)
    ep = ([0, 100.2], [99.5, 199.9])
    lazy = compute_mean_power_spectral_density(nap.tsd_frame(t, source, time_support=ep), 1.0)
    ref = compute_mean_power_spectral_density(nap.tsd_frame(t, d, time_support=ep), 1.0)
    np.testing.assert_allclose(lazy.values, ref.values, rtol=1e-12)
    assert 0 < max(source.rows_read()) <= 10_000
    assert sum(source.rows_read()) < 1.2 * t.size


def test_mean_psd_on_dask_is_one_task_per_batch():
    t = np.arange(100_000) / 1000.0
    x = nap.tsd(t, np.random.default_rng(1).standard_normal(t.size))
    ref = compute_mean_power_spectral_density(x, 0.5, overlap=0.5)
    lazy = compute_mean_power_spectral_density(x.chunk(time=7000), 0.5, overlap=0.5)
    np.testing.assert_allclose(lazy.values, ref.values, rtol=1e-12)


def test_windows_never_cross_a_gap(pnap):
    t = np.arange(0, 10, 0.001)
    d = np.where(t < 5, np.sin(2 * np.pi * 50 * t), np.sin(2 * np.pi * 120 * t))
    x, px = both(pnap, t, d, [0, 5.0005], [4.9995, 9.999])
    ours = compute_mean_power_spectral_density(x, 1.0, fs=1000.0, overlap=0.0)
    assert ours.attrs["n_windows"] == 8  # 4 per epoch: none straddles the gap
    assert_spectrum(ours, pnap.compute_mean_power_spectral_density(px, 1.0, fs=1000.0,
                                                                   overlap=0.0))


def test_psd_needs_one_epoch(pnap):
    t = np.arange(0, 10, 0.01)
    x, px = both(pnap, t, np.sin(t), [0, 5], [4, 9])
    with pytest.raises(ValueError, match="length 1"):
        pnap.compute_power_spectral_density(px)
    with pytest.raises(XrNapError, match="length 1"):
        compute_power_spectral_density(x)
    one = compute_power_spectral_density(x, ep=nap.interval_set(5, 9))
    assert_spectrum(one, pnap.compute_power_spectral_density(px, ep=pnap.IntervalSet(5, 9)))


def test_window_longer_than_the_data(pnap):
    t = np.arange(0, 10, 0.01)
    x, px = both(pnap, t, np.sin(t), [0], [9.99])
    with pytest.raises(RuntimeError):
        pnap.compute_mean_power_spectral_density(px, 20.0)
    with pytest.raises(XrNapError, match="decreasing interval_size"):
        compute_mean_power_spectral_density(x, 20.0)
    with pytest.raises(XrNapError, match="no sample"):
        compute_mean_power_spectral_density(x, 1.0, ep=nap.interval_set(20, 30))


def test_nan_sample_gives_nan_spectrum(pnap):
    """Documented result: a NaN sample makes the spectra it enters NaN (as pynapple)."""
    t = np.arange(0, 10, 0.01)
    d = np.sin(t)
    d[50] = np.nan
    x, px = both(pnap, t, d, [0], [9.99])
    assert np.isnan(compute_power_spectral_density(x).values).all()
    ours = compute_mean_power_spectral_density(x, 1.0)
    ref = pnap.compute_mean_power_spectral_density(px, 1.0)
    assert np.isnan(ours.values).all() and np.isnan(ref.values).all()


def test_uneven_sampling_is_taken_as_even(pnap):
    """Documented result: samples are used as if evenly spaced at pynapple's rate."""
    rng = np.random.default_rng(3)
    t = np.sort(rng.uniform(0, 20, 5000))
    d = rng.standard_normal(t.size)
    x, px = both(pnap, t, d, [t[0]], [t[-1]])
    assert_spectrum(compute_power_spectral_density(x), pnap.compute_power_spectral_density(px))
    assert_spectrum(compute_mean_power_spectral_density(x, 2.0),
                    pnap.compute_mean_power_spectral_density(px, 2.0))


@pytest.mark.parametrize("call, error", [
    (lambda x: compute_fft(x, full_range=1), TypeError),
    (lambda x: compute_fft(x, n=10.0), TypeError),
    (lambda x: compute_fft(x, fs="1"), TypeError),
    (lambda x: compute_fft(x, n=0), XrNapError),
    (lambda x: compute_fft(x, ep=(0, 5)), TypeError),
    (lambda x: compute_mean_power_spectral_density(x, 1.0, overlap=1), TypeError),
    (lambda x: compute_mean_power_spectral_density(x, 1.0, overlap=1.0), XrNapError),
    (lambda x: compute_mean_power_spectral_density(x, -1.0), XrNapError),
    (lambda x: compute_mean_power_spectral_density(x, 1.0, time_unit="h"), ValueError),
])
def test_bad_arguments(call, error):
    x = nap.tsd(np.arange(0, 10, 0.01), np.ones(1000))
    with pytest.raises(error):
        call(x)


def test_units_coords_and_round_trip(tmp_path):
    t = np.arange(0, 10, 0.001)
    d = np.random.default_rng(4).standard_normal((t.size, 2))
    x = nap.tsd_frame(t, d, columns=["a", "b"], metadata={"area": ["ca1", "ca3"]})
    x.attrs["units"] = "mV"
    psd = compute_mean_power_spectral_density(x, 0.5)
    assert psd.dims == ("frequency", "column") and psd.area.values.tolist() == ["ca1", "ca3"]
    assert psd.attrs["units"] == "(mV)^2/Hz" and psd.frequency.attrs["units"] == "Hz"
    psd.to_netcdf(tmp_path / "p.nc")
    with xr.open_dataarray(tmp_path / "p.nc") as back:
        xr.testing.assert_identical(back, psd)
    f = compute_fft(x.transpose("column", "time"))
    assert f.dims == ("frequency", "column")
    f.to_netcdf(tmp_path / "f.nc", engine="netcdf4", auto_complex=True)
    with xr.open_dataarray(tmp_path / "f.nc", auto_complex=True) as back:
        xr.testing.assert_allclose(back, f)


def test_tensor_signal():
    t = np.arange(0, 4, 0.001)
    d = np.random.default_rng(5).standard_normal((t.size, 2, 3))
    x = nap.tsd_tensor(t, d)
    psd = compute_mean_power_spectral_density(x, 0.5)
    assert psd.dims == ("frequency", "dim_1", "dim_2")
    col = compute_mean_power_spectral_density(nap.tsd(t, d[:, 1, 2]), 0.5)
    np.testing.assert_allclose(psd.values[:, 1, 2], col.values)
