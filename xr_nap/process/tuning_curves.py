"""Tuning curves and mutual information (pynapple 0.11 ``compute_tuning_curves`` & co).

The feature space is cut into bins exactly as :func:`numpy.histogramdd` does (edges
``linspace(min, max, n + 1)``, bins ``[e_i, e_{i+1})`` with the last one closed, values
outside dropped). A spike (or a sample of a continuous signal) takes the feature value
of the closest feature sample inside its epoch, as pynapple's ``value_from`` does.

Features are read one block at a time (:func:`xr_nap.core.blocks.reduce_time`): one
pass finds the range when it is not given, one pass digitizes every sample (occupancy)
and picks the bins of the rows matched by spikes. A lazy (file- or dask-backed) feature
is never loaded whole.

Differences from pynapple 0.11, on purpose:

- NaN feature values are ignored (not counted in occupancy, spikes matched to them
  dropped). pynapple raises "autodetected range of [nan, nan] is not finite" when the
  range is not given and drops them otherwise.
- the legacy 1-D/2-D functions return the xarray result of :func:`tuning_curves`
  instead of a DataFrame / a ``(dict, bins)`` pair; the values are the same.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from xr_nap.core.blocks import (
    Reduction,
    add_pairs,
    reduce_time,
    segment_sums,
    take_rows,
    time_blocks,
)
from xr_nap.core.intervals import bounds
from xr_nap.core.search import closest_rows, epoch_rows, inside, ranges, rates, unit_index
from xr_nap.core.time_index import TimeIndex, time_index
from xr_nap.core.time_series import (
    TIME,
    UNIT,
    nap_type,
    series,
    support_bounds,
    times,
    unit_offsets,
)
from xr_nap.errors import check_output_size, warn

__all__ = [
    "tuning_curves",
    "bin_edges",
    "compute_tuning_curves",
    "compute_1d_tuning_curves",
    "compute_2d_tuning_curves",
    "compute_1d_tuning_curves_continuous",
    "compute_2d_tuning_curves_continuous",
    "compute_discrete_tuning_curves",
    "compute_response_per_epoch",
    "compute_mutual_information",
    "compute_1d_mutual_info",
    "compute_2d_mutual_info",
]


OCCUPANCY = "occupancy"  # coordinate: feature samples per bin
EPOCH_RATE = "epoch_rate"  # coordinate: each unit's mean rate over the epochs
BIN_START, BIN_END = "_bin_start", "_bin_end"  # suffixes of the bin-edge coordinates


# --------------------------------------------------------------------------- helpers
def _local_rows(lo: np.ndarray, hi: np.ndarray, c0: int, c1: int) -> np.ndarray | slice:
    """Positions (relative to ``c0``) of the rows of ``[c0, c1)`` inside some range
    (a slice, so no copy, when one range covers them)."""
    a, b = np.clip(lo, c0, c1), np.clip(hi, c0, c1)
    used = np.flatnonzero(b > a)
    if used.size <= 1:
        return slice(int(a[used[0]]) - c0, int(b[used[0]]) - c0) if used.size else slice(0, 0)
    return ranges(a[used], b[used]) - c0


def _columns(block: np.ndarray) -> np.ndarray:
    return block.reshape(block.shape[0], -1)


def _digitize(values: np.ndarray, edges: Sequence[np.ndarray]) -> np.ndarray:
    """Flat (C-order) bin index of each row of ``values`` (n, D); -1 when outside."""
    flat = np.zeros(values.shape[0], dtype=np.int64)
    ok = np.ones(values.shape[0], dtype=bool)
    for i, e in enumerate(edges):
        k = np.searchsorted(e, values[:, i], side="right") - 1
        k[values[:, i] == e[-1]] = e.size - 2  # the last bin is closed
        ok &= (k >= 0) & (k < e.size - 1)
        flat = flat * (e.size - 1) + k
    return np.where(ok, flat, -1)


def _feature_minmax(features: xr.DataArray, lo: np.ndarray, hi: np.ndarray):
    """nanmin / nanmax of each feature column over the rows in ``[lo, hi)`` (chunked)."""
    ncol = int(np.prod(features.shape[1:], dtype=np.int64))
    nonempty = hi > lo
    if not nonempty.any():
        return np.full(ncol, np.nan), np.full(ncol, np.nan)

    def chunk(block, c0):
        vals = _columns(block)[_local_rows(lo, hi, c0, c0 + block.shape[0])]
        if vals.shape[0] == 0:
            return None
        out = np.stack([vals.min(axis=0), vals.max(axis=0)]).astype(np.float64)
        if np.isnan(out).any():  # only then pay for the NaN-aware version
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
                out = np.stack([np.nanmin(vals, axis=0), np.nanmax(vals, axis=0)])
        if np.isinf(out).any():
            raise ValueError("features hold infinite values; give a finite `range`")
        return out

    def combine(a, b):  # fmin/fmax skip NaN
        return np.stack([np.fmin(a[0], b[0]), np.fmax(a[1], b[1])])

    def finalize(partial):
        return (np.full(ncol, np.nan), np.full(ncol, np.nan)) if partial is None else \
            (partial[0], partial[1])

    return reduce_time(features, Reduction(chunk, combine, finalize), int(lo[nonempty][0]),
                       int(hi.max()), rows=(lo, hi))


def _feature_pass(
    features: xr.DataArray,
    lo: np.ndarray,
    hi: np.ndarray,
    edges: Sequence[np.ndarray],
    want: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One chunked pass over the feature rows in ``[lo, hi)``.

    Returns the occupancy (sample count per flat bin) and the flat bin of the row
    ``want[i]`` (any order; -1 for no row) -- -1 when outside the bins.
    """
    nflat = int(np.prod([e.size - 1 for e in edges]))
    occupancy = np.zeros(nflat, dtype=np.int64)
    picked = np.full(want.size, -1, dtype=np.int64)
    nonempty = hi > lo
    if not nonempty.any():
        return occupancy, picked

    def chunk(block, c0):
        c1 = c0 + block.shape[0]
        vals = _columns(block)
        b = _digitize(vals[_local_rows(lo, hi, c0, c1)], edges)
        mine = np.flatnonzero((want >= c0) & (want < c1))
        return (np.bincount(b[b >= 0], minlength=nflat),
                [(mine, _digitize(vals[want[mine] - c0], edges))])

    def finalize(partial):
        if partial is not None:
            occupancy[:] = partial[0]
            for mine, wb in partial[1]:
                picked[mine] = wb
        return occupancy, picked

    return reduce_time(features, Reduction(chunk, add_pairs, finalize),
                       int(lo[nonempty][0]), int(hi.max()), rows=(lo, hi))



def _bin_edges(features, lo, hi, bins, range_, ndim):
    """Edges per feature, following :func:`numpy.histogramdd`."""
    if np.isscalar(bins) or (isinstance(bins, np.ndarray) and bins.ndim == 0):
        bins = [bins] * ndim
    if range_ is None:
        range_ = [None] * ndim
    if len(range_) != ndim:
        raise ValueError(f"range should have one (min, max) entry per feature ({ndim})")
    need = [i for i in np.arange(ndim) if np.ndim(bins[i]) == 0 and range_[i] is None]
    mins = maxs = None
    if need:
        mins, maxs = _feature_minmax(features, lo, hi)
    edges = []
    for i in range(ndim):
        spec = bins[i]
        if np.ndim(spec) == 1:
            e = np.asarray(spec, dtype=np.float64)
            if e.size < 2 or not np.isfinite(e).all() or np.any(e[:-1] > e[1:]):
                raise ValueError(f"bins[{i}] must hold at least 2 finite, increasing edges")
            edges.append(e)
            continue
        if np.ndim(spec) != 0 or not np.isfinite(spec) or int(spec) != spec or spec < 1:
            raise ValueError(f"bins[{i}] must be a positive integer or a 1-D array of edges")
        check_output_size(spec, 8, f"bins[{i}] = {spec}", "use fewer bins")
        if range_[i] is not None:
            first, last = (float(x) for x in range_[i])
            if first > last:
                raise ValueError(f"range[{i}]: max must be larger than min, got {range_[i]}")
            if not (np.isfinite(first) and np.isfinite(last)):
                raise ValueError(f"range[{i}] must be finite, got {range_[i]}")
        else:
            first, last = float(mins[i]), float(maxs[i])
            if not np.isfinite(first):  # no finite sample: numpy's empty-input range
                first, last = 0.0, 1.0
        if first == last:
            first, last = first - 0.5, last + 0.5
        edges.append(np.linspace(first, last, int(spec) + 1))
    check_output_size(np.prod([float(e.size - 1) for e in edges]), 24, "the feature bins",
                      "use fewer bins")
    return edges


def _sampling_rate(t: TimeIndex, lo: np.ndarray, hi: np.ndarray) -> float:
    """1 / mean of the time steps inside each epoch (pynapple's ``time_diff`` mean).

    The steps of an epoch add up to its span, so only the first and last time of each
    epoch are read (no array of steps as long as the series)."""
    keep = hi - lo > 1
    steps = np.sum(hi[keep] - lo[keep] - 1)
    if not steps:
        return float("nan")
    span = np.sum(t.times_at(hi[keep] - 1) - t.times_at(lo[keep]))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(steps) / span)


def _feature_names(features: xr.DataArray, feature_names: Any) -> list[str]:
    if features.ndim == 1:
        default = ["0" if features.name is None else str(features.name)]
    else:
        default = [str(c) for c in features[features.dims[1]].values]
    if feature_names is None:
        return default
    if isinstance(feature_names, str) or not all(isinstance(n, str) for n in feature_names):
        raise TypeError("feature_names should be a list of strings.")
    if len(feature_names) != len(default):
        raise ValueError(
            f"feature_names has {len(feature_names)} names for {len(default)} features")
    return list(feature_names)


def _unit_coords(obj: xr.DataArray | xr.Dataset, kind: str) -> dict[Hashable, Any]:
    """``unit`` ids and per-unit metadata of a TsGroup / the columns of a TsdFrame."""
    if kind == "TsGroup":
        coords: dict[Hashable, Any] = {UNIT: obj[UNIT].values}
        for key, var in obj.data_vars.items():
            if var.dims == (UNIT,) and key != "row_size":
                coords[key] = (UNIT, var.values)
        return coords
    if kind == "TsdFrame":
        dim = obj.dims[1]
        coords = {UNIT: obj[dim].values}
        for key, var in obj.coords.items():
            if var.dims == (dim,) and key != dim:
                coords[key] = (UNIT, var.values)
        return coords
    return {UNIT: np.array([0])}


# --------------------------------------------------------------------------- N-D
def tuning_curves(
    data: xr.DataArray | xr.Dataset,
    features: xr.DataArray,
    bins: int | Sequence[Any] = 10,
    range: Sequence[Any] | None = None,  # noqa: A002  (pynapple's name)
    epochs: Any = None,
    fs: float | None = None,
    feature_names: Sequence[str] | None = None,
    return_pandas: bool = False,
    return_counts: bool = False,
) -> xr.DataArray | pd.DataFrame:
    """N-dimensional tuning curves of spikes or continuous signals against features.

    Same semantics as pynapple 0.11's ``compute_tuning_curves``: spike counts per bin
    divided by the occupancy (feature samples per bin) times ``fs`` (rates in Hz); for
    continuous ``data``, the mean of its samples in each bin. Unvisited bins are NaN.

    Parameters
    ----------
    data : Dataset or DataArray
        A ragged TsGroup Dataset or a Ts (spikes), or a Tsd/TsdFrame (continuous).
    features : DataArray
        A Tsd (one feature) or a TsdFrame (one column per feature). May be lazy.
    bins : int, sequence of int, or sequence of edge arrays
        As :func:`numpy.histogramdd`; for one feature the edges may be given directly.
    range : sequence of (min, max) or None, optional
        Outer edges per feature when ``bins`` are counts (default: the finite min/max).
    epochs : interval set, optional
        Default: the time support of ``features``.
    fs : float, optional
        Sampling rate of the features; default 1 / mean time step inside ``epochs``.
    feature_names : list of str, optional
        Default: the feature's name (``"0"`` if none) or the TsdFrame column labels.
    return_pandas : bool
        Return ``result.to_pandas().T`` (one feature only).
    return_counts : bool
        For spikes, return counts (not divided by occupancy).

    Returns
    -------
    xarray.DataArray
        Named ``tuning_curves``, dims ``("unit", *feature_names)``; coordinates: the
        bin centres (with the feature's ``units``), the bin edges
        ``<feature>_bin_start`` / ``<feature>_bin_end`` on the same dimension (see
        :func:`bin_edges`), ``occupancy`` (feature samples per bin, on the feature
        dimensions), unit metadata on ``unit`` and, for spikes, ``epoch_rate`` (each
        unit's mean rate over ``epochs``, Hz). attrs: ``units`` (``Hz``, ``count``
        with ``return_counts``, or the data's units), ``long_name`` and ``fs``. Every
        attribute is one a netCDF file holds, so ``to_netcdf``/``to_zarr`` save the
        result as it is. pynapple keeps ``occupancy``, ``bin_edges`` and ``rates`` in
        attrs instead; :func:`xr_nap.to_pynapple` gives that layout.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> t = np.arange(0, 100, 0.1)
    >>> group = nap.ts_group({1: t, 2: t[::2]})
    >>> feature = nap.tsd(t, t % 1)
    >>> tc = nap.tuning_curves(group, feature, bins=10)
    >>> tc.dims, tc.sel(unit=1).values[:3]
    (('unit', '0'), array([10., 10., 10.]))
    """
    data = series(data)
    kind = nap_type(data)
    if kind not in ("TsGroup", "Ts", "Tsd", "TsdFrame"):
        raise TypeError(f"data should be a TsGroup, Ts, Tsd or TsdFrame, got a {kind}")
    if not isinstance(features, xr.DataArray | xr.Dataset):
        raise TypeError("features should be a Tsd or TsdFrame DataArray")
    features = series(features)
    if nap_type(features) not in ("Tsd", "TsdFrame"):
        raise TypeError("features should be a Tsd or TsdFrame DataArray")
    if features.dtype.kind not in "biuf":
        raise TypeError(f"features must be real numbers, got {features.dtype} (for complex "
                        "values, bin their abs and angle, or real and imaginary parts)")
    if kind != "TsGroup" and data.dtype.kind not in "biuf" and kind != "Ts":
        raise TypeError(f"continuous data must be real numbers, got {data.dtype}")
    names = _feature_names(features, feature_names)
    ndim = len(names)
    scalar = np.isscalar(bins) or (isinstance(bins, np.ndarray) and bins.ndim == 0)
    if ndim == 1 and not scalar and np.ndim(bins) == 1 and len(bins) > 1:
        bins = [bins]
    if not scalar and len(bins) != ndim:
        raise ValueError(
            f"bins should contain one specification per feature (expected {ndim}, got "
            f"{len(bins)}); to give edges for several features, pass one array per feature")
    if range is not None and isinstance(range, tuple) and np.ndim(range[0]) == 0 and \
            range[0] is not None:
        if ndim != 1:
            raise ValueError("range should be a sequence of tuples, one for each feature.")
        range = [range]

    starts, ends = support_bounds(features) if epochs is None else bounds(epochs)
    tf = time_index(features)  # a lazy time index stays lazy
    lo, hi = epoch_rows(tf, starts, ends)
    if fs is None:
        fs = _sampling_rate(tf, lo, hi)
    elif not isinstance(fs, (int, float, np.floating, np.integer)) or isinstance(fs, bool):
        raise TypeError("fs should be a number (int or float)")
    elif not (np.isfinite(fs) and fs > 0):
        raise ValueError(f"fs must be a positive, finite sampling rate in Hz, got {fs}")
    edges = _bin_edges(features, lo, hi, bins, range, ndim)
    shape = tuple(e.size - 1 for e in edges)

    if kind in ("TsGroup", "Ts"):
        counts, occupancy, rates = _spike_counts(data, kind, features, tf, starts, ends,
                                                 lo, hi, edges)
        with np.errstate(divide="ignore", invalid="ignore"):
            tc = counts if return_counts else counts / occupancy * fs
    else:
        tc, occupancy = _continuous_means(data, features, tf, starts, ends, lo, hi, edges)
        rates = None
    coords = _unit_coords(data, kind)
    coords.update(_bin_coords(names, edges, features.attrs.get("units")))
    coords[OCCUPANCY] = xr.Variable(names, occupancy.reshape(shape).astype(np.float64),
                                    {"long_name": "feature samples per bin"})
    if rates is not None:
        coords[EPOCH_RATE] = xr.Variable(UNIT, rates, {"units": "Hz", "long_name":
                                                       "mean rate over the epochs"})
    attrs: dict[str, Any] = {"fs": float(fs), **_value_attrs(data, kind, return_counts)}
    out = xr.DataArray(tc.reshape((-1, *shape)), dims=(UNIT, *names), coords=coords,
                       attrs=attrs, name="tuning_curves")
    return out.to_pandas().T if return_pandas else out


compute_tuning_curves = tuning_curves


def _bin_coords(names: Sequence[str], edges: Sequence[np.ndarray], units: Any
                ) -> dict[str, xr.Variable]:
    """Bin centres (the dimension coordinate, with the feature's units) and the edges
    of each bin, ``<feature>_bin_start`` / ``<feature>_bin_end``, on the same
    dimension: coordinates survive files and selections, where the edges as one
    attribute per feature could not."""
    attrs = {"units": str(units)} if units is not None else {}
    coords = {}
    for name, e in zip(names, edges, strict=True):
        coords[name] = xr.Variable(name, e[:-1] + np.diff(e) / 2, dict(attrs))
        coords[f"{name}{BIN_START}"] = xr.Variable(name, e[:-1], dict(attrs))
        coords[f"{name}{BIN_END}"] = xr.Variable(name, e[1:], dict(attrs))
    return coords


def _value_attrs(data: Any, kind: str, counts: bool) -> dict[str, str]:
    if kind in ("TsGroup", "Ts"):
        return {"long_name": "spike count", "units": "count"} if counts else \
            {"long_name": "firing rate", "units": "Hz"}
    units = data.attrs.get("units")
    return {"long_name": f"mean {data.name or 'value'}",
            **({"units": str(units)} if units is not None else {})}


def bin_edges(tuning_curves: xr.DataArray) -> list[np.ndarray]:
    """The bin edges of each feature of a tuning-curve DataArray (pynapple's
    ``attrs["bin_edges"]``), from its ``<feature>_bin_start``/``_bin_end``
    coordinates (or from ``attrs["bin_edges"]`` of pynapple's own result).

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> t = np.arange(0, 10, 0.1)
    >>> tc = nap.tuning_curves(nap.ts_group({0: t}), nap.tsd(t, t, name="x"), bins=4)
    >>> nap.bin_edges(tc)
    [array([0.   , 2.475, 4.95 , 7.425, 9.9  ])]
    """
    features = [d for d in tuning_curves.dims if d != UNIT]
    if all(f"{f}{BIN_START}" in tuning_curves.coords for f in features):
        return [np.append(tuning_curves[f"{f}{BIN_START}"].values,
                          tuning_curves[f"{f}{BIN_END}"].values[-1:]) for f in features]
    if "bin_edges" in tuning_curves.attrs:
        return [np.asarray(e, dtype=np.float64) for e in tuning_curves.attrs["bin_edges"]]
    raise ValueError("these tuning curves have no bin edges (no <feature>_bin_start / "
                     "_bin_end coordinates, no attrs['bin_edges'])")


def _spike_counts(data, kind, features, tf, starts, ends, lo, hi, edges):
    """Spike counts per (unit, flat bin), occupancy per flat bin, rates per unit."""
    if kind == "Ts":
        spikes, offsets = times(data), np.array([0, data.sizes[TIME]])
    else:
        spikes = np.asarray(data["spike_time"].values, dtype=np.float64)
        offsets = unit_offsets(data)
    n_units = offsets.size - 1
    unit = unit_index(offsets)
    keep = inside(spikes, starts, ends)
    spikes, unit = spikes[keep], unit[keep]
    occupancy, flat = _feature_pass(features, lo, hi, edges,
                                    closest_rows(spikes, tf, starts, ends))
    nflat = occupancy.size
    ok = flat >= 0
    counts = np.bincount(unit[ok] * nflat + flat[ok], minlength=n_units * nflat)
    per_unit = rates(np.bincount(unit, minlength=n_units), starts, ends)
    return counts.reshape(n_units, nflat).astype(np.float64), occupancy, per_unit


def _continuous_means(data, features, tf, starts, ends, lo, hi, edges):
    """Mean of each data column per flat bin (pynapple: 0 where a visited bin got no
    sample or a NaN; NaN where unvisited) and the occupancy.

    Each data sample takes the feature value of the closest feature sample in its
    epoch. The data are read block by block; on a time axis shared with the features
    (the usual case, and ``tuning_curves(x, x)``) that sample is the same row, read
    alongside; otherwise each block reads just the feature rows its times need.
    """
    nflat = int(np.prod([e.size - 1 for e in edges]))
    ncol = int(np.prod(data.shape[1:], dtype=np.int64))
    td = time_index(data)
    dlo, dhi = epoch_rows(td, starts, ends)
    same = _same_axis(td, tf)
    # on one time axis the samples counted are the feature's own: the occupancy comes
    # out of the same pass
    occupancy = None if same else _feature_pass(features, lo, hi, edges,
                                                 np.empty(0, dtype=np.int64))[0]

    def accumulate(values: np.ndarray, fvalues: np.ndarray) -> tuple:
        b = _digitize(fvalues, edges)
        ok = b >= 0
        b, values = b[ok], values[ok]
        sums = np.stack([np.bincount(b, weights=values[:, c], minlength=nflat)
                         for c in range(ncol)]) if ncol else np.zeros((0, nflat))
        return sums, np.bincount(b, minlength=nflat)

    if not (dhi > dlo).any():
        parts = None
    elif same:
        def chunk(blocks, c0):
            block, fblock = blocks
            local = _local_rows(dlo, dhi, c0, c0 + block.shape[0])
            return accumulate(_columns(block)[local], _columns(fblock)[local])

        parts = reduce_time([data, features], Reduction(chunk, add_pairs),
                            int(dlo.min()), int(dhi.max()), rows=(dlo, dhi))
    else:
        parts = None
        for c0, c1 in time_blocks(data, int(dlo.min()), int(dhi.max()), rows=(dlo, dhi)):
            rows = ranges(np.clip(dlo, c0, c1), np.clip(dhi, c0, c1))
            j = closest_rows(td.times_at(rows), tf, starts, ends)
            found = j >= 0
            fvalues = _columns(take_rows(features, j[found]))
            block = _columns(data.isel({TIME: slice(c0, c1)}).values)
            part = accumulate(block[rows[found] - c0], fvalues)
            parts = part if parts is None else add_pairs(parts, part)
    sums, n = parts if parts is not None else (np.zeros((ncol, nflat)), np.zeros(nflat))
    if occupancy is None:
        occupancy = np.asarray(n, dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        tc = sums / np.where(n == 0, np.nan, n)
    tc[np.isnan(tc)] = 0.0
    tc[:, occupancy == 0] = np.nan
    return tc, occupancy


def _same_axis(a: TimeIndex, b: TimeIndex) -> bool:
    """Whether two time indexes have the same, distinct sample times (then the closest
    sample of one to a sample of the other is the same row)."""
    if a.size != b.size:
        return False
    if a.is_rate and b.is_rate:
        return a.times.transform.equals(b.times.transform)
    return bool(a.times_at([0]) == b.times_at([0]) and np.array_equal(a.values, b.values)
                and (a.is_rate or a.times.index.is_unique))


# --------------------------------------------------------------------------- per epoch
def compute_response_per_epoch(
    data: xr.DataArray | xr.Dataset, epochs_dict: Mapping[Hashable, Any],
    return_pandas: bool = False,
) -> xr.DataArray | pd.DataFrame:
    """Mean response of each unit in each named interval set (pynapple 0.11).

    Spikes give a rate (spikes inside / total length); continuous data the mean of
    the samples inside (read block by block).

    Returns
    -------
    xarray.DataArray
        Named ``response``, dims ``("unit", "epochs")``; ``units`` ``Hz`` for spikes,
        the data's units for continuous data.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> g = nap.ts_group({1: np.arange(0, 100, 0.1)})
    >>> r = nap.compute_discrete_tuning_curves(g, {"a": nap.interval_set(0, 30)})
    >>> round(float(r.sel(unit=1, epochs="a")), 3)
    10.033
    """
    kind = nap_type(data)
    if kind not in ("TsGroup", "Ts", "Tsd", "TsdFrame"):
        raise TypeError(f"data should be a TsGroup, Ts, Tsd or TsdFrame, got a {kind}")
    if not isinstance(epochs_dict, Mapping) or not epochs_dict:
        raise TypeError("epochs_dict should be a non-empty dictionary of interval sets.")
    columns = []
    for ep in epochs_dict.values():
        starts, ends = bounds(ep)
        if kind in ("TsGroup", "Ts"):
            if kind == "Ts":
                spikes, offsets = times(data), np.array([0, data.sizes[TIME]])
            else:
                spikes = np.asarray(data["spike_time"].values, dtype=np.float64)
                offsets = unit_offsets(data)
            n = np.bincount(unit_index(offsets)[inside(spikes, starts, ends)],
                            minlength=offsets.size - 1)
            columns.append(rates(n, starts, ends))
        else:
            lo, hi = epoch_rows(time_index(data), starts, ends)
            total = segment_sums(data, lo, hi).sum(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                columns.append(total.reshape(-1) / int(np.sum(hi - lo)))
    coords = _unit_coords(data, kind)
    coords["epochs"] = list(epochs_dict.keys())
    attrs = {"long_name": "mean rate", "units": "Hz"} if kind in ("TsGroup", "Ts") else \
        _value_attrs(data, kind, False)
    out = xr.DataArray(np.stack(columns, axis=1), dims=(UNIT, "epochs"), coords=coords,
                       name="response", attrs=attrs)
    return out.to_pandas().T if return_pandas else out


def compute_discrete_tuning_curves(
    group: xr.DataArray | xr.Dataset, dict_ep: Mapping[Hashable, Any]
) -> xr.DataArray:
    """Legacy name of :func:`compute_response_per_epoch` (removed pynapple API).

    Returns the DataArray ``(unit, epochs)``; pynapple returned its transpose as a
    DataFrame.
    """
    return compute_response_per_epoch(group, dict_ep)


# --------------------------------------------------------------------------- legacy 1-D/2-D
def _legacy_check_1(feature: xr.DataArray) -> None:
    if not isinstance(feature, xr.DataArray) or feature.ndim > 2 or (
            feature.ndim == 2 and feature.shape[1] != 1):
        raise TypeError("feature should be a Tsd (or TsdFrame with 1 column only)")


def _legacy_check_2(features: xr.DataArray) -> None:
    if not isinstance(features, xr.DataArray) or features.ndim != 2 or \
            features.shape[1] != 2:
        raise TypeError("features should be a TsdFrame with 2 columns")


def compute_1d_tuning_curves(
    group: xr.Dataset, feature: xr.DataArray, nb_bins: int, ep: Any = None,
    minmax: Sequence[float] | None = None,
) -> xr.DataArray:
    """1-D tuning curves of a TsGroup (legacy pynapple API).

    Same values as pynapple's (a DataFrame bins x units there); here the
    :func:`tuning_curves` DataArray ``(unit, feature)``.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> t = np.arange(0, 10, 0.1)
    >>> tc = nap.compute_1d_tuning_curves(nap.ts_group({0: t}), nap.tsd(t, t), 5)
    >>> tc.shape
    (1, 5)
    """
    _legacy_check_1(feature)
    return tuning_curves(group, feature, nb_bins, range=None if minmax is None else
                         [tuple(minmax)], epochs=ep)


def compute_1d_tuning_curves_continuous(
    tsdframe: xr.DataArray, feature: xr.DataArray, nb_bins: int, ep: Any = None,
    minmax: Sequence[float] | None = None,
) -> xr.DataArray:
    """1-D tuning curves of continuous data (legacy pynapple API); see
    :func:`compute_1d_tuning_curves`."""
    _legacy_check_1(feature)
    return tuning_curves(tsdframe, feature, nb_bins, range=None if minmax is None else
                         [tuple(minmax)], epochs=ep)


def _range_2d(minmax):
    return None if minmax is None else [(minmax[0], minmax[1]), (minmax[2], minmax[3])]


def compute_2d_tuning_curves(
    group: xr.Dataset, features: xr.DataArray, nb_bins: int | tuple[int, int],
    ep: Any = None, minmax: Sequence[float] | None = None,
) -> xr.DataArray:
    """2-D tuning curves of a TsGroup (legacy pynapple API).

    ``minmax`` is ``(xmin, xmax, ymin, ymax)``. pynapple returned ``(dict unit -> 2-D
    array, [x centres, y centres])``; here the :func:`tuning_curves` DataArray
    ``(unit, x, y)`` with the same values.
    """
    _legacy_check_2(features)
    return tuning_curves(group, features, nb_bins, range=_range_2d(minmax), epochs=ep)


def compute_2d_tuning_curves_continuous(
    tsdframe: xr.DataArray, features: xr.DataArray, nb_bins: int | tuple[int, int],
    ep: Any = None, minmax: Sequence[float] | None = None,
) -> xr.DataArray:
    """2-D tuning curves of continuous data (legacy pynapple API); see
    :func:`compute_2d_tuning_curves`."""
    _legacy_check_2(features)
    return tuning_curves(tsdframe, features, nb_bins, range=_range_2d(minmax), epochs=ep)


# --------------------------------------------------------------------------- information
def compute_mutual_information(
    tuning_curves: xr.DataArray, rates: Sequence[float] | np.ndarray | None = None
) -> xr.DataArray:
    """Skaggs spatial information of each unit, in bits/sec and bits/spike.

    ``I = sum_x p(x) f(x) log2(f(x) / r)`` with ``p`` the normalised occupancy (the
    ``occupancy`` coordinate, or pynapple's ``attrs["occupancy"]``), ``f`` the tuning
    curve and ``r`` the mean rate (the ``epoch_rate`` coordinate or pynapple's
    ``attrs["rates"]``, ``rates`` or, with a warning, ``sum_x p(x) f(x)``); bits/spike
    is ``I / r``.

    Returns
    -------
    xarray.DataArray
        Named ``mutual_information``, dims ``("unit", "measure")`` with ``measure =
        ["bits/sec", "bits/spike"]`` (the units of each row); ``.to_pandas()`` gives
        pynapple's DataFrame.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> t = np.arange(0, 100, 0.01)
    >>> pos = nap.tsd(t, t / 100)
    >>> tc = nap.tuning_curves(nap.ts_group({1: t[(t > 20) & (t < 30)]}), pos, 10)
    >>> mi = nap.compute_mutual_information(tc)
    >>> round(float(mi.sel(unit=1, measure="bits/spike")), 2)
    3.32
    """
    if not isinstance(tuning_curves, xr.DataArray):
        raise TypeError("tuning_curves should be an xarray.DataArray from tuning_curves()")
    features = tuning_curves.dims[1:]
    if OCCUPANCY in tuning_curves.coords:
        occupancy = tuning_curves[OCCUPANCY].transpose(*features).values
    elif OCCUPANCY in tuning_curves.attrs:  # pynapple's layout
        occupancy = tuning_curves.attrs[OCCUPANCY]
    else:
        raise ValueError("No occupancy found in tuning curves (an 'occupancy' coordinate, "
                         "or attrs['occupancy']).")
    if rates is not None:
        if not isinstance(rates, (list, np.ndarray)):
            raise TypeError("rates should be a list or array.")
        if len(rates) != tuning_curves.shape[0]:
            raise ValueError("dimension of rates should match that of the tuning curves.")
    elif EPOCH_RATE in tuning_curves.coords:
        rates = tuning_curves[EPOCH_RATE].values
    else:
        rates = tuning_curves.attrs.get("rates")
    occupancy = np.asarray(occupancy, dtype=np.float64)
    occupancy = occupancy / np.nansum(occupancy)
    fx = np.asarray(tuning_curves.values, dtype=np.float64)
    axes = tuple(np.arange(1, fx.ndim))
    fr = rates
    if fr is None:
        warn("Estimating mean firing rates from tuning curves, they were not in the "
             "tuning curves nor passed.")
        fr = np.nansum(fx * occupancy, axis=axes)
    fr = np.asarray(fr, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        logfx = np.log2(fx / np.expand_dims(fr, axis=axes))
        logfx[~np.isfinite(logfx)] = 0.0
        bits_sec = np.nansum(occupancy * fx * logfx, axis=axes)
        bits_spike = bits_sec / fr
    return xr.DataArray(
        np.stack([bits_sec, bits_spike], axis=1), dims=(UNIT, "measure"),
        coords={UNIT: tuning_curves[UNIT].values if UNIT in tuning_curves.coords
                else np.arange(fx.shape[0]), "measure": ["bits/sec", "bits/spike"]},
        name="mutual_information",
        attrs={"long_name": "Skaggs spatial information",
               "units": "bits/sec or bits/spike (see measure)"},
    )


def _legacy_tc_array(tc: Any, ndim: int) -> xr.DataArray:
    """Tuning curves given as the legacy DataFrame/array/dict, as ``(unit, ...)``."""
    if isinstance(tc, xr.DataArray):
        return tc
    if isinstance(tc, pd.DataFrame) and ndim == 1:
        return xr.DataArray(tc.values.T, dims=(UNIT, "0"), coords={UNIT: tc.columns.values})
    if isinstance(tc, Mapping):
        return xr.DataArray(np.array([tc[k] for k in tc]), dims=(UNIT, "0", "1"),
                            coords={UNIT: list(tc)})
    arr = np.asarray(tc, dtype=np.float64)
    if ndim == 1:
        return xr.DataArray(arr.T, dims=(UNIT, "0"), coords={UNIT: np.arange(arr.shape[1])})
    return xr.DataArray(arr, dims=(UNIT, "0", "1"), coords={UNIT: np.arange(arr.shape[0])})


def _legacy_info(tcs, features, ep, minmax, bitssec, ndim):
    """pynapple's legacy SI: occupancy on ``linspace(nanmin, nanmax)`` edges of all
    feature samples, counted inside ``ep`` (all samples without it)."""
    tf = time_index(features)
    all_lo, all_hi = np.array([0]), np.array([tf.size])
    if minmax is None:
        mins, maxs = _feature_minmax(features, all_lo, all_hi)
    else:
        mins, maxs = np.asarray(minmax[0::2], float), np.asarray(minmax[1::2], float)
    edges = [np.linspace(mins[i], maxs[i], tcs.shape[i + 1] + 1) for i in range(ndim)]
    lo, hi = (all_lo, all_hi) if ep is None else epoch_rows(tf, *bounds(ep))
    occupancy, _ = _feature_pass(features, lo, hi, edges, np.empty(0, dtype=np.int64))
    occupancy = occupancy.reshape(tcs.shape[1:]).astype(np.float64)
    # pynapple's legacy functions estimate the rates from the curves
    tcs = tcs.drop_vars([c for c in (OCCUPANCY, EPOCH_RATE) if c in tcs.coords])
    tcs = tcs.drop_attrs().assign_attrs(occupancy=occupancy / occupancy.sum())
    mi = compute_mutual_information(tcs)
    measure = "bits/sec" if bitssec else "bits/spike"
    return mi.sel(measure=measure, drop=True).rename("SI").assign_attrs(
        long_name="Skaggs spatial information", units=measure)


def compute_1d_mutual_info(
    tc: Any, feature: xr.DataArray, ep: Any = None, minmax: Sequence[float] | None = None,
    bitssec: bool = False,
) -> xr.DataArray:
    """Spatial information of 1-D tuning curves (legacy pynapple API).

    ``tc`` is a :func:`compute_1d_tuning_curves` result (or pynapple's DataFrame /
    a bins x units array). Mean rates are estimated from the curves (with a warning), as
    in pynapple. Returns a DataArray named ``SI`` on ``unit`` (bits/spike, or bits/sec
    with ``bitssec=True``).
    """
    _legacy_check_1(feature)
    if not isinstance(bitssec, bool):
        raise TypeError("Argument bitssec should be of type bool")
    return _legacy_info(_legacy_tc_array(tc, 1), feature, ep, minmax, bitssec, 1)


def compute_2d_mutual_info(
    dict_tc: Any, features: xr.DataArray, ep: Any = None,
    minmax: Sequence[float] | None = None, bitssec: bool = False,
) -> xr.DataArray:
    """Spatial information of 2-D tuning curves (legacy pynapple API).

    ``dict_tc`` is a :func:`compute_2d_tuning_curves` result, a dict unit -> 2-D array
    or a (units, nx, ny) array; ``minmax`` is ``(xmin, xmax, ymin, ymax)``. Returns a
    DataArray named ``SI`` on ``unit``.
    """
    _legacy_check_2(features)
    if not isinstance(bitssec, bool):
        raise TypeError("Argument bitssec should be of type bool")
    return _legacy_info(_legacy_tc_array(dict_tc, 2), features, ep, minmax, bitssec, 2)
