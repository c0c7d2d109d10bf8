"""Sample times computed from a start and a rate, never stored.

An NWB TimeSeries sampled at a fixed rate stores only its first time and its rate:
its times are ``t0 + arange(n) / rate`` (pynapple's formula, reproduced bit for bit).
:class:`RateTransform` gives them to xarray as a lazy coordinate (through the public
:class:`xarray.indexes.CoordinateTransform` API), so a 1e8-sample series costs nothing
until its times are asked for; :class:`RunsTransform` does the same for several
windows of one such grid (what restricting or thresholding it keeps). Both answer
``searchsorted`` exactly from the rate. :class:`~xr_nap.core.time_index.TimeIndex`
wraps them.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Hashable
from typing import Any

import numpy as np
from xarray.indexes import CoordinateTransform

__all__ = ["RateTransform", "RunsTransform", "PRECISION"]

TIME = "time"
PRECISION = 1e-9  # seconds; a label this close to a sample time selects it (pynapple's)


class RateTransform(CoordinateTransform):
    """``t(i) = t0 + (first + i * stride) / rate`` for ``i`` in ``range(size)``.

    Keeping ``t0``, ``rate`` and integer positions (rather than a float start and
    step) makes every label equal to pynapple's ``t0 + arange(n) / rate`` exactly,
    also after slicing.
    """

    def __init__(self, t0: float, rate: float, size: int, coord_name: Hashable = TIME,
                 dim: str = TIME, first: int = 0, stride: int = 1):
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be a positive finite number, got {rate!r}")
        if not math.isfinite(t0):
            raise ValueError(f"starting time must be finite, got {t0!r}")
        if stride < 1:
            raise ValueError(f"stride must be a positive integer, got {stride!r}")
        super().__init__([coord_name], {dim: int(size)}, dtype=np.dtype(np.float64))
        self.t0, self.rate = float(t0), float(rate)
        self.first, self.stride = int(first), int(stride)

    @property
    def size(self) -> int:
        return self.dim_size[self.dims[0]]

    def forward(self, dim_positions: dict[str, Any]) -> dict[Hashable, Any]:
        pos = np.asarray(dim_positions[self.dims[0]])
        return {self.coord_names[0]: self.t0 + (self.first + pos * self.stride) / self.rate}

    def reverse(self, coord_labels: dict[Hashable, Any]) -> dict[str, Any]:
        labels = np.asarray(coord_labels[self.coord_names[0]], dtype=np.float64)
        return {self.dims[0]: ((labels - self.t0) * self.rate - self.first) / self.stride}

    def equals(self, other: CoordinateTransform, **kwargs: Any) -> bool:
        return isinstance(other, RateTransform) and self.key() == other.key()

    def key(self) -> tuple:
        return (self.t0, self.rate, self.first, self.stride, self.size)

    def time(self, i: int) -> float:
        # Python floats are IEEE doubles: the same bits as forward(), without numpy's
        # per-call cost on the few labels a window needs
        return self.t0 + (self.first + i * self.stride) / self.rate

    def times(self, positions: Any) -> np.ndarray:
        return np.asarray(self.forward({self.dims[0]: positions})[self.coord_names[0]],
                          dtype=np.float64)

    def slice(self, sl: slice) -> RateTransform:
        r = range(self.size)[sl]
        return RateTransform(self.t0, self.rate, len(r), self.coord_names[0], self.dims[0],
                             first=self.first + r.start * self.stride,
                             stride=self.stride * r.step)

    def take(self, lo: np.ndarray, hi: np.ndarray) -> RunsTransform | None:
        """The samples in the position ranges ``[lo[i], hi[i])`` (sorted, disjoint), as
        windows of the grid; ``None`` for a strided grid."""
        if self.stride != 1:
            return None
        return take_runs(self.t0, self.rate, lambda pos: self.first + np.asarray(pos),
                         np.empty(0, np.int64), lo, hi, self.coord_names[0], self.dims[0])

    def _position(self, label: float) -> float:
        return ((label - self.t0) * self.rate - self.first) / self.stride

    def first_at_or_after(self, label: float) -> int:
        if not math.isfinite(label):
            return 0 if label < 0 else self.size
        i = min(max(math.ceil(self._position(label)), 0), self.size)
        while i > 0 and self.time(i - 1) >= label:  # undo float round-off
            i -= 1
        while i < self.size and self.time(i) < label:
            i += 1
        return i

    def searchsorted(self, values: Any, side: str = "left") -> np.ndarray:
        """``np.searchsorted(times, values, side)``, exactly, without the times."""
        values = np.asarray(values, dtype=np.float64)
        if values.size <= 4 and np.isfinite(values).all():  # e.g. a window: no numpy
            if side == "left":
                found = [self.first_at_or_after(v) for v in values.ravel().tolist()]
            else:  # first position whose time is > v
                found = [self.first_at_or_after(np.nextafter(v, np.inf))
                         for v in values.ravel().tolist()]
            return np.array(found, dtype=np.int64).reshape(values.shape)
        top = self.size
        with np.errstate(invalid="ignore"):
            est = np.ceil(self.reverse({self.coord_names[0]: values})[self.dims[0]])
        i = np.clip(np.nan_to_num(est, nan=top, posinf=top, neginf=0), 0, top).astype(np.int64)
        before = (lambda t, v: t >= v) if side == "left" else (lambda t, v: t > v)
        for _ in range(3):  # float round-off moves the estimate by one at most
            back = (i > 0) & before(self.times(np.maximum(i - 1, 0)), values)
            i -= back
            ahead = (i < top) & ~before(self.times(np.minimum(i, top - 1)), values)
            i += ahead
            if not (back.any() or ahead.any()):
                break
        return i

    def positions(self, labels: np.ndarray, method: str | None, tolerance: Any
                  ) -> np.ndarray:
        """Positions of ``labels`` (-1 where none), as ``pandas.Index.get_indexer``."""
        return positions_by_search(self, labels, method, tolerance)


class RunsTransform(CoordinateTransform):
    """Several windows of one rate grid: ``t(i) = t0 + g(i) / rate`` where ``g`` runs
    through ``starts[k], starts[k] + 1, ...`` for ``offsets[k+1] - offsets[k]`` samples.

    What a restriction or a threshold of a rate-based series keeps: its times stay
    computed from the rate, one pair of integers per window, whatever the number of
    samples (the same bits as pynapple's ``t0 + arange(n) / rate``).
    """

    def __init__(self, t0: float, rate: float, starts: np.ndarray, offsets: np.ndarray,
                 coord_name: Hashable = TIME, dim: str = TIME):
        self.t0, self.rate = float(t0), float(rate)
        self.starts = np.asarray(starts, dtype=np.int64)
        self.offsets = np.asarray(offsets, dtype=np.int64)
        super().__init__([coord_name], {dim: int(self.offsets[-1])},
                         dtype=np.dtype(np.float64))

    @property
    def size(self) -> int:
        return self.dim_size[self.dims[0]]

    def grid(self, positions: Any) -> np.ndarray:
        """The rate-grid index of each sample position."""
        pos = np.asarray(positions, dtype=np.int64)
        if not self.starts.size:
            return pos.copy()  # no samples: nothing to map
        k = np.searchsorted(self.offsets, pos, side="right") - 1
        return self.starts[np.clip(k, 0, self.starts.size - 1)] + pos - self.offsets[
            np.clip(k, 0, self.starts.size - 1)]

    def forward(self, dim_positions: dict[str, Any]) -> dict[Hashable, Any]:
        return {self.coord_names[0]: self.t0 + self.grid(dim_positions[self.dims[0]])
                / self.rate}

    def reverse(self, coord_labels: dict[Hashable, Any]) -> dict[str, Any]:
        labels = np.asarray(coord_labels[self.coord_names[0]], dtype=np.float64)
        return {self.dims[0]: self.searchsorted(labels).astype(np.float64)}

    def equals(self, other: CoordinateTransform, **kwargs: Any) -> bool:
        return isinstance(other, RunsTransform) and self.key() == other.key()

    def key(self) -> tuple:
        return (self.t0, self.rate, self.starts.tobytes(), self.offsets.tobytes())

    def time(self, i: int) -> float:
        k = bisect.bisect_right(self.offsets.tolist(), i) - 1 if self.starts.size > 1 else 0
        return self.t0 + (int(self.starts[k]) + i - int(self.offsets[k])) / self.rate

    def times(self, positions: Any) -> np.ndarray:
        return np.asarray(self.forward({self.dims[0]: positions})[self.coord_names[0]],
                          dtype=np.float64)

    def first_at_or_after(self, label: float) -> int:
        return int(self.searchsorted(np.array([label]))[0])

    def searchsorted(self, values: Any, side: str = "left") -> np.ndarray:
        """``np.searchsorted(times, values, side)``, exactly, without the times."""
        values = np.asarray(values, dtype=np.float64)
        if not self.starts.size:
            return np.zeros(values.shape, dtype=np.int64)
        g = grid_search(self.t0, self.rate, values, side)  # first grid index past v
        k = np.searchsorted(self.starts, g, side="right") - 1
        safe = np.maximum(k, 0)
        lengths = np.diff(self.offsets)
        pos = self.offsets[safe] + np.clip(g - self.starts[safe], 0, lengths[safe])
        return np.where(k < 0, 0, pos)

    def positions(self, labels: np.ndarray, method: str | None, tolerance: Any
                  ) -> np.ndarray:
        """Positions of ``labels`` (-1 where none), as ``pandas.Index.get_indexer``."""
        return positions_by_search(self, labels, method, tolerance)

    def slice(self, sl: slice) -> RunsTransform | None:
        r = range(self.size)[sl]
        if r.step != 1:
            return None
        return self.take(np.array([r.start]), np.array([r.stop]))

    def take(self, lo: np.ndarray, hi: np.ndarray) -> RunsTransform:
        """The samples in the position ranges ``[lo[i], hi[i])`` (sorted, disjoint)."""
        return take_runs(self.t0, self.rate, self.grid, self.offsets[1:-1], lo, hi,
                         self.coord_names[0], self.dims[0])


def grid_search(t0: float, rate: float, values: np.ndarray, side: str) -> np.ndarray:
    """Smallest grid index ``g`` with ``t0 + g / rate >= v`` (``side="left"``) or ``> v``
    (``"right"``), exactly (the estimate from the rate is corrected for round-off)."""
    with np.errstate(invalid="ignore", over="ignore"):
        est = np.ceil((values - t0) * rate)
    big = float(2**62)
    g = np.nan_to_num(np.clip(est, -big, big), nan=big).astype(np.int64)
    before = (lambda t, v: t >= v) if side == "left" else (lambda t, v: t > v)
    for _ in range(3):  # float round-off moves the estimate by one at most
        back = before(t0 + (g - 1) / rate, values)
        g -= back
        ahead = ~before(t0 + g / rate, values)
        g += ahead
        if not (back.any() or ahead.any()):
            break
    return g


def positions_by_search(transform: Any, labels: np.ndarray, method: str | None,
                        tolerance: Any) -> np.ndarray:
    """``pandas.Index.get_indexer`` semantics from ``searchsorted`` and ``times``."""
    labels = np.asarray(labels, dtype=np.float64)
    n = transform.size
    if method in ("pad", "ffill"):
        idx = transform.searchsorted(labels + PRECISION, side="right") - 1
    elif method in ("backfill", "bfill"):
        idx = transform.searchsorted(labels - PRECISION, side="left")
    elif method in (None, "nearest"):
        after = np.clip(transform.searchsorted(labels, side="left"), 0, max(n - 1, 0))
        before = np.clip(after - 1, 0, max(n - 1, 0))
        closer = np.abs(transform.times(before) - labels) < np.abs(
            transform.times(after) - labels)
        idx = np.where(closer, before, after)
    else:
        raise ValueError(f"unsupported method {method!r}")
    ok = (idx >= 0) & (idx < n) & np.isfinite(labels)
    dist = np.abs(transform.times(np.where(ok, idx, 0)) - labels) if n else labels
    limit = PRECISION if method is None else (np.inf if tolerance is None
                                              else float(tolerance))
    return np.where(ok & (dist <= limit), idx, -1)


def take_runs(t0: float, rate: float, grid: Any, cuts: np.ndarray, lo: np.ndarray,
              hi: np.ndarray, coord_name: Hashable, dim: str) -> RunsTransform:
    """The position ranges ``[lo, hi)`` of a series whose positions map to grid indexes
    by ``grid`` (contiguous except at the positions ``cuts``), as windows of the grid."""
    lo, hi = np.asarray(lo, np.int64), np.asarray(hi, np.int64)
    keep = hi > lo
    lo, hi = lo[keep], hi[keep]
    if not lo.size:
        return RunsTransform(t0, rate, lo, np.zeros(1, np.int64), coord_name, dim)
    # a range that crosses a cut becomes two pieces
    r = np.searchsorted(lo, cuts, side="right") - 1
    inner = cuts[(r >= 0) & (cuts > lo[np.maximum(r, 0)]) & (cuts < hi[np.maximum(r, 0)])]
    piece_lo = np.sort(np.concatenate([lo, inner]))
    nxt = np.append(piece_lo[1:], np.iinfo(np.int64).max)
    piece_hi = np.minimum(nxt, hi[np.searchsorted(lo, piece_lo, side="right") - 1])
    starts = grid(piece_lo) if piece_lo.size else piece_lo
    lengths = piece_hi - piece_lo
    # pieces that follow each other on the grid are one window
    new = np.ones(starts.size, dtype=bool)
    new[1:] = starts[1:] != starts[:-1] + lengths[:-1]
    group = np.cumsum(new) - 1
    window_len = np.bincount(group, weights=lengths).astype(np.int64) if starts.size \
        else lengths
    return RunsTransform(t0, rate, starts[new], np.concatenate([[0], np.cumsum(window_len)]),
                         coord_name, dim)
