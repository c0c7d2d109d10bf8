"""The TsGroup Dataset is assembled without xarray's merge: it must equal the public build."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from xr_nap.core.time_series import _ragged_flat


@pytest.mark.parametrize("ids", [np.array([3, 7, 12]), np.array(["a", "b", "c"]),
                                 np.array([0.5, 1.0, 2.0]), np.array([1, 2, 3], np.int32)])
def test_ragged_flat_equals_public_constructor(ids):
    spikes = np.array([0.1, 0.2, 0.3, 1.0, 2.0])
    counts = np.array([2, 0, 3])
    meta = {"area": np.array(["ca1", "ca3", "ca1"]), "good": [True, False, True],
            "depth": np.arange(3.0)}
    ours = _ragged_flat(ids, spikes, counts, np.array([0.0]), np.array([2.5]), meta)
    public = xr.Dataset(
        {"row_size": ("unit", counts, {"sample_dimension": "spike",
                                       "long_name": "number of spikes per unit"}),
         "rate": ("unit", counts / 2.5, {"units": "Hz"}),
         **{k: ("unit", np.asarray(v)) for k, v in meta.items()}},
        coords={"spike_time": ("spike", spikes, {"units": "s", "standard_name": "time",
                                                 "axis": "T", "long_name": "spike time"}),
                "unit": ("unit", ids, {"cf_role": "timeseries_id", "long_name": "unit id"})},
        attrs=dict(ours.attrs))
    assert ours.identical(public)
    assert sorted(ours.variables) == sorted(public.variables)
    assert dict(ours.sizes) == dict(public.sizes)
    assert type(ours.xindexes["unit"]) is type(public.xindexes["unit"])
    assert ours.unit.dtype == public.unit.dtype
    assert ours.xindexes["unit"].index.equals(public.xindexes["unit"].index)
    assert ours.sel(unit=ids[2]).row_size.item() == 3


def test_ragged_flat_rejects_inconsistent_sizes():
    with pytest.raises(ValueError, match="row sizes"):
        _ragged_flat(np.arange(3), np.zeros(2), np.array([1, 1]), np.empty(0), np.empty(0))


def test_public_fallback_gives_the_same_dataset(monkeypatch):
    ids, spikes, counts = np.array([3, 7]), np.array([0.1, 0.2, 1.0]), np.array([2, 1])
    fast = _ragged_flat(ids, spikes, counts, np.array([0.0]), np.array([2.0]))
    monkeypatch.setattr("xr_nap._private._CONSTRUCT", None)
    assert _ragged_flat(ids, spikes, counts, np.array([0.0]), np.array([2.0])).identical(fast)
