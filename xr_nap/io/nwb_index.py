"""A lazy time index for rate-based series (``starting_time`` + ``rate``).

An NWB TimeSeries sampled at a fixed rate stores only its first time and its rate; its
sample times are ``starting_time + arange(n) / rate`` (pynapple's formula, reproduced
here bit for bit). :class:`RateTimeIndex` gives xarray that coordinate without building
the float64 array: labels are computed from positions on demand, so a 1e8-sample series
costs nothing until its times are asked for.

It extends :class:`xarray.indexes.RangeIndex`, whose ``.sel`` only accepts
``method="nearest"`` and treats slices as half-open. Here ``.sel`` behaves like a pandas
index on the same values: ``da.sel(time=slice(a, b))`` keeps ``a <= t <= b`` (both ends
included) and stays lazy; scalar or array labels must match a sample time (to within
1 ns, pynapple's precision) unless a ``method`` is given.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import xarray as xr
from xarray.core.coordinate_transform import CoordinateTransform
from xarray.core.indexing import IndexSelResult
from xarray.indexes import RangeIndex
from xarray.indexes.range_index import RangeCoordinateTransform

__all__ = ["RateTimeIndex", "rate_time_coords"]

PRECISION = 1e-9  # seconds; labels closer than this to a sample time select it


class RateTransform(RangeCoordinateTransform):
    """``t(i) = t0 + (first + i * stride) / rate`` for ``i`` in ``range(size)``.

    Keeping ``t0``, ``rate`` and integer positions (rather than a float start and
    step) makes every label equal to pynapple's ``t0 + arange(n) / rate`` exactly,
    also after slicing.
    """

    __slots__ = ("first", "rate", "stride", "t0")

    def __init__(
        self, t0: float, rate: float, size: int, coord_name: Hashable, dim: str,
        first: int = 0, stride: int = 1,
    ):
        self.t0, self.rate = float(t0), float(rate)
        self.first, self.stride = int(first), int(stride)
        start = self.t0 + self.first / self.rate
        step = self.stride / self.rate
        super().__init__(start, start + size * step, size, coord_name, dim, step=step)

    def forward(self, dim_positions: dict[str, Any]) -> dict[Hashable, Any]:
        pos = np.asarray(dim_positions[self.dim])
        return {self.coord_name: self.t0 + (self.first + pos * self.stride) / self.rate}

    def reverse(self, coord_labels: dict[Hashable, Any]) -> dict[str, Any]:
        labels = np.asarray(coord_labels[self.coord_name], dtype=np.float64)
        return {self.dim: ((labels - self.t0) * self.rate - self.first) / self.stride}

    def slice(self, sl: slice) -> RateTransform:
        r = range(self.size)[sl]
        return type(self)(
            self.t0, self.rate, len(r), self.coord_name, self.dim,
            first=self.first + r.start * self.stride, stride=self.stride * r.step,
        )

    def equals(self, other: CoordinateTransform, exclude: Any = None, **kwargs: Any) -> bool:
        if not isinstance(other, RateTransform):
            return super().equals(other, exclude, **kwargs)
        return (self.t0, self.rate, self.first, self.stride, self.size) == (
            other.t0, other.rate, other.first, other.stride, other.size)


class RateTimeIndex(RangeIndex):
    """Lazy index of the sample times of a rate-based series (see module docstring).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from xr_nap.io.nwb_index import rate_time_coords
    >>> da = xr.DataArray(np.arange(10), dims="time", coords=rate_time_coords(1.0, 2.0, 10))
    >>> da.sel(time=slice(2.0, 3.0)).time.values
    array([2. , 2.5, 3. ])
    >>> int(da.sel(time=3.5))
    5
    """

    transform: RateTransform

    def isel(self, indexers: Mapping[Any, Any]) -> Any:
        idxer = indexers[self.dim]
        if isinstance(idxer, slice):
            return type(self)(self.transform.slice(idxer))
        return super().isel(indexers)

    def _positions(self, labels: Any) -> np.ndarray:
        return self.transform.reverse({self.coord_name: labels})[self.dim]

    def _time(self, pos: Any) -> np.ndarray:
        return self.transform.forward({self.dim: pos})[self.coord_name]

    def _scalar_time(self, i: int) -> float:
        # Python floats are IEEE doubles: the same bits as forward(), without numpy's
        # per-call cost on the few labels a slice needs
        tr = self.transform
        return tr.t0 + (tr.first + i * tr.stride) / tr.rate

    def _scalar_position(self, label: float) -> float:
        tr = self.transform
        return ((float(label) - tr.t0) * tr.rate - tr.first) / tr.stride

    def _first_at_or_after(self, label: float) -> int:
        i = min(max(math.ceil(self._scalar_position(label)), 0), self.size)
        while i > 0 and self._scalar_time(i - 1) >= label:  # undo float round-off
            i -= 1
        while i < self.size and self._scalar_time(i) < label:
            i += 1
        return i

    def _last_at_or_before(self, label: float) -> int:
        i = min(max(math.floor(self._scalar_position(label)), -1), self.size - 1)
        while i < self.size - 1 and self._scalar_time(i + 1) <= label:
            i += 1
        while i >= 0 and self._scalar_time(i) > label:
            i -= 1
        return i

    def searchsorted(self, values: Any, side: str = "left") -> np.ndarray:
        """``np.searchsorted(times, values, side)`` computed from the rate, exactly.

        xr-nap's functions call this (through
        :func:`xr_nap.core.time_series.search_times`) so that restricting, counting or
        binning a rate-based series never builds its float64 time array.
        """
        values = np.asarray(values, dtype=np.float64)
        if self.transform.stride <= 0:
            raise ValueError("the time index of this series is not increasing")
        if values.size <= 4 and np.isfinite(values).all():  # e.g. a window: no numpy
            find = self._first_at_or_after if side == "left" else (
                lambda v: self._last_at_or_before(v) + 1)
            return np.array([find(v) for v in values.ravel().tolist()],
                            dtype=np.int64).reshape(values.shape)
        top = self.size
        i = np.clip(np.ceil(self._positions(values)), 0, top).astype(np.int64)
        before = (lambda t, v: t >= v) if side == "left" else (lambda t, v: t > v)
        for _ in range(3):  # float round-off moves the estimate by one at most
            back = (i > 0) & before(self._time(np.maximum(i - 1, 0)), values)
            i -= back
            ahead = (i < top) & ~before(self._time(np.minimum(i, top - 1)), values)
            i += ahead
            if not (back.any() or ahead.any()):
                break
        return i

    def times_at(self, positions: Any) -> np.ndarray:
        """Sample times at integer ``positions`` (no full time array built)."""
        return np.asarray(self._time(np.asarray(positions)), dtype=np.float64)

    def sel(self, labels: dict[Any, Any], method: Any = None, tolerance: Any = None
            ) -> IndexSelResult:
        label = labels[self.dim]
        if self.transform.stride <= 0:
            raise NotImplementedError("label selection on a reversed rate-based time index")
        if isinstance(label, slice):
            if label.step is not None:
                raise ValueError("label slices with a step are not supported on 'time'")
            lo = 0 if label.start is None else self._first_at_or_after(label.start)
            hi = self.size if label.stop is None else self._last_at_or_before(label.stop) + 1
            return IndexSelResult({self.dim: slice(lo, max(lo, hi))})
        if method == "nearest":
            return super().sel(labels, method=method, tolerance=tolerance)
        if isinstance(label, xr.DataArray | xr.Variable):
            dims, values = label.dims, label.values
        else:
            dims, values = None, np.asarray(label, dtype=np.float64)
        pos = self._positions(values)
        if method in ("pad", "ffill"):
            idx = np.floor(pos + PRECISION * self.transform.rate)
        elif method in ("backfill", "bfill"):
            idx = np.ceil(pos - PRECISION * self.transform.rate)
        elif method is None:
            idx = np.rint(pos)
            miss = np.abs(self._time(idx) - values) > PRECISION
            if np.any(miss):
                raise KeyError(f"time {np.atleast_1d(values)[np.atleast_1d(miss)][0]!r} is "
                               "not a sample time (use method='nearest' or a slice)")
        else:
            raise ValueError(f"unsupported method {method!r}")
        if np.any((idx < 0) | (idx >= self.size)):
            raise KeyError(f"time label(s) {values!r} outside the series")
        idx = idx.astype(np.int64)
        return IndexSelResult({self.dim: xr.Variable(dims, idx) if dims else idx})


def rate_time_coords(t0: float, rate: float, n: int, dim: str = "time") -> xr.Coordinates:
    """Coordinates holding a lazy ``time`` index ``t0 + arange(n) / rate`` (seconds).

    Examples
    --------
    >>> from xr_nap.io.nwb_index import rate_time_coords
    >>> rate_time_coords(0.5, 4.0, 3)["time"].values
    array([0.5 , 0.75, 1.  ])
    """
    if not (np.isfinite(rate) and rate > 0):
        raise ValueError(f"rate must be a positive finite number, got {rate!r}")
    index = RateTimeIndex(RateTransform(t0, rate, int(n), dim, dim))
    coords = xr.Coordinates.from_xindex(index)
    coords[dim].attrs["units"] = "s"
    return coords
