"""Every hostile, damaged or foreign NWB input of :mod:`nwb_corpus`, read each way a
user reads a file (``load_file``, ``open_dataset``, ``open_datatree``, ``xr-nap info``),
each in its own process with a time limit, ends in the right result, a documented
warning-and-skip, or an ``XrNapError`` that names the file: never a crash, a hang, an
internal error type or a silently wrong value.

Outcomes are counted per (input, reader): ``ok`` (the expected result), ``clear`` (a
clear error), ``changed`` (a flipped byte inside a stored value, read as the file now
says: allowed for damaged files only), ``wrong``, ``crash`` (the process died or an
exception of another type escaped) and ``hang``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pynwb")

sys.path.insert(0, str(Path(__file__).parent))
import nwb_corpus as corpus  # noqa: E402
from _run_nwb import Outcome, run_calls  # noqa: E402

PRELOAD = ("numpy", "h5py", "xarray", "pandas", "pynwb", "xr_nap", "xr_nap.io.nwb",
           "xr_nap.cli")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile_nwb")
    base = corpus.base_session(folder / "base_session.nwb")
    cases = corpus.CASES + corpus.damaged_cases(base)
    return base, [(case, corpus.build(case, base, folder)) for case in cases]


# --------------------------------------------------------------------------- judging
def _same(got, want) -> bool:
    if isinstance(got, tuple) or isinstance(want, tuple):
        return got == want
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return False
    if got.dtype.kind == "O" or want.dtype.kind == "O":  # strings, or one array per row
        return all(_same(a, b) if isinstance(a, np.ndarray) or isinstance(b, np.ndarray)
                   else a == b for a, b in zip(got.ravel(), want.ravel(), strict=True))
    return bool(np.array_equal(got, want, equal_nan=got.dtype.kind == "f"
                               and want.dtype.kind == "f"))


def _names_file(error: dict, path: Path) -> bool:
    return error["xrnap"] and path.name in error["message"]


def _skip_warned(view: dict, path_part: str, pattern: str) -> bool:
    return any(cat == "SkippedObjectWarning" and any(
        path_part in line and re.search(pattern, line) for line in msg.splitlines())
        for cat, msg in view["warnings"])


def _unreadable(got: dict, path: Path, pattern: str, op: str, view: dict) -> bool:
    """``got`` (one object of ``view``, or None if left out) is what a broken object
    must give with this reader."""
    if op == "open_datatree":
        return got is None and _skip_warned(view, path.name, pattern)
    if op == "info":
        return got is not None and re.search(pattern, " ".join(got["info"])) is not None \
            and "unreadable" in got["info"][1]
    return got is not None and "error" in got and _names_file(got, path) \
        and re.search(pattern, got["message"]) is not None


def judge(case, op: str, path: Path, outcome: Outcome, reference: dict | None
          ) -> tuple[str, str]:
    """``(outcome class, what was wrong)`` for one reader on one input."""
    if outcome.status in ("hang", "crash"):
        return outcome.status, outcome.detail
    if outcome.status == "raised":
        return "crash", outcome.detail
    view = outcome.value
    err, objects = view["open_error"], view["objects"]
    if err is not None and not err["xrnap"]:
        return "crash", f"{err['error']}: {err['message']}"
    for key, got in objects.items():
        if "error" in got and not got["xrnap"]:
            return "crash", f"{key}: {got['error']}: {got['message']}"
    if case.kind == "error":
        if err is not None and _names_file(err, path) and re.search(case.error,
                                                                    err["message"]):
            return "clear", ""
        return "wrong", f"expected an error matching {case.error!r}, got {err or objects}"
    if case.kind == "damaged":
        return _judge_damaged(path, view, reference)
    if err is not None:
        return "wrong", f"expected to read the file, got {err['message']}"
    problems = _judge_read(case, op, path, view, reference)
    return ("wrong", "; ".join(problems)) if problems else ("ok", "")


def _judge_damaged(path: Path, view: dict, reference: dict) -> tuple[str, str]:
    err, objects = view["open_error"], view["objects"]
    if err is not None:
        return ("clear", "") if _names_file(err, path) else ("wrong", err["message"])
    changed, errors = [], 0
    for key, got in objects.items():
        if "error" in got:
            if not _names_file(got, path):
                return "wrong", f"{key}: {got['message']}"
            errors += 1
        elif "info" in got and "unreadable" in got["info"][1]:
            if path.name not in got["info"][1]:
                return "wrong", f"{key}: {got['info'][1]}"
            errors += 1
        elif key not in reference or got.keys() != reference[key].keys() or not all(
                _same(got[k], reference[key][k]) for k in got):
            changed.append(key)
    missing = [k for k in reference if k not in objects]
    if missing and not any(c == "SkippedObjectWarning" for c, _ in view["warnings"]):
        changed += missing
    if changed:
        return "changed", f"differs from the undamaged file: {changed}"
    return ("clear" if errors or missing else "ok"), ""


def _judge_read(case, op: str, path: Path, view: dict, reference: dict) -> list[str]:
    objects, problems = view["objects"], []
    gone = {p.rsplit("/", 1)[-1] for p in case.absent}
    for part, pattern in case.absent.items():
        if not _skip_warned(view, part, pattern):
            problems.append(f"no SkippedObjectWarning naming {part} ({pattern})")
    for key in gone & set(objects):
        problems.append(f"{key} should be skipped")
    for key, pattern in case.broken.items():
        if not _unreadable(objects.get(key), path, pattern, op, view):
            problems.append(f"{key} should be unreadable ({pattern}), got "
                            f"{objects.get(key, 'nothing')}")
    for pattern in case.warns:
        if not any(re.search(pattern, msg) for _, msg in view["warnings"]):
            problems.append(f"no warning matching {pattern!r}")
    expected = {**{k: None for k in (reference or {} if case.base else {})}, **case.values}
    for key, want in expected.items():
        if key in gone or key in case.broken:
            continue
        got = objects.get(key)
        if got is None:
            if not case.subset or want is not None:
                problems.append(f"{key} is missing")
            continue
        if op == "info":
            if "unreadable" in got["info"][1]:
                problems.append(f"{key}: {got['info'][1]}")
            continue
        if "error" in got:
            problems.append(f"{key}: {got['message']}")
            continue
        want = reference[key] if want is None else want
        for name, value in want.items():
            if name not in got or not _same(got[name], value):
                problems.append(f"{key}.{name} = {got.get(name)!r}, expected {value!r}")
        if key not in case.values and got.keys() != want.keys():
            problems.append(f"{key} has variables {sorted(got)}, expected {sorted(want)}")
    extra = set(objects) - set(expected) - set(case.broken)
    if extra:
        problems.append(f"unexpected objects {sorted(extra)}")
    return problems


# --------------------------------------------------------------------------- the tests
def _warm(base: Path) -> list[tuple[str, tuple]]:
    """Each reader once on the base file, in the worker: imports and first-use caches
    (xarray's engine list, ...) are then shared by every child."""
    return [("read", (op, str(base))) for op in corpus.READERS]


def test_every_input_every_reader(files):
    base, cases = files
    jobs = [(case, op, path) for case, path in cases for op in case.ops]
    outcomes = run_calls(Path(corpus.__file__),
                         [("read", (op, str(path), case.setup)) for case, op, path in jobs],
                         timeout=30.0, preload=PRELOAD, warm=_warm(base))
    references = {op: outcome.value["objects"]
                  for (case, op, _), outcome in zip(jobs, outcomes, strict=True)
                  if case.name == "base" and outcome.status == "done"}
    counts, failures = Counter(), []
    for (case, op, path), outcome in zip(jobs, outcomes, strict=True):
        verdict, detail = judge(case, op, path, outcome, references.get(op))
        counts[verdict] += 1
        if verdict == "changed":
            print(f"changed: {case.name} / {op}: {detail}")
        if verdict in ("wrong", "crash", "hang"):
            failures.append(f"{case.name} / {op}: {verdict}: {detail[:600]}")
    print(f"\n{len(cases)} inputs x readers = {len(jobs)} runs: {dict(counts)}")
    assert not failures, "\n".join(failures)


def test_acts_between_open_and_read(files, tmp_path):
    base, _ = files
    names = [f.__name__ for f in corpus.SCENARIOS]
    outcomes = run_calls(Path(corpus.__file__),
                         [("scenario", (name, str(base), str(tmp_path / name)))
                          for name in names], timeout=30.0, preload=PRELOAD,
                         warm=_warm(base))
    failures, counts = [], Counter()
    for name, outcome in zip(names, outcomes, strict=True):
        verdict, detail = (outcome.value if outcome.status == "done"
                           else ("crash" if outcome.status == "raised" else outcome.status,
                                 outcome.detail))
        counts[verdict] += 1
        if verdict not in ("ok", "clear"):
            failures.append(f"{name}: {verdict}: {detail}")
    print(f"\n{len(names)} scenarios: {dict(counts)}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", ["strings_only_pynwb", "hard_link_cycle",
                                  "tags_index_out_of_range", "random_bytes"])
def test_command_line_info(files, name):
    """The installed ``xr-nap info`` itself, in a process of its own: a table (with the
    unreadable objects marked) or one error line naming the file; never a hang."""
    _, cases = files
    path = dict((case.name, p) for case, p in cases)[name]
    proc = subprocess.run([sys.executable, "-m", "xr_nap.cli", "info", str(path)],
                          capture_output=True, text=True, timeout=60)
    if name == "random_bytes":
        assert proc.returncode == 2 and path.name in proc.stderr
        assert "Traceback" not in proc.stderr
    else:
        assert proc.returncode == 0, proc.stderr
        assert "│ Keys" in proc.stdout
    if name == "tags_index_out_of_range":
        assert "unreadable" in proc.stdout and "tags_index" in proc.stdout
