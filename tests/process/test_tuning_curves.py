"""Tuning curves against pynapple 0.11 (the oracle), edge cases, and lazy inputs."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import xr_nap as nap
from xr_nap.core import blocks

RNG = np.random.default_rng(0)
T = np.arange(0, 50, 0.01)
POS = np.c_[(np.sin(T / 3) + 1) / 2, (np.cos(T / 5) + 1) / 2]
SPIKES = {1: np.sort(RNG.uniform(0, 50, 400)), 4: np.sort(RNG.uniform(0, 50, 200)),
          7: np.array([])}


class Limited:
    """Array-like that refuses to hand out more than ``limit`` rows at once."""

    def __init__(self, array, limit):
        self.array, self.limit = array, limit
        self.shape, self.dtype = array.shape, array.dtype

    def __getitem__(self, key):
        out = np.asarray(self.array[key])
        if out.ndim and out.shape[0] > self.limit:
            raise AssertionError(f"read {out.shape[0]} rows at once (limit {self.limit})")
        return out


def both(pnap, spikes=SPIKES, t=T, pos=POS, ncol=1, support=None):
    """The same group and features in xr-nap and pynapple."""
    g = nap.ts_group(spikes, time_support=support)
    pg = pnap.TsGroup({k: pnap.Ts(v) for k, v in spikes.items()},
                      time_support=None if support is None else pnap.IntervalSet(*support))
    if ncol == 1:
        return g, pg, nap.tsd(t, pos[:, 0]), pnap.Tsd(t, pos[:, 0])
    cols = ["x", "y"][:ncol]
    return (g, pg, nap.tsd_frame(t, pos[:, :ncol], columns=cols),
            pnap.TsdFrame(t, pos[:, :ncol], columns=cols))


def check(ours, ref):
    assert ours.dims == ref.dims
    np.testing.assert_allclose(ours.values, ref.values, rtol=1e-12, equal_nan=True)
    for d in ref.dims:
        np.testing.assert_allclose(ours[d].values.astype(float), ref[d].values.astype(float))
    np.testing.assert_allclose(ours.occupancy.values, ref.attrs["occupancy"])
    for a, b in zip(nap.bin_edges(ours), ref.attrs["bin_edges"], strict=True):
        np.testing.assert_allclose(a, b)
    assert ours.attrs["fs"] == pytest.approx(ref.attrs["fs"], rel=1e-12, nan_ok=True)
    if "rates" in ref.attrs:
        np.testing.assert_allclose(ours.epoch_rate.values, np.asarray(ref.attrs["rates"]))
    # pynapple's own layout, through to_pynapple
    theirs = nap.to_pynapple(ours)
    np.testing.assert_allclose(theirs.attrs["occupancy"], ref.attrs["occupancy"])
    for a, b in zip(theirs.attrs["bin_edges"], ref.attrs["bin_edges"], strict=True):
        np.testing.assert_allclose(a, b)


# --------------------------------------------------------------------------- oracle
@pytest.mark.parametrize("ncol,bins", [(1, 10), (1, np.linspace(0.1, 0.9, 7)),
                                       (2, [5, 3]), (2, [np.linspace(0, 1, 4), 6])])
def test_spikes_match_pynapple(pnap, ncol, bins):
    g, pg, f, pf = both(pnap, ncol=ncol)
    check(nap.tuning_curves(g, f, bins), pnap.compute_tuning_curves(pg, pf, bins))


def test_epochs_range_fs_counts_match_pynapple(pnap):
    g, pg, f, pf = both(pnap, ncol=2)
    ep, pep = nap.interval_set([1, 20, 40], [10, 30, 45]), pnap.IntervalSet(
        [1, 20, 40], [10, 30, 45])
    kw = dict(range=[(0.2, 0.8), None], fs=99.0, return_counts=True)
    check(nap.tuning_curves(g, f, [4, 4], epochs=ep, **kw),
          pnap.compute_tuning_curves(pg, pf, [4, 4], epochs=pep, **kw))


@pytest.mark.parametrize("ncol", [1, 2])
def test_continuous_match_pynapple(pnap, ncol):
    _, _, f, pf = both(pnap, ncol=ncol)
    t = np.arange(0.005, 50, 0.033)
    d = RNG.random((t.size, 3))
    ep, pep = nap.interval_set([0, 25], [20, 45]), pnap.IntervalSet([0, 25], [20, 45])
    check(nap.tuning_curves(nap.tsd_frame(t, d), f, 6, epochs=ep),
          pnap.compute_tuning_curves(pnap.TsdFrame(t, d), pf, 6, epochs=pep))
    check(nap.tuning_curves(nap.tsd(t, d[:, 0]), f, 6),
          pnap.compute_tuning_curves(pnap.Tsd(t, d[:, 0]), pf, 6))


def test_single_ts_and_feature_names(pnap):
    _, _, f, pf = both(pnap, ncol=2)
    s = SPIKES[1]
    ours = nap.tuning_curves(nap.ts(s), f, 4, feature_names=["a", "b"])
    check(ours, pnap.compute_tuning_curves(pnap.Ts(s), pf, 4, feature_names=["a", "b"]))


@settings(max_examples=60, deadline=None)
@given(
    spikes=st.lists(st.lists(st.integers(0, 2000), max_size=30), min_size=1, max_size=4),
    values=st.lists(st.integers(0, 8), min_size=20, max_size=20),
    nbins=st.integers(1, 6),
    cuts=st.lists(st.integers(0, 200), min_size=2, max_size=6, unique=True),
)
def test_random_inputs_match_pynapple(pnap, spikes, values, nbins, cuts):
    # feature values on a coarse grid put many samples exactly on bin edges
    t = np.arange(20) * 0.1
    v = np.array(values, dtype=float) / 4
    cuts = np.sort(cuts)[: len(cuts) // 2 * 2] / 100
    units = {i: np.unique(np.array(s) / 1000.0) for i, s in enumerate(spikes)}
    g = nap.ts_group(units, time_support=(0, 2))
    pg = pnap.TsGroup({k: pnap.Ts(x) for k, x in units.items()},
                      time_support=pnap.IntervalSet(0, 2))
    ep = nap.interval_set(cuts[0::2], cuts[1::2])
    pep = pnap.IntervalSet(cuts[0::2], cuts[1::2])
    ft = nap.tsd(t, v)
    pft = pnap.Tsd(t, v)
    if pft.restrict(pep).shape[0] == 0:
        return  # pynapple cannot bin an empty feature (numpy: empty range)
    check(nap.tuning_curves(g, ft, nbins, epochs=ep),
          pnap.compute_tuning_curves(pg, pft, nbins, epochs=pep))


# --------------------------------------------------------------------------- edge cases
def test_empty_unit_and_unvisited_bins_are_right(pnap):
    g, pg, f, pf = both(pnap)
    tc = nap.tuning_curves(g, f, np.linspace(-1, 2, 7))
    assert np.all(tc.sel(unit=7).values[tc.occupancy.values > 0] == 0)
    assert np.isnan(tc.values[:, tc.occupancy.values == 0]).all()
    check(tc, pnap.compute_tuning_curves(pg, pf, np.linspace(-1, 2, 7)))


def test_unit_metadata_become_coords():
    g = nap.ts_group({0: [1.0, 2.0], 3: [1.5]}, metadata={"area": ["ca1", "ca3"]})
    tc = nap.tuning_curves(g, nap.tsd(T, POS[:, 0], name="x"), 3)
    assert tc.dims == ("unit", "x")
    assert tc.area.values.tolist() == ["ca1", "ca3"] and tc.unit.values.tolist() == [0, 3]


def test_nan_features_are_ignored(pnap):
    """pynapple raises ("autodetected range of [nan, nan] is not finite") when the
    range is left to autodetect; xr-nap skips NaN samples, which equals pynapple given
    the finite range."""
    pos = POS[:, 0].copy()
    pos[::7] = np.nan
    g, pg = nap.ts_group(SPIKES), pnap.TsGroup({k: pnap.Ts(v) for k, v in SPIKES.items()})
    with pytest.raises(ValueError, match="not finite"):
        pnap.compute_tuning_curves(pg, pnap.Tsd(T, pos), 5)
    rng = (np.nanmin(pos), np.nanmax(pos))
    ours = nap.tuning_curves(g, nap.tsd(T, pos), 5)
    check(ours, pnap.compute_tuning_curves(pg, pnap.Tsd(T, pos), 5, range=rng))


def test_bad_input_is_named():
    f = nap.tsd(T, POS[:, 0])
    with pytest.raises(TypeError, match="features"):
        nap.tuning_curves(nap.ts_group(SPIKES), nap.ts_group(SPIKES), 3)
    with pytest.raises(ValueError, match="one specification per feature"):
        nap.tuning_curves(nap.ts_group(SPIKES), nap.tsd_frame(T, POS), [3, 3, 3])
    with pytest.raises(ValueError, match="bins"):
        nap.tuning_curves(nap.ts_group(SPIKES), f, 0)
    with pytest.raises(TypeError, match="interval set"):
        nap.tuning_curves(nap.ts_group(SPIKES), f, 3, epochs=f)


# --------------------------------------------------------------------------- legacy & MI
def test_legacy_functions_equal_the_general_one(pnap):
    g, pg, f, pf = both(pnap, ncol=2)
    x, px = f.isel(column=[0]), pf[:, [0]]
    one = nap.compute_1d_tuning_curves(g, x, 8, minmax=(0.1, 0.9))
    ref = pnap.compute_1d_tuning_curves(pg, px, 8, minmax=(0.1, 0.9))
    np.testing.assert_allclose(one.values, ref.values.T, equal_nan=True)
    two = nap.compute_2d_tuning_curves(g, f, 5, minmax=(0, 1, 0, 1))
    rdict, rbins = pnap.compute_2d_tuning_curves(pg, pf, 5, minmax=(0, 1, 0, 1))
    for u in rdict:
        np.testing.assert_allclose(two.sel(unit=u).values, rdict[u], equal_nan=True)
    np.testing.assert_allclose(two["x"].values, rbins[0])
    d = RNG.random((T.size, 2))
    c1 = nap.compute_1d_tuning_curves_continuous(nap.tsd_frame(T, d), x, 4)
    np.testing.assert_allclose(c1.values, pnap.compute_1d_tuning_curves_continuous(
        pnap.TsdFrame(T, d), px, 4).values.T, equal_nan=True)
    c2 = nap.compute_2d_tuning_curves_continuous(nap.tsd_frame(T, d), f, 3)
    r2, _ = pnap.compute_2d_tuning_curves_continuous(pnap.TsdFrame(T, d), pf, 3)
    np.testing.assert_allclose(c2.values, np.stack(list(r2.values())), equal_nan=True)


def test_discrete_and_response_per_epoch(pnap):
    g, pg, _, _ = both(pnap)
    eps = {"a": nap.interval_set([0, 20], [10, 30]), "b": nap.interval_set(35, 49.5)}
    peps = {"a": pnap.IntervalSet([0, 20], [10, 30]), "b": pnap.IntervalSet(35, 49.5)}
    ours = nap.compute_discrete_tuning_curves(g, eps)
    np.testing.assert_allclose(ours.values,
                               pnap.compute_discrete_tuning_curves(pg, peps).values.T)
    d = RNG.random((T.size, 2))
    ours = nap.process.tuning_curves.compute_response_per_epoch(nap.tsd_frame(T, d), eps)
    np.testing.assert_allclose(ours.values, pnap.compute_response_per_epoch(
        pnap.TsdFrame(T, d), peps).values)


def test_mutual_information_matches_pynapple(pnap):
    g, pg, f, pf = both(pnap, ncol=2)
    for bins in (7, [4, 5]):
        feat, pfeat = (f.isel(column=0), pf[:, 0]) if bins == 7 else (f, pf)
        ours = nap.compute_mutual_information(nap.tuning_curves(g, feat, bins))
        ref = pnap.compute_mutual_information(pnap.compute_tuning_curves(pg, pfeat, bins))
        np.testing.assert_allclose(ours.to_pandas().values, ref.values, equal_nan=True)
    # a Tsd feature: pynapple's legacy MI breaks on a named DataFrame index
    tc1 = nap.compute_1d_tuning_curves(g, f.isel(column=0), 6)
    ptc1 = pnap.compute_1d_tuning_curves(pg, pf[:, 0], 6)
    for bitssec in (False, True):
        with pytest.warns(UserWarning, match="Estimating"):
            ours = nap.compute_1d_mutual_info(tc1, f.isel(column=0), bitssec=bitssec)
        ref = pnap.compute_1d_mutual_info(ptc1, pf[:, 0], bitssec=bitssec)
        np.testing.assert_allclose(ours.values, ref["SI"].values, equal_nan=True)
    tc2 = nap.compute_2d_tuning_curves(g, f, 4)
    ptc2, _ = pnap.compute_2d_tuning_curves(pg, pf, 4)
    ep = pnap.IntervalSet(0, 30)
    with pytest.warns(UserWarning):
        ours = nap.compute_2d_mutual_info(tc2, f, ep=nap.interval_set(0, 30))
    ref = pnap.compute_2d_mutual_info(ptc2, pf, ep=ep)
    np.testing.assert_allclose(ours.values, ref["SI"].values, equal_nan=True)


# --------------------------------------------------------------------------- lazy
@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 500 * 16)  # 500 rows of 2 float64


def test_lazy_feature_is_read_in_bounded_blocks(small_blocks, tmp_path):
    zarr = pytest.importorskip("zarr")
    z = zarr.create_array(tmp_path / "pos.zarr", shape=POS.shape, chunks=(700, 2),
                          dtype="f8")
    z[:] = POS
    g = nap.ts_group(SPIKES)
    eager = nap.tuning_curves(g, nap.tsd_frame(T, POS), [4, 3])
    lazy_f = nap.tsd_frame(T, Limited(z, 500))
    assert not isinstance(lazy_f.variable._data, np.ndarray)
    xr.testing.assert_allclose(nap.tuning_curves(g, lazy_f, [4, 3]), eager)
    dask_f = nap.tsd_frame(T, POS).chunk({"time": 700})
    xr.testing.assert_allclose(nap.tuning_curves(g, dask_f, [4, 3]), eager)
    # continuous data lazy too
    d = nap.tsd_frame(T, RNG.random((T.size, 2)))
    xr.testing.assert_allclose(
        nap.tuning_curves(nap.tsd_frame(T, Limited(d.values, 500)), lazy_f, 3),
        nap.tuning_curves(d, nap.tsd_frame(T, POS), 3))


def test_accessor_delegates():
    g = nap.ts_group(SPIKES)
    f = nap.tsd(T, POS[:, 0])
    xr.testing.assert_identical(g.nap.tuning_curves(f, 5), nap.tuning_curves(g, f, 5))


def test_seed_example_units_against_lazy_nwb_position(tmp_path):
    """The guide: tuning curves of ``units`` against a lazily loaded position series."""
    pytest.importorskip("pynwb")
    from xr_nap.testing import sample_session, write_sample_nwb

    path = write_sample_nwb(tmp_path / "s.nwb", duration=60.0, n_units=4)
    data = nap.load_file(path)
    position = data["position"]
    assert not isinstance(position.variable._data, np.ndarray)  # still on disk
    tc = nap.tuning_curves(data["units"], position, 10)
    s = sample_session(duration=60.0, n_units=4)
    xr.testing.assert_allclose(tc.drop_vars(list(tc.coords)),
                               nap.tuning_curves(s["units"], s["position"], 10).drop_vars(
                                   list(tc.coords)))
    assert tc.dims == ("unit", "position")
