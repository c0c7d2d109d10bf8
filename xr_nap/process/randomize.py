"""Surrogate spike trains (pynapple 0.11 ``shift_timestamps``, ``jitter_timestamps``,
``resample_timestamps``, ``shuffle_ts_intervals``).

Each function takes a Ts (DataArray) or a TsGroup (Dataset) and returns the same kind,
unit metadata kept. Random numbers come from ``rng``: by default numpy's global random
state, drawn in the same order and amounts as pynapple, so ``np.random.seed(s)`` before
either library gives the same surrogate; an int seed or a :class:`numpy.random.Generator`
gives a reproducible stream of its own.

A TsGroup built from new spike trains without a given support gets pynapple's default:
the union of the units' ``[first, last spike]`` spans.

Difference from pynapple 0.11, on purpose: ``resample_timestamps`` on a TsGroup draws
uniformly over every epoch of its time support (pynapple draws in the first epoch only,
so with several epochs every spike lands in the first one). With one epoch the draws
are pynapple's.
"""

from __future__ import annotations

from numbers import Number
from typing import Any

import numpy as np
import xarray as xr

from xr_nap.core.intervals import ranges
from xr_nap.core.search import inside
from xr_nap.core.time_series import (
    UNIT,
    _ragged_flat,
    nap_type,
    support_bounds,
    times,
    ts,
    unit_offsets,
)

__all__ = ["shift_timestamps", "jitter_timestamps", "resample_timestamps",
           "shuffle_ts_intervals"]


# --------------------------------------------------------------------------- helpers
def _random(rng: Any) -> Any:
    """numpy's global random state (pynapple's source) or a generator of its own."""
    if rng is None:
        return np.random  # the module's functions draw from the global state
    if isinstance(rng, np.random.Generator | np.random.RandomState):
        return rng
    return np.random.default_rng(rng)


def _kind(obj: Any) -> str:
    kind = nap_type(obj) if isinstance(obj, xr.DataArray | xr.Dataset) else None
    if kind not in ("Ts", "TsGroup"):
        raise TypeError("Invalid input type, should be Ts or TsGroup")
    return kind


def _ragged(obj: Any, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Spike times (unit after unit) and the offsets of each unit (one unit for a Ts)."""
    if kind == "Ts":
        t = times(obj)
        return t, np.array([0, t.size])
    return np.asarray(obj["spike_time"].values, dtype=np.float64), unit_offsets(obj)


def _metadata(group: xr.Dataset) -> dict[str, np.ndarray]:
    return {str(k): v.values for k, v in group.data_vars.items()
            if v.dims == (UNIT,) and k not in ("row_size", "rate")}


def _span_union(t: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pynapple's default TsGroup support: the union of each unit's [first, last]
    span (a unit with fewer than two distinct times has no span)."""
    sizes = np.diff(offsets)
    has = sizes > 0
    firsts = t[offsets[:-1][has]]
    lasts = t[offsets[1:][has] - 1]
    keep = lasts > firsts
    firsts, lasts = firsts[keep], lasts[keep]
    order = np.argsort(firsts, kind="stable")
    firsts, lasts = firsts[order], lasts[order]
    if firsts.size == 0:
        return firsts, lasts
    run_end = np.maximum.accumulate(lasts)
    new = np.ones(firsts.size, dtype=bool)
    new[1:] = firsts[1:] > run_end[:-1]
    last = np.append(np.flatnonzero(new)[1:] - 1, firsts.size - 1)
    return firsts[new], run_end[last]


def _build(obj: Any, kind: str, t: np.ndarray, offsets: np.ndarray,
           support: tuple[np.ndarray, np.ndarray] | None) -> Any:
    """The surrogate as ``obj``'s kind: spikes outside ``support`` dropped (``None``:
    pynapple's default support for new trains)."""
    if support is None:
        starts, ends = _span_union(t, offsets) if kind == "TsGroup" else \
            (t[:1], t[-1:]) if t.size and t[-1] > t[0] else (np.empty(0), np.empty(0))
    else:
        starts, ends = support
    if kind == "Ts":
        return ts(t, time_support=(starts, ends) if starts.size else None, name=obj.name)
    unit = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
    keep = inside(t, starts, ends)
    counts = np.bincount(unit[keep], minlength=offsets.size - 1)
    return _ragged_flat(obj[UNIT].values, t[keep], counts, starts, ends, _metadata(obj))


def _sort_units(t: np.ndarray, offsets: np.ndarray, kind: str = "quicksort") -> np.ndarray:
    """Sort the times of each unit (units stay in place). ``kind="stable"`` (timsort)
    is many times faster on nearly sorted times, e.g. jittered ones."""
    out = t.copy()
    for a, b in zip(offsets[:-1], offsets[1:], strict=True):
        out[a:b].sort(kind=kind)
    return out


# --------------------------------------------------------------------------- API
def shift_timestamps(
    data: xr.DataArray | xr.Dataset,
    min_shift: float = 0.0,
    max_shift: float | None = None,
    mode: str = "drop",
    *,
    rng: Any = None,
) -> xr.DataArray | xr.Dataset:
    """Shift all the times of a Ts (or of each unit of a TsGroup, independently) by a
    random amount between ``min_shift`` and ``max_shift`` (pynapple
    ``shift_timestamps``).

    Parameters
    ----------
    data : Ts DataArray or TsGroup Dataset
    min_shift, max_shift : float
        Seconds; ``max_shift`` defaults to the total length of the time support.
    mode : {"drop", "wrap"}
        Times that leave the support are dropped, or wrapped around from the end of
        its last epoch to the start of its first (times then falling in a gap
        between epochs are still dropped).
    rng : None, int or numpy Generator, keyword only
        Source of randomness (see the module notes).

    Returns
    -------
    Same kind as ``data``, same time support.

    Examples
    --------
    >>> import xr_nap as nap
    >>> s = nap.ts([38.0, 39.5], time_support=(0, 40))
    >>> nap.shift_timestamps(s, 5, 5, mode="wrap").values
    array([3. , 4.5])
    """
    if not isinstance(min_shift, Number) or isinstance(min_shift, bool):
        raise TypeError("min_shift should be a number.")
    if max_shift is not None and (not isinstance(max_shift, Number) or
                                  isinstance(max_shift, bool)):
        raise TypeError("max_shift should be a number.")
    if mode not in ("drop", "wrap"):
        raise ValueError("mode must be either 'drop' or 'wrap'.")
    kind = _kind(data)
    starts, ends = support_bounds(data)
    if max_shift is None:
        max_shift = float(np.sum(ends - starts))
    t, offsets = _ragged(data, kind)
    sizes = np.diff(offsets)
    shift = _random(rng).uniform(min_shift, max_shift, size=sizes.size)
    t = t + np.repeat(shift, sizes)
    if mode == "wrap" and starts.size:
        start, period = starts[0], ends[-1] - starts[0]
        t = start + ((t - start) % period)
        t = t[_rotation(t, offsets)]
    return _build(data, kind, t, offsets, (starts, ends))


def _rotation(t: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Order that sorts each unit of ``t`` after a wrap: each unit's run is increasing
    but for at most one drop, so the part after the drop goes first."""
    drop = np.flatnonzero(t[1:] < t[:-1]) + 1
    unit_of = np.searchsorted(offsets, drop, side="right") - 1
    split = offsets[:-1].copy()
    inside = drop < offsets[unit_of + 1]  # a drop between two units is no wrap
    split[unit_of[inside]] = drop[inside]
    lo = np.empty(2 * split.size, dtype=np.int64)
    hi = np.empty(2 * split.size, dtype=np.int64)
    lo[0::2], hi[0::2] = split, offsets[1:]
    lo[1::2], hi[1::2] = offsets[:-1], split
    return ranges(lo, hi)


def jitter_timestamps(
    ts: xr.DataArray | xr.Dataset,
    max_jitter: float | None = None,
    keep_tsupport: bool = False,
    *,
    rng: Any = None,
) -> xr.DataArray | xr.Dataset:
    """Move each time by a random amount drawn uniformly in ``[-max_jitter,
    max_jitter]`` (pynapple ``jitter_timestamps``).

    Parameters
    ----------
    ts : Ts DataArray or TsGroup Dataset
    max_jitter : float
        Seconds (required).
    keep_tsupport : bool
        Keep the time support (times that leave it are dropped), or take the span of
        the jittered times (every time kept).
    rng : None, int or numpy Generator, keyword only

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> s = nap.jitter_timestamps(nap.ts(np.arange(10.0)), 0.1, rng=0)
    >>> s.sizes["time"], bool(np.all(np.abs(s.values - np.arange(10.0)) <= 0.1))
    (10, True)
    """
    kind = _kind(ts)
    if max_jitter is None:
        raise TypeError("missing required argument: max_jitter ")
    t, offsets = _ragged(ts, kind)
    t = _sort_units(t + _random(rng).uniform(-max_jitter, max_jitter, t.size), offsets,
                    kind="stable")
    return _build(ts, kind, t, offsets, support_bounds(ts) if keep_tsupport else None)


def resample_timestamps(
    ts: xr.DataArray | xr.Dataset, *, rng: Any = None
) -> xr.DataArray | xr.Dataset:
    """Draw as many times as there are, uniformly (pynapple ``resample_timestamps``).

    A Ts draws between its first and last time (then keeps those inside its time
    support); each unit of a TsGroup draws over the whole time support of the group
    (pynapple: its first epoch only, see the module notes).

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> g = nap.ts_group({1: np.arange(0.0, 10.0), 2: [0.5, 9.5]}, time_support=(0, 10))
    >>> r = nap.resample_timestamps(g, rng=1)
    >>> r.row_size.values, bool(((r.spike_time >= 0) & (r.spike_time <= 10)).all())
    (array([10,  2]), True)
    """
    kind = _kind(ts)
    t, offsets = _ragged(ts, kind)
    starts, ends = support_bounds(ts)
    gen = _random(rng)
    if kind == "Ts":
        new = gen.uniform(t[0], t[-1], t.size) if t.size else t
    elif starts.size == 1:
        new = gen.uniform(starts[0], ends[0], t.size)
    else:  # uniform over the total length, then laid out epoch after epoch
        cum = np.concatenate([[0.0], np.cumsum(ends - starts)])
        u = gen.uniform(0.0, cum[-1], t.size)
        k = np.clip(np.searchsorted(cum, u, side="right") - 1, 0, starts.size - 1)
        new = starts[k] + (u - cum[k])
    return _build(ts, kind, _sort_units(new, offsets), offsets, (starts, ends))


def shuffle_ts_intervals(
    ts: xr.DataArray | xr.Dataset, *, rng: Any = None
) -> xr.DataArray | xr.Dataset:
    """Shuffle the intervals between consecutive times (of each unit), keeping the
    first time (pynapple ``shuffle_ts_intervals``). The time support becomes the span
    of the new times (pynapple's default); a unit without spikes stays empty
    (pynapple fails on it).

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> s = nap.shuffle_ts_intervals(nap.ts([0.0, 1.0, 3.0, 6.0]), rng=0)
    >>> s.values[0], s.values[-1], sorted(np.diff(s.values).tolist())
    (np.float64(0.0), np.float64(6.0), [1.0, 2.0, 3.0])
    """
    kind = _kind(ts)
    t, offsets = _ragged(ts, kind)
    gen = _random(rng)
    out = np.empty_like(t)
    for a, b in zip(offsets[:-1], offsets[1:], strict=True):
        if b > a:  # pynapple's draws, unit after unit
            steps = gen.permutation(np.diff(t[a:b]))
            out[a:b] = np.hstack([t[a], t[a] + np.cumsum(steps)])
    return _build(ts, kind, out, offsets, None)
