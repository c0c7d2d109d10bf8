"""Atomic writes: permissions like np.savez, findable temporary names, stale cleanup."""

import os
import stat
import time

import numpy as np
import pytest

import xr_nap as nap
from xr_nap.io.atomic import STALE_AFTER, TEMP_PREFIX, atomic_path, clean_stale


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask():
    old = os.umask(0o027)
    yield 0o027
    os.umask(old)


def test_new_files_follow_the_umask_like_numpy(tmp_path, umask):
    np.savez(tmp_path / "numpy.npz", a=np.arange(3))
    path = nap.save(nap.ts([1.0, 2.0]), tmp_path / "ours")
    assert mode(path) == mode(tmp_path / "numpy.npz") == 0o640


def test_a_replaced_file_keeps_its_permissions_like_numpy(tmp_path, umask):
    for name, save in (("numpy.npz", lambda p: np.savez(p, a=np.arange(3))),
                       ("ours.npz", lambda p: nap.save(nap.ts([1.0]), p))):
        path = tmp_path / name
        save(path)
        os.chmod(path, 0o604)
        save(path)
        assert mode(path) == 0o604, name


def test_folder_sidecars_too(tmp_path, umask):
    nap.Folder(tmp_path).save("x", nap.ts([1.0]), description="d")
    assert mode(tmp_path / "x.json") == mode(tmp_path / "x.npz") == 0o640


def test_temporary_files_of_dead_writers_are_cleaned(tmp_path):
    now = time.time()
    dead = tmp_path / f"{TEMP_PREFIX}999999999.0123abcd.x.npz"
    live = tmp_path / f"{TEMP_PREFIX}{os.getpid()}.0123abcd.y.npz"
    fresh = tmp_path / f"{TEMP_PREFIX}999999998.0123abcd.z.npz"
    folder = tmp_path / f"{TEMP_PREFIX}999999997.0123abcd.s.zarr"
    other = tmp_path / ".x.npz.tmp"  # not ours: never touched
    for path in (dead, live, fresh, other):
        path.write_bytes(b"partial")
    folder.mkdir()
    (folder / "chunk").write_bytes(b"0")
    old = now - 2 * STALE_AFTER
    for path in (dead, live, folder, other):
        os.utime(path, (old, old))
    nap.save(nap.ts([1.0]), tmp_path / "new")  # any write into the folder cleans it
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([live.name, fresh.name, other.name, "new.npz"])
    # a week later, even a file whose pid is in use is abandoned
    assert sorted(clean_stale(tmp_path, now=now + 8 * 24 * 3600)) == sorted([live, fresh])


def test_a_failed_write_leaves_nothing_and_the_old_file(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old" and sorted(tmp_path.iterdir()) == [target]


def test_a_folder_is_replaced_whole(tmp_path):
    target = tmp_path / "store.zarr"
    target.mkdir()
    (target / "old").write_text("1")
    with atomic_path(target, directory=True) as tmp:
        tmp.mkdir()
        (tmp / "new").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.zarr"]


def test_a_killed_writer_leaves_a_findable_file_that_is_cleaned(tmp_path):
    import signal
    import subprocess
    import sys

    code = ("import os, signal\n"
            "from xr_nap.io.atomic import atomic_path\n"
            f"with atomic_path({str(tmp_path / 'x.npz')!r}) as tmp:\n"
            "    tmp.write_bytes(b'half')\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n")
    proc = subprocess.run([sys.executable, "-c", code], check=False)
    assert proc.returncode == -signal.SIGKILL
    left = list(tmp_path.iterdir())
    assert len(left) == 1 and left[0].name.startswith(TEMP_PREFIX)
    assert left[0].name.endswith(".x.npz")
    assert clean_stale(tmp_path, now=time.time() + 2 * STALE_AFTER) == left
    assert list(tmp_path.iterdir()) == []
