"""``load_file``: open an NWB file (lazily) or read a pynapple NPZ file."""

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
        ``.npz`` -> the xarray object stored in it. A URL (``https://``, ``s3://``, ...),
        an open binary file object, an NWB-zarr store (a directory, a ``.zarr`` URL or
        an fsspec mapper) or an opened NWB file also give an :class:`xr_nap.NWBFile`.
    lazy_loading : bool, default True
        For NWB files: keep array data in the file until indexed.
    chunks : dict, int, "auto" or None, optional
        For NWB files: give series dask arrays (``{}``: the file's own chunks; see
        :class:`xr_nap.NWBFile`), so reductions run chunk by chunk, also on a
        ``dask.distributed`` cluster.
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
    ValueError
        If the suffix of a local file is neither ``.nwb`` nor ``.npz``.
    """
    from xr_nap.io.nwb_zarr import is_zarr_source
    from xr_nap.io.remote import is_url

    local = isinstance(path, str | os.PathLike) and not is_url(path)
    if local and Path(path).suffix.lower() == ".npz":
        # load_npz tells a missing file from a directory, a link loop or a FIFO
        from xr_nap.io.npz import load_npz

        return load_npz(Path(path))
    if not local or is_zarr_source(path):
        from xr_nap.io.nwb import NWBFile

        return NWBFile(path, lazy_loading=lazy_loading, chunks=chunks,
                       storage_options=storage_options)
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if suffix == ".nwb":
        from xr_nap.io.nwb import NWBFile

        return NWBFile(path, lazy_loading=lazy_loading, chunks=chunks)
    raise ValueError(f"cannot load {path}: expected a .nwb or .npz file, got {suffix!r}")
