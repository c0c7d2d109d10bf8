"""Probes run by ``_run.py`` on each NPZ corpus case, in a forked child.

``check(case)`` opens the input through every entry point (``load_npz``,
``load_file``, ``xr.open_dataset(engine="nap_npz")``, ``repr(Folder)``, ``xr-nap
info``; folders through ``repr``, ``tree``, iteration and ``metadata``) and classifies
each: ``"ok"`` (a right result, or a documented warning-and-skip), ``"clear"`` (an
exception of a documented xr-nap error class whose message names the file, and the
member where the case names one), ``"wrong"`` (a result that differs from the
reference, or code from the file ran) or ``"unclear"`` (any other exception, or a
message that does not say where).
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import warnings
from pathlib import Path
from typing import Any

import xarray as xr

import xr_nap as nap
from xr_nap.cli import main as cli_main
from xr_nap.errors import SkippedObjectWarning, XrNapError
from xr_nap.io.npz import npz_kind

ENTRIES = ("load_npz", "load_file", "open_dataset", "folder_repr", "info")
KINDS = ("Ts", "Tsd", "TsdFrame", "TsdTensor", "TsGroup", "IntervalSet")


def _named(message: str, case: dict[str, Any]) -> bool:
    if Path(case["path"]).name not in message:
        return False
    member = case["member"]
    if member is None:
        return True
    names = {member, member.removesuffix(".npy"), member.removesuffix(".npy") + ".npy"}
    return any(repr(name) in message for name in names)


def _as_dataset(obj: Any) -> xr.Dataset:
    return obj.to_dataset(name="data") if isinstance(obj, xr.DataArray) else obj


def _compare(result: Any, case: dict[str, Any], entry: str, caught: list) -> str:
    if case["expect"] == "error":
        return "wrong: loaded an input that must be refused"
    if case["reference"] is None:
        return "ok"
    expected = _reference(case["reference"])
    if entry == "open_dataset":
        expected = _as_dataset(expected)
    try:
        xr.testing.assert_identical(result, expected)
    except AssertionError as err:
        return f"wrong: differs from the reference: {str(err)[:300]}"
    skipped = [w for w in caught if issubclass(w.category, SkippedObjectWarning)
               and Path(case["path"]).name in str(w.message)]
    if case["expect"] == "warn" and not skipped:
        return "wrong: no SkippedObjectWarning naming the file"
    return "ok"


@functools.lru_cache(maxsize=64)
def _reference(path: str) -> Any:
    return nap.load_npz(path)


def _load(entry: str, path: str) -> Any:
    if entry == "load_npz":
        return nap.load_npz(path)
    if entry == "load_file":
        return nap.load_file(path)
    return xr.open_dataset(path, engine="nap_npz")


def _entry(entry: str, case: dict[str, Any]) -> str:
    path = case["path"]
    if entry in ("load_npz", "load_file", "open_dataset"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = _load(entry, path)
            except XrNapError as err:
                if case["expect"] in ("ok", "warn"):
                    return f"wrong: refused a valid input: {err}"
                return "clear" if _named(str(err), case) else f"unclear: {err}"
            except Exception as err:
                return f"unclear: {type(err).__name__}: {err}"
        return _compare(result, case, entry, caught)
    if entry == "folder_repr":
        text = repr(nap.Folder(Path(path).parent))
        name = Path(path).name
        line = next((x for x in text.splitlines() if name in x), None)
        if line is None:  # not listed: only for what is not a regular .npz file
            return "ok" if not Path(path).is_file() else f"wrong: {name} not listed"
        if case["reference"] is not None and "|" in line:
            shown = line.rsplit("|", 1)[1].strip()
            want = npz_kind(case["reference"])
            if shown in KINDS and shown != want:
                return f"wrong: listed as {shown}, holds a {want}"
        return "ok"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = cli_main(["info", path])
    if code == 0:
        if case["expect"] == "error":
            return "wrong: info listed an input that must be refused"
        return "ok" if Path(path).name in out.getvalue() else "unclear: no file name"
    message = err.getvalue().strip()
    if code != 2 or "\n" in message:
        return f"unclear: exit {code}: {message[-300:]}"
    if case["expect"] in ("ok", "warn"):
        return f"wrong: info refused a valid input: {message}"
    return "clear" if _named(message, case) else f"unclear: {message}"


def _folder(case: dict[str, Any]) -> dict[str, str]:
    root = nap.Folder(case["path"])
    out = {"repr": "ok" if root.name in repr(root) else "unclear: no folder name"}
    out["tree"] = "ok" if root.tree(depth=3) else "wrong: empty tree"
    walked, stack = 0, [(root, 0)]
    while stack:  # what a user's loop over folder[key] would do, three levels down
        folder, depth = stack.pop()
        for key in folder:
            walked += 1
            if depth < 3 and key in folder.subfolders:
                stack.append((folder[key], depth + 1))
    out["iterate"] = "ok" if walked else "wrong: nothing listed"
    try:
        root.metadata("../x")
        out["metadata"] = "wrong: read a sidecar outside the folder"
    except ValueError:
        out["metadata"] = "ok"
    return out


def check(case: dict[str, Any]) -> dict[str, Any]:
    """Every entry point on one case; the worst outcome first."""
    if case["kind"] == "folder":
        entries = _folder(case)
    else:
        entries = {}
        for entry in ENTRIES:
            try:
                entries[entry] = _entry(entry, case)
            except Exception as err:  # the probe itself never raises
                entries[entry] = f"unclear: {type(err).__name__}: {err}"
    marker = case["marker"]
    if marker is not None and os.path.lexists(marker):
        entries["payload"] = "wrong: the pickled payload ran"
    order = ("wrong", "unclear", "clear", "ok")
    worst = min(entries.values(), key=lambda v: order.index(v.split(":")[0]))
    return {"outcome": worst.split(":")[0], "entries": entries}


def _warm_up() -> None:
    """Run every entry point once in the worker, before it forks, so that no child
    pays for the lazy imports and the discovery of xarray's backends."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = nap.save(nap.ts([1.0, 2.0]), Path(tmp) / "warm")
        case = {"id": "warm", "path": str(path), "kind": "npz", "expect": "ok",
                "reference": str(path), "member": None, "isolate": False, "marker": None}
        check(case)
        _reference.cache_clear()


_warm_up()
