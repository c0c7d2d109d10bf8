"""Run probes on hostile inputs where a crash or a hang cannot take pytest down.

``run(probes, jobs)`` starts ONE worker process (this file run as a script), which
imports the probe module once (and with it xr-nap, numpy, xarray), then runs the jobs
in forked children: a batch of jobs per child, or one job per child for jobs marked
``"isolate": True`` (inputs that could crash the process). Forking from a worker that
has done its imports costs milliseconds, where starting a new Python costs a second.

Each child reports one JSON line per finished job. When a child dies from a signal
(a segfault) or its current job runs past ``timeout`` seconds (it is then killed), that
job is recorded with outcome ``"crash"`` or ``"hang"`` and the rest of its batch runs
in a new child. Children run under an address-space limit (``memory`` bytes above what
the worker already maps), so a memory blow-up raises ``MemoryError`` in the probe
instead of exhausting the machine.

A job is ``{"id": str, "probe": name, "args": [...], "isolate": bool}``; the worker
calls ``probe_module.<name>(*args)``, which must return a JSON-able dict with an
``"outcome"`` key. An exception escaping the probe is reported as outcome
``"unclear"``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BATCH = 40  # jobs per forked child when nothing crashes


def run(probes: str | Path, jobs: list[dict[str, Any]], timeout: float = 30.0,
        memory: int = 1 << 30, total_timeout: float = 600.0) -> dict[str, dict[str, Any]]:
    """Run ``jobs`` with the probe module at path ``probes``; results by job id."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    request = json.dumps({"probes": str(probes), "jobs": jobs, "timeout": timeout,
                          "memory": memory})
    proc = subprocess.run([sys.executable, __file__], input=request, capture_output=True,
                          text=True, env=env, timeout=total_timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"hostile-input worker failed ({proc.returncode}):\n"
                           f"{proc.stderr[-4000:]}")
    return json.loads(proc.stdout)


# --------------------------------------------------------------------------- worker side
def _limit_memory(extra: int) -> None:
    try:
        import resource

        with open("/proc/self/statm") as fp:
            mapped = int(fp.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = mapped + extra
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, ValueError):  # not Linux: run without a limit
        pass


def _child(module: Any, batch: list[dict[str, Any]], out_fd: int, memory: int) -> None:
    # the worker's stdout carries its final report: keep stray prints out of it
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    _limit_memory(memory)
    with os.fdopen(out_fd, "w") as out:
        for job in batch:
            try:
                result = getattr(module, job["probe"])(*job["args"])
            except BaseException as err:  # a probe must not let anything escape
                result = {"outcome": "unclear", "detail": f"{type(err).__name__}: {err}"}
            out.write(json.dumps({"id": job["id"], **result}, default=str) + "\n")
            out.flush()


def _run_batch(module: Any, batch: list[dict[str, Any]], timeout: float, memory: int,
               results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Run ``batch`` in one child; return the jobs still to run if the child died."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        try:
            _child(module, batch, write_fd, memory)
        finally:
            os._exit(0)
    os.close(write_fd)
    done, buffer, deadline = 0, b"", time.monotonic() + timeout
    hung = False
    with os.fdopen(read_fd, "rb") as pipe:
        while done < len(batch):
            ready, _, _ = select.select([pipe], [], [], max(deadline - time.monotonic(), 0))
            if not ready:
                hung = True
                os.kill(pid, signal.SIGKILL)
                break
            chunk = os.read(pipe.fileno(), 1 << 16)
            if not chunk:
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                result = json.loads(line)
                results[result.pop("id")] = result
                done += 1
                deadline = time.monotonic() + timeout
    _, status = os.waitpid(pid, 0)
    if done == len(batch):
        return []
    current = batch[done]
    if hung:
        results[current["id"]] = {"outcome": "hang", "detail": f"over {timeout} s"}
    else:
        sig = -os.waitstatus_to_exitcode(status)
        results[current["id"]] = {"outcome": "crash",
                                  "detail": f"child died (signal {sig})" if sig > 0
                                  else f"child exited ({-sig})"}
    return batch[done + 1:]


def _worker() -> None:
    request = json.loads(sys.stdin.read())
    spec = importlib.util.spec_from_file_location("hostile_probes", request["probes"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    jobs, timeout, memory = request["jobs"], request["timeout"], request["memory"]
    alone = [[job] for job in jobs if job.get("isolate")]
    shared = [job for job in jobs if not job.get("isolate")]
    batches = alone + [shared[i:i + BATCH] for i in range(0, len(shared), BATCH)]
    results: dict[str, dict[str, Any]] = {}
    for batch in batches:
        while batch:
            batch = _run_batch(module, batch, timeout, memory, results)
    sys.stdout.write(json.dumps(results))


if __name__ == "__main__":
    _worker()
