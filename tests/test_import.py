import subprocess
import sys

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


def test_accessor_methods_resolve():
    x = xr_nap.tsd([0.0, 1.0], [1.0, 2.0])
    for name in dir(x.nap):
        assert callable(getattr(x.nap, name)), name
