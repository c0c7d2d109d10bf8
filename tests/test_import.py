import inspect
import subprocess
import sys

import numpy as np
import xarray as xr

import xr_nap


def test_import_is_cheap():
    """``import xr_nap`` pulls in xarray, numpy and pandas only."""
    code = ("import sys, xr_nap; print(sorted(m for m in ('pynwb', 'h5py', 'hdmf', 'pynapple',"
            " 'dask', 'zarr', 'matplotlib', 'netCDF4') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_public_names_resolve():
    for name in xr_nap.__all__:
        assert callable(getattr(xr_nap, name)), name


def _public(cls):
    return [n for n in dir(cls) if not n.startswith("_")]


def test_accessor_methods_are_the_functions():
    """Each method has its function's signature without the first argument, and its
    docstring; the accessor holds no state."""
    from xr_nap.accessors import NapDataArrayAccessor, NapDatasetAccessor

    for cls in (NapDataArrayAccessor, NapDatasetAccessor):
        assert cls.__slots__ == () and "__dict__" not in dir(cls)
        for name in _public(cls):
            func = getattr(xr_nap, name)
            member = getattr(cls, name)
            if isinstance(member, property):
                member = member.fget
            want = list(inspect.signature(func).parameters.values())[1:]
            got = list(inspect.signature(member).parameters.values())[1:]
            assert [(p.name, p.default, p.kind) for p in got] == \
                [(p.name, p.default, p.kind) for p in want], name
            assert member.__doc__ == func.__doc__, name


def test_accessor_gives_the_function_results():
    x = xr_nap.tsd(np.arange(10.0), np.arange(10.0), time_support=(0, 12))
    ep = xr_nap.interval_set(2, 5)
    xr.testing.assert_identical(x.nap.restrict(ep), xr_nap.restrict(x, ep))
    xr.testing.assert_identical(x.nap.time_support, xr_nap.time_support(x))
    xr.testing.assert_identical(xr_nap.restrict(x, x.nap.time_support), x)
    assert "select_units" not in _public(type(x.nap))  # DataArrays have no units
    assert "union" not in _public(type(x.nap))
    assert ep.nap.tot_length() == 3.0
