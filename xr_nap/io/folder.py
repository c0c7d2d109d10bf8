"""``Folder``: walk a tree of folders holding NPZ and NWB files, opening nothing early.

Like pynapple's ``Folder``, keys are sub-folder names and file names without their
suffix (whitespace removed); ``folder["name"]`` or ``folder.name`` gives the sub-folder,
the object stored in an NPZ file, or the :class:`xr_nap.NWBFile` of an NWB file. Unlike
pynapple, building a ``Folder`` only lists directories: no file is opened until its key
is asked for, and loaded objects are cached.
"""

from __future__ import annotations

import json
import os
import string
import tempfile
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import xarray as xr

from xr_nap.io.npz import load_npz, save

__all__ = ["Folder"]

_SUFFIXES = (".npz", ".nwb")
_NO_WHITESPACE = {ord(c): None for c in string.whitespace}


def _key(name: str) -> str:
    return name.translate(_NO_WHITESPACE)


def _npz_kind(path: Path) -> str:
    """The kind stored in an NPZ, reading only its ``type`` member (for display)."""
    from xr_nap.io.npz import NPZFormatError, _Archive, _kind

    try:
        with _Archive(path) as archive:
            return _kind(archive)
    except NPZFormatError:
        return "not a pynapple file"


class Folder(Mapping):
    """A folder of NPZ/NWB files and sub-folders, as a read-only mapping.

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
        for p in entries:  # sub-folders first, then files, as pynapple lists them
            if p.is_dir():
                self._entries[_key(p.name)] = p
        for p in entries:
            if p.is_file() and p.suffix in _SUFFIXES:
                self._entries.setdefault(_key(p.stem), p)

    # ----------------------------------------------------------------- mapping
    def __getitem__(self, key: str) -> Any:
        if key not in self._entries:
            raise KeyError(f"{key!r} is not in folder {self.path} (it has {list(self)})")
        if key not in self._cache:
            path = self._entries[key]
            if path.is_dir():
                self._cache[key] = Folder(path)
            elif path.suffix == ".npz":
                self._cache[key] = load_npz(path)
            else:
                from xr_nap.io.nwb import NWBFile  # imported only when an NWB is opened

                self._cache[key] = NWBFile(path)
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
        return {k: p for k, p in self._entries.items() if p.is_dir()}

    @property
    def files(self) -> dict[str, Path]:
        """File key -> path of the NPZ and NWB files in this folder (not sub-folders)."""
        return {k: p for k, p in self._entries.items() if not p.is_dir()}

    def tree(self, depth: int | None = None) -> str:
        """The folder as an indented tree, ``depth`` levels deep (default: all)."""
        return "\n".join([f"📂 {self.name}", *self._tree_lines("", depth)])

    def _tree_lines(self, prefix: str, depth: int | None) -> list[str]:
        lines = []
        items = list(self._entries.items())
        for i, (key, path) in enumerate(items):
            last = i == len(items) - 1
            branch, indent = ("└── ", "    ") if last else ("├── ", "│   ")
            if path.is_dir():
                lines.append(f"{prefix}{branch}📂 {path.name}")
                if depth is None or depth > 1:
                    sub = self[key]
                    lines += sub._tree_lines(prefix + indent, None if depth is None else depth - 1)
            elif path.suffix == ".npz":
                lines.append(f"{prefix}{branch}{path.name} | {_npz_kind(path)}")
            else:
                lines.append(f"{prefix}{branch}{path.name} | NWB file")
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
        """
        if not name or any(c in name for c in "/\\") or name.startswith("."):
            raise ValueError(f"invalid file name {name!r}: give a plain, non-hidden name")
        path = save(obj, self.path / f"{name}.npz")
        sidecar = {"time": str(datetime.now()), "info": str(description)}
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as fp:
                json.dump(sidecar, fp, indent=2)
            os.replace(tmp, self.path / f"{name}.json")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        key = _key(name)
        self._entries[key] = path
        self._cache[key] = obj

    def metadata(self, name: str) -> dict[str, str]:
        """The JSON sidecar of ``name`` (``{}`` when there is none)."""
        sidecar = self.path / f"{name}.json"
        if not sidecar.is_file():
            return {}
        with open(sidecar) as fp:
            return json.load(fp)

    info = doc = metadata

    def close(self) -> None:
        """Close the NWB files opened through this folder and its sub-folders."""
        for value in self._cache.values():
            if hasattr(value, "close"):
                value.close()
        self._cache = {k: v for k, v in self._cache.items() if not hasattr(v, "close")}

    def __enter__(self) -> Folder:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
