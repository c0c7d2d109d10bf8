"""The harness itself: a crash, a hang or a blow-up in a probe is reported, not suffered."""

from __future__ import annotations

from . import _run

PROBES = '''
import ctypes, time

def fine(x):
    return {"outcome": "ok", "value": x}

def segfault(x):
    ctypes.string_at(0)

def hang(x):
    time.sleep(3600)

def blow_up(x):
    return {"outcome": "ok", "size": len(bytearray(8 << 30))}
'''


def test_crashes_hangs_and_blowups_are_reported(tmp_path):
    probes = tmp_path / "probes.py"
    probes.write_text(PROBES)
    jobs = [{"id": "a", "probe": "fine", "args": [1]},
            {"id": "b", "probe": "segfault", "args": [2]},
            {"id": "c", "probe": "fine", "args": [3]},  # after a crash in its batch
            {"id": "d", "probe": "hang", "args": [4], "isolate": True},
            {"id": "e", "probe": "blow_up", "args": [5]},
            {"id": "f", "probe": "fine", "args": [6], "isolate": True}]
    results = _run.run(probes, jobs, timeout=2.0, memory=1 << 30)
    assert results["a"] == {"outcome": "ok", "value": 1}
    assert results["b"]["outcome"] == "crash"
    assert results["c"] == {"outcome": "ok", "value": 3}
    assert results["d"]["outcome"] == "hang"
    assert results["e"]["outcome"] == "unclear" and "MemoryError" in results["e"]["detail"]
    assert results["f"]["outcome"] == "ok"
