"""``load_file``: open an NWB, netCDF or zarr file (lazily) or read a pynapple NPZ file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["load_file"]


def load_file(path: str | os.PathLike, lazy_loading: bool = True,
              chunks: Mapping[str, Any] | int | str | None = None) -> Any:
    """Open ``path`` the way ``pynapple.load_file`` does.

    Parameters
    ----------
    path : str, path-like, or an open ``pynwb.NWBFile`` / ``h5py.File``
        ``.nwb`` (or an open file) -> :class:`xr_nap.NWBFile` (a read-only mapping
        key -> xarray object); ``.npz`` -> the xarray object stored in it; ``.nc``
        (netCDF) or ``.zarr`` -> the object at its root (what ``obj.to_netcdf`` and
        ``xr-nap convert`` of an NPZ write) or, for a file with one group per object
        (``xr-nap convert`` of an NWB file), a read-only mapping key -> object
        (:class:`xr_nap.io.netcdf.ObjectFile`). Time supports, metadata and ragged
        columns come back as they were written.
    lazy_loading : bool, default True
        For NWB, netCDF and zarr files: keep array data in the file until indexed.
    chunks : dict, int, "auto" or None, optional
        For NWB, netCDF and zarr files: give series dask arrays (``{}``: the file's
        own chunks; see :class:`xr_nap.NWBFile`), so reductions run chunk by chunk,
        also on a ``dask.distributed`` cluster.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    NPZFormatError, UnsafeNPZError
        For an NPZ file that cannot be read (see :func:`xr_nap.load_npz`).
    FileFormatError
        For a ``.nc``/``.zarr`` path that xarray cannot open.
    ValueError
        If the suffix is not one of ``.nwb``, ``.npz``, ``.nc``, ``.zarr``.
    """
    if not isinstance(path, str | os.PathLike):  # an already opened NWB file
        from xr_nap.io.nwb import NWBFile

        return NWBFile(path, lazy_loading=lazy_loading, chunks=chunks)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".nc", ".zarr"):
        if not path.exists():
            raise FileNotFoundError(f"no such file: {path}")
        from xr_nap.io.netcdf import open_objects

        return open_objects(path, lazy_loading=lazy_loading, chunks=chunks)
    if suffix == ".npz":  # load_npz tells a missing file from a link loop or a FIFO
        from xr_nap.io.npz import load_npz

        return load_npz(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if suffix == ".nwb":
        from xr_nap.io.nwb import NWBFile

        return NWBFile(path, lazy_loading=lazy_loading, chunks=chunks)
    raise ValueError(f"cannot load {path}: expected a .nwb, .npz, .nc or .zarr file, got "
                     f"{suffix!r}")
