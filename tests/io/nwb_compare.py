"""Object-by-object comparison of two opened NWB files (the NWB I/O tests' oracle)."""

from __future__ import annotations

import xarray as xr

import xr_nap as nap
from xr_nap.testing import assert_nap_equal


def assert_files_equal(a: nap.NWBFile, b: nap.NWBFile) -> None:
    """Same keys, types, file metadata, and every object identical (values, coords,
    supports, attrs)."""
    assert list(a) == list(b)
    assert {k: a.type_of(k) for k in a} == {k: b.type_of(k) for k in b}
    assert a.attrs == b.attrs
    assert a.key_to_id == b.key_to_id
    for key in a:
        x, y = a[key], b[key]
        pairs = zip(x.values(), y.values(), strict=True) if isinstance(x, dict) else [(x, y)]
        for one, other in pairs:
            xr.testing.assert_identical(one, other)
            assert_nap_equal(one, other)


def assert_engine_identical(a, b, groups) -> None:
    """``xr.open_dataset(..., engine="nwb")`` of each group, and ``open_datatree`` of the
    whole file, give identical objects for the two sources ``a`` and ``b``."""
    for group in groups:
        with xr.open_dataset(a, engine="nwb", group=group) as x, \
                xr.open_dataset(b, engine="nwb", group=group) as y:
            xr.testing.assert_identical(x, y)
    with xr.open_datatree(a, engine="nwb") as x, xr.open_datatree(b, engine="nwb") as y:
        xr.testing.assert_identical(x, y)
