"""Series derived from one time series, epoch by epoch (pynapple 0.11 ``derivative``,
``interpolate``, ``decimate``, ``time_diff``, ``find_support``).

Nothing crosses the gap between two epochs: a derivative, an interpolation or a time
difference uses the samples of one epoch only, as in pynapple. The arithmetic is
numpy's own (:func:`numpy.gradient`, :func:`numpy.interp`) on slices of one array, so
the numbers are the same; only the epochs' rows are read from a lazy series.

Differences from pynapple 0.11, on purpose: an epoch holding one sample gets a NaN
derivative (pynapple raises from inside numpy), and ``find_support`` of an empty series
is an empty interval set (pynapple raises ``IndexError``).
"""

from __future__ import annotations

from numbers import Number
from typing import Any

import numpy as np
import xarray as xr

from xr_nap.core.intervals import bounds, interval_set, ranges
from xr_nap.core.time_series import (
    TIME,
    nap_type,
    search_times,
    support_bounds,
    times,
    tsd,
    unit_spike_times,
    with_support,
)
from xr_nap.errors import XrNapError

__all__ = ["derivative", "interpolate", "decimate", "time_diff", "find_support"]

_ALIGN = {"start": 0.0, "center": 0.5, "end": 1.0}


def _series(obj: Any, what: str) -> str:
    kind = nap_type(obj) if isinstance(obj, xr.DataArray | xr.Dataset) else None
    if kind not in ("Tsd", "TsdFrame", "TsdTensor"):
        raise TypeError(f"{what} needs a Tsd, TsdFrame or TsdTensor DataArray")
    return kind


def _epochs(obj: Any, ep: Any) -> tuple[np.ndarray, np.ndarray]:
    return support_bounds(obj) if ep is None else bounds(ep)


def _restricted(obj: xr.DataArray, starts: np.ndarray, ends: np.ndarray):
    """``obj`` inside the epochs (time first), its times and the ``[lo, hi)`` rows of
    each epoch in it. Without a sample outside the epochs, ``obj`` itself."""
    obj = obj.transpose(TIME, ...)
    lo = search_times(obj, starts, side="left")
    hi = search_times(obj, ends, side="right")
    if int(np.sum(hi - lo)) != obj.sizes[TIME]:
        obj = obj.isel({TIME: ranges(lo, hi)})
        lo, hi = np.cumsum(hi - lo) - (hi - lo), np.cumsum(hi - lo)
    return obj, times(obj), lo, hi


def _like(obj: xr.DataArray, inside: xr.DataArray, t: np.ndarray, values: np.ndarray,
          starts: np.ndarray, ends: np.ndarray) -> xr.DataArray:
    """A series with ``obj``'s dims, coordinates and attrs, new times and values."""
    coords = {k: v for k, v in inside.coords.items() if TIME not in v.dims}
    out = tsd(t, values, dims=inside.dims, coords=coords, name=obj.name, attrs=obj.attrs)
    return with_support(out.transpose(*obj.dims), starts, ends)


def _column(a: np.ndarray, ndim: int) -> np.ndarray:
    return a.reshape((-1,) + (1,) * (ndim - 1))


# --------------------------------------------------------------------------- derivative
def derivative(obj: xr.DataArray, ep: Any = None) -> xr.DataArray:
    """Time derivative by :func:`numpy.gradient` inside each epoch (pynapple
    ``derivative``): second-order central differences inside, first-order at an epoch's
    first and last sample.

    Parameters
    ----------
    obj : Tsd, TsdFrame or TsdTensor DataArray
    ep : interval set, optional
        Default: the time support. Samples outside are dropped.

    Returns
    -------
    xarray.DataArray
        float64, the samples of ``obj`` inside ``ep``; NaN for an epoch of one sample.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> nap.derivative(nap.tsd(np.arange(5.0), np.arange(0, 10, 2))).values
    array([2., 2., 2., 2., 2.])
    """
    _series(obj, "derivative")
    starts, ends = _epochs(obj, ep)
    inside, t, lo, hi = _restricted(obj, starts, ends)
    f = np.asarray(inside.values)
    if lo.size == 1 and hi[0] - lo[0] == t.size >= 2:  # one epoch: no copy into place
        out = np.gradient(f, t, axis=0).astype(np.float64, copy=False)
    else:
        out = np.full(f.shape, np.nan)
        for a, b in zip(lo, hi, strict=True):
            if b - a >= 2:  # numpy.gradient itself, one epoch at a time (slices)
                out[a:b] = np.gradient(f[a:b], t[a:b], axis=0)
    return _like(obj, inside, t, out, starts, ends)


# --------------------------------------------------------------------------- interpolate
def interpolate(
    obj: xr.DataArray,
    ts: xr.DataArray,
    ep: Any = None,
    left: float | None = None,
    right: float | None = None,
) -> xr.DataArray:
    """Linear interpolation of ``obj`` at the times of ``ts``, inside each epoch
    (pynapple ``interpolate``; :func:`numpy.interp` semantics).

    Parameters
    ----------
    obj : Tsd, TsdFrame or TsdTensor DataArray
        The values.
    ts : DataArray
        Any time series: its times inside ``ep`` are the new times.
    ep : interval set, optional
        Default: the time support of ``obj``.
    left, right : float, optional
        Value before an epoch's first / after its last sample of ``obj`` (default:
        those samples' values).

    Returns
    -------
    xarray.DataArray
        float64 at the times of ``ts``; NaN in an epoch where ``obj`` has no sample.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> x = nap.tsd([0.0, 1.0, 2.0], [0.0, 10.0, 40.0])
    >>> nap.interpolate(x, nap.ts([0.5, 1.5, 2.0])).values
    array([ 5., 25., 40.])
    """
    _series(obj, "interpolate")
    if not isinstance(ts, xr.DataArray) or nap_type(ts) in ("TsGroup", "IntervalSet"):
        raise TypeError("ts should be a Ts, Tsd, TsdFrame or TsdTensor DataArray")
    for name, value in (("left", left), ("right", right)):
        if value is not None and not isinstance(value, Number):
            raise TypeError(f"{name} should be a number")
    starts, ends = _epochs(obj, ep)
    inside, xp, lo, hi = _restricted(obj, starts, ends)
    fp = np.asarray(inside.values)
    t = times(ts)
    first = np.searchsorted(t, starts, "left")
    last = np.searchsorted(t, ends, "right")
    new_t = t[ranges(first, last)]
    out = np.full((new_t.size, *fp.shape[1:]), np.nan)
    flat_out = out.reshape(new_t.size, -1)
    flat_fp = fp.reshape(fp.shape[0], -1)
    at = np.cumsum(last - first) - (last - first)  # each epoch's first row in the result
    for k in np.flatnonzero((hi > lo) & (last > first)):
        rows = slice(at[k], at[k] + last[k] - first[k])
        for c in range(flat_fp.shape[1]):  # numpy.interp itself, column by column
            flat_out[rows, c] = np.interp(t[first[k]:last[k]], xp[lo[k]:hi[k]],
                                          flat_fp[lo[k]:hi[k], c], left=left, right=right)
    return _like(obj, inside, new_t, out, starts, ends)


def linear_interp(x: np.ndarray, xp: np.ndarray, fp: np.ndarray, first: np.ndarray,
                  stop: np.ndarray, left: float | None = None,
                  right: float | None = None) -> np.ndarray:
    """:func:`numpy.interp` of each ``x[n]`` on the rows ``first[n]:stop[n]`` of the
    sorted ``xp`` (values ``fp``, any trailing shape), with numpy's own formulas;
    NaN where that range is empty."""
    out = np.full((x.size, *fp.shape[1:]), np.nan)
    has = stop > first
    x, first, last = x[has], first[has], stop[has] - 1
    j = np.clip(np.searchsorted(xp, x, side="right") - 1, first, last)
    before, after = x < xp[first], x > xp[last]
    exact = ~before & ~after & ((j == last) | (xp[j] == x))
    mid = ~before & ~after & ~exact
    nd = fp.ndim
    res = np.empty((x.size, *fp.shape[1:]))
    res[before] = fp[first[before]] if left is None else left
    res[after] = fp[last[after]] if right is None else right
    res[exact] = fp[j[exact]]
    jm, xm = j[mid], x[mid]
    y0, y1 = fp[jm].astype(np.float64), fp[jm + 1].astype(np.float64)
    slope = (y1 - y0) / _column(xp[jm + 1] - xp[jm], nd)
    val = slope * _column(xm - xp[jm], nd) + y0
    bad = np.isnan(val)
    if bad.any():  # numpy: try from the other end, then the common value
        other = slope * _column(xm - xp[jm + 1], nd) + y1
        val = np.where(bad, other, val)
        val = np.where(np.isnan(val) & (y0 == y1), y0, val)
    res[mid] = val
    res[np.isnan(x)] = np.nan
    out[has] = res
    return out


# --------------------------------------------------------------------------- decimate
def decimate(
    obj: xr.DataArray,
    down: int,
    order: int = 8,
    filter_type: str = "iir",
    ep: Any = None,
) -> xr.DataArray:
    """Low-pass filter and keep every ``down``-th sample, epoch by epoch (pynapple
    ``decimate``: :func:`scipy.signal.decimate`, zero phase).

    Parameters
    ----------
    obj : Tsd, TsdFrame or TsdTensor DataArray
    down : int
        Downsampling factor.
    order : int
        Filter order (Chebyshev type I for ``"iir"``; ``"fir"``: 30-point Hamming).
    filter_type : {"iir", "fir"}
    ep : interval set, optional
        Default: the time support.

    Raises
    ------
    XrNapError
        When an epoch is too short for the filter (scipy's padding), naming it.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> x = nap.tsd(np.arange(100.0), np.sin(np.arange(100) / 10))
    >>> nap.decimate(x, 4).sizes["time"]
    25
    """
    from scipy import signal

    _series(obj, "decimate")
    if not isinstance(down, int | np.integer) or isinstance(down, bool) or down < 1:
        raise XrNapError("Invalid value for 'down': Parameter 'down' should be a "
                         "positive int.")
    if not isinstance(order, int | np.integer) or isinstance(order, bool) or order <= 0:
        raise XrNapError("Invalid value for 'order': Parameter 'order' should be a "
                         "positive int.")
    if filter_type not in ("fir", "iir"):
        raise XrNapError("'filter_type' should be one of 'fir', 'iir'.")
    starts, ends = _epochs(obj, ep)
    inside, t, lo, hi = _restricted(obj, starts, ends)
    pieces, new_t = [], []
    for n, (a, b) in enumerate(zip(lo, hi, strict=True)):
        if b == a:
            continue
        block = np.asarray(inside.isel({TIME: slice(int(a), int(b))}).values)
        try:
            pieces.append(signal.decimate(block, int(down), n=int(order), ftype=filter_type,
                                          axis=0, zero_phase=True))
        except ValueError as err:
            raise XrNapError(f"decimate: epoch {n} [{starts[n]}, {ends[n]}] has {b - a} "
                             f"samples, too few for the filter ({err})") from err
        new_t.append(t[a:b:down])
    shape = inside.shape[1:]
    values = np.concatenate(pieces) if pieces else np.empty((0, *shape))
    new_t = np.concatenate(new_t) if new_t else np.empty(0)
    return _like(obj, inside, new_t, values, starts, ends)


# --------------------------------------------------------------------------- time_diff
def time_diff(
    obj: xr.DataArray | xr.Dataset, align: str = "center", epochs: Any = None
) -> xr.DataArray | dict[Any, xr.DataArray]:
    """Intervals between consecutive times inside each epoch (pynapple ``time_diff``).

    Parameters
    ----------
    obj : DataArray or TsGroup Dataset
    align : {"start", "center", "end"}
        Where each interval is placed in time.
    epochs : interval set, optional
        Default: the time support of ``obj``.

    Returns
    -------
    xarray.DataArray or dict
        A Tsd of intervals (seconds); for a TsGroup, a dict unit -> Tsd, as pynapple.

    Examples
    --------
    >>> import xr_nap as nap
    >>> d = nap.time_diff(nap.ts([1.0, 3.0, 5.0, 6.0, 8.0, 12.0]), epochs=(2, 9))
    >>> d.time.values, d.values
    (array([4. , 5.5, 7. ]), array([2., 1., 2.]))
    """
    if align not in _ALIGN:
        raise XrNapError("align should be 'start', 'center' or 'end'")
    kind = nap_type(obj)
    if kind == "IntervalSet":
        raise TypeError("time_diff needs a time series or a TsGroup")
    starts, ends = _epochs(obj, epochs)
    if kind == "TsGroup":
        return {uid: _diffs(t, starts, ends, align)
                for uid, t in unit_spike_times(obj)}
    return _diffs(times(obj), starts, ends, align)


def _diffs(t: np.ndarray, starts: np.ndarray, ends: np.ndarray, align: str) -> xr.DataArray:
    lo = np.searchsorted(t, starts, side="left")
    hi = np.searchsorted(t, ends, side="right")
    if lo.size == 1:  # one epoch: no gather
        inside = t[lo[0]:hi[0]]
        left, right = inside[:-1], inside[1:]
    else:  # steps inside each epoch, never across a gap
        rows = ranges(lo, np.maximum(hi - 1, lo))
        left, right = t[rows], t[rows + 1]
    diff = right - left
    # "end" is the later sample itself: left + diff can round one ulp past it, and past
    # the epoch's end (pynapple then keeps a time outside its own support)
    at = right if align == "end" else left + _ALIGN[align] * diff
    return tsd(at, diff, (starts, ends), attrs={"units": "s"})


# --------------------------------------------------------------------------- find_support
def find_support(obj: xr.DataArray, min_gap: float, time_units: str = "s") -> xr.Dataset:
    """The intervals covering the times of ``obj`` that are closer than ``min_gap``
    (pynapple ``find_support``): a gap longer than ``min_gap`` ends an interval; each
    interval ends 1 microsecond after its last time.

    Examples
    --------
    >>> import xr_nap as nap
    >>> s = nap.find_support(nap.ts([0.0, 0.1, 0.2, 5.0, 5.1]), 1.0)
    >>> s.start.values, s.end.values
    (array([0., 5.]), array([0.200001, 5.100001]))
    """
    from xr_nap.process.perievent import to_seconds

    if not isinstance(min_gap, Number) or isinstance(min_gap, bool):
        raise TypeError("min_gap should be a float or int")
    gap = float(to_seconds(min_gap, time_units))
    t = times(obj)
    if t.size == 0:
        return interval_set(np.empty(0), np.empty(0))
    cut = np.flatnonzero(np.diff(t) > gap)
    starts = np.concatenate([t[:1], t[cut + 1]])
    ends = np.concatenate([t[cut] + 1e-6, t[-1:] + 1e-6])
    return interval_set(starts, ends)
