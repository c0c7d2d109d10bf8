"""Searches of sorted times: the primitives every xr-nap function shares.

``t`` (the times searched) is a sorted float64 array or a
:class:`~xr_nap.core.time_index.TimeIndex`; both have ``searchsorted(values, side)``,
so a rate-based index answers from its rate and is never expanded. Intervals are
closed (``start <= t <= end``), sorted and disjoint, given as ``starts``/``ends``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "epoch_rows",
    "ranges",
    "positions_in",
    "drop_outside",
    "interval_of",
    "inside",
    "closest_rows",
    "unit_index",
    "rates",
]


def epoch_rows(t: Any, starts: np.ndarray, ends: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Row ranges ``[lo, hi)`` of the sorted times ``t`` inside each closed interval."""
    return (np.asarray(t.searchsorted(starts, side="left"), dtype=np.int64),
            np.asarray(t.searchsorted(ends, side="right"), dtype=np.int64))


def ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(lo[i], hi[i])`` for all i, without a Python loop.

    Examples
    --------
    >>> ranges(np.array([0, 5]), np.array([2, 8]))
    array([0, 1, 5, 6, 7])
    """
    lo = np.asarray(lo, np.int64)
    lengths = np.maximum(np.asarray(hi, np.int64) - lo, 0)
    used = lengths > 0
    lo, lengths = lo[used], lengths[used]
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    # steps of one, with a jump where each range starts: one array, summed in place
    out = np.ones(total, dtype=np.int64)
    first = np.cumsum(lengths) - lengths
    out[first[1:]] = lo[1:] - (lo[:-1] + lengths[:-1] - 1)
    out[0] = lo[0]
    return np.cumsum(out, out=out)


def positions_in(t: Any, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Positions of the sorted times ``t`` inside some interval."""
    return ranges(*epoch_rows(t, starts, ends))


def drop_outside(t: Any, starts: np.ndarray, ends: np.ndarray) -> np.ndarray | None:
    """Like :func:`positions_in`, but ``None`` when every time is already inside."""
    lo, hi = epoch_rows(t, starts, ends)
    if int(np.sum(np.maximum(hi - lo, 0))) == len(t):
        return None
    return ranges(lo, hi)


def interval_of(t: np.ndarray, starts: np.ndarray, ends: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """For (not necessarily sorted) times ``t``: the index of the last interval starting
    at or before each time, and whether the time lies inside that interval."""
    k = np.searchsorted(starts, t, side="right") - 1
    if starts.size == 0:
        return k, np.zeros(np.shape(t), dtype=bool)
    return k, (k >= 0) & (t <= ends[np.maximum(k, 0)])


def inside(t: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Boolean mask of the (not necessarily sorted) times ``t`` inside some interval."""
    return interval_of(t, starts, ends)[1]


def _at(tt: Any, positions: np.ndarray) -> np.ndarray:
    return tt.times_at(positions) if hasattr(tt, "times_at") else tt[positions]


def closest_rows(t: np.ndarray, tt: Any, starts: np.ndarray, ends: np.ndarray
                 ) -> np.ndarray:
    """Row of the sorted times ``tt`` closest to each time of ``t`` (any order) inside
    the same interval, the later one on a tie (pynapple's ``value_from`` and
    perievent matching); -1 when ``t`` is outside every interval or its interval has
    no row.

    Examples
    --------
    >>> tt = np.array([0.0, 1.0, 2.0, 3.0])
    >>> closest_rows(np.array([0.4, 0.5, 2.9, 5.0]), tt, np.array([0.0]), np.array([3.0]))
    array([ 0,  1,  3, -1])
    """
    k, inside = interval_of(t, starts, ends)
    safe = np.maximum(k, 0)
    lo, hi = epoch_rows(tt, starts, ends)
    first, last = lo[safe], hi[safe] - 1
    j = np.clip(np.asarray(tt.searchsorted(t, side="left"), dtype=np.int64), first,
                np.maximum(last, first))
    prev = np.maximum(j - 1, first)
    n = len(tt)
    if n:
        earlier = (j > first) & (t - _at(tt, np.minimum(prev, n - 1))
                                 < _at(tt, np.minimum(j, n - 1)) - t)
        j = np.where(earlier, prev, j)
    return np.where(inside & (last >= first), j, -1)


def unit_index(offsets: np.ndarray) -> np.ndarray:
    """The unit (0..n-1) of each spike of a ragged group, from its row offsets."""
    return np.repeat(np.arange(offsets.size - 1), np.diff(offsets))


def rates(counts: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Events per second of support (pynapple's ``rate``); NaN without support."""
    length = float(np.sum(ends - starts))
    return counts / length if length > 0 else np.full(np.shape(counts), np.nan)
