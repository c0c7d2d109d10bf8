"""Text tables describing files and objects (used by reprs and ``xr-nap info``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import xarray as xr

from xr_nap.core.time_series import nap_type, support_bounds
from xr_nap.errors import FileFormatError


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A box-drawn table like pynapple's NWB repr: ``title`` then the rows.

    Examples
    --------
    >>> print(table("demo", ["Keys", "Type"], [["units", "TsGroup"]]))
    demo
    ┍━━━━━━━┯━━━━━━━━━┑
    │ Keys  │ Type    │
    ┝━━━━━━━┿━━━━━━━━━┥
    │ units │ TsGroup │
    ┕━━━━━━━┷━━━━━━━━━┙
    """
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]

    def rule(left, mid, right):
        return left + mid.join("━" * (w + 2) for w in widths) + right

    def line(cells):
        return "│" + "│".join(f" {c:<{w}} " for c, w in zip(cells, widths, strict=True)) + "│"

    return "\n".join([title, rule("┍", "┯", "┑"), line(header), rule("┝", "┿", "┥"),
                      *(line(r) for r in rows), rule("┕", "┷", "┙")])


def summary(obj: Any) -> list[str]:
    """``[type, shape, dtype, time span]`` of one object, reading no array data."""
    if isinstance(obj, Mapping) and not isinstance(obj, (xr.Dataset, xr.DataArray)):
        return ["dict of Ts", f"{len(obj)} entries", "", ""]
    try:
        kind = nap_type(obj)
    except TypeError:  # an analysis result, or a Dataset of several series
        kind = type(obj).__name__
    if kind == "Dataset":
        shape, dtype = ", ".join(f"{d}: {n}" for d, n in obj.sizes.items()), ""
    elif kind == "TsGroup":
        shape, dtype = f"{obj.sizes['unit']} units, {obj.sizes['spike']} spikes", "float64"
    elif kind == "IntervalSet":
        shape, dtype = f"{obj.sizes['interval']} intervals", "float64"
    else:
        shape, dtype = " x ".join(str(n) for n in obj.shape), str(obj.dtype)
    try:
        starts, ends = support_bounds(obj)
        span = f"{starts.min():.3f} - {ends.max():.3f} s" if starts.size else "empty"
    except (TypeError, ValueError, KeyError):  # no time axis: no span
        span = ""
    return [kind, shape, dtype, span]


def _summary_of_item(obj: Any, key: Any) -> list[str]:
    """:func:`summary` of ``obj[key]``, or a row saying it cannot be read (the rest of
    a file is still described)."""
    try:
        return summary(obj[key])
    except FileFormatError as err:
        kind = obj.type_of(key) if hasattr(obj, "type_of") else "?"
        return [kind, f"unreadable: {err}", "", ""]


def describe(obj: Any, title: str = "") -> str:
    """A table of every object in ``obj`` (an NWBFile or mapping) or of ``obj`` itself."""
    header = ["Keys", "Type", "Shape", "Dtype", "Time span"]
    # a Dataset is a Mapping too, but a TsGroup or an interval set is one object
    if not isinstance(obj, xr.Dataset | xr.DataArray) and (
            isinstance(obj, Mapping) or hasattr(obj, "key_to_id")):
        rows = [[str(key), *_summary_of_item(obj, key)] for key in obj]
    else:
        rows = [[str(getattr(obj, "name", None) or "data"), *summary(obj)]]
    return table(title, header, rows)


