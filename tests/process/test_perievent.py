"""Perievent alignment against pynapple 0.11, edge cases, and lazy inputs."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from test_tuning_curves import Limited

import xr_nap as nap
from xr_nap.core import blocks

RNG = np.random.default_rng(5)
T = np.arange(0, 30, 0.1)
D = RNG.standard_normal((T.size, 2))


def check_group(ours, ref):
    assert ours.unit.values.tolist() == list(ref.keys())
    np.testing.assert_allclose(ours["events"].values, np.asarray(ref["events"], float))
    np.testing.assert_allclose(ours["rate"].values, np.asarray(ref.rates, float))
    np.testing.assert_array_equal(ours.row_size.values, [len(ref[k]) for k in ref.keys()])
    np.testing.assert_allclose(ours.spike_time.values,
                               np.concatenate([ref[k].t for k in ref.keys()] + [[]]))


@settings(max_examples=60, deadline=None)
@given(
    spikes=st.lists(st.integers(0, 5000), max_size=40, unique=True),
    events=st.lists(st.integers(0, 5000), min_size=1, max_size=10, unique=True),
    window=st.tuples(st.integers(0, 500), st.integers(1, 500)),
    ep=st.one_of(st.none(), st.tuples(st.integers(0, 2000), st.integers(3000, 5000))),
)
def test_spikes_match_pynapple(pnap, spikes, events, window, ep):
    s, e = np.sort(spikes) / 1000.0, np.sort(events) / 1000.0
    w = (-window[0] / 1000.0, window[1] / 1000.0)
    kw = {} if ep is None else {"epochs": pnap.IntervalSet(ep[0] / 1000, ep[1] / 1000)}
    sup = (0.0, 5.0)
    ref = pnap.compute_perievent(pnap.Ts(s, time_support=pnap.IntervalSet(*sup)),
                                 pnap.Ts(e), w, **kw)
    ours = nap.perievent(nap.ts(s, time_support=sup), nap.ts(e), w,
                         epochs=None if ep is None else (ep[0] / 1000, ep[1] / 1000))
    check_group(ours, ref)


def test_group_gives_one_dataset_per_unit(pnap):
    units = {2: np.sort(RNG.uniform(0, 30, 50)), 8: np.sort(RNG.uniform(0, 30, 20))}
    ev = np.array([0.0, 5.0, 29.9])
    ours = nap.ts_group(units).nap.perievent(nap.ts(ev), (1, 2))
    ref = pnap.compute_perievent(pnap.TsGroup({k: pnap.Ts(v) for k, v in units.items()}),
                                 pnap.Ts(ev), (-1, 2))
    assert list(ours) == [2, 8]
    for k in ours:
        check_group(ours[k], ref[k])


@pytest.mark.parametrize("ncol", [1, 2])
@pytest.mark.parametrize("window", [1.0, (-0.5, 1.25), (0, 0.3)])
def test_continuous_matches_pynapple(pnap, ncol, window):
    ev = np.array([0.0, 0.05, 3.33, 14.96, 15.0, 29.9, 40.0])  # edges, ties, outside
    ep = nap.interval_set([0, 15], [10, 29.9])
    pep = pnap.IntervalSet([0, 15], [10, 29.9])
    d = D[:, 0] if ncol == 1 else D
    x = nap.tsd(T, d, time_support=ep) if ncol == 1 else nap.tsd_frame(T, d, time_support=ep)
    px = (pnap.Tsd if ncol == 1 else pnap.TsdFrame)(T, d, time_support=pep)
    ours = nap.perievent(x, nap.ts(ev), window)
    ref = pnap.compute_perievent(px, pnap.Ts(ev), window)
    assert ours.dims[:2] == ("time", "event")
    np.testing.assert_allclose(ours.time.values, ref.t)
    np.testing.assert_allclose(ours.values, ref.values, equal_nan=True)
    np.testing.assert_allclose(nap.compute_perievent_continuous(x, nap.ts(ev), window).values,
                               ref.values, equal_nan=True)


def test_continuous_epochs_and_units(pnap):
    x, px = nap.tsd(T, D[:, 0]), pnap.Tsd(T, D[:, 0])
    ev = np.array([2.0, 12.0, 22.0])
    ours = nap.perievent(x, nap.ts(ev), 500, time_unit="ms", epochs=(10, 25))
    ref = pnap.compute_perievent(px, pnap.Ts(ev), 500, time_unit="ms",
                                 epochs=pnap.IntervalSet(10, 25))
    np.testing.assert_allclose(ours.values, ref.values, equal_nan=True)
    assert ours.event.values.tolist() == [12.0, 22.0]


def test_errors_are_named():
    x = nap.tsd(T, D[:, 0])
    with pytest.raises(ValueError, match="empty"):
        nap.perievent(x, nap.ts([100.0]), 1)
    with pytest.raises(ValueError, match="window"):
        nap.perievent(x, nap.ts([1.0]), "a")
    with pytest.raises(TypeError, match="Tsd"):
        nap.compute_perievent_continuous(nap.ts([1.0]), nap.ts([1.0]), 1)


def test_lazy_series_reads_only_windows(monkeypatch, tmp_path):
    zarr = pytest.importorskip("zarr")
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 40 * 16)
    z = zarr.create_array(tmp_path / "d.zarr", shape=D.shape, chunks=(50, 2), dtype="f8")
    z[:] = D
    ev = nap.ts([1.0, 7.5, 20.0])
    eager = nap.perievent(nap.tsd_frame(T, D), ev, 1.0)
    xr.testing.assert_allclose(nap.perievent(nap.tsd_frame(T, Limited(z, 40)), ev, 1.0), eager)
    chunked = nap.tsd_frame(T, D).chunk({"time": 50})
    xr.testing.assert_allclose(nap.perievent(chunked, ev, 1.0), eager)
