"""Analysis results travel: each has a name and units, only attributes a netCDF file
holds, and comes back equal from ``to_netcdf`` / ``to_zarr``; each converts to
pynapple and back; cf_xarray recognises the time axes and the TsGroup's roles."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
import xarray as xr

import xr_nap as nap
from xr_nap.testing import assert_same_object

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning:zarr.*"),
    # the legacy spatial information estimates the rates from the curves, as pynapple
    pytest.mark.filterwarnings("ignore:Estimating mean firing rates"),
]

T = np.arange(0.0, 60.0, 0.02)
RNG = np.random.default_rng(3)
SPIKES = {2: np.sort(RNG.uniform(0, 60, 300)), 5: np.sort(RNG.uniform(0, 60, 150))}


def inputs():
    group = nap.ts_group(SPIKES, time_support=(0.0, 60.0),
                         metadata={"area": ["ca1", "ca3"], "depth": [10.0, 20.0]})
    pos = nap.tsd(T, 50 + 45 * np.sin(T / 4), name="position", attrs={"units": "cm"})
    xy = nap.tsd_frame(T, np.c_[np.sin(T / 4), np.cos(T / 5)], columns=["x", "y"])
    xy.attrs["units"] = "m"
    lfp = nap.tsd(T, np.sin(2 * np.pi * 8 * T), name="lfp", attrs={"units": "mV"})
    return group, pos, xy, lfp


@functools.cache
def results():
    """One of each result (computed once; the tests only read them)."""
    group, pos, xy, lfp = inputs()
    tc = nap.tuning_curves(group, pos, bins=12)
    events = nap.ts(np.array([10.0, 20.0, 30.0]))
    return {
        "tuning_curves": tc,
        "tuning_curves_2d": nap.tuning_curves(group, xy, bins=(4, 3)),
        "tuning_curves_counts": nap.tuning_curves(group, pos, bins=5, return_counts=True),
        "tuning_curves_continuous": nap.tuning_curves(lfp, pos, bins=6),
        "mutual_information": nap.compute_mutual_information(tc),
        "spatial_information": nap.compute_1d_mutual_info(tc, pos),
        "response": nap.compute_response_per_epoch(group, {"a": nap.interval_set(0, 30)}),
        "count": nap.count(group, 1.0),
        "count_ts": nap.count(events, 5.0),
        "trigger_average": nap.event_triggered_average(group, lfp, 0.02, 0.2),
        "perievent_continuous": nap.perievent(lfp, events, 0.5),
        "perievent_spikes": nap.perievent(nap.select_units(group, 2), events, 1.0),
    }


NAMES = ["tuning_curves", "tuning_curves_2d", "tuning_curves_counts",
         "tuning_curves_continuous", "mutual_information", "spatial_information", "response",
         "count", "count_ts", "trigger_average", "perievent_continuous", "perievent_spikes"]


def netcdf_safe(attrs, where):
    for key, value in attrs.items():
        ok = isinstance(value, str | int | float | np.number) or (
            isinstance(value, np.ndarray) and value.ndim == 1)
        assert ok, f"{where}.attrs[{key!r}] = {value!r} cannot go to netCDF"


@pytest.mark.parametrize("name", NAMES)
def test_results_have_names_units_and_safe_attrs(name):
    assert sorted(results()) == sorted(NAMES)
    out = results()[name]
    if isinstance(out, xr.DataArray):
        assert out.name, name
        assert "units" in out.attrs, name
        variables = {**out.coords, None: out}
    else:  # a perievent of spikes: a TsGroup Dataset
        assert nap.nap_type(out) == "TsGroup" and out.spike_time.attrs["units"] == "s"
        variables = dict(out.variables)
    netcdf_safe(out.attrs, name)
    for key, var in variables.items():
        netcdf_safe(var.attrs, f"{name}/{key}")


@pytest.mark.parametrize("fmt", ["nc", "zarr"])
@pytest.mark.parametrize("name", NAMES)
def test_results_roundtrip_through_files(tmp_path, name, fmt):
    out = results()[name]
    path = tmp_path / f"r.{fmt}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", module="zarr")
        if fmt == "nc":
            out.to_netcdf(path)
        else:
            out.to_zarr(path) if isinstance(out, xr.Dataset) else out.to_dataset().to_zarr(path)
    back = nap.load_file(path)  # the object at the root, time index adopted
    assert_same_object(out, back.load(), name)
    if isinstance(out, xr.DataArray) and "time" not in out.dims:  # with xarray alone
        opened = xr.open_dataarray(path, engine="zarr" if fmt == "zarr" else None)
        assert_same_object(out, opened.load(), name)


def test_feature_units_reach_the_axis():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from xr_nap.plotting import plot_tuning_curves

    tc = results()["tuning_curves"]
    assert tc.position.attrs["units"] == "cm" and tc.attrs["units"] == "Hz"
    ax = plt.figure().gca()
    plot_tuning_curves(tc, ax=ax)
    assert "(cm)" in ax.get_xlabel() and "(Hz)" in ax.get_ylabel()
    plt.close("all")


def test_mutual_information_from_the_layout_and_from_a_file(tmp_path, pnap):
    group, pos, _, _ = inputs()
    tc = nap.tuning_curves(group, pos, bins=12)
    ref = pnap.compute_mutual_information(nap.to_pynapple(tc))
    ours = nap.compute_mutual_information(tc)
    np.testing.assert_allclose(ours.to_pandas().values, ref.values)
    tc.to_netcdf(tmp_path / "tc.nc")
    reopened = nap.compute_mutual_information(xr.open_dataarray(tmp_path / "tc.nc"))
    xr.testing.assert_identical(reopened, ours)


def test_tuning_curves_from_and_to_pynapple(pnap):
    group, pos, xy, lfp = inputs()
    pg, ppos, pxy = (nap.to_pynapple(x) for x in (group, pos, xy))
    for theirs, ours in [
        (pnap.compute_tuning_curves(pg, ppos, bins=12), nap.tuning_curves(group, pos, 12)),
        (pnap.compute_tuning_curves(pg, pxy, bins=(4, 3)),
         nap.tuning_curves(group, xy, bins=(4, 3))),
    ]:
        back = nap.from_pynapple(theirs)
        np.testing.assert_allclose(back.values, ours.values, rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(back.occupancy.values, ours.occupancy.values)
        np.testing.assert_allclose(back.epoch_rate.values, ours.epoch_rate.values)
        for a, b in zip(nap.bin_edges(back), nap.bin_edges(ours), strict=True):
            np.testing.assert_allclose(a, b)
        assert back.name == "tuning_curves" and back.attrs["units"] == "Hz"
        again = nap.to_pynapple(back)
        xr.testing.assert_allclose(again, theirs.drop_attrs())
        np.testing.assert_allclose(again.attrs["occupancy"], theirs.attrs["occupancy"])
        np.testing.assert_allclose(nap.compute_mutual_information(back),
                                   pnap.compute_mutual_information(theirs).values)
    # the mutual-information DataFrame comes back as xr-nap's DataArray
    mi = pnap.compute_mutual_information(pnap.compute_tuning_curves(pg, ppos, bins=12))
    xr.testing.assert_allclose(nap.from_pynapple(mi),
                               nap.compute_mutual_information(nap.tuning_curves(group, pos, 12)))


def test_every_result_shape_goes_to_pynapple(pnap):
    group, pos, _, lfp = inputs()
    out = results()
    count = nap.to_pynapple(out["count"])  # dims (time, unit) -> TsdFrame
    assert isinstance(count, pnap.TsdFrame) and list(count.columns) == [2, 5]
    ref = nap.to_pynapple(group).count(1.0)
    np.testing.assert_array_equal(count.values, ref.values)
    np.testing.assert_allclose(count.index.values, ref.index.values)
    assert count.metadata["area"].tolist() == ["ca1", "ca3"]
    eta = nap.to_pynapple(out["trigger_average"])
    assert isinstance(eta, pnap.TsdFrame) and eta.shape == out["trigger_average"].shape
    peri = nap.to_pynapple(out["perievent_continuous"])
    assert isinstance(peri, pnap.TsdFrame) and peri.shape == (51, 3)
    spikes = nap.to_pynapple(out["perievent_spikes"])
    assert isinstance(spikes, pnap.TsGroup) and len(spikes) == 3
    per_unit = nap.to_pynapple(nap.perievent(group, nap.ts([10.0, 20.0]), 1.0))
    assert set(per_unit) == {2, 5} and all(isinstance(v, pnap.TsGroup)
                                           for v in per_unit.values())
    assert list(nap.to_pynapple(out["mutual_information"]).columns) == ["bits/sec",
                                                                        "bits/spike"]
    response = nap.to_pynapple(out["response"])
    ref = pnap.compute_response_per_epoch(nap.to_pynapple(group),
                                          {"a": pnap.IntervalSet(0, 30)})
    xr.testing.assert_allclose(response, ref)
    for name in ("count", "trigger_average", "perievent_continuous"):
        back = nap.from_pynapple(nap.to_pynapple(out[name]))
        np.testing.assert_allclose(back.values, out[name].values, equal_nan=True)


def test_a_tsgroup_as_a_long_table(pnap):
    group = inputs()[0]
    table = nap.to_dataframe(group)
    ref = nap.to_pynapple(group).to_tsd()
    np.testing.assert_array_equal(table.index.values, ref.index.values)
    np.testing.assert_array_equal(table["unit"].values, ref.values)
    # xarray's own to_dataframe crosses spikes with units, which is why it is not used
    assert len(group.to_dataframe()) == group.sizes["spike"] * group.sizes["unit"]
    with_meta = nap.to_dataframe(group, metadata=True)
    assert (with_meta.groupby("unit")["area"].first().tolist() == ["ca1", "ca3"])
    ep = nap.interval_set([0, 5], [1, 6], metadata={"label": ["a", "b"]})
    assert nap.to_dataframe(ep).columns.tolist() == ["start", "end", "label"]
    frame = nap.tsd_frame(T[:3], np.ones((3, 2)), columns=["a", "b"])
    assert nap.to_dataframe(frame).shape == (3, 2)


def test_cf_xarray_finds_axes_and_roles(tmp_path):
    cf_xarray = pytest.importorskip("cf_xarray")  # noqa: F841  (registers .cf)
    group, pos, xy, _ = inputs()
    assert pos.cf.axes == {"T": ["time"]} and xy.cf.axes == {"T": ["time"]}
    assert group.cf.axes == {"T": ["spike_time"]}
    assert group.cf.cf_roles == {"timeseries_id": ["unit"]}
    assert group.attrs["featureType"] == "timeSeries"
    assert group.row_size.attrs["sample_dimension"] == "spike"
    assert group.cf["T"].name == "spike_time"
    # and after a file
    group.to_netcdf(tmp_path / "g.nc")
    back = xr.open_dataset(tmp_path / "g.nc")
    assert back.cf.axes == {"T": ["spike_time"]} and back.cf.cf_roles == {
        "timeseries_id": ["unit"]}
    assert nap.count(pos, 1.0).cf.axes == {"T": ["time"]}
