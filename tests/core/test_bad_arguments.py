"""Bad arguments to the core and analysis functions: a clear error, never a crash, a
raw MemoryError after minutes of work, or a silently wrong number (issue 13)."""

import warnings

import numpy as np
import pytest
import xarray as xr

import xr_nap as nap

T = np.arange(0, 10, 0.1)


def feature():
    return nap.tsd(T, np.sin(T))


def group():
    return nap.ts_group({0: T[::3], 1: T[::5]})


CASES = {
    "interval bounds as datetimes": (
        lambda: nap.interval_set(np.array(["2024-01-01"], "datetime64[ns]"),
                                 np.array(["2024-01-02"], "datetime64[ns]")),
        nap.TimeAxisError, "not seconds"),
    "interval bounds as text": (lambda: nap.interval_set("a", "b"), nap.XrNapError,
                                "numbers of seconds"),
    "merge_close_intervals with NaN": (
        lambda: nap.merge_close_intervals(nap.interval_set([0, 5], [1, 6]), np.nan),
        nap.XrNapError, "NaN"),
    "drop_short_intervals with NaN": (
        lambda: nap.drop_short_intervals(nap.interval_set([0, 5], [1, 6]), np.nan),
        nap.XrNapError, "NaN"),
    "drop_long_intervals with NaN": (
        lambda: nap.drop_long_intervals(nap.interval_set([0, 5], [1, 6]), np.nan),
        nap.XrNapError, "NaN"),
    "one spike time for every unit": (lambda: nap.ts_group({0: [5.0], 1: [5.0]}),
                                      nap.XrNapError, "span no time"),
    "mixed int and str unit ids": (lambda: nap.ts_group({1: [1.0, 2.0], "a": [1.0, 3.0]}),
                                   nap.XrNapError, "all integers or all strings"),
    "repeated unit ids": (lambda: nap.select_units(group().assign_coords(unit=[0, 0]), [0]),
                          nap.XrNapError, "repeated unit ids"),
    "get at NaN": (lambda: nap.get(feature(), np.nan), ValueError, "finite"),
    "count with NaN bins": (lambda: nap.count(group(), np.nan), ValueError, "positive"),
    "count with 1e-12 s bins": (lambda: nap.count(group(), 1e-12), nap.OutputSizeError,
                                "larger bin_size"),
    "bin_average with 1e-12 s bins": (lambda: nap.bin_average(feature(), 1e-12),
                                      nap.OutputSizeError, "GiB"),
    "tuning curves with 1e12 bins": (lambda: nap.tuning_curves(group(), feature(), 10**12),
                                     nap.OutputSizeError, "fewer bins"),
    "tuning curves with NaN edges": (
        lambda: nap.tuning_curves(group(), feature(), [np.array([0, np.nan, 1.0])]),
        ValueError, "finite"),
    "tuning curves with fs = 0": (lambda: nap.tuning_curves(group(), feature(), 10, fs=0),
                                  ValueError, "positive"),
    "tuning curves of a complex feature": (
        lambda: nap.tuning_curves(group(), nap.tsd(T, T + 1j), 10), TypeError, "real"),
    "threshold at NaN": (lambda: nap.threshold(feature(), np.nan), ValueError, "finite"),
    "threshold of complex values": (lambda: nap.threshold(nap.tsd(T, T + 1j), 0.5),
                                    TypeError, "real"),
    "trigger average over no epoch": (
        lambda: nap.event_triggered_average(group(), feature(), 0.1, 0.5,
                                            ep=nap.interval_set([], [])),
        nap.XrNapError, "no epoch"),
    "trigger average with 1e-12 s bins": (
        lambda: nap.event_triggered_average(group(), feature(), 1e-12, 0.5),
        nap.OutputSizeError, "GiB"),
    "trigger average with a 1e12 s window": (
        lambda: nap.event_triggered_average(group(), feature(), 0.1, 1e12),
        nap.OutputSizeError, "shorter window"),
    "perievent with a 1e12 s window": (
        lambda: nap.perievent(feature(), nap.ts([5.0]), 1e12), nap.OutputSizeError,
        "shorter window"),
    "perievent on repeated first times": (
        lambda: nap.perievent(nap.tsd([1.0, 1.0, 2.0, 3.0], [1, 2, 3, 4.0]), nap.ts([2.0]), 1),
        ValueError, "repeated time"),
    "perievent with NaN events": (lambda: nap.perievent(feature(), [np.nan, 1.0], 1),
                                  nap.TimeAxisError, "finite"),
    "spike times with NaN": (lambda: nap.ts_group({0: [1.0, np.nan]}), nap.TimeAxisError,
                             "finite"),
    "structured data": (lambda: nap.tsd([0.0], np.zeros(1, dtype=[("a", "f8")])),
                        nap.XrNapError, "structured"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_argument_gets_a_clear_error(name):
    call, error, match = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=match):
            call()


def test_complex_values_keep_their_imaginary_part():
    x = nap.tsd(T, T + 1j * T)
    avg = nap.bin_average(x, 1.0)
    np.testing.assert_allclose(avg.values.imag, avg.values.real)
    assert nap.value_from(nap.ts([1.0]), x).values.tolist() == [1 + 1j]
    eta = nap.event_triggered_average(nap.ts([2.0, 5.0]), x, 0.1, 0.2)
    assert np.iscomplexobj(eta.values) and np.abs(eta.values.imag).max() > 0


def test_ts_group_all_at_one_time_with_a_support_keeps_every_spike():
    g = nap.ts_group({0: [5.0], 1: [5.0]}, time_support=(0, 10))
    assert g.row_size.values.tolist() == [1, 1]


def test_datetime_series_counted_in_seconds_not_nanoseconds():
    t = np.array(["2024-01-01", "2024-01-31"], dtype="datetime64[ns]")
    x = xr.DataArray([1.0, 2.0], dims="time", coords={"time": t})
    with pytest.raises(nap.TimeAxisError):
        nap.count(x, 30 * 86400.0)
    assert nap.count(nap.to_seconds(x), 86400.0).sizes["time"] == 30
