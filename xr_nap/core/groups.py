"""Operations on whole TsGroups (pynapple 0.11 ``TsGroup.to_tsd``, ``value_from``,
``merge``, ``merge_group``).

A TsGroup is a ragged Dataset (see :func:`xr_nap.ts_group`); a TsGroup of Tsd (what
``value_from`` returns) also holds the per-spike values in ``spike_data(spike, ...)``,
the layout xr-nap's NPZ reader gives pynapple's TsGroups of Tsd.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from xr_nap.core.intervals import bounds, ranges, union
from xr_nap.core.search import closest_rows, inside
from xr_nap.core.time_series import (
    SPIKE,
    TIME,
    UNIT,
    _ragged_flat,
    nap_type,
    search_times,
    support_bounds,
    times,
    tsd,
    unit_offsets,
    with_support,
)
from xr_nap.errors import XrNapError

__all__ = ["to_tsd", "value_from_group", "merge_group", "merge"]

SPIKE_DATA = "spike_data"  # per-spike values, as the NPZ reader names them
PRECISION = 9  # pynapple compares supports to 1e-9 s


def _check_group(group: Any, what: str = "group") -> None:
    if not isinstance(group, xr.Dataset) or nap_type(group) != "TsGroup":
        raise TypeError(f"{what} should be a TsGroup Dataset, got {type(group).__name__}")


def _metadata(group: xr.Dataset) -> dict[str, np.ndarray]:
    """Per-unit metadata variables other than ``rate`` (recomputed by every rebuild)."""
    return {str(k): v.values for k, v in group.data_vars.items()
            if v.dims == (UNIT,) and k not in ("row_size", "rate")}


def _unit_index(group: xr.Dataset) -> np.ndarray:
    offsets = unit_offsets(group)
    return np.repeat(np.arange(offsets.size - 1), np.diff(offsets))


# --------------------------------------------------------------------------- to_tsd
def to_tsd(group: xr.Dataset, *args: Any) -> xr.DataArray:
    """All spikes of a TsGroup as one Tsd, sorted by time (pynapple
    ``TsGroup.to_tsd``).

    Parameters
    ----------
    group : TsGroup Dataset
    *args : optional
        What the values are: nothing (the unit id of each spike), the name of a
        metadata variable, or one value per unit (list, array or a pandas Series
        indexed by unit).

    Returns
    -------
    xarray.DataArray
        A Tsd with the group's time support. Numeric values are float64 (as pynapple);
        other metadata (e.g. strings) keep their type (pynapple cannot convert them).
        Spikes at the same time keep the order of their units.

    Examples
    --------
    >>> import xr_nap as nap
    >>> g = nap.ts_group({0: [0.0, 1.0], 5: [2.0, 3.0]})
    >>> nap.to_tsd(g).values, nap.to_tsd(g, [-1, 1]).values
    (array([0., 0., 5., 5.]), array([-1., -1.,  1.,  1.]))
    """
    _check_group(group)
    ids = group[UNIT].values
    if not args:
        values = ids
    else:
        arg = args[0]
        if isinstance(arg, pd.Series):
            if not np.array_equal(arg.index.values, ids):
                raise XrNapError("the Series index does not match the unit ids "
                                 f"{ids.tolist()}")
            values = arg.values.reshape(-1)
        elif isinstance(arg, np.ndarray | list | tuple | xr.DataArray):
            values = np.asarray(arg)
            if values.shape != (ids.size,):
                raise XrNapError(f"{values.size} values for {ids.size} units")
        elif isinstance(arg, str):
            if arg not in group.data_vars or group[arg].dims != (UNIT,):
                raise KeyError(f"{arg!r} is not a metadata variable of this TsGroup; "
                               f"metadata: {sorted(_metadata(group))}")
            values = group[arg].values
        else:
            raise TypeError("values should be a metadata name, a list, an array or a "
                            "pandas Series")
    values = np.asarray(values)
    if values.dtype.kind in "biuf":
        values = values.astype(np.float64)
    t = np.asarray(group["spike_time"].values, dtype=np.float64)
    order = np.argsort(t, kind="stable")
    out = tsd(t[order], values[_unit_index(group)[order]])
    return with_support(out, *support_bounds(group))


# --------------------------------------------------------------------------- value_from
def value_from_group(
    group: xr.Dataset,
    data: xr.DataArray,
    ep: Any = None,
    mode: Literal["closest", "before", "after"] = "closest",
) -> xr.Dataset:
    """The value of ``data`` at every spike of every unit (pynapple
    ``TsGroup.value_from``): a TsGroup of Tsd.

    Each spike inside ``ep`` takes the value of the ``closest`` sample of ``data``
    (the later one on a tie), the last one ``before`` it or the first one ``after`` it,
    within the same epoch; NaN where there is none.

    Parameters
    ----------
    group : TsGroup Dataset
    data : Tsd, TsdFrame or TsdTensor DataArray
    ep : interval set, optional
        Default: the time support of ``data``; becomes the group's time support (rates
        recomputed over it). Spikes outside it are dropped.
    mode : {"closest", "before", "after"}

    Returns
    -------
    xarray.Dataset
        The TsGroup with ``spike_data(spike, ...)`` (``data``'s other dims and
        coordinates); metadata kept.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> g = nap.ts_group({0: [0.4, 2.6], 1: [8.7]})
    >>> pos = nap.tsd(np.arange(10.0), np.arange(10.0) * 10)
    >>> nap.value_from_group(g, pos).spike_data.values
    array([ 0., 30., 90.])
    """
    _check_group(group)
    if not isinstance(data, xr.DataArray) or nap_type(data) not in (
            "Tsd", "TsdFrame", "TsdTensor"):
        raise TypeError("data should be a Tsd, TsdFrame or TsdTensor DataArray")
    if mode not in ("closest", "before", "after"):
        raise XrNapError(f"mode should be 'closest', 'before' or 'after', got {mode!r}")
    starts, ends = support_bounds(data) if ep is None else bounds(ep)
    t = np.asarray(group["spike_time"].values, dtype=np.float64)
    unit = _unit_index(group)
    keep = inside(t, starts, ends)
    t, unit = t[keep], unit[keep]
    rows = _matching_rows(t, data, starts, ends, mode)
    data = data.transpose(TIME, ...)
    ok = rows >= 0
    values = np.asarray(data.isel({TIME: rows[ok]}).values)
    if not ok.all():
        full = np.full((t.size, *values.shape[1:]), np.nan,
                       dtype=np.result_type(values.dtype, np.float64))
        full[ok] = values
        values = full
    counts = np.bincount(unit, minlength=group.sizes[UNIT])
    out = _ragged_flat(group[UNIT].values, t, counts, starts, ends, _metadata(group))
    dims = (SPIKE, *data.dims[1:])
    coords = {k: v for k, v in data.coords.items() if TIME not in v.dims}
    out[SPIKE_DATA] = xr.DataArray(values, dims=dims, coords=coords, attrs=data.attrs)
    out[SPIKE_DATA].attrs.pop("nap_type", None)
    out[SPIKE_DATA].attrs.pop("time_support", None)
    return out


def _matching_rows(t: np.ndarray, data: xr.DataArray, starts: np.ndarray,
                   ends: np.ndarray, mode: str) -> np.ndarray:
    """Row of ``data`` matched to each (unsorted) time of ``t`` inside its epoch, -1
    where none."""
    if mode == "closest":
        return closest_rows(t, times(data), starts, ends)
    k = np.maximum(np.searchsorted(starts, t, side="right") - 1, 0)
    first = search_times(data, starts, "left")[k]
    last = search_times(data, ends, "right")[k] - 1
    if mode == "before":
        j = search_times(data, t, side="right") - 1
    else:
        j = search_times(data, t, side="left")
    return np.where((j >= first) & (j <= last), j, -1)


# --------------------------------------------------------------------------- merge
def merge_group(
    *groups: xr.Dataset,
    reset_index: bool = False,
    reset_time_support: bool = False,
    ignore_metadata: bool = False,
) -> xr.Dataset:
    """Merge TsGroups into one (pynapple ``TsGroup.merge_group``).

    Parameters
    ----------
    *groups : TsGroup Datasets
    reset_index : bool
        Number the units 0..n-1 in the order given; otherwise unit ids must not repeat.
    reset_time_support : bool
        Use the union of the groups' supports; otherwise they must be equal (to 1e-9 s).
    ignore_metadata : bool
        Drop the metadata; otherwise every group must have the same metadata names.

    Raises
    ------
    XrNapError
        Repeated ids, different supports or different metadata, as described.

    Examples
    --------
    >>> import xr_nap as nap
    >>> a = nap.ts_group({0: [-1.0, 0.0, 1.0]}, time_support=(-1, 1))
    >>> b = nap.ts_group({10: [-1.0, 0.0, 1.0]}, time_support=(-1, 1))
    >>> m = nap.merge_group(a, b)
    >>> m.unit.values, m.rate.values
    (array([ 0, 10]), array([1.5, 1.5]))
    """
    bad = [i + 1 for i, g in enumerate(groups)
           if not isinstance(g, xr.Dataset) or nap_type(g) != "TsGroup"]
    if bad:
        raise TypeError(f"Input at positions {bad} are not TsGroup!")
    if not groups:
        raise TypeError("merge_group needs at least one TsGroup")
    if len(groups) == 1:
        return groups[0]
    first = groups[0]
    names = set(_metadata(first))
    ids = list(first[UNIT].values)
    for n, g in enumerate(groups[1:], start=2):
        if not ignore_metadata and set(_metadata(g)) != names:
            raise XrNapError(
                f"TsGroup at position {n} has different metadata columns from previous "
                "TsGroup objects. Set `ignore_metadata=True` to bypass the check.")
        if not reset_index:
            overlap = set(ids) & set(g[UNIT].values.tolist())
            if overlap:
                raise XrNapError(
                    f"TsGroup at position {n} has overlapping keys {overlap} with previous "
                    "TsGroup objects. Set `reset_index=True` to bypass the check.")
            ids.extend(g[UNIT].values.tolist())
        if not reset_time_support and not _same_support(first, g):
            raise XrNapError(
                f"TsGroup at position {n} has different time support from previous "
                "TsGroup objects. Set `reset_time_support=True` to bypass the check.")
    if reset_time_support:
        support = _union_of_supports(groups)
    else:
        support = support_bounds(first)
    meta = {} if ignore_metadata else {k: np.concatenate([g[k].values for g in groups])
                                         for k in names}
    spikes = np.concatenate([np.asarray(g["spike_time"].values, np.float64) for g in groups])
    sizes = np.concatenate([np.diff(unit_offsets(g)) for g in groups])
    unit_ids = np.concatenate([g[UNIT].values for g in groups])
    ids = np.arange(sizes.size) if reset_index else unit_ids
    order = np.argsort(ids, kind="stable")  # units are kept sorted by id
    offsets = np.cumsum(sizes) - sizes
    spikes = spikes[ranges(offsets[order], offsets[order] + sizes[order])]
    sizes = sizes[order]
    starts, ends = support
    # one interval (the usual case): two comparisons beat a search per spike
    keep = (spikes >= starts[0]) & (spikes <= ends[0]) if starts.size == 1 else \
        inside(spikes, starts, ends)
    if not keep.all():
        unit = np.repeat(np.arange(sizes.size), sizes)
        spikes, sizes = spikes[keep], np.bincount(unit[keep], minlength=sizes.size)
    return _ragged_flat(ids[order], spikes, sizes, starts, ends,
                        {k: v[order] for k, v in meta.items()} or None)


def merge(
    group: xr.Dataset,
    *groups: xr.Dataset,
    reset_index: bool = False,
    reset_time_support: bool = False,
    ignore_metadata: bool = False,
) -> xr.Dataset:
    """``merge_group(group, *groups, ...)`` (pynapple ``TsGroup.merge``).

    Examples
    --------
    >>> import xr_nap as nap
    >>> a = nap.ts_group({0: [-1.0, 0.0, 1.0]}, time_support=(-1, 1))
    >>> b = nap.ts_group({0: [-0.1, 0.0, 0.1]}, time_support=(-1, 1))
    >>> nap.merge(a, b, reset_index=True).unit.values
    array([0, 1])
    """
    return merge_group(group, *groups, reset_index=reset_index,
                       reset_time_support=reset_time_support,
                       ignore_metadata=ignore_metadata)


def _same_support(a: xr.Dataset, b: xr.Dataset) -> bool:
    sa, ea = support_bounds(a)
    sb, eb = support_bounds(b)
    return sa.shape == sb.shape and np.allclose(sa, sb, rtol=0, atol=10.0**-PRECISION) \
        and np.allclose(ea, eb, rtol=0, atol=10.0**-PRECISION)


def _union_of_supports(groups: tuple[xr.Dataset, ...]) -> tuple[np.ndarray, np.ndarray]:
    out = None
    for g in groups:
        s = support_bounds(g)
        out = s if out is None else bounds(union(out, s))
    return out

