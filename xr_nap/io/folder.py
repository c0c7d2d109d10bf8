"""``Folder``: walk a tree of folders holding NPZ and NWB files, opening nothing early.

Like pynapple's ``Folder``, keys are sub-folder names and file names without their
suffix (whitespace removed); ``folder["name"]`` or ``folder.name`` gives the sub-folder,
the object stored in an NPZ file, or the :class:`xr_nap.NWBFile` of an NWB file. The
netCDF files (``.nc``) and zarr stores (``.zarr``) that ``xr-nap convert`` and
``to_netcdf``/``to_zarr`` write are listed too and read with :func:`xr_nap.load_file`. Unlike
pynapple, building a ``Folder`` only lists directories: no file is opened until its key
is asked for, and loaded objects are cached.

A folder reached twice in one walk (a symlink to an enclosing folder, or two links to
the same folder) is shown once, so trees with symlink loops print in finite time. Names
given to :meth:`Folder.save` and :meth:`Folder.metadata` are plain file names: nothing
is read or written outside the folder.
"""

from __future__ import annotations

import json
import os
import string
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import xarray as xr

from xr_nap.errors import FileFormatError, NPZFormatError
from xr_nap.io.atomic import atomic_path
from xr_nap.io.npz import load_npz, npz_kind, save

__all__ = ["Folder"]

_SUFFIXES = (".npz", ".nwb", ".nc")
_KINDS = {".nwb": "NWB file", ".nc": "netCDF file", ".zarr": "zarr store"}
_NO_WHITESPACE = {ord(c): None for c in string.whitespace}
# a sidecar holds a time and a description; anything larger is not one
_SIDECAR_MAX = 1 << 20


def _key(name: str) -> str:
    return name.translate(_NO_WHITESPACE)


def _plain_name(name: str) -> str:
    """``name`` if it names a file inside the folder itself, else ValueError."""
    if not isinstance(name, str):
        raise TypeError(f"a file name must be a str, got {type(name).__name__}")
    if (not name or name.startswith(".") or "\0" in name
            or any(sep in name for sep in ("/", "\\", os.sep))):
        raise ValueError(f"invalid file name {name!r}: give a plain, non-hidden name "
                         "(no folder part)")
    return name


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the folder ``path`` leads to, following links."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _is_zarr(path: Path) -> bool:
    """A zarr store (a folder named ``*.zarr`` with zarr metadata): a file entry."""
    return path.suffix == ".zarr" and path.is_dir() and any(
        (path / name).is_file() for name in ("zarr.json", ".zgroup", ".zarray", ".zattrs"))


def _npz_kind(path: Path) -> str:
    """The kind stored in an NPZ, reading only its ``type`` member (for display)."""
    try:
        return npz_kind(path)
    except NPZFormatError:
        return "not a pynapple file"
    except OSError as err:
        return f"unreadable ({err.strerror or err})"


class Folder(Mapping):
    """A folder of NPZ/NWB/netCDF files, zarr stores and sub-folders, as a read-only
    mapping.

    Parameters
    ----------
    path : str or path-like
        An existing directory.

    Notes
    -----
    Hidden entries (names starting with ``.``) are skipped, as in pynapple. The
    listing is taken when the ``Folder`` is built; :meth:`save` adds to it. Printing
    a folder reads the ``type`` member of each NPZ file (a few bytes) to show its kind.

    Examples
    --------
    >>> import tempfile, pathlib, xr_nap as nap
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "day1").mkdir()
    >>> folder = nap.Folder(root)
    >>> folder.day1.save("spikes", nap.ts_group({0: [1.0, 2.0]}))
    >>> print(nap.Folder(root).day1)
    📂 day1
    └── spikes.npz | TsGroup
    >>> nap.Folder(root)["day1"]["spikes"].row_size.values
    array([2])
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.is_dir():
            raise NotADirectoryError(f"{self.path} is not a directory")
        self.name = self.path.name
        self._entries: dict[str, Path] = {}
        self._cache: dict[str, Any] = {}
        entries = sorted(p for p in self.path.iterdir() if not p.name.startswith("."))
        # is_dir/is_file follow links and are False for a link loop: such names are skipped
        stores = {p for p in entries if _is_zarr(p)}
        for p in entries:  # sub-folders first, then files, as pynapple lists them
            if p.is_dir() and p not in stores:
                self._entries[_key(p.name)] = p
        for p in entries:
            if p in stores or p.is_file() and p.suffix in _SUFFIXES:
                self._entries.setdefault(_key(p.stem), p)

    # ----------------------------------------------------------------- mapping
    def __getitem__(self, key: str) -> Any:
        if key not in self._entries:
            raise KeyError(f"{key!r} is not in folder {self.path} (it has {list(self)})")
        if key not in self._cache:
            path = self._entries[key]
            if path.is_dir() and not _is_zarr(path):
                self._cache[key] = Folder(path)
            elif path.suffix == ".npz":
                self._cache[key] = load_npz(path)
            else:  # NWB, netCDF, zarr: their readers are imported only when used
                from xr_nap.io.load import load_file

                self._cache[key] = load_file(path)
        return self._cache[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __getattr__(self, name: str) -> Any:
        entries = self.__dict__.get("_entries", {})
        if name in entries:
            return self[name]
        raise AttributeError(f"{type(self).__name__} has no attribute or entry {name!r}")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {k for k in self._entries if k.isidentifier()})

    # ----------------------------------------------------------------- listing
    @property
    def subfolders(self) -> dict[str, Path]:
        """Sub-folder name -> path."""
        return {k: p for k, p in self._entries.items() if p.is_dir() and not _is_zarr(p)}

    @property
    def files(self) -> dict[str, Path]:
        """File key -> path of the NPZ, NWB, netCDF files and zarr stores in this folder
        (not sub-folders)."""
        return {k: p for k, p in self._entries.items() if not p.is_dir() or _is_zarr(p)}

    def tree(self, depth: int | None = None) -> str:
        """The folder as an indented tree, ``depth`` levels deep (default: all).

        A folder reached a second time (through a symlink) is marked and not walked
        again, so loops end.
        """
        seen = {self_id} if (self_id := _identity(self.path)) else set()
        return "\n".join([f"📂 {self.name}", *self._tree_lines("", depth, seen)])

    def _tree_lines(self, prefix: str, depth: int | None, seen: set) -> list[str]:
        lines = []
        items = list(self._entries.items())
        for i, (key, path) in enumerate(items):
            last = i == len(items) - 1
            branch, indent = ("└── ", "    ") if last else ("├── ", "│   ")
            if path.is_dir() and not _is_zarr(path):
                ident = _identity(path)
                if ident in seen:
                    lines.append(f"{prefix}{branch}📂 {path.name} (link to a folder "
                                 "shown already: not followed)")
                    continue
                lines.append(f"{prefix}{branch}📂 {path.name}")
                if ident is not None:
                    seen.add(ident)
                if depth is None or depth > 1:
                    try:
                        sub = self[key]
                    except OSError as err:
                        lines.append(f"{prefix}{indent}(cannot list: {err.strerror or err})")
                        continue
                    lines += sub._tree_lines(prefix + indent,
                                             None if depth is None else depth - 1, seen)
            elif path.suffix == ".npz":
                lines.append(f"{prefix}{branch}{path.name} | {_npz_kind(path)}")
            else:
                lines.append(f"{prefix}{branch}{path.name} | {_KINDS[path.suffix]}")
        return lines

    def __repr__(self) -> str:
        return self.tree()

    def expand(self) -> None:
        """Print the full tree (pynapple's ``Folder.expand``)."""
        print(self.tree())

    @property
    def view(self) -> None:
        """Print the full tree (pynapple's ``Folder.view``)."""
        self.expand()

    # ----------------------------------------------------------------- load / save
    def load(self) -> None:
        """Load every NPZ file of this folder (not of sub-folders) into the cache."""
        for key, path in self._entries.items():
            if path.suffix == ".npz" and not path.is_dir():
                self[key]

    def save(self, name: str, obj: xr.DataArray | xr.Dataset, description: str = "") -> None:
        """Save ``obj`` as ``name.npz`` with a JSON sidecar ``name.json``.

        Overwrites an existing file of that name (each write is atomic). The sidecar
        holds the time of saving and ``description``, as pynapple writes it.

        Raises
        ------
        ValueError
            If ``name`` is not a plain file name (a folder part, ``..``, a leading dot).
        """
        _plain_name(name)
        path = save(obj, self.path / f"{name}.npz")
        sidecar = {"time": str(datetime.now()), "info": str(description)}
        with atomic_path(self.path / f"{name}.json") as tmp, open(tmp, "w") as fp:
            json.dump(sidecar, fp, indent=2)
        key = _key(name)
        self._entries[key] = path
        self._cache[key] = obj

    def metadata(self, name: str) -> dict[str, str]:
        """The JSON sidecar of ``name`` (``{}`` when there is none).

        Raises
        ------
        ValueError
            If ``name`` is not a plain file name, or the sidecar is a link to a file
            outside the folder.
        FileFormatError
            If the sidecar is not a small JSON object.
        """
        sidecar = self.path / f"{_plain_name(name)}.json"
        if not sidecar.is_file():
            return {}
        if sidecar.resolve().parent != self.path.resolve():
            raise ValueError(f"{sidecar} leads outside the folder; not read")
        if sidecar.stat().st_size > _SIDECAR_MAX:
            raise FileFormatError(f"{sidecar} is too large for a sidecar "
                                  f"(over {_SIDECAR_MAX} bytes)")
        try:
            with open(sidecar, encoding="utf-8") as fp:
                meta = json.load(fp)
        except (ValueError, RecursionError) as err:
            raise FileFormatError(f"{sidecar} is not a readable JSON sidecar ({err})") \
                from None
        if not isinstance(meta, dict):
            raise FileFormatError(f"{sidecar} holds a {type(meta).__name__}, not a JSON object")
        return meta

    info = doc = metadata

    def close(self) -> None:
        """Close the NWB, netCDF and zarr files opened through this folder and its
        sub-folders."""
        for value in self._cache.values():
            if hasattr(value, "close"):
                value.close()
        self._cache = {k: v for k, v in self._cache.items() if not hasattr(v, "close")}

    def __enter__(self) -> Folder:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
