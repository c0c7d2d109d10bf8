"""Atomic writes: every file or store xr-nap writes appears complete or not at all.

A writer builds its output under a temporary name in the target's own folder and
renames it over the target only when complete, so a reader never sees half a file and
a failed write leaves the previous version in place. What this module adds to that:

- **Permissions like** :func:`numpy.savez`: a new file gets ``0o666`` minus the umask
  (not ``mkstemp``'s ``0o600``); a file that is replaced keeps its permission bits.
- **Temporary names that can be found**: ``.xr-nap-tmp.<pid>.<random>.<name>``, hidden
  (``Folder`` and pynapple skip dot files) and in the same folder (a rename never
  crosses file systems). A write that is killed leaves one behind; the next write into
  that folder removes those whose process is gone and that have not changed for
  :data:`STALE_AFTER` seconds, and any older than a week (a process on another machine
  sharing the folder cannot be checked).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["atomic_path", "clean_stale", "TEMP_PREFIX", "STALE_AFTER"]

TEMP_PREFIX = ".xr-nap-tmp."
STALE_AFTER = 3600.0  # seconds without a change after which a dead writer's file goes
_ABANDONED = 7 * 24 * 3600.0  # seconds after which any writer's file is abandoned
_TEMP = re.compile(re.escape(TEMP_PREFIX) + r"(\d+)\.[0-9a-f]{8}\.")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but belongs to someone else
        return True
    return True


def clean_stale(folder: str | os.PathLike, now: float | None = None) -> list[Path]:
    """Remove the temporary files and folders that killed xr-nap writes left in
    ``folder``; return what was removed.

    A leftover goes when its writer (the pid in its name) is no longer running on this
    machine and it has not changed for :data:`STALE_AFTER` seconds, or when it has not
    changed for a week. Entries that cannot be removed are left alone.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / ".xr-nap-tmp.999999999.0123abcd.x.npz").write_bytes(b"partial")
    7
    >>> [p.name for p in clean_stale(folder, now=time.time() + 2 * STALE_AFTER)]
    ['.xr-nap-tmp.999999999.0123abcd.x.npz']
    """
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP.match(entry.name)
        if match is None:
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
            if age < STALE_AFTER or age < _ABANDONED and _alive(int(match.group(1))):
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


def _temp_name(target: Path) -> Path:
    return target.with_name(f"{TEMP_PREFIX}{os.getpid()}.{secrets.token_hex(4)}."
                            f"{target.name}")


def _check_parent(target: Path) -> None:
    if not target.parent.is_dir():
        raise FileNotFoundError(
            f"cannot write {target}: folder {target.parent} does not exist")


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, directory: bool = False) -> Iterator[Path]:
    """A temporary path to write ``target`` at; renamed over it when the block ends.

    The block creates the file (or, with ``directory=True``, the folder: a zarr store,
    say) at the temporary path; created with ``open``, its permissions follow the umask
    as :func:`numpy.savez`'s do, and a replaced file's permission bits are carried
    over. An existing ``target`` folder is replaced whole (moved aside, then removed).
    If the block raises, the temporary file or folder is removed and ``target`` is
    untouched. (The file is not created empty beforehand: on ext4, writing into a
    truncated file makes the rename wait for the data to reach the disk.)

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text(), sorted(p.name for p in target.parent.iterdir())
    ('done', ['out.txt'])
    """
    target = Path(target)
    _check_parent(target)
    clean_stale(target.parent)
    tmp = _temp_name(target)
    replaced_mode = None
    if not directory:
        if target.is_dir():
            raise IsADirectoryError(f"cannot write {target}: it is a directory")
        with contextlib.suppress(OSError):
            info = os.stat(target)
            if stat.S_ISREG(info.st_mode):
                replaced_mode = stat.S_IMODE(info.st_mode)
    try:
        yield tmp
        if replaced_mode is not None:  # a replaced file keeps its bits, as with np.savez
            os.chmod(tmp, replaced_mode)
        if directory and target.exists():
            _replace_folder(tmp, target)
        else:
            os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise


def _replace_folder(tmp: Path, target: Path) -> None:
    """Put the folder ``tmp`` where ``target`` (a folder or file) is, then remove the
    old one; a crash in between leaves the old one under a temporary name, which
    :func:`clean_stale` removes later."""
    old = _temp_name(target)
    os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        os.replace(old, target)
        raise
    _remove(old)


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass  # left for clean_stale


def write_atomic(target: str | os.PathLike, write: Callable[[Path], object],
                 directory: bool = False) -> Path:
    """``write(tmp)`` then rename ``tmp`` over ``target`` (see :func:`atomic_path`)."""
    with atomic_path(target, directory) as tmp:
        write(tmp)
    return Path(target)
