"""Run test functions each in its own process, with a time limit.

A hostile input may crash the interpreter (a segfault in a C library) or hang it (a
deadlock, an endless loop); either must be an outcome of that input, not the end of the
test run. :func:`run_calls` starts worker processes, which import the libraries once
and then fork a child per call: the child runs the call and sends back its pickled
result; the worker kills a child that runs out of time and records how each one ended.

Run as a script, this file is that worker.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pickle
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Outcome:
    """How one call ended: ``done`` (``value`` is its result), ``raised`` (``detail`` is
    the exception), ``hang`` (killed after the time limit) or ``crash`` (the process
    died: ``detail`` says how)."""

    status: str
    value: Any = None
    detail: str = ""


def run_calls(module: Path, calls: list[tuple[str, tuple]], timeout: float = 20.0,
              preload: tuple[str, ...] = (), warm: list[tuple[str, tuple]] = (),
              workers: int = 2) -> list[Outcome]:
    """Run ``module.<name>(*args)`` for each ``(name, args)`` of ``calls``, each in a
    child process stopped after ``timeout`` seconds, spread over ``workers`` workers.

    A worker imports the ``preload`` modules and runs the ``warm`` calls (which must
    leave no file open) before it forks, so that each child starts with the imports and
    first-use caches of the libraries already done.
    """
    workers = max(1, min(workers, len(calls)))
    shares = [calls[i::workers] for i in range(workers)]
    with tempfile.TemporaryDirectory() as tmp:
        procs = []
        for i, share in enumerate(shares):
            jobs, out = Path(tmp) / f"jobs{i}.pkl", Path(tmp) / f"out{i}.pkl"
            jobs.write_bytes(pickle.dumps((str(module), share, timeout, preload,
                                           list(warm))))
            procs.append((subprocess.Popen(
                [sys.executable, __file__, str(jobs), str(out)], stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, text=True), out))
        results: list[list[Outcome]] = []
        for proc, out in procs:
            _, err = proc.communicate(timeout=timeout * len(calls) + 120)
            if proc.returncode != 0 or not out.exists():
                raise RuntimeError(f"a worker failed ({proc.returncode}):\n{err[-3000:]}")
            results.append([Outcome(*item) for item in pickle.loads(out.read_bytes())])
    merged: list[Outcome] = [None] * len(calls)  # type: ignore[list-item]
    for i, share in enumerate(results):
        merged[i::workers] = share
    return merged


def _load(module_path: str) -> Any:
    name = Path(module_path).stem
    spec = importlib.util.spec_from_file_location(name, module_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # so that its classes pickle by name
    spec.loader.exec_module(module)
    return module


def _child(module: Any, name: str, args: tuple, fd: int) -> None:
    try:
        payload = ("done", getattr(module, name)(*args), "")
    except BaseException as err:  # any exception is this call's outcome, judged later
        payload = ("raised", None, f"{type(err).__module__}.{type(err).__qualname__}: {err}")
    try:
        data = pickle.dumps(payload)
    except Exception as err:
        data = pickle.dumps(("raised", None, f"unpicklable result: {err!r}"))
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _run_one(module: Any, name: str, args: tuple, timeout: float) -> tuple[str, Any, str]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_fd)
        code = 0
        try:
            _child(module, name, args, write_fd)
        except BaseException:
            code = 3
        os._exit(code)
    os.close(write_fd)
    chunks, deadline = [], time.monotonic() + timeout
    with os.fdopen(read_fd, "rb") as fh:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return "hang", None, f"no result after {timeout} s"
            ready, _, _ = select.select([fh], [], [], left)
            if ready:
                chunk = os.read(fh.fileno(), 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return "crash", None, f"killed by signal {os.WTERMSIG(status)}"
    if not chunks:
        return "crash", None, f"exited with status {os.WEXITSTATUS(status)}, no result"
    return pickle.loads(b"".join(chunks))


def _worker(jobs: Path, out: Path) -> None:
    module_path, calls, timeout, preload, warm = pickle.loads(jobs.read_bytes())
    for name in preload:
        importlib.import_module(name)
    module = _load(module_path)
    for name, args in warm:
        getattr(module, name)(*args)
    results = [_run_one(module, name, args, timeout) for name, args in calls]
    out.write_bytes(pickle.dumps(results))


if __name__ == "__main__":
    _worker(Path(sys.argv[1]), Path(sys.argv[2]))
