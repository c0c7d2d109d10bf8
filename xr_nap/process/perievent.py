"""Aligning time series to events (pynapple 0.11 ``compute_perievent``).

Spikes (a Ts) aligned to events give a ragged TsGroup Dataset with one "unit" per
event (its times relative to the event, metadata ``events``); a TsGroup gives a dict
unit -> such Dataset. A continuous series gives a DataArray ``(time, event, ...)``: the
window of samples around the sample closest to each event, NaN where the window leaves
the series' epoch. Only the rows inside the windows are read, block by block, so a
lazy series is never loaded whole.

Difference from pynapple 0.11: irregularly sampled series are accepted (the lag grid
uses the first time step, as pynapple does); pynapple raises.
"""

from __future__ import annotations

from numbers import Number
from typing import Any

import numpy as np
import xarray as xr

from xr_nap.core.blocks import Reduction, reduce_time
from xr_nap.core.intervals import bounds
from xr_nap.core.search import closest_rows, epoch_rows, positions_in, ranges
from xr_nap.core.time_index import time_index
from xr_nap.core.time_series import (
    TIME,
    _ragged_dataset,
    as_time_array,
    nap_type,
    series,
    support_bounds,
    times,
    ts,
    tsd,
    unit_spike_times,
)
from xr_nap.errors import check_output_size

__all__ = ["perievent", "compute_perievent", "compute_perievent_continuous"]

EVENT = "event"
_UNIT_SCALE = {"s": 1.0, "ms": 1e-3, "us": 1e-6}


def to_seconds(x: Any, time_unit: str) -> np.ndarray:
    """``x`` in seconds, rounded as pynapple does (9 decimals) for ms/us."""
    if time_unit not in _UNIT_SCALE:
        raise ValueError(f"time_unit should be 's', 'ms' or 'us', got {time_unit!r}")
    x = np.asarray(x, dtype=np.float64)
    return x if time_unit == "s" else np.around(x * _UNIT_SCALE[time_unit], 9)


def as_window(window: Any, time_unit: str = "s") -> np.ndarray:
    """``(before, after)`` in seconds, both >= 0, from a number or a pair (signs ignored)."""
    if isinstance(window, Number):
        window = (window, window)
    try:
        pair = np.asarray(window, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"window should be a number or a pair of numbers, got {window!r}") \
            from err
    if pair.shape != (2,) or not np.isfinite(pair).all():
        raise ValueError(f"window should be a number or a pair of numbers, got {window!r}")
    return np.abs(to_seconds(pair, time_unit))


def lag_grid(before: float, after: float, step: float) -> tuple[np.ndarray, int, int]:
    """pynapple's lag axis: ``n0`` steps before 0, 0, ``n1`` steps after."""
    check_output_size((before + after) / step + 3, 8 * 4, f"a window of ({before:.6g}, "
                      f"{after:.6g}) s in steps of {step:.3g} s", "use a shorter window or "
                      "a larger step")
    left = -np.arange(0, before + step, step)[::-1][:-1]
    right = np.arange(0, after + step, step)[1:]
    return np.concatenate([left, [0.0], right]), left.size, right.size


def _event_times(events: Any) -> np.ndarray:
    if isinstance(events, xr.DataArray):
        nap_type(events)
        return times(events)
    if isinstance(events, xr.Dataset):
        raise TypeError("events should be a time series (Ts/Tsd/...), not a Dataset")
    return as_time_array(np.sort(np.asarray(events, dtype=np.float64).reshape(-1)),
                         "event times")


def perievent(
    data: xr.DataArray | xr.Dataset,
    events: Any,
    window: float | tuple[float, float],
    time_unit: str = "s",
    epochs: Any = None,
) -> xr.Dataset | xr.DataArray | dict[Any, xr.Dataset]:
    """Align ``data`` to the times of ``events`` over ``window`` (pynapple 0.11).

    Parameters
    ----------
    data : DataArray or Dataset
        A Ts (spikes), a TsGroup, or a Tsd/TsdFrame/TsdTensor (continuous).
    events : DataArray or array-like
        Event times (a time series's own times are used).
    window : float or (float, float)
        Seconds before and after each event (signs ignored).
    time_unit : {"s", "ms", "us"}
        Unit of ``window``.
    epochs : interval set, optional
        Only events inside are used. Default: the time support of ``data``.

    Returns
    -------
    Dataset, dict of Dataset, or DataArray
        Ts -> ragged TsGroup Dataset (unit = event number, variable ``events``,
        time support ``[-before, after]``); TsGroup -> dict unit -> that;
        continuous -> DataArray ``(time, event, ...)`` with lag times and the event
        times as ``event`` coordinate, named as ``data`` (``perievent`` if unnamed),
        with its ``units``.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> spikes = nap.ts([0.5, 1.2, 2.1, 3.5, 4.8])
    >>> p = nap.perievent(spikes, nap.ts([1.0, 3.0]), 1.0)
    >>> p.spike_time.values.round(2).tolist(), p.row_size.values.tolist()
    ([-0.5, 0.2, -0.9, 0.5], [2, 2])
    >>> x = nap.tsd(np.arange(0, 10, 0.5), np.arange(20.0))
    >>> nap.perievent(x, nap.ts([2.0, 5.0]), 1.0).values[:, 0]
    array([2., 3., 4., 5., 6.])
    """
    before, after = as_window(window, time_unit)
    data = series(data)
    kind = nap_type(data)
    if kind == "TsGroup":
        return {uid: perievent(_single_ts(t, data), events, (before, after), "s", epochs)
                for uid, t in unit_spike_times(data)}
    if kind == "IntervalSet":
        raise TypeError("data should be a time series or a TsGroup, not an interval set")
    starts, ends = support_bounds(data) if epochs is None else bounds(epochs)
    ev = _event_times(events)
    ev = ev[positions_in(ev, starts, ends)]
    if kind == "Ts":
        return _align_spikes(times(data), ev, before, after)
    return _align_continuous(data, ev, before, after)


def _single_ts(t: np.ndarray, group: xr.Dataset) -> xr.DataArray:
    return ts(t, time_support=support_bounds(group))


def _align_spikes(t: np.ndarray, ev: np.ndarray, before: float, after: float) -> xr.Dataset:
    lo = np.searchsorted(t, ev - before, side="left")
    hi = np.searchsorted(t, ev + after, side="right")
    shifted = t[ranges(lo, hi)] - np.repeat(ev, hi - lo)
    which = np.repeat(np.arange(ev.size), hi - lo)
    keep = (shifted >= -before) & (shifted <= after)  # float round-off at the edges
    shifted, sizes = shifted[keep], np.bincount(which[keep], minlength=ev.size)
    trains = np.split(shifted, np.cumsum(sizes)[:-1]) if ev.size else []
    out = _ragged_dataset(np.arange(ev.size), trains, np.array([-before]), np.array([after]),
                          {"events": ev})
    out["events"].attrs.update(units="s", long_name="event time")
    out["spike_time"].attrs["long_name"] = "spike time from the event"
    return out


def _align_continuous(data: xr.DataArray, ev: np.ndarray, before: float, after: float):
    t = time_index(data)  # a lazy time index stays lazy
    if t.size < 2:
        raise ValueError("perievent needs a continuous series with at least 2 samples")
    first_two = t.times_at([0, 1])
    step = float(first_two[1] - first_two[0])
    if step <= 0:
        raise ValueError(f"perievent takes its lag step from the first two samples, which "
                         f"are both at {float(first_two[0])!r} s; drop the repeated time "
                         "first")
    lags, n0, n1 = lag_grid(before, after, step)
    s, e = support_bounds(data)
    elo, ehi = epoch_rows(t, s, e)
    ev = ev[positions_in(ev, s, e)]
    if ev.size == 0:
        raise ValueError("No overlap between input and epochs, perievent matrix is empty...")
    k = np.searchsorted(s, ev, side="right") - 1  # epoch of each event
    j = closest_rows(ev, t, s, e)
    # each event's window of rows, cut at its epoch; lag index of its first row
    win_lo = np.maximum(j - n0, elo[k])
    win_hi = np.maximum(np.minimum(j + n1 + 1, ehi[k]), win_lo)
    lag0 = win_lo - (j - n0)
    out = _windows(data, win_lo, win_hi, lag0, lags.size)
    coords = {EVENT: xr.Variable(EVENT, ev, attrs={"units": "s"})}
    coords.update({c: v for c, v in data.coords.items() if TIME not in v.dims})
    # pynapple's support [-before, after] drops lags that round-off put outside it
    units = {"units": str(data.attrs["units"])} if "units" in data.attrs else {}
    return tsd(lags, out, time_support=(-before, after), dims=(TIME, EVENT, *data.dims[1:]),
               coords=coords, name=data.name or "perievent", attrs=units)


compute_perievent = perievent


def _windows(data: xr.DataArray, lo: np.ndarray, hi: np.ndarray, lag0: np.ndarray,
             n_lags: int) -> np.ndarray:
    """``out[lag0[e] + i, e] = data[lo[e] + i]`` for ``i < hi[e] - lo[e]``, NaN elsewhere.

    The windows (sorted by ``lo``, possibly overlapping) are read block by block and
    copied into ``out`` as each block arrives, so memory is the result plus a block.
    """
    dtype = np.result_type(data.dtype, np.float64)
    out = np.full((n_lags, lo.size, *data.shape[1:]), np.nan, dtype=dtype)
    reach = np.maximum.accumulate(hi) if hi.size else hi  # sorted: first window in reach

    def chunk(block: np.ndarray, c0: int) -> list:
        c1 = c0 + block.shape[0]
        first = int(np.searchsorted(reach, c0, side="right"))
        last = int(np.searchsorted(lo, c1, side="left"))
        parts = []
        for ev in range(first, last):
            a, b = max(int(lo[ev]), c0), min(int(hi[ev]), c1)
            if b > a:
                parts.append((ev, int(lag0[ev]) + a - int(lo[ev]), block[a - c0:b - c0]))
        return parts

    def write(a: list, b: list) -> list:
        for ev, lag, values in a + b:
            out[lag:lag + values.shape[0], ev] = values
        return []

    if lo.size and (hi > lo).any():  # nothing between the windows is read
        reduce_time(data, Reduction(chunk, write, lambda rest: write(rest or [], [])),
                    int(lo.min()), int(hi.max()), rows=_merged(lo, reach))
    return out


def _merged(lo: np.ndarray, reach: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted, overlapping windows ``[lo, reach)`` as disjoint runs."""
    new = np.ones(lo.size, dtype=bool)
    new[1:] = lo[1:] > reach[:-1]
    last = np.append(np.flatnonzero(new)[1:] - 1, lo.size - 1)
    return lo[new], reach[last]


def compute_perievent_continuous(
    data: xr.DataArray, events: Any, window: float | tuple[float, float],
    time_unit: str = "s", epochs: Any = None,
) -> xr.DataArray:
    """:func:`perievent` for continuous data (the removed pynapple function's name).

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> x = nap.tsd(np.arange(10.0), np.arange(10.0))
    >>> nap.compute_perievent_continuous(x, nap.ts([0.0]), 2).values[:, 0]
    array([nan, nan,  0.,  1.,  2.])
    """
    if nap_type(data) not in ("Tsd", "TsdFrame", "TsdTensor"):
        raise TypeError("compute_perievent_continuous needs a Tsd, TsdFrame or TsdTensor")
    return perievent(data, events, window, time_unit, epochs)

