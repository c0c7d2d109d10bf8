"""Decoding a feature from population activity (pynapple 0.11 ``decode_bayes``,
``decode_template``, ``decode_1d``, ``decode_2d``).

Both decoders compare, in each time bin, the activity of the units with their tuning
curves. The Bayesian decoder scores each feature bin by the Poisson log-likelihood
``sum_u n_u log(f_u(x) + 1e-12) - bin_size * f_u(x)`` (NaN terms, e.g. unvisited bins,
left out as in pynapple) plus the log prior; the template decoder by a distance
(``scipy.spatial.distance.cdist`` metrics).

pynapple builds a ``time bins x feature bins x units`` array (gigabytes for a long
session). Here the likelihood is a matrix product computed a bounded block of time bins
at a time, so memory stays at the size of the result. Its rounding differs from
pynapple's sum by a few ulps; where that could change which bin wins (a near tie, e.g.
bins without spikes and symmetric tuning curves), the rows are computed again with
pynapple's own arithmetic, so the decoded values are the same. The ``correlation`` and
``cosine`` metrics get the same treatment; other metrics run ``cdist`` block by block.

Results: the decoded feature (a Tsd ``(time,)`` for one feature, a TsdFrame ``(time,
feature)`` for several) and the probability or distance of every feature bin (``(time,
<feature>)`` or ``(time, <feature 1>, <feature 2>, ...)``, the bin centres as
coordinates), with the epochs as time support.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from xr_nap.core.blocks import in_memory
from xr_nap.core.intervals import bounds
from xr_nap.core.restrict import restrict
from xr_nap.core.time_series import TIME, UNIT, nap_type, times, ts_group, tsd, with_support
from xr_nap.errors import XrNapError, warn
from xr_nap.process.binning import count
from xr_nap.process.perievent import to_seconds

__all__ = ["decode_bayes", "decode_template", "decode_1d", "decode_2d"]

EPS = 1e-12  # pynapple's floor under the rates inside the log
ROW_BLOCK_VALUES = 2**18  # time bins x (feature bins + units) handled at once
FEATURE = "feature"


# --------------------------------------------------------------------------- inputs
def _activity(tuning_curves, data, epochs, bin_size, sliding_window_size, time_units):
    """``(times, values, bin size in s, starts, ends)`` of the activity to decode."""
    if not isinstance(tuning_curves, xr.DataArray) or UNIT not in tuning_curves.dims:
        raise TypeError("tuning_curves should be an xarray.DataArray with a 'unit' "
                        "dimension, as computed by compute_tuning_curves")
    if tuning_curves.dims[0] != UNIT:
        tuning_curves = tuning_curves.transpose(UNIT, ...)
    starts, ends = bounds(epochs)
    if not isinstance(bin_size, int | float | np.integer | np.floating) or isinstance(
            bin_size, bool):
        raise XrNapError(f"bin_size should be a number, got {bin_size!r}")
    bin_s = float(to_seconds(bin_size, time_units))
    kind = nap_type(data) if isinstance(data, xr.DataArray | xr.Dataset) else None
    if kind == "TsGroup":
        counts = count(data, bin_s, ep=(starts, ends))
        t, values, columns = times(counts), counts.values, data[UNIT].values
    elif kind == "TsdFrame":
        actual = np.mean(np.diff(times(data))) if data.sizes[TIME] > 1 else np.nan
        if not np.isclose(actual, bin_s):
            warn("passed bin_size is different from actual data bin size.")
        data = restrict(data, (starts, ends))
        t, columns = times(data), data[data.dims[1]].values
        values = data  # read block by block below when lazy
    else:
        raise TypeError("data should be a TsGroup Dataset or a TsdFrame DataArray")
    units = tuning_curves[UNIT].values
    if units.size != len(columns):
        raise XrNapError(f"tuning curves have {units.size} units but data has "
                         f"{len(columns)}: different shapes for tuning_curves and data")
    if not np.array_equal(units, columns):
        raise XrNapError("different indices for tuning curves and data keys: "
                         f"{units.tolist()} vs {np.asarray(columns).tolist()}")
    if sliding_window_size is not None:
        if not isinstance(sliding_window_size, int | np.integer) or isinstance(
                sliding_window_size, bool):
            raise XrNapError("sliding_window_size should be an integer")
        if sliding_window_size < 1:
            raise XrNapError("sliding_window_size should be >= 1")
        values = _box_sums(_rows(values, 0, t.size), t, starts, ends, sliding_window_size)
        if kind == "TsdFrame":
            values = values / sliding_window_size
        else:
            bin_s = sliding_window_size * bin_s
    return tuning_curves, t, values, bin_s, starts, ends


def _rows(values: Any, a: int, b: int) -> np.ndarray:
    """Rows ``a:b`` of the activity as float64 numpy (a lazy DataArray is read here)."""
    if isinstance(values, xr.DataArray):
        block = values.isel({TIME: slice(a, b)})
        values = block.values if in_memory(block) else np.asarray(block.values)
        return np.asarray(values, dtype=np.float64)
    return np.asarray(values[a:b], dtype=np.float64)


def _box_sums(x: np.ndarray, t: np.ndarray, starts: np.ndarray, ends: np.ndarray,
              k: int) -> np.ndarray:
    """pynapple's ``convolve(np.ones(k), ep)`` (centred, zero outside each epoch): the
    sum of rows ``n - k // 2 .. n + (k - 1) // 2`` of the same epoch."""
    lo = np.searchsorted(t, starts, "left")
    hi = np.searchsorted(t, ends, "right")
    short = (hi - lo) < k
    if short.any():
        warn(f"Kernel size ({k} samples) is larger than the number of samples in "
             f"{int(short.sum())} out of {short.size} epochs; the signal is zero-padded "
             "outside each epoch, so those epochs are dominated by the padding.")
    epoch = np.searchsorted(lo, np.arange(t.size), side="right") - 1
    first, last = lo[epoch], hi[epoch] - 1
    out = x.astype(np.float64, copy=True)
    rows = np.arange(t.size)
    for shift in range(-(k // 2), (k - 1) // 2 + 1):
        if shift == 0:
            continue
        src = rows + shift
        ok = (src >= first) & (src <= last)
        out[ok] += x[src[ok]]
    return out


# --------------------------------------------------------------------------- outputs
def _outputs(score, best, tuning_curves, t, starts, ends, name):
    """The decoded feature and the score array, as pynapple shapes them."""
    dims = tuning_curves.dims[1:]
    shape = tuning_curves.shape[1:]
    coords = {d: tuning_curves[d].values for d in dims if d in tuning_curves.coords}
    dist = tsd(t, score.reshape(t.size, *shape), dims=(TIME, *dims), coords=coords,
               name=name, attrs={"long_name": name})
    valid = best >= 0
    if len(dims) == 1:
        values = np.full(t.size, np.nan)
        values[valid] = _centres(tuning_curves, dims[0])[best[valid]]
        decoded = tsd(t, values, name="decoded", attrs={"long_name": "decoded feature"})
    else:
        values = np.full((t.size, len(dims)), np.nan)
        index = np.unravel_index(best[valid], shape)
        for n, d in enumerate(dims):
            values[valid, n] = _centres(tuning_curves, d)[index[n]]
        decoded = tsd(t, values, dims=(TIME, FEATURE),
                      coords={FEATURE: np.array([str(d) for d in dims])}, name="decoded",
                      attrs={"long_name": "decoded feature"})
    return with_support(decoded, starts, ends), with_support(dist, starts, ends)


def _centres(tuning_curves: xr.DataArray, dim: Any) -> np.ndarray:
    if dim in tuning_curves.coords:
        return np.asarray(tuning_curves[dim].values, dtype=np.float64)
    return np.arange(tuning_curves.sizes[dim], dtype=np.float64)


def _rank(score: np.ndarray, greater: bool) -> tuple[np.ndarray, np.ndarray]:
    """Index of the best bin of each row (the first on a tie, -1 for an all-NaN row,
    as pynapple) and the gap to the second best (NaN when they are not both finite)."""
    worst = -np.inf if greater else np.inf
    nan = np.isnan(score)
    filled = np.where(nan, worst, score)
    best = np.argmax(filled, axis=1) if greater else np.argmin(filled, axis=1)
    rows = np.arange(score.shape[0])
    top = filled[rows, best]
    filled[rows, best] = worst
    second = filled.max(axis=1) if greater else filled.min(axis=1)
    with np.errstate(invalid="ignore"):
        gap = np.abs(top - second)
    gap[~(np.isfinite(top) & np.isfinite(second))] = np.nan
    best[nan.all(axis=1)] = -1
    return best, gap


def _blocks(n_rows: int, width: int):
    step = max(ROW_BLOCK_VALUES // max(width, 1), 1)
    return [(a, min(a + step, n_rows)) for a in range(0, n_rows, step)]


# --------------------------------------------------------------------------- decoders
def decode_bayes(
    tuning_curves: xr.DataArray,
    data: xr.Dataset | xr.DataArray,
    epochs: Any,
    bin_size: float,
    sliding_window_size: int | None = None,
    time_units: str = "s",
    uniform_prior: bool = True,
) -> tuple[xr.DataArray, xr.DataArray]:
    """Bayesian decoding of one or more features (pynapple ``decode_bayes``).

    Parameters
    ----------
    tuning_curves : DataArray
        ``(unit, feature...)`` rates in Hz, as :func:`xr_nap.tuning_curves` returns
        (``attrs["occupancy"]`` is the prior when ``uniform_prior=False``).
    data : TsGroup Dataset or TsdFrame DataArray
        Spikes (counted in bins of ``bin_size`` over ``epochs``) or continuous activity
        (e.g. smoothed counts), with the units of ``tuning_curves`` in the same order.
    epochs : interval set
        Where to decode; the time support of the results.
    bin_size : float
        In ``time_units``.
    sliding_window_size : int, optional
        Sum the counts over a centred window of this many bins first (continuous data:
        average), within each epoch.
    time_units : {"s", "ms", "us"}
    uniform_prior : bool
        Uniform prior over feature bins, or the occupancy.

    Returns
    -------
    decoded : DataArray
        The most probable bin centre in each time bin (NaN where undefined); a Tsd,
        or a TsdFrame ``(time, feature)`` for several features.
    probability : DataArray
        ``(time, <feature dims>)``, summing to 1 over the feature bins.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> group = nap.ts_group({i: np.arange(0, 50) + 50.0 * i for i in range(2)})
    >>> feature = nap.tsd(np.arange(0, 100.0), np.repeat([0.0, 1.0], 50))
    >>> tc = nap.tuning_curves(group, feature, bins=2, range=(-0.5, 1.5))
    >>> decoded, p = nap.decode_bayes(tc, group, nap.interval_set(0, 100), 1.0)
    >>> decoded.values[[0, 99]], p.dims
    (array([0., 1.]), ('time', '0'))
    """
    tc, t, values, bin_s, starts, ends = _activity(
        tuning_curves, data, epochs, bin_size, sliding_window_size, time_units)
    # tuning_curves() keeps the occupancy as a coordinate; pynapple, in attrs
    occupancy = tc.coords["occupancy"].values if "occupancy" in tc.coords else \
        tc.attrs.get("occupancy")
    if not uniform_prior and occupancy is None:
        raise XrNapError("uniform_prior set to False but no occupancy found in tuning "
                         "curves.")
    n_units = tc.sizes[UNIT]
    rate = np.asarray(tc.values, dtype=np.float64).reshape(n_units, -1).T  # bins x units
    prior = np.ones(rate.shape[0]) if uniform_prior else \
        np.asarray(occupancy, dtype=np.float64).reshape(-1).copy()
    prior /= prior.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        log_prior = np.log(prior)
        log_rate = np.log(rate + EPS)
    valid = ~np.isnan(log_rate) & ~np.isnan(rate)  # pynapple's nansum leaves the rest out
    log_rate0 = np.where(valid, log_rate, 0.0)
    rate0 = np.where(valid, rate, 0.0)
    finite_prior = np.abs(log_prior[np.isfinite(log_prior)])
    prior_err = 4 * np.finfo(np.float64).eps * (finite_prior.max(initial=0.0) + 1)
    max_log = np.abs(log_rate0).max(axis=0)  # per unit
    max_rate = np.abs(rate0).sum(axis=1).max(initial=0.0)
    eps = np.finfo(np.float64).eps

    posterior = np.empty((t.size, rate.shape[0]))
    best = np.empty(t.size, dtype=np.int64)
    for a, b in _blocks(t.size, rate.shape[0] + n_units):
        c = _rows(values, a, b)
        seen = ~np.isnan(c)
        c0 = np.where(seen, c, 0.0)
        ll = c0 @ log_rate0.T - bin_s * (seen @ rate0.T if not seen.all()
                                         else rate0.sum(axis=1)[None, :])
        lp = ll + log_prior
        # rows where rounding could pick another bin than pynapple: redo them its way
        scale = np.abs(c0) @ max_log + bin_s * max_rate
        tol = 4 * (n_units + 2) * eps * scale + prior_err
        redo = np.flatnonzero(_rank(lp, greater=True)[1] <= tol)  # NaN gap: no tie
        if redo.size:
            term = c[redo][:, None, :] * log_rate[None] - bin_s * rate[None]
            lp[redo] = np.nansum(term, axis=-1) + log_prior
        with np.errstate(invalid="ignore"):
            p = np.exp(lp - lp.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
        posterior[a:b] = p
        best[a:b] = _rank(p, greater=True)[0]
    return _outputs(posterior, best, tc, t, starts, ends, "probability")


def decode_template(
    tuning_curves: xr.DataArray,
    data: xr.Dataset | xr.DataArray,
    epochs: Any,
    bin_size: float,
    metric: str | Callable[[np.ndarray, np.ndarray], float] = "correlation",
    sliding_window_size: int | None = None,
    time_units: str = "s",
) -> tuple[xr.DataArray, xr.DataArray]:
    """Template-matching decoding (pynapple ``decode_template``): in each time bin, the
    feature bin whose tuning-curve vector is closest to the activity vector.

    Parameters
    ----------
    tuning_curves, data, epochs, bin_size, sliding_window_size, time_units
        As in :func:`decode_bayes`.
    metric : str or callable
        A :func:`scipy.spatial.distance.cdist` metric (default ``"correlation"``).

    Returns
    -------
    decoded : DataArray
        The closest bin centre in each time bin (NaN where every distance is NaN).
    distance : DataArray
        ``(time, <feature dims>)``.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> group = nap.ts_group({i: np.arange(0, 50) + 50.0 * i for i in range(2)})
    >>> feature = nap.tsd(np.arange(0, 100.0), np.repeat([0.0, 1.0], 50))
    >>> tc = nap.tuning_curves(group, feature, bins=2, range=(-0.5, 1.5))
    >>> decoded, d = nap.decode_template(tc, group, nap.interval_set(0, 100), 1.0)
    >>> decoded.values[[0, 99]], d.values[0].round(12)
    (array([0., 1.]), array([0., 2.]))
    """
    from scipy.spatial.distance import cdist

    tc, t, values, _, starts, ends = _activity(
        tuning_curves, data, epochs, bin_size, sliding_window_size, time_units)
    n_units = tc.sizes[UNIT]
    templates = np.asarray(tc.values, dtype=np.float64).reshape(n_units, -1).T
    fast = metric in ("correlation", "cosine")
    if fast:
        centred = templates - templates.mean(axis=1, keepdims=True) \
            if metric == "correlation" else templates
        with np.errstate(invalid="ignore", divide="ignore"):
            unit_templates = centred / np.sqrt(np.sum(centred * centred, axis=1))[:, None]
        unit_templates = np.ascontiguousarray(unit_templates.T)  # units x bins
    mean_weights = np.full(n_units, 1.0 / n_units)
    eps = np.finfo(np.float64).eps
    dist = np.empty((t.size, templates.shape[0]))
    best = np.empty(t.size, dtype=np.int64)
    for a, b in _blocks(t.size, templates.shape[0] + n_units):
        c = _rows(values, a, b)
        if not fast:
            d = dist[a:b] = cdist(c, templates, metric=metric)
            best[a:b] = _rank(d, greater=False)[0]
            continue
        # row means by a matrix-vector product: numpy's mean over short rows is slow
        x = c - (c @ mean_weights)[:, None] if metric == "correlation" else c.copy()
        with np.errstate(invalid="ignore", divide="ignore"):
            x /= np.sqrt(np.einsum("ij,ij->i", x, x))[:, None]
        d = np.matmul(x, unit_templates, out=dist[a:b])
        np.clip(d, -1.0, 1.0, out=d)
        np.subtract(1.0, d, out=d)
        rank, gap = _rank(d, greater=False)
        redo = np.flatnonzero(gap <= 16 * (n_units + 2) * eps)
        if redo.size:  # near ties: scipy's own arithmetic, as pynapple
            d[redo] = cdist(c[redo], templates, metric=metric)
            rank[redo] = _rank(d[redo], greater=False)[0]
        best[a:b] = rank
    name = f"{metric} distance" if isinstance(metric, str) else "distance"
    return _outputs(dist, best, tc, t, starts, ends, name)


# --------------------------------------------------------------------------- legacy
def _legacy_group(group: Any) -> xr.Dataset:
    if isinstance(group, Mapping) and not isinstance(group, xr.Dataset):  # a dict of units
        return ts_group(group)
    return group


def _edges_from_centres(centres: np.ndarray) -> np.ndarray:
    """pynapple's occupancy bins around tuning-curve centres (the last two bins are
    taken as wide as the last step)."""
    diff = np.diff(centres)
    edges = centres[:-1] - diff / 2
    return np.hstack((edges, [edges[-1] + diff[-1], edges[-1] + 2 * diff[-1]]))


def decode_1d(
    tuning_curves: pd.DataFrame | xr.DataArray,
    group: xr.Dataset | Mapping[Any, Any],
    ep: Any,
    bin_size: float,
    time_units: str = "s",
    feature: xr.DataArray | None = None,
) -> tuple[xr.DataArray, xr.DataArray]:
    """1-D Bayesian decoding (legacy pynapple API; see :func:`decode_bayes`).

    ``tuning_curves`` is pynapple's DataFrame (bin centres x units) or the DataArray
    ``(unit, feature)`` of :func:`xr_nap.compute_1d_tuning_curves`. With ``feature``,
    the prior is its occupancy (a histogram around the bin centres, as pynapple).

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> group = nap.ts_group({i: np.arange(0, 50) + 50.0 * i for i in range(2)})
    >>> feature = nap.tsd(np.arange(0, 100.0), np.repeat([0.0, 1.0], 50))
    >>> tc = nap.compute_1d_tuning_curves(group, feature, 2, minmax=(-0.5, 1.5))
    >>> decoded, p = nap.decode_1d(tc, group, nap.interval_set(0, 100), 1.0)
    >>> decoded.values[[0, 99]]
    array([0., 1.])
    """
    if isinstance(tuning_curves, pd.DataFrame):
        centres = np.asarray(tuning_curves.index.values, dtype=np.float64)
        units, rates, dim = tuning_curves.columns.values, tuning_curves.values.T, "0"
    elif isinstance(tuning_curves, xr.DataArray) and tuning_curves.ndim == 2:
        tc = tuning_curves.transpose(UNIT, ...)
        dim = tc.dims[1]
        centres, units, rates = _centres(tc, dim), tc[UNIT].values, tc.values
    else:
        raise TypeError("tuning_curves should be a DataFrame (bins x units) or a "
                        "DataArray (unit, feature)")
    if feature is None:
        occupancy = np.ones(centres.size)
    elif isinstance(feature, xr.DataArray) and nap_type(feature) == "Tsd":
        occupancy, _ = np.histogram(np.asarray(feature.values), _edges_from_centres(centres))
    else:
        raise TypeError("feature should be a Tsd DataArray or None")
    tc = xr.DataArray(rates, dims=(UNIT, dim), coords={UNIT: units, dim: centres},
                      attrs={"occupancy": occupancy})
    return decode_bayes(tc, _legacy_group(group), ep, bin_size, time_units=time_units,
                        uniform_prior=feature is None)


def decode_2d(
    tuning_curves: Mapping[Any, np.ndarray] | xr.DataArray,
    group: xr.Dataset | Mapping[Any, Any],
    ep: Any,
    bin_size: float,
    xy: Any,
    time_units: str = "s",
    features: xr.DataArray | None = None,
) -> tuple[xr.DataArray, xr.DataArray]:
    """2-D Bayesian decoding (legacy pynapple API; see :func:`decode_bayes`).

    ``tuning_curves`` is pynapple's dict unit -> 2-D array or the DataArray ``(unit,
    x, y)`` of :func:`xr_nap.compute_2d_tuning_curves`; ``xy`` the bin centres of the
    two features. With ``features`` (a 2-column TsdFrame), the prior is their
    occupancy.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> tc = {0: np.array([[10.0, 0.0], [0.0, 0.0]]), 1: np.array([[0.0, 0.0], [0.0, 10.0]])}
    >>> group = nap.ts_group({0: np.arange(0.0, 5.0, 0.1), 1: np.arange(5.0, 10.0, 0.1)})
    >>> decoded, p = nap.decode_2d(tc, group, nap.interval_set(0, 10), 1.0,
    ...                            [np.array([0.0, 1.0]), np.array([0.0, 1.0])])
    >>> decoded.values[[0, 9]]
    array([[0., 0.],
           [1., 1.]])
    """
    if isinstance(tuning_curves, xr.DataArray):
        units = tuning_curves[UNIT].values
        rates = tuning_curves.transpose(UNIT, ...).values
    elif isinstance(tuning_curves, Mapping):
        units = np.array(list(tuning_curves))
        rates = np.stack([np.asarray(tuning_curves[u], dtype=np.float64) for u in units])
    else:
        raise TypeError("tuning_curves should be a dict unit -> 2-D array or a DataArray "
                        "(unit, x, y)")
    x, y = (np.asarray(v, dtype=np.float64) for v in xy)
    if features is None:
        occupancy = np.ones(x.size * y.size)
    else:
        values = np.asarray(features.values)
        occupancy, _, _ = np.histogram2d(values[:, 0], values[:, 1],
                                         [_edges_from_centres(x), _edges_from_centres(y)])
        occupancy = occupancy.ravel()
    tc = xr.DataArray(rates, dims=(UNIT, "0", "1"), coords={UNIT: units, "0": x, "1": y},
                      attrs={"occupancy": occupancy})
    return decode_bayes(tc, _legacy_group(group), ep, bin_size, time_units=time_units,
                        uniform_prior=features is None)
