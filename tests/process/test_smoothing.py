"""convolve / smooth against pynapple 0.11, documented differences, laziness."""

import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from signal_data import assert_same, both, signals

import xr_nap as nap
from xr_nap.errors import XrNapError, XrNapWarning
from xr_nap.process.smoothing import convolve, smooth
from xr_nap.testing import CountingArray


@settings(max_examples=40, deadline=None)
@given(case=signals(), k=st.integers(1, 90), trim=st.sampled_from(["both", "left", "right"]),
       two_d=st.booleans(), seed=st.integers(0, 1000))
def test_convolve_matches_pynapple(pnap, case, k, trim, two_d, seed):
    x, px = both(pnap, *case)
    kernel = np.random.default_rng(seed).standard_normal((k, 2) if two_d else k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kernel longer than an epoch: both warn
        ours = convolve(x, kernel, None, trim)
        ref = px.convolve(kernel, None, trim)
    assert_same(ours, ref)
    assert ours.dims == (*x.dims, "kernel") if two_d else x.dims


@settings(max_examples=30, deadline=None)
@given(case=signals(min_epoch=40), std=st.sampled_from([0.01, 0.02, 0.05, 15.0]),
       windowsize=st.sampled_from([None, 0.1, 0.23]), size_factor=st.integers(1, 20),
       norm=st.booleans())
def test_smooth_matches_pynapple(pnap, case, std, windowsize, size_factor, norm):
    x, px = both(pnap, *case)
    units = "ms" if std > 1 else "s"
    if windowsize is not None and units == "ms":
        windowsize *= 1000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = smooth(x, std, windowsize, units, size_factor, norm)
        ref = px.smooth(std, windowsize, units, size_factor, norm)
    assert_same(ours, ref)


def test_smooth_tsgroup_counts_like_pynapple(pnap):
    """Firing rates: a TsGroup's counts smoothed, as pynapple users do."""
    rng = np.random.default_rng(0)
    spikes = {i: np.sort(rng.uniform(0, 30, 200 + 50 * i)) for i in range(4)}
    ep = ([0, 12], [10, 30])
    group = nap.ts_group(spikes, time_support=ep)
    pgroup = pnap.TsGroup({k: pnap.Ts(v) for k, v in spikes.items()},
                          time_support=pnap.IntervalSet(*ep))
    rates = smooth(nap.count(group, 0.01) / 0.01, 0.05)
    assert rates.dims == ("time", "unit") and rates.unit.values.tolist() == [0, 1, 2, 3]
    assert "rate" in rates.coords  # per-unit metadata ride along
    assert_same(rates, (pgroup.count(0.01) / 0.01).smooth(0.05))


def test_convolve_with_ep_restricts_like_pynapple(pnap):
    t = np.arange(0, 10, 0.01)
    d = np.random.default_rng(1).standard_normal(t.size)
    x, px = nap.tsd(t, d), pnap.Tsd(t, d)
    ep = ([1.0, 5.005], [3.0, 8.0])
    kernel = np.hanning(21)
    ours = convolve(x, kernel, nap.interval_set(*ep), "right")
    assert_same(ours, px.convolve(kernel, pnap.IntervalSet(*ep), "right"))


def test_dataarray_kernel_names_the_new_dimension():
    x = nap.tsd(np.arange(50.0), np.random.default_rng(2).standard_normal(50))
    bank = xr.DataArray(np.ones((5, 3)) / np.array([5.0, 10.0, 20.0]),
                        dims=("tap", "width"), coords={"width": [5, 10, 20]})
    out = convolve(x, bank)
    assert out.dims == ("time", "width") and out.width.values.tolist() == [5, 10, 20]
    np.testing.assert_allclose(out.sel(width=10).values, convolve(x, bank.values[:, 1]).values)


def test_time_at_any_position_keeps_the_input_order(pnap):
    t = np.arange(0, 5, 0.01)
    d = np.random.default_rng(3).standard_normal((t.size, 3))
    x, px = nap.tsd_frame(t, d), pnap.TsdFrame(t, d)
    flipped = x.transpose("column", "time")
    out = smooth(flipped, 0.03)
    assert out.dims == ("column", "time")
    np.testing.assert_allclose(out.transpose("time", "column").values, px.smooth(0.03).values,
                               rtol=1e-9, atol=1e-12)


def test_dask_result_is_lazy_and_equal():
    t = np.arange(0, 60, 0.001)
    d = np.random.default_rng(4).standard_normal((t.size, 2))
    x = nap.tsd_frame(t, d, time_support=([0, 20.0005, 41], [19, 40, 59.999]))
    ref = smooth(x, 0.2, size_factor=10)  # 2001 taps, longer than most chunks
    lazy = smooth(x.chunk(time=1500), 0.2, size_factor=10)
    assert lazy.chunks is not None
    np.testing.assert_allclose(lazy.values, ref.values, rtol=1e-10, atol=1e-13)


def test_file_backed_input_is_read_in_bounded_windows(monkeypatch):
    from xr_nap.process import per_epoch

    t = np.arange(0, 20, 0.001)
    d = np.random.default_rng(5).standard_normal(t.size)
    source = CountingArray(d)
    x = nap.tsd(t, source)
    monkeypatch.setattr(per_epoch, "BLOCK_BYTES", 8 * 3000)
    out = smooth(x, 0.01, size_factor=20)
    np.testing.assert_allclose(out.values, smooth(nap.tsd(t, d), 0.01, size_factor=20).values,
                               rtol=1e-10, atol=1e-13)
    assert max(source.rows_read()) < t.size / 4


def test_nan_spreads_over_the_kernel_window_only(pnap):
    """pynapple's FFT path (scipy picks it for long kernels) makes the whole epoch NaN;
    xr-nap makes NaN only the outputs whose kernel window covers the NaN sample."""
    t = np.arange(0, 100, 0.01)
    d = np.sin(t)
    d[5000] = np.nan
    kernel = np.ones(1001) / 1001
    ours = convolve(nap.tsd(t, d), kernel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy: FFT convolution of NaN
        ref = pnap.Tsd(t, d).convolve(kernel)
    assert np.isnan(ref.values).all()
    assert np.isnan(d[5000])  # the input is left as it was
    nan = np.flatnonzero(np.isnan(ours.values))
    np.testing.assert_array_equal(nan, np.arange(5000 - 500, 5000 + 501))
    # away from the NaN, the values are the convolution of the clean signal
    clean = convolve(nap.tsd(t, np.sin(t)), kernel).values
    keep = ~np.isnan(ours.values)
    np.testing.assert_allclose(ours.values[keep], clean[keep], atol=1e-12)
    # with a shorter kernel pynapple sums directly and agrees with xr-nap
    for k in (5, 301):
        assert_same(convolve(nap.tsd(t, d), np.ones(k)), pnap.Tsd(t, d).convolve(np.ones(k)))


def test_complex_kernel_keeps_the_imaginary_part(pnap):
    t = np.arange(0, 2, 0.01)
    d = np.cos(2 * np.pi * t)
    kernel = np.exp(2j * np.pi * np.arange(9) / 9)
    ours = convolve(nap.tsd(t, d), kernel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy: casting complex values to real
        ref = pnap.Tsd(t, d).convolve(kernel)
    assert ours.dtype == np.complex128 and ref.dtype == np.float64
    np.testing.assert_allclose(ours.real.values, ref.values, atol=1e-12)
    np.testing.assert_allclose(ours.imag.values, np.convolve(d, kernel.imag)[4:-4], atol=1e-12)


def test_kernel_longer_than_an_epoch_warns_and_matches(pnap):
    t = np.arange(0, 10, 0.01)
    d = np.random.default_rng(6).standard_normal(t.size)
    ep = ([0, 5], [4, 5.1])
    x, px = both(pnap, t, d, *ep)
    with pytest.warns(XrNapWarning, match="longer than 1 of 2 epochs"):
        ours = convolve(x, np.ones(31))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(ours, px.convolve(np.ones(31)))


def test_empty_epoch_is_skipped():
    t = np.arange(0, 10, 0.01)
    x = nap.tsd(t, np.ones(t.size), time_support=([0, 4.001, 6], [4, 4.002, 10]))
    out = convolve(x, np.ones(3) / 3)
    assert out.sizes["time"] == x.sizes["time"]
    np.testing.assert_allclose(nap.time_support(out).start.values, [0, 4.001, 6])


def test_netcdf_round_trip(tmp_path):
    x = nap.tsd(np.arange(0, 5, 0.01), np.random.default_rng(7).standard_normal(500),
                attrs={"units": "mV"})
    out = smooth(x, 0.02)
    out.to_netcdf(tmp_path / "s.nc")
    back = xr.open_dataarray(tmp_path / "s.nc")
    xr.testing.assert_allclose(back, out)
    assert back.attrs["units"] == "mV"
    back.close()


@pytest.mark.parametrize("bad, error", [
    (dict(array=np.ones((3, 2, 2))), XrNapError),
    (dict(array=np.ones(0)), XrNapError),
    (dict(array=[1, 2]), TypeError),
    (dict(array=np.ones(3), trim="middle"), XrNapError),
])
def test_convolve_bad_arguments(bad, error):
    x = nap.tsd(np.arange(10.0), np.ones(10))
    with pytest.raises(error):
        convolve(x, **bad)


def test_bad_inputs_get_clear_errors():
    group = nap.ts_group({0: [0.5, 1.5]})
    with pytest.raises(TypeError, match="count it first"):
        smooth(group, 0.1)
    with pytest.raises(TypeError, match="Ts"):
        smooth(nap.ts([0.1, 0.2, 0.3]), 0.1)
    x = nap.tsd(np.arange(10.0), np.ones(10))
    with pytest.raises(XrNapError, match="std"):
        smooth(x, -1.0)
    with pytest.raises(XrNapError, match="size_factor"):
        smooth(x, 1.0, size_factor=2.5)
    with pytest.raises(ValueError, match="time_unit"):
        smooth(x, 1.0, time_units="h")
    with pytest.raises(XrNapError, match="empty time support"):
        smooth(nap.tsd([1.0], [1.0]), 1.0)
