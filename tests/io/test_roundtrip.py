"""``to_netcdf`` / ``to_zarr`` then ``open_dataset`` give back equal xr-nap objects:
time support, per-unit / per-column / per-interval metadata and the ragged TsGroup
survive. xarray's own engines give a time series a plain pandas index; xr-nap's
functions adopt the support encoded on the time coordinate (and
``nap.set_time_index`` puts xr-nap's index back), so nothing is lost.

Notes found here (xarray 2026.9, netCDF4, zarr 3):

- string metadata come back from netCDF as object arrays of ``str`` (equal values);
  zarr 3 keeps them as fixed-width unicode but warns that this data type has no Zarr v3
  specification yet (``to_zarr(..., zarr_format=2)`` avoids the warning); booleans come
  back as booleans (xarray encodes them as int8 plus a ``dtype: bool`` attribute);
- a DataArray without a name round-trips through ``to_netcdf`` + ``open_dataarray``;
- objects reopened lazily work with the ``.nap`` functions without being loaded.
"""

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import sorted_times

import xr_nap as nap

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning:zarr.*"),
    pytest.mark.filterwarnings("ignore:The data type .* does not have a Zarr V3 specification"),
]

T = np.arange(0.0, 10.0, 0.5)
SUPPORT = ([0.0, 4.0], [3.0, 9.5])


def objects():
    return {
        "ts": nap.ts(T, time_support=SUPPORT),
        "tsd": nap.tsd(T, np.arange(T.size), time_support=SUPPORT),
        "frame": nap.tsd_frame(
            T, np.ones((T.size, 3)), columns=["a", "b", "c"],
            metadata={"area": ["x", "yy", "z"], "good": [True, False, True],
                      "depth": [1.0, 2.0, 3.0]}),
        "tensor": nap.tsd_tensor(T, np.ones((T.size, 2, 2)), time_support=SUPPORT),
        "group": nap.ts_group({0: T, 3: T[::2], 5: []}, time_support=SUPPORT,
                              metadata={"location": ["a", "b", "c"], "ok": [True, True, False],
                                        "channel": [1, 2, 3]}),
        "group_no_spikes": nap.ts_group({1: [], 2: []}, time_support=(0.0, 1.0)),
        "epochs": nap.interval_set([0, 5], [1, 6], metadata={"label": ["a", "b"],
                                                             "flag": [True, False]}),
        "no_epochs": nap.interval_set([], []),
    }


def roundtrip(obj, tmp_path, fmt):
    path = tmp_path / f"x.{fmt}"
    if fmt == "nc":
        obj.to_netcdf(path)
        opener = xr.open_dataarray if isinstance(obj, xr.DataArray) else xr.open_dataset
        return opener(path)
    obj.to_zarr(path) if isinstance(obj, xr.Dataset) else obj.to_dataset(name="v").to_zarr(path)
    back = xr.open_dataset(path, engine="zarr")
    return back["v"].rename(None) if isinstance(obj, xr.DataArray) else back


@pytest.mark.parametrize("fmt", ["nc", "zarr"])
@pytest.mark.parametrize("name", list(objects()))
def test_roundtrip_is_identical(tmp_path, fmt, name):
    obj = objects()[name]
    back = roundtrip(obj, tmp_path, fmt)
    if isinstance(obj, xr.DataArray):
        xr.testing.assert_identical(time_support_of_plain(back), nap.time_support(obj))
        back = nap.set_time_index(back)
    xr.testing.assert_identical(back.load(), obj)
    assert nap.nap_type(back) == nap.nap_type(obj)
    for key in getattr(obj, "variables", obj.coords):
        if obj[key].dtype.kind == "U":
            assert back[key].dtype.kind in "OU"
        else:
            assert back[key].dtype == obj[key].dtype, key
    if name != "no_epochs":
        xr.testing.assert_identical(nap.time_support(back), nap.time_support(obj))


def time_support_of_plain(back):
    """The support xr-nap's functions read from an object with a plain index."""
    assert type(back.xindexes["time"]).__name__ == "PandasIndex"
    return nap.time_support(back)


@pytest.mark.parametrize("fmt", ["nc", "zarr"])
def test_reopened_objects_work_lazily(tmp_path, fmt):
    (tmp_path / "g").mkdir()
    group = roundtrip(objects()["group"], tmp_path / "g", fmt)
    frame = roundtrip(objects()["frame"], tmp_path, fmt)
    ep = nap.interval_set(0.0, 2.0)
    xr.testing.assert_identical(frame.nap.restrict(ep).load(), objects()["frame"].nap.restrict(ep))
    xr.testing.assert_identical(group.nap.count(1.0), objects()["group"].nap.count(1.0))
    xr.testing.assert_identical(group.nap.restrict(ep).load(),
                                objects()["group"].nap.restrict(ep))


def test_npz_then_netcdf(tmp_path):
    """A pynapple-layout NPZ converts losslessly to netCDF through xr-nap."""
    group = objects()["group"]
    loaded = nap.load_npz(nap.save(group, tmp_path / "g"))
    loaded.to_netcdf(tmp_path / "g.nc")
    xr.testing.assert_identical(xr.open_dataset(tmp_path / "g.nc").load(), group)


@settings(max_examples=30, deadline=None)
@given(st.lists(sorted_times(max_size=20), min_size=1, max_size=4),
       st.sampled_from(["nc", "zarr"]))
def test_tsgroup_roundtrip_property(trains, fmt):
    import tempfile
    from pathlib import Path

    spikes = np.concatenate(trains)
    span = None if spikes.size and spikes.max() > spikes.min() else (0.0, 100.0)
    g = nap.ts_group(dict(enumerate(trains)), time_support=span,
                     metadata={"name": [f"u{i}" for i in range(len(trains))]})
    with tempfile.TemporaryDirectory() as tmp:
        xr.testing.assert_identical(roundtrip(g, Path(tmp), fmt).load(), g)
