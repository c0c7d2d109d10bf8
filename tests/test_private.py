"""The fallbacks of xr_nap._private (the one module using xarray's non-public API)
give the same results when what they rely on is gone."""

import numpy as np
import xarray as xr

import xr_nap as nap
from xr_nap import _private


def test_in_memory_without_private_attribute_takes_the_block_path(monkeypatch):
    x = nap.tsd(np.arange(1000.0), np.arange(1000.0))
    assert _private.in_memory(x)
    monkeypatch.setattr(_private, "in_memory", lambda obj: False)
    monkeypatch.setattr("xr_nap.core.blocks.in_memory", lambda obj: False)
    monkeypatch.setattr("xr_nap.core.restrict.in_memory", lambda obj: False)
    ep = nap.interval_set([10, 500], [20, 700])
    xr.testing.assert_identical(nap.restrict(x, ep), nap.restrict(x.copy(), ep))
    np.testing.assert_allclose(nap.bin_average(x, 10.0).values,
                               nap.bin_average(x.copy(), 10.0).values)


def test_in_memory_is_false_for_lazy_and_dask_data():
    from xr_nap.core.lazy import lazy_array

    lazy = nap.tsd(np.arange(5.0), lazy_array(np.arange(5.0)))
    assert not _private.in_memory(lazy)
    assert not _private.in_memory(lazy.chunk({"time": 2}))
    assert not _private.in_memory(xr.Variable("x", [1, 2]).chunk())
