"""Correlograms and inter-spike-interval distributions (pynapple 0.11
``compute_autocorrelogram``, ``compute_crosscorrelogram``, ``compute_eventcorrelogram``,
``compute_isi_distribution``).

A correlogram counts, for every reference spike, the target spikes at each lag bin
around it. Bins follow pynapple exactly: ``nbins = (2 * windowsize) // binsize``, made
odd; the window half-width is ``w = nbins / 2 * binsize``; for a reference spike at
``t`` the bin edges are ``E_0 = t - w`` and ``E_{j+1} = E_j + binsize`` (added one after
the other, so rounding accumulates as in pynapple), and a target spike ``s`` falls in
bin ``j`` when ``E_j <= s < E_{j+1}``. Counts are divided by ``n_reference * binsize``
(a rate in Hz) and, with ``norm=True``, by the rate of the target.

pynapple walks every bin of every reference spike (work ~ spikes x bins). Here only the
pairs of spikes closer than the window are visited (work ~ spikes + pairs): a pass over
neighbours ``i, i+1, i+2, ...`` of a sorted array whose active set shrinks each step, or
one ``searchsorted`` per reference spike when references and targets differ. The bin of
a pair is computed arithmetically; pairs that lie within rounding distance of an edge
are re-checked against the edges accumulated exactly as pynapple does, so the counts
are the same, not approximately the same. Memory stays bounded by the number of spikes
(pairs are counted block by block).

Results are DataArrays: ``(lag, unit)`` for auto- and event correlograms, ``(lag,
pair)`` for cross-correlograms with the unit ids of each pair in the coordinates
``reference`` and ``target`` (``cc.set_xindex(["reference", "target"])`` makes them
selectable as ``cc.sel(reference=0, target=3)``), ``(isi, unit)`` for ISI
distributions. ``.values`` is laid out as pynapple's DataFrame.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations, product
from numbers import Number
from typing import Any

import numpy as np
import xarray as xr

from xr_nap.core.intervals import bounds
from xr_nap.core.search import inside
from xr_nap.core.time_series import UNIT, nap_type, support_bounds, times, unit_offsets
from xr_nap.errors import OutputSizeError, XrNapError
from xr_nap.process.perievent import to_seconds

__all__ = [
    "compute_autocorrelogram",
    "compute_crosscorrelogram",
    "compute_eventcorrelogram",
    "compute_isi_distribution",
    "autocorrelogram",
    "crosscorrelogram",
    "eventcorrelogram",
    "isi_distribution",
]

LAG = "lag"
PAIR = "pair"
ISI = "isi"
MAX_BINS = 10**7  # more lag bins than this is a unit mistake (ms given as s)
PAIR_BLOCK = 2**18  # spike pairs binned at once


# --------------------------------------------------------------------------- inputs
def _check_group(group: Any, what: str = "group") -> None:
    if not isinstance(group, xr.Dataset) or nap_type(group) != "TsGroup":
        raise TypeError(f"{what} should be a TsGroup Dataset, got {type(group).__name__}")


def _check_types(norm: Any, time_units: Any, **flags: Any) -> None:
    if not isinstance(norm, bool | np.bool_):
        raise TypeError(f"norm should be a bool, got {norm!r}")
    if not isinstance(time_units, str):
        raise TypeError(f"time_units should be a str, got {time_units!r}")
    for name, value in flags.items():
        if not isinstance(value, bool | np.bool_):
            raise TypeError(f"{name} should be a bool, got {value!r}")


def _seconds(value: Any, name: str, time_units: str) -> float:
    if not isinstance(value, Number) or isinstance(value, bool):
        raise TypeError(f"{name} should be a number, got {value!r}")
    out = float(to_seconds(value, time_units))
    if not np.isfinite(out) or out <= 0:
        raise XrNapError(f"{name} should be a positive number, got {value!r}")
    return out


def lag_axis(binsize: float, windowsize: float) -> tuple[int, float, np.ndarray]:
    """pynapple's lag bins: their number (odd), the half-width ``w`` and the centres."""
    nbins = int((windowsize * 2) // binsize)
    if nbins % 2 == 0:
        nbins += 1
    if nbins > MAX_BINS:
        raise OutputSizeError(
            f"windowsize / binsize gives {nbins} lag bins (limit {MAX_BINS}); check the "
            "time_units of binsize and windowsize")
    w = (nbins / 2) * binsize
    centres = (-w + binsize / 2) + np.arange(nbins) * binsize
    return nbins, w, centres


def _epochs(obj: Any, ep: Any) -> tuple[np.ndarray, np.ndarray]:
    return support_bounds(obj) if ep is None else bounds(ep)


def _spikes(group: xr.Dataset, starts: np.ndarray | None, ends: np.ndarray | None):
    """Spike times (ragged, unit after unit), their unit positions and counts per unit,
    restricted to the intervals when given."""
    t = np.asarray(group["spike_time"].values, dtype=np.float64)
    offsets = unit_offsets(group)
    unit = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
    if starts is not None:
        # one interval (the usual case): two comparisons beat a search per spike
        keep = (t >= starts[0]) & (t <= ends[0]) if starts.size == 1 else \
            inside(t, starts, ends)
        if not keep.all():
            t, unit = t[keep], unit[keep]
    counts = np.bincount(unit, minlength=offsets.size - 1)
    return t, unit, counts


def _rates(counts: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    length = float(np.sum(ends - starts))
    with np.errstate(divide="ignore", invalid="ignore"):
        return counts / length if length > 0 else np.full(counts.shape, np.nan)


# --------------------------------------------------------------------------- pairs
def _neighbour_pairs(t: np.ndarray, breaks: np.ndarray, limit: float) -> Iterator[tuple]:
    """Pairs ``(i, k, d, m)`` of the sorted times ``t``: ``k = i + m``, ``d = t[k] - t[i]
    <= limit``, never across a break (a position ``b`` where ``t[b]`` and ``t[b + 1]``
    belong to different runs, e.g. units).

    Offset by offset: ``d`` grows by one step each time, and only the spikes still
    within ``limit`` go on, so the work is the number of spikes plus pairs.
    """
    step = np.full(t.size, np.inf)
    step[:-1] = t[1:] - t[:-1]
    step[breaks] = np.inf
    i = np.flatnonzero(step <= limit)
    d = step[i]
    m = 1
    while i.size:
        for a in range(0, i.size, PAIR_BLOCK):
            yield i[a:a + PAIR_BLOCK], i[a:a + PAIR_BLOCK] + m, d[a:a + PAIR_BLOCK], m
        d = d + step[i + m]  # t[i + m + 1] - t[i]; the last step is +inf
        keep = d <= limit
        i, d = i[keep], d[keep]
        m += 1


def _range_pairs(ref: np.ndarray, lo: np.ndarray, hi: np.ndarray, t_ref: np.ndarray,
                 t_tgt: np.ndarray) -> Iterator[tuple]:
    """Pairs ``(i, k, d, 1)``: reference ``ref[n]`` with every target ``lo[n] <= k <
    hi[n]``, ``d = t_tgt[k] - t_ref[i]``, a block of at most about ``PAIR_BLOCK`` pairs
    at a time."""
    n = np.maximum(hi - lo, 0)
    ends = np.cumsum(n)
    a = 0
    while a < ref.size:
        base = ends[a - 1] if a else 0
        b = max(int(np.searchsorted(ends, base + PAIR_BLOCK, side="right")), a + 1)
        sizes = n[a:b]
        i = np.repeat(ref[a:b], sizes)
        k = np.repeat(lo[a:b] - (np.cumsum(sizes) - sizes), sizes) + np.arange(i.size)
        yield i, k, t_tgt[k] - t_ref[i], 1
        a = b


# --------------------------------------------------------------------------- lag bins
def _forward_bins(d, i, k, t_ref, t_tgt, binsize, nbins, w, tol):
    """Lag bin of each pair (``t_tgt[k]`` around ``t_ref[i]``, lag ``d``) and whether
    it lay within rounding distance of an edge (then it was checked exactly)."""
    x = d + w
    x *= 1.0 / binsize
    j = np.floor(x)
    x -= j  # the position inside the bin
    near = (x <= tol) | (x >= 1 - tol)
    j = j.astype(np.int64)
    if near.any():
        j[near] = _exact_bins(t_ref[i[near]], t_tgt[k[near]], binsize, nbins, w)
    return j, near


def _exact_bins(ref: np.ndarray, tgt: np.ndarray, binsize: float, nbins: int, w: float
                ) -> np.ndarray:
    """Bins against pynapple's own edges: ``E_0 = ref - w``, then ``E_{j+1} = E_j +
    binsize`` added one after the other, ``tgt`` in bin ``j`` when ``E_j <= tgt <
    E_{j+1}`` (-1 or ``nbins`` and beyond: outside the window)."""
    e0 = ref - w
    r = np.rint((tgt - e0) / binsize).astype(np.int64)
    inside = (r >= 0) & (r <= nbins)
    edge = np.full(r.size, np.inf)
    edge[inside] = _accumulated_edges(e0[inside], r[inside], binsize)
    return np.where(tgt >= edge, r, r - 1)


def _accumulated_edges(e0: np.ndarray, r: np.ndarray, binsize: float) -> np.ndarray:
    """``E_r`` for each pair: ``r`` sequential additions of ``binsize`` to ``e0``."""
    out = np.empty(e0.size)
    if e0.size == 0:
        return out
    width = int(r.max()) + 1
    rows = max(2**20 // width, 1)
    for a in range(0, e0.size, rows):
        steps = np.full((min(rows, e0.size - a), width), binsize)
        steps[:, 0] = e0[a:a + rows]
        np.add.accumulate(steps, axis=1, out=steps)  # left to right, as a running sum
        out[a:a + rows] = steps[np.arange(steps.shape[0]), r[a:a + rows]]
    return out


def _histogram(pairs, t_ref, t_tgt, columns, n_cols, binsize, nbins, w, both_ways=False):
    """Counts ``(n_cols, nbins)`` of the pairs by lag bin.

    ``columns(i, k)`` gives each pair's output column (``n_cols``: not wanted) with
    the first spike as reference and, with ``both_ways``, with the second one as
    reference (``None``: the same column). The reversed lag falls in the mirrored bin,
    except for pairs near an edge, which are binned again exactly.

    Pairs come within ``w + binsize`` of their reference, so their bins lie in
    ``[-2, nbins + 1]``: two spare bins each side of the window and a spare column
    catch what is not wanted, and no pair is filtered out before counting.
    """
    width = nbins + 4
    size = (n_cols + 1) * width
    fwd = np.zeros(size, dtype=np.int64)
    rev = np.zeros(size, dtype=np.int64)  # reversed pairs, by their forward bin
    fix = np.zeros(size, dtype=np.int64)  # near-edge reversed pairs, by exact bin
    t_max = max(np.abs(t_ref).max(initial=0.0), np.abs(t_tgt).max(initial=0.0)) + w
    ulp = float(np.spacing(np.float64(t_max)))
    eps = float(np.finfo(np.float64).eps)
    same = False

    def hist(col, j):
        key = col * width
        key += j
        key += 2
        return np.bincount(key, minlength=size)

    for i, k, d, m in pairs:
        # rounding of the accumulated edges, of the m summed steps and of x itself
        tol = (2 * nbins + m + 8) * ulp / binsize + 8 * eps * (nbins + 1)
        j, near = _forward_bins(d, i, k, t_ref, t_tgt, binsize, nbins, w, tol)
        col_f, col_r = columns(i, k)
        fwd += hist(col_f, j)
        if not both_ways:
            continue
        same = col_r is None
        col_r = col_f if same else col_r
        if not same:
            rev += hist(col_r, j)
        if near.any():
            rev -= hist(col_r[near], j[near])
            fix += hist(col_r[near], _exact_bins(t_tgt[k[near]], t_ref[i[near]], binsize,
                                                 nbins, w))
    if both_ways:
        if same:
            rev += fwd
        fwd += rev.reshape(-1, width)[:, ::-1].ravel() + fix
    return fwd.reshape(-1, width)[:n_cols, 2:-2]


def _as_rate(counts: np.ndarray, n_ref: np.ndarray, binsize: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return counts / (n_ref * binsize)[:, None]


# --------------------------------------------------------------------------- outputs
def _unit_coords(group: xr.Dataset) -> dict[str, Any]:
    coords: dict[str, Any] = {UNIT: group[UNIT].values}
    for key, var in group.data_vars.items():
        if var.dims == (UNIT,) and key not in ("row_size", "rate"):
            coords[str(key)] = (UNIT, var.values)
    return coords


def _lag_coord(centres: np.ndarray) -> xr.Variable:
    return xr.Variable(LAG, centres, {"units": "s", "long_name": "time lag"})


def _attrs(kind: str, norm: bool, binsize: float, windowsize: float) -> dict[str, Any]:
    return {"long_name": kind, "units": "1" if norm else "Hz",
            "binsize": binsize, "windowsize": windowsize}


# --------------------------------------------------------------------------- API
def compute_autocorrelogram(
    group: xr.Dataset,
    binsize: float,
    windowsize: float,
    ep: Any = None,
    norm: bool = True,
    time_units: str = "s",
) -> xr.DataArray:
    """Autocorrelogram of each unit of a TsGroup (pynapple ``compute_autocorrelogram``).

    Parameters
    ----------
    group : TsGroup Dataset
    binsize, windowsize : float
        Lag bin width and half window, in ``time_units``.
    ep : interval set, optional
        Spikes outside it are ignored and rates are computed over it. Default: the
        time support of ``group``.
    norm : bool
        Divide by each unit's rate (1 = a flat, Poisson-like correlogram); otherwise
        the rate in Hz of the unit around its own spikes.
    time_units : {"s", "ms", "us"}

    Returns
    -------
    xarray.DataArray
        dims ``(lag, unit)``; lag bin centres in seconds (rounded to 1 us, as
        pynapple); the zero-lag bin is set to 0, as in pynapple. A unit with no spike
        gives NaN.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> group = nap.ts_group({0: np.arange(0.0, 10.0, 0.25)})
    >>> ac = nap.compute_autocorrelogram(group, 0.25, 0.5, norm=False)
    >>> ac.dims, ac.lag.values, ac.sel(unit=0).values
    (('lag', 'unit'), array([-0.5 , -0.25,  0.  ,  0.25,  0.5 ]), array([3.8, 3.9, 0. , 3.9, 3.8]))
    """
    _check_group(group)
    _check_types(norm, time_units)
    binsize = _seconds(binsize, "binsize", time_units)
    windowsize = _seconds(windowsize, "windowsize", time_units)
    starts, ends = _epochs(group, ep)
    t, unit, counts = _spikes(group, None if ep is None else starts, ends)
    nbins, w, centres = lag_axis(binsize, windowsize)
    n_units = counts.size
    breaks = np.cumsum(counts)[:-1] - 1  # each unit's own spikes only
    pairs = _neighbour_pairs(t, breaks[breaks >= 0], w + binsize)
    c = _histogram(pairs, t, t, lambda i, k: (unit[i], None), n_units, binsize, nbins, w,
                   both_ways=True)
    values = _as_rate(c, counts, binsize).T
    if norm:
        with np.errstate(divide="ignore", invalid="ignore"):
            values = values / _rates(counts, starts, ends)
    lags = np.round(centres, 6)
    values[lags == 0] = 0.0  # pynapple's zero-lag row
    return xr.DataArray(values, dims=(LAG, UNIT),
                        coords={LAG: _lag_coord(lags), **_unit_coords(group)},
                        name="autocorrelogram",
                        attrs=_attrs("autocorrelogram", norm, binsize, windowsize))


def compute_crosscorrelogram(
    group: xr.Dataset | tuple[xr.Dataset, xr.Dataset] | list[xr.Dataset],
    binsize: float,
    windowsize: float,
    ep: Any = None,
    norm: bool = True,
    time_units: str = "s",
    reverse: bool = False,
) -> xr.DataArray:
    """Cross-correlograms of pairs of units (pynapple ``compute_crosscorrelogram``).

    For one TsGroup, every pair ``(a, b)`` of units with ``a`` before ``b`` (``a``
    the reference; ``reverse=True`` swaps them), in pynapple's order. For a pair of
    groups ``(g1, g2)``, every unit of ``g1`` against every unit of ``g2``.

    Parameters
    ----------
    group : TsGroup Dataset or (TsGroup, TsGroup)
    binsize, windowsize : float
        Lag bin width and half window, in ``time_units``.
    ep : interval set, optional
        Spikes outside it are ignored and rates are computed over it.
    norm : bool
        Divide by the rate of the target unit.
    time_units : {"s", "ms", "us"}
    reverse : bool
        For one group, use the later unit of each pair as the reference.

    Returns
    -------
    xarray.DataArray
        dims ``(lag, pair)``; coordinates ``reference`` and ``target`` (unit ids) on
        ``pair``.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> group = nap.ts_group({0: np.arange(0.0, 10.0, 1.0), 1: np.arange(0.1, 10.0, 1.0)})
    >>> cc = nap.compute_crosscorrelogram(group, 0.1, 0.2, norm=False)
    >>> cc.dims, cc.reference.values, cc.target.values, cc.values[:, 0]
    (('lag', 'pair'), array([0]), array([1]), array([ 0.,  0.,  0., 10.,  0.]))
    """
    two = isinstance(group, tuple | list)
    if two:
        if len(group) != 2:
            raise TypeError("group should be a TsGroup or a pair (TsGroup, TsGroup)")
        for g in group:
            _check_group(g, "each group of the pair")
    else:
        _check_group(group)
    _check_types(norm, time_units, reverse=reverse)
    binsize = _seconds(binsize, "binsize", time_units)
    windowsize = _seconds(windowsize, "windowsize", time_units)
    nbins, w, centres = lag_axis(binsize, windowsize)
    if two:
        c, n_ref, target_rate, ref_ids, tgt_ids = _cross_two(group, ep, binsize, nbins, w)
    else:
        c, n_ref, target_rate, ref_ids, tgt_ids = _cross_one(group, ep, binsize, nbins, w,
                                                             reverse)
    values = _as_rate(c, n_ref, binsize).T
    if norm:
        with np.errstate(divide="ignore", invalid="ignore"):
            values = values / target_rate
    coords = {LAG: _lag_coord(centres), "reference": (PAIR, ref_ids),
              "target": (PAIR, tgt_ids)}
    return xr.DataArray(values, dims=(LAG, PAIR), coords=coords, name="crosscorrelogram",
                        attrs=_attrs("crosscorrelogram", norm, binsize, windowsize))


def _cross_one(group, ep, binsize, nbins, w, reverse):
    starts, ends = _epochs(group, ep)
    t, unit, counts = _spikes(group, None if ep is None else starts, ends)
    n_units = counts.size
    pos = list(combinations(range(n_units), 2))
    if reverse:
        pos = [(b, a) for a, b in pos]
    ref = np.array([a for a, _ in pos], dtype=np.int64)
    tgt = np.array([b for _, b in pos], dtype=np.int64)
    column = np.full(n_units * n_units, len(pos), dtype=np.int64)  # len(pos): not wanted
    column[ref * n_units + tgt] = np.arange(len(pos))
    order = np.argsort(t, kind="stable")  # all units merged in time
    t, unit = t[order], unit[order]

    def columns(i, k):
        ui, uk = unit[i], unit[k]
        return column[ui * n_units + uk], column[uk * n_units + ui]

    pairs = _neighbour_pairs(t, np.empty(0, dtype=np.int64), w + binsize)
    c = _histogram(pairs, t, t, columns, len(pos), binsize, nbins, w, both_ways=True)
    ids = group[UNIT].values
    return c, counts[ref], _rates(counts, starts, ends)[tgt], ids[ref], ids[tgt]


def _cross_two(groups, ep, binsize, nbins, w):
    parts = []
    for g in groups:
        starts, ends = _epochs(g, ep)
        t, unit, counts = _spikes(g, None if ep is None else starts, ends)
        parts.append((t, unit, counts, _rates(counts, starts, ends)))
    (t1, u1, n1, _), (t2, u2, n2, rate2) = parts
    order = np.argsort(t2, kind="stable")  # targets: all units merged in time
    t2, u2 = t2[order], u2[order]
    pos = list(product(range(n1.size), range(n2.size)))
    ref = np.array([a for a, _ in pos], dtype=np.int64)
    tgt = np.array([b for _, b in pos], dtype=np.int64)
    limit = w + binsize
    lo = np.searchsorted(t2, t1 - limit, side="left")
    hi = np.searchsorted(t2, t1 + limit, side="right")
    pairs = _range_pairs(np.arange(t1.size), lo, hi, t1, t2)
    c = _histogram(pairs, t1, t2, lambda i, k: (u1[i] * n2.size + u2[k], None), len(pos),
                   binsize, nbins, w)
    return (c, n1[ref], rate2[tgt], groups[0][UNIT].values[ref],
            groups[1][UNIT].values[tgt])


def compute_eventcorrelogram(
    group: xr.Dataset,
    event: xr.DataArray,
    binsize: float,
    windowsize: float,
    ep: Any = None,
    norm: bool = True,
    time_units: str = "s",
) -> xr.DataArray:
    """Correlogram of each unit around the times of ``event`` (pynapple
    ``compute_eventcorrelogram``).

    Parameters
    ----------
    group : TsGroup Dataset
    event : DataArray
        A Ts or Tsd: the reference times.
    binsize, windowsize : float
        Lag bin width and half window, in ``time_units``.
    ep : interval set, optional
        Default: the time support of ``event``. Spikes outside it are ignored and
        rates are computed over it; events are restricted to it when it is given.
    norm : bool
        Divide by each unit's rate.
    time_units : {"s", "ms", "us"}

    Returns
    -------
    xarray.DataArray
        dims ``(lag, unit)``.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> group = nap.ts_group({0: np.arange(0.02, 10.0, 1.0)})
    >>> events = nap.ts(np.arange(0.0, 10.0, 1.0))  # time support [0, 9]
    >>> ec = nap.compute_eventcorrelogram(group, events, 0.1, 0.1, norm=False)
    >>> ec.sel(unit=0).values  # lags -0.1, 0, 0.1 s
    array([0., 9., 0.])
    """
    _check_group(group)
    if not isinstance(event, xr.DataArray) or nap_type(event) not in ("Ts", "Tsd"):
        raise TypeError("event should be a Ts or Tsd DataArray")
    _check_types(norm, time_units)
    binsize = _seconds(binsize, "binsize", time_units)
    windowsize = _seconds(windowsize, "windowsize", time_units)
    nbins, w, centres = lag_axis(binsize, windowsize)
    starts, ends = _epochs(event, ep)
    ev = times(event)
    if ep is not None:
        ev = ev[inside(ev, starts, ends)]
    t, unit, counts = _spikes(group, starts, ends)
    n_units = counts.size
    o = np.concatenate([[0], np.cumsum(counts)])
    limit = w + binsize
    # unit by unit (each unit's spikes are sorted): no sorting of all spikes needed
    lo = np.concatenate([np.searchsorted(t[o[u]:o[u + 1]], ev - limit, "left") + o[u]
                         for u in range(n_units)] or [np.empty(0, np.int64)])
    hi = np.concatenate([np.searchsorted(t[o[u]:o[u + 1]], ev + limit, "right") + o[u]
                         for u in range(n_units)] or [np.empty(0, np.int64)])
    pairs = _range_pairs(np.tile(np.arange(ev.size), n_units), lo, hi, ev, t)
    c = _histogram(pairs, ev, t, lambda i, k: (unit[k], None), n_units, binsize, nbins, w)
    values = _as_rate(c, np.full(n_units, ev.size), binsize).T
    if norm:
        with np.errstate(divide="ignore", invalid="ignore"):
            values = values / _rates(counts, starts, ends)
    return xr.DataArray(values, dims=(LAG, UNIT),
                        coords={LAG: _lag_coord(centres), **_unit_coords(group)},
                        name="eventcorrelogram",
                        attrs=_attrs("eventcorrelogram", norm, binsize, windowsize))


def compute_isi_distribution(
    data: xr.DataArray | xr.Dataset,
    bins: int | Any = 10,
    log_scale: bool = False,
    epochs: Any = None,
) -> xr.DataArray:
    """Histogram of the intervals between consecutive timestamps inside each epoch
    (pynapple ``compute_isi_distribution``).

    Parameters
    ----------
    data : TsGroup Dataset or time series DataArray
        Spikes (per unit) or any time series (its sample times).
    bins : int or 1-D array
        A number of equal bins from the smallest to the largest interval (over all
        units), or increasing bin edges (seconds, or log seconds with ``log_scale``).
    log_scale : bool
        Histogram ``log(interval)`` instead of the interval.
    epochs : interval set, optional
        Intervals never span two epochs. Default: the time support of ``data``.

    Returns
    -------
    xarray.DataArray
        int64 counts, dims ``(isi, unit)`` (``unit`` is ``[0]`` for a time series);
        ``isi`` holds the bin centres, ``attrs["bin_edges"]`` the edges.

    Raises
    ------
    XrNapError
        When ``bins`` is a number and there is no interval at all (no range to cut).

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> spikes = nap.ts([0.0, 1.0, 1.5, 3.5, 4.0])
    >>> isi = nap.compute_isi_distribution(spikes, bins=3)
    >>> isi.isi.values, isi.values[:, 0]
    (array([0.75, 1.25, 1.75]), array([2, 1, 1]))
    """
    kind = nap_type(data)
    if kind == "IntervalSet":
        raise TypeError("data should be a Ts, Tsd, TsdFrame, TsdTensor or TsGroup")
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer | list | np.ndarray):
        raise TypeError("bins should be either int, list or np.ndarray.")
    if not isinstance(log_scale, bool | np.bool_):
        raise TypeError("log_scale should be of type bool.")
    starts, ends = _epochs(data, epochs)
    if kind == "TsGroup":
        t, unit, counts = _spikes(data, starts, ends)
        coords = _unit_coords(data)
    else:
        t = times(data)
        t = t[inside(t, starts, ends)]
        unit, counts = np.zeros(t.size, dtype=np.int64), np.array([t.size])
        coords = {UNIT: np.array([0])}
    # consecutive spikes of one unit inside one epoch
    same = unit[1:] == unit[:-1]
    if starts.size > 1:
        epoch = np.searchsorted(starts, t, "right")
        same &= epoch[1:] == epoch[:-1]
    isi = (t[1:] - t[:-1])[same]
    unit = unit[1:][same]
    if log_scale:
        with np.errstate(divide="ignore"):
            isi = np.log(isi)
    edges = _isi_edges(bins, isi)
    nb = edges.size - 1
    b = np.searchsorted(edges, isi, side="right") - 1
    b[isi == edges[-1]] = nb - 1  # numpy.histogram: the last bin is closed
    ok = (b >= 0) & (b < nb)
    hist = np.bincount(b[ok] * counts.size + unit[ok], minlength=nb * counts.size)
    centre = (edges[:-1] + edges[1:]) / 2
    coords[ISI] = xr.Variable(ISI, centre, {"units": "log(s)" if log_scale else "s"})
    return xr.DataArray(hist.reshape(nb, counts.size), dims=(ISI, UNIT), coords=coords,
                        name="isi_distribution",
                        attrs={"long_name": "inter-spike interval count",
                               "bin_edges": edges, "log_scale": int(log_scale)})


def _isi_edges(bins: Any, isi: np.ndarray) -> np.ndarray:
    if np.ndim(bins) == 0:
        if bins < 1:
            raise XrNapError("`bins` must be positive, when an integer")
        finite = isi[np.isfinite(isi)]
        if finite.size == 0:
            raise XrNapError("no inter-spike interval inside the epochs: give bin edges "
                             "instead of a number of bins")
        if finite.size < isi.size:
            raise XrNapError("log_scale: some intervals are 0 (repeated timestamps), "
                             "their log is -inf; give bin edges")
        return np.linspace(isi.min(), isi.max(), int(bins) + 1)
    edges = np.asarray(bins, dtype=np.float64)
    if edges.ndim != 1:
        raise XrNapError("`bins` must be 1d, when an array")
    if edges.size < 2 or np.any(edges[:-1] > edges[1:]):
        raise XrNapError("`bins` must increase monotonically, when an array")
    return edges


autocorrelogram = compute_autocorrelogram
crosscorrelogram = compute_crosscorrelogram
eventcorrelogram = compute_eventcorrelogram
isi_distribution = compute_isi_distribution
