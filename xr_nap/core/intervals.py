"""Interval sets (pynapple ``IntervalSet``) as :class:`xarray.Dataset` objects.

An interval set has one dimension, ``interval``, and float64 variables ``start`` and
``end`` in seconds; any other variable on ``interval`` is per-interval metadata.
Intervals are closed (``start <= t <= end``), sorted, disjoint and of positive length.

Construction follows pynapple 0.11: rows with NaN are dropped, empty or reversed
intervals are dropped, overlapping intervals are merged, and an interval that ends
exactly where the next starts is shortened by 1 microsecond so that the two stay
distinct. Each of these emits a :class:`UserWarning`. Unlike pynapple, starts and ends
are sorted together as pairs, so per-interval metadata survive sorting (pynapple sorts
starts and ends separately and drops metadata).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from xr_nap.core.metadata import plain_array
from xr_nap.core.search import drop_outside, interval_of, positions_in, ranges  # noqa: F401
from xr_nap.core.time_index import float_seconds
from xr_nap.errors import XrNapError, warn

INTERVAL = "interval"
TOUCH_GAP = 1.0e-6  # pynapple separates touching intervals by this much

__all__ = [
    "interval_set",
    "union",
    "intersect",
    "set_diff",
    "merge_close_intervals",
    "drop_short_intervals",
    "drop_long_intervals",
    "tot_length",
    "in_interval",
    "time_span",
]


# --------------------------------------------------------------------------- helpers
def encode_support(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Interleave ``starts`` and ends into the 1-D ``time_support`` attribute."""
    out = np.empty(2 * len(starts), dtype=np.float64)
    out[0::2] = starts
    out[1::2] = ends
    return out


def _is_canonical(starts: np.ndarray, ends: np.ndarray) -> bool:
    return bool(
        np.all(ends > starts) and np.all(starts[1:] > ends[:-1])
        and np.isfinite(starts).all() and np.isfinite(ends).all()
    )


def bounds(ep: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, ends)`` float64 arrays of an interval set given in any accepted form.

    Accepts an interval-set Dataset, a ``(start, end)`` pair of numbers, a
    ``(starts, ends)`` tuple of sequences, an ``(n, 2)`` array or list of pairs, a
    DataFrame with ``start``/``end`` columns, or a pynapple ``IntervalSet``. Input that
    is not sorted/disjoint is normalised as :func:`interval_set` does.
    """
    if isinstance(ep, xr.Dataset):
        if "start" not in ep or "end" not in ep:
            raise TypeError(
                f"expected an interval set with 'start' and 'end', got variables "
                f"{sorted(map(str, ep.data_vars))}"
            )
        starts = np.asarray(ep["start"].values, dtype=np.float64).reshape(-1)
        ends = np.asarray(ep["end"].values, dtype=np.float64).reshape(-1)
        if _is_canonical(starts, ends):
            return starts, ends
    if isinstance(ep, xr.DataArray):
        raise TypeError("expected an interval set, got a DataArray (a time series?)")
    ds = interval_set(ep)
    return ds["start"].values, ds["end"].values


def _seconds(values: Any, what: str) -> np.ndarray:
    """Interval bounds as a 1-D float64 array of seconds, or a clear error."""
    return np.atleast_1d(float_seconds(values, f"interval {what}")).reshape(-1)


def _threshold(value: Any) -> float:
    value = float(value)
    if np.isnan(value):
        raise XrNapError("threshold must be a number of seconds, got NaN")
    return value


def _metadata_frame(metadata: Any, n: int) -> pd.DataFrame:
    if metadata is None:
        return pd.DataFrame(index=range(n))
    frame = metadata if isinstance(metadata, pd.DataFrame) else pd.DataFrame(dict(metadata))
    if len(frame) != n:
        raise ValueError(f"metadata has {len(frame)} rows for {n} intervals")
    for key in frame.columns:
        if key in ("start", "end"):
            raise ValueError(f"metadata name {key!r} is reserved")
    return frame.reset_index(drop=True)


def _dataset(starts: np.ndarray, ends: np.ndarray, meta: pd.DataFrame | None) -> xr.Dataset:
    data_vars = {
        "start": xr.Variable(INTERVAL, starts, attrs={"units": "s"}),
        "end": xr.Variable(INTERVAL, ends, attrs={"units": "s"}),
    }
    if meta is not None:
        for key in meta.columns:
            data_vars[str(key)] = xr.Variable(INTERVAL, plain_array(meta[key].to_numpy()))
    return xr.Dataset(data_vars, attrs={"nap_type": "IntervalSet"})


def _as_pairs(start: Any, end: Any) -> tuple[np.ndarray, np.ndarray, Any]:
    """Turn the many accepted inputs into (starts, ends, metadata)."""
    metadata = None
    if end is None:
        if isinstance(start, xr.Dataset):
            meta = {k: start[k].values for k in start.data_vars if k not in ("start", "end")
                    and start[k].dims == (INTERVAL,)}
            return start["start"].values, start["end"].values, meta or None
        if isinstance(start, pd.DataFrame):
            if "start" not in start.columns or "end" not in start.columns:
                raise ValueError("a DataFrame needs 'start' and 'end' columns")
            rest = start.drop(columns=["start", "end"])
            return start["start"].to_numpy(), start["end"].to_numpy(), (
                rest if len(rest.columns) else None)
        if hasattr(start, "start") and hasattr(start, "end") and not isinstance(
            start, (tuple, list, np.ndarray)
        ):  # pynapple IntervalSet or similar
            return np.asarray(start.start), np.asarray(start.end), None
        if isinstance(start, tuple) and len(start) == 2 and np.ndim(start[0]) == 1:
            return start[0], start[1], None  # a (starts, ends) tuple of sequences
        arr = np.asarray(start, dtype=np.float64)
        if arr.size == 0:
            return np.empty(0), np.empty(0), None
        if arr.ndim == 1 and arr.size == 2:
            arr = arr.reshape(1, 2)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(
                f"cannot read intervals from shape {arr.shape}: give start and end, "
                "a (start, end) pair or an (n, 2) array"
            )
        return arr[:, 0], arr[:, 1], None
    return start, end, metadata


# --------------------------------------------------------------------------- construction
def interval_set(
    start: Any,
    end: Any = None,
    metadata: Mapping[str, Any] | pd.DataFrame | None = None,
) -> xr.Dataset:
    """Build an interval set (pynapple ``IntervalSet``) as a Dataset.

    Parameters
    ----------
    start, end : float or array-like
        Interval bounds in seconds. With ``end=None``, ``start`` may be a
        ``(start, end)`` pair, an ``(n, 2)`` array, a DataFrame with ``start``/``end``
        columns (other columns become metadata) or an interval-set Dataset.
    metadata : mapping or DataFrame, optional
        One value per interval for each column.

    Returns
    -------
    xarray.Dataset
        Variables ``start(interval)``, ``end(interval)`` and the metadata.

    Examples
    --------
    >>> import xr_nap as nap
    >>> ep = nap.interval_set([0, 10], [5, 20], metadata={"label": ["a", "b"]})
    >>> ep.start.values, ep.end.values, ep.label.values.tolist()
    (array([ 0., 10.]), array([ 5., 20.]), ['a', 'b'])
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     nap.interval_set([0, 2], [3, 5]).end.values  # overlapping: merged
    array([5.])
    """
    start, end, meta_in = _as_pairs(start, end)
    if metadata is None:
        metadata = meta_in
    starts, ends = _seconds(start, "start"), _seconds(end, "end")
    if starts.size != ends.size:
        raise ValueError(f"{starts.size} starts but {ends.size} ends")
    meta = _metadata_frame(metadata, starts.size)

    nan = np.isnan(starts) | np.isnan(ends)
    if nan.any():
        warn(f"{int(nan.sum())} row(s) with NaN start/end time(s) were dropped.")
        starts, ends, meta = starts[~nan], ends[~nan], meta[~nan].reset_index(drop=True)
    if np.isinf(starts).any() or np.isinf(ends).any():
        raise ValueError("interval bounds must be finite")
    if _is_canonical(starts, ends):
        return _dataset(starts, ends, meta)
    starts, ends, meta = _normalise(starts, ends, meta)
    return _dataset(starts, ends, meta)


def _normalise(
    starts: np.ndarray, ends: np.ndarray, meta: pd.DataFrame | None
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame | None]:
    """Drop empty/reversed intervals, sort, merge overlaps, separate touching ones."""
    messages = []
    empty = ends == starts
    if empty.any():
        messages.append("Some epochs have no duration")
    reversed_ = ends < starts
    if reversed_.any():
        messages.append("Some ends precede the relative start. Dropping them!")
    keep = ~(empty | reversed_)
    starts, ends = starts[keep], ends[keep]
    if meta is not None:
        meta = meta[keep].reset_index(drop=True)
    order = np.argsort(starts, kind="stable")
    if np.any(order != np.arange(order.size)):
        messages.append("start is not sorted. Sorting it.")
        starts, ends = starts[order], ends[order]
        if meta is not None:
            meta = meta.iloc[order].reset_index(drop=True)
    if starts.size:
        run_end = np.maximum.accumulate(ends)
        new = np.ones(starts.size, dtype=bool)
        new[1:] = starts[1:] >= run_end[:-1]
        if not new.all():
            messages.append("Some starts precede the previous end. Joining them!")
            last = np.append(np.flatnonzero(new)[1:] - 1, starts.size - 1)
            starts, ends = starts[new], run_end[last]
            if meta is not None and len(meta.columns):
                messages.append("epochs have changed, dropping metadata.")
            meta = None
        touching = starts[1:] == ends[:-1]
        if touching.any():
            messages.append("Some starts and ends are equal. Removing 1 microsecond!")
            ends = ends.copy()
            ends[:-1][touching] -= TOUCH_GAP
    if messages:
        warn("\n".join(messages))
    return starts, ends, meta


def _metadata_of(ep: xr.Dataset) -> pd.DataFrame:
    cols = {k: ep[k].values for k in ep.data_vars
            if k not in ("start", "end") and ep[k].dims == (INTERVAL,)}
    return pd.DataFrame(cols, index=range(ep.sizes.get(INTERVAL, 0)))


def _as_set(ep: Any) -> xr.Dataset:
    """``ep`` as a canonical interval-set Dataset (metadata kept)."""
    if isinstance(ep, xr.Dataset) and "start" in ep and "end" in ep and _is_canonical(
            np.asarray(ep["start"].values, np.float64), np.asarray(ep["end"].values, np.float64)):
        return ep
    return interval_set(ep)


# --------------------------------------------------------------------------- algebra
def union(a: Any, b: Any) -> xr.Dataset:
    """Set union of two interval sets (metadata dropped, as in pynapple).

    Intervals that overlap or touch are merged: the union of the closed intervals
    ``[0, 1]`` and ``[1, 2]`` is ``[0, 2]``. (pynapple merges touching intervals only
    when they are reached through a chain of overlaps and otherwise separates them
    by 1 microsecond.)

    Examples
    --------
    >>> import xr_nap as nap
    >>> u = nap.union(nap.interval_set(0, 5), nap.interval_set(3, 8))
    >>> u.start.values, u.end.values
    (array([0.]), array([8.]))
    """
    s1, e1 = bounds(a)
    s2, e2 = bounds(b)
    starts, ends = np.concatenate([s1, s2]), np.concatenate([e1, e2])
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    run_end = np.maximum.accumulate(ends) if ends.size else ends
    new = np.ones(starts.size, dtype=bool)
    new[1:] = starts[1:] > run_end[:-1]
    last = np.append(np.flatnonzero(new)[1:] - 1, starts.size - 1) if starts.size else new
    return _dataset(starts[new], run_end[last] if starts.size else ends, None)


def _overlaps(s1, e1, s2, e2):
    """Index pairs (i, j) of intervals of set 1 and set 2 that overlap (strictly)."""
    j_lo = np.searchsorted(e2, s1, side="right")  # first j with e2[j] > s1[i]
    j_hi = np.searchsorted(s2, e1, side="left")  # past the last j with s2[j] < e1[i]
    counts = np.maximum(j_hi - j_lo, 0)
    i = np.repeat(np.arange(s1.size), counts)
    j = ranges(j_lo, np.maximum(j_hi, j_lo))
    return i, j


def intersect(a: Any, b: Any) -> xr.Dataset:
    """Set intersection; metadata of both sets are carried to each piece.

    Examples
    --------
    >>> import xr_nap as nap
    >>> x = nap.intersect(nap.interval_set([0, 10], [5, 20]), nap.interval_set(3, 12))
    >>> x.start.values, x.end.values
    (array([ 3., 10.]), array([ 5., 12.]))
    """
    a, b = _as_set(a), _as_set(b)
    s1, e1 = a["start"].values, a["end"].values
    s2, e2 = b["start"].values, b["end"].values
    i, j = _overlaps(s1, e1, s2, e2)
    m1 = _metadata_of(a).iloc[i].reset_index(drop=True)
    m2 = _metadata_of(b).iloc[j].reset_index(drop=True)
    meta = m1.join(m2[[c for c in m2.columns if c not in m1.columns]])
    return interval_set(np.maximum(s1[i], s2[j]), np.minimum(e1[i], e2[j]), metadata=meta)


def set_diff(a: Any, b: Any) -> xr.Dataset:
    """Set difference ``a - b``; metadata of ``a`` are kept on each remaining piece.

    Examples
    --------
    >>> import xr_nap as nap
    >>> d = nap.set_diff(nap.interval_set(0, 10), nap.interval_set(2, 3))
    >>> d.start.values, d.end.values
    (array([0., 3.]), array([ 2., 10.]))
    """
    a = _as_set(a)
    s2, e2 = bounds(b)
    gaps_s = np.concatenate([[-np.inf], e2])
    gaps_e = np.concatenate([s2, [np.inf]])
    s1, e1 = a["start"].values, a["end"].values
    i, j = _overlaps(s1, e1, gaps_s, gaps_e)
    meta = _metadata_of(a).iloc[i].reset_index(drop=True)
    return interval_set(np.maximum(s1[i], gaps_s[j]), np.minimum(e1[i], gaps_e[j]),
                        metadata=meta)


def merge_close_intervals(ep: Any, threshold: float) -> xr.Dataset:
    """Merge intervals separated by a gap of at most ``threshold`` seconds.

    Examples
    --------
    >>> import xr_nap as nap
    >>> ep = nap.interval_set([0, 5.5, 20], [5, 10, 30])
    >>> nap.merge_close_intervals(ep, 1.0).end.values
    array([10., 30.])
    """
    threshold = _threshold(threshold)
    s, e = bounds(ep)
    if s.size == 0:
        return interval_set(s, e)
    split = (s[1:] - e[:-1]) > threshold
    return interval_set(np.concatenate([s[:1], s[1:][split]]),
                        np.concatenate([e[:-1][split], e[-1:]]))


def drop_short_intervals(ep: Any, threshold: float) -> xr.Dataset:
    """Keep the intervals longer than ``threshold`` seconds (metadata kept)."""
    threshold = _threshold(threshold)
    ep = _as_set(ep)
    return ep.isel({INTERVAL: (ep["end"] - ep["start"]).values > threshold})


def drop_long_intervals(ep: Any, threshold: float) -> xr.Dataset:
    """Keep the intervals shorter than ``threshold`` seconds (metadata kept)."""
    threshold = _threshold(threshold)
    ep = _as_set(ep)
    return ep.isel({INTERVAL: (ep["end"] - ep["start"]).values < threshold})


def tot_length(ep: Any) -> float:
    """Total duration of the intervals, in seconds.

    Examples
    --------
    >>> import xr_nap as nap
    >>> nap.tot_length(nap.interval_set([0, 10], [5, 12]))
    7.0
    """
    s, e = bounds(ep)
    return float(np.sum(e - s))


def time_span(ep: Any) -> xr.Dataset:
    """One interval from the first start to the last end."""
    s, e = bounds(ep)
    return interval_set(s[:1], e[-1:])


def in_interval(ep: Any, t: Any) -> np.ndarray:
    """For each time of ``t``, the index of the interval that holds it, NaN if none.

    ``t`` is an array of times or a time series (its ``time`` coordinate is used).

    Examples
    --------
    >>> import xr_nap as nap
    >>> nap.in_interval(nap.interval_set([0, 10], [5, 20]), [1, 7, 10, 25])
    array([ 0., nan,  1., nan])
    """
    if isinstance(t, xr.DataArray):
        t = t["time"].values
    t = np.asarray(t, dtype=np.float64)
    k, inside = interval_of(t, *bounds(ep))
    return np.where(inside, k, np.nan)
