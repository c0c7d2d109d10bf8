"""``load_file``: open an NWB, netCDF or zarr file (lazily) or read a pynapple NPZ file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["load_file"]


def load_file(path: Any, lazy_loading: bool = True,
              chunks: Mapping[str, Any] | int | str | None = None,
              storage_options: dict[str, Any] | None = None) -> Any:
    """Open ``path`` the way ``pynapple.load_file`` does.

    Parameters
    ----------
    path : str, path-like, URL, open file object, ``pynwb.NWBFile`` or ``h5py.File``
        ``.nwb`` -> :class:`xr_nap.NWBFile` (a read-only mapping key -> xarray object);
        ``.npz`` -> the xarray object stored in it; ``.nc`` (netCDF) or ``.zarr`` -> the
        object at its root (what ``obj.to_netcdf`` and ``xr-nap convert`` of an NPZ
        write) or, for a file with one group per object (``xr-nap convert`` of an NWB
        file), a read-only mapping key -> object (:class:`xr_nap.io.netcdf.ObjectFile`).
        A URL (``https://``, ``s3://``, ...), an open binary file object, an NWB-zarr
        store (a directory, a ``.zarr`` URL or an fsspec mapper) or an opened NWB file
        also give an :class:`xr_nap.NWBFile`.
    lazy_loading : bool, default True
        For NWB, netCDF and zarr files: keep array data in the file until indexed.
    chunks : dict, int, "auto" or None, optional
        For NWB, netCDF and zarr files: give series dask arrays (``{}``: the file's
        own chunks; see :class:`xr_nap.NWBFile`), so reductions run chunk by chunk,
        also on a ``dask.distributed`` cluster.
    storage_options : dict, optional
        For URLs: options of the byte source (block size, cache size, headers for
        ``http(s)://``; fsspec's options for other protocols). See the remote-reading
        page of the docs.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist (locally or on the server).
    NPZFormatError, UnsafeNPZError
        For an NPZ file that cannot be read (see :func:`xr_nap.load_npz`).
    FileFormatError
        For a ``.nc``/``.zarr`` path that xarray cannot open.
    ValueError
        If the suffix of a local file is not one of ``.nwb``, ``.npz``, ``.nc``,
        ``.zarr``.
    """
    from xr_nap.io.nwb import NWBFile
    from xr_nap.io.nwb_zarr import is_nwb_zarr
    from xr_nap.io.remote import is_url

    if not isinstance(path, str | os.PathLike) or is_url(path):
        # a URL, a file object, a zarr mapper or an already opened NWB file
        return NWBFile(path, lazy_loading=lazy_loading, chunks=chunks,
                       storage_options=storage_options)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        # load_npz tells a missing file from a directory, a link loop or a FIFO
        from xr_nap.io.npz import load_npz

        return load_npz(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    nwb_zarr = path.is_dir() and (suffix != ".zarr" or path.name.lower().endswith(
        ".nwb.zarr") or is_nwb_zarr(path))
    if suffix == ".nwb" or nwb_zarr:
        return NWBFile(path, lazy_loading=lazy_loading, chunks=chunks)
    if suffix in (".nc", ".zarr"):  # written by xarray (to_netcdf, xr-nap convert)
        from xr_nap.errors import FileFormatError
        from xr_nap.io.netcdf import open_objects

        try:
            return open_objects(path, lazy_loading=lazy_loading, chunks=chunks)
        except FileFormatError as err:
            if suffix != ".zarr":
                raise
            raise FileFormatError(f"{path} is neither an NWB-zarr store (its root group "
                                  f"is not an NWBFile) nor a zarr store xarray can read: "
                                  f"{err}") from err
    raise ValueError(f"cannot load {path}: expected a .nwb, .npz, .nc or .zarr file, got "
                     f"{suffix!r}")
