"""Grouping flat spike lists by unit: the kernels behind reading a TsGroup.

pynapple stores a TsGroup as one flat list of spike times ``t`` with the unit id of
each spike in ``index`` (sorted by time when pynapple wrote it). xr-nap's ragged layout
needs the spikes grouped by unit, each unit in time order, and the spike count of each
unit. :func:`grouped_counts` recognises input that is already in that order (what
xr-nap itself writes) without moving any data; :func:`regroup` reorders anything else.
"""

from __future__ import annotations

import numpy as np

from xr_nap.core.intervals import drop_outside
from xr_nap.errors import TimeAxisError

__all__ = ["grouped_counts", "regroup", "unit_positions", "unit_destinations"]

# Spikes are placed one chunk at a time: a chunk's unit positions, sort order and
# destinations (a few MiB) stay in the CPU cache, where a single sort of millions of
# spikes does not. Up to one chunk, that is a single sort.
CHUNK = 1 << 18


def _position_dtype(n_units: int) -> type[np.integer]:
    # numpy's stable sort of 8- and 16-bit integers is a radix sort
    return np.uint8 if n_units < 2**8 else np.uint16 if n_units < 2**16 else np.int64


def grouped_counts(t: np.ndarray, index: np.ndarray, keys: np.ndarray,
                   starts: np.ndarray, ends: np.ndarray) -> np.ndarray | None:
    """Spike count of each unit when the spikes are already grouped by ascending unit
    id, time-sorted within each unit, all of listed units and inside the support;
    ``None`` otherwise.

    Spike times that pass are finite: comparisons with NaN are false and the support's
    bounds are finite, so no separate ``isfinite`` pass is needed.

    Examples
    --------
    >>> import numpy as np
    >>> t, index = np.array([0.5, 2.0, 1.0]), np.array([1, 1, 3])
    >>> grouped_counts(t, index, np.array([1, 3]), np.array([0.0]), np.array([5.0]))
    array([2, 1])
    """
    if t.size == 0 or not (np.isfinite(starts).all() and np.isfinite(ends).all()):
        return None
    if not np.all(index[1:] >= index[:-1]):
        return None
    first = np.searchsorted(index, keys, side="left")
    counts = np.searchsorted(index, keys, side="right") - first
    if int(counts.sum()) != t.size:
        return None
    rising = t[1:] >= t[:-1]
    rising[first[(first > 0) & (counts > 0)] - 1] = True  # a unit may begin lower
    if not rising.all():
        return None
    if starts.size == 1:  # each unit's first and last spike bound all of them
        nonempty = counts > 0
        lo, hi = t[first[nonempty]], t[first[nonempty] + counts[nonempty] - 1]
        return counts if starts[0] <= lo.min() and hi.max() <= ends[0] else None
    slot = np.minimum(np.searchsorted(ends, t, side="left"), max(ends.size - 1, 0))
    if ends.size == 0 or not np.all((starts[slot] <= t) & (t <= ends[slot])):
        return None
    return counts


def regroup(t: np.ndarray, index: np.ndarray, keys: np.ndarray, starts: np.ndarray,
            ends: np.ndarray, data: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Spikes (and their ``data``) grouped by unit, each unit in time order, and the
    spike count of each unit of the sorted ``keys``.

    Spikes of unit ids not in ``keys`` or outside the support ``[starts, ends]`` are
    dropped, as pynapple does.

    Raises
    ------
    TimeAxisError
        If a spike time is not finite.

    Examples
    --------
    >>> import numpy as np
    >>> t, index = np.array([0.5, 1.0, 2.0, 3.0]), np.array([3, 1, 3, 7])
    >>> regroup(t, index, np.array([1, 3]), np.array([0.0]), np.array([5.0]))[:2]
    (array([1. , 0.5, 2. ]), array([1, 2]))
    """
    by_time = bool(np.all(t[1:] >= t[:-1]))  # pynapple's own layout; false at any NaN
    finite = np.isfinite(t[[0, -1]]).all() if by_time and t.size else np.isfinite(t).all()
    if not finite:
        raise TimeAxisError("spike times must be finite")
    pos, all_known = unit_positions(keys, index)
    if by_time:  # a few searchsorted calls on the bounds
        inside = drop_outside(t, starts, ends)
        keep = None
        if inside is not None:
            keep = np.zeros(t.size, dtype=bool)
            keep[inside] = True
    else:
        slot = np.searchsorted(ends, t, side="left")
        keep = slot < ends.size
        keep[keep] = starts[slot[keep]] <= t[keep]
    if not all_known:
        keep = pos < keys.size if keep is None else keep & (pos < keys.size)
    if keep is not None and not keep.all():
        t, pos = t[keep], pos[keep]
        data = None if data is None else data[keep]
    if not by_time or t.size <= CHUNK:  # a lexsort, or one radix argsort of positions
        order = np.lexsort((t, pos)) if not by_time else np.argsort(pos, kind="stable")
        counts = np.bincount(pos, minlength=keys.size)
        return t[order], counts, None if data is None else data[order]
    dest, counts = unit_destinations(pos, keys.size)
    spikes = np.empty_like(t)
    spikes[dest] = t
    if data is not None:
        grouped = np.empty_like(data)
        grouped[dest] = data
        data = grouped
    return spikes, counts, data


def unit_destinations(pos: np.ndarray, n_units: int, chunk: int | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Where each spike goes when spikes are grouped by unit, keeping their order.

    A stable counting sort done one chunk at a time (a radix argsort of each chunk's
    small unit positions). Returns the destinations and the spike count of each unit.

    Examples
    --------
    >>> import numpy as np
    >>> unit_destinations(np.array([1, 0, 1, 0]), 2)
    (array([2, 0, 3, 1]), array([2, 2]))
    """
    chunk = chunk or CHUNK
    small = pos.astype(_position_dtype(n_units), copy=False)
    counts = np.bincount(small, minlength=n_units)
    dest = np.empty(pos.size, dtype=np.int64)
    cursor = np.cumsum(counts) - counts
    for a in range(0, pos.size, chunk):
        part = small[a:a + chunk]
        order = np.argsort(part, kind="stable")
        part_counts = np.bincount(part, minlength=n_units)
        first = np.cumsum(part_counts) - part_counts  # each unit's start in the chunk
        dest[a + order] = np.repeat(cursor - first, part_counts) + np.arange(part.size)
        cursor += part_counts
    return dest, counts


def unit_positions(keys: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, bool]:
    """Position in the sorted ``keys`` of each spike's unit id (``keys.size`` for ids
    not in ``keys``), in the smallest integer type that holds them, and whether every
    id is known.

    Examples
    --------
    >>> import numpy as np
    >>> unit_positions(np.array([2, 5, 9]), np.array([5, 9, 4]))
    (array([1, 2, 3], dtype=uint8), False)
    """
    n = keys.size
    small = _position_dtype(n)
    if n == 0 or index.size == 0:
        return np.full(index.size, n, dtype=small), index.size == 0
    lo, hi = keys[0], keys[-1]
    if keys.dtype.kind in "iu" and index.dtype.kind in "iu":
        span = int(hi) - int(lo)
        if span == n - 1 and lo <= index.min() and index.max() <= hi:
            # ids lo..hi, all listed (the usual case): the position is the id's offset
            return (index - lo if lo else index).astype(small), True
        if span < index.size + n:
            # a lookup table no larger than the arrays already held beats a search
            table = np.full(span + 1, n, dtype=small)
            table[keys - lo] = np.arange(n)
            known = (index >= lo) & (index <= hi)
            if known.all():
                pos = table[index - lo]
            else:
                pos = np.full(index.size, n, dtype=small)
                pos[known] = table[index[known] - lo]
            return pos, bool((pos < n).all())
    pos = np.searchsorted(keys, index)
    found = pos < n
    found[found] = keys[pos[found]] == index[found]
    return np.where(found, pos, n).astype(small), bool(found.all())
