"""The ``time`` index: sample times plus the time support, kept true by xarray itself.

A pynapple object carries a *time support*, the intervals in which it was observed.
xr-nap keeps it in a custom :class:`xarray.Index` on the ``time`` coordinate,
:class:`TimeIndex`, next to the sample times, so that xarray's own operations update
it:

==========================================================  ============================
operation                                                   support afterwards
==========================================================  ============================
``.sel(time=slice(a, b))``                                  support ∩ [a, b]
``.isel`` (slice, positions, mask), ``where(drop=True)``,   support ∩ [first kept
``dropna``                                                  sample, last kept sample]
``xr.concat(..., "time")``                                  union of the supports
alignment / arithmetic / ``xr.Dataset`` / ``xr.merge``      inner join: intersection;
                                                            outer join: union
``assign_coords(time=...)``, any new time coordinate        first to last sample
reductions over time                                        no time dim, no support
==========================================================  ============================

A selection that keeps every sample in order (``da[:, 0]``, ``da.isel(time=slice(None))``)
leaves the support as it is. A selection that leaves the times unsorted (a reversed
slice, ``isel`` with shuffled positions) gives a plain pandas index: xr-nap functions
then refuse the object until it is sorted again.

The sample times are either a pandas index or, for a series sampled at a fixed rate
(NWB ``starting_time`` + ``rate``), a :class:`RateTransform` that computes
``t0 + i / rate`` on demand, so a 1e8-sample series never builds an 800 MB array
unless its times are asked for.

Files cannot hold an index. :meth:`TimeIndex.create_variables` therefore writes the
support into the time coordinate's attributes, ``time_support = [s0, e0, s1, e1, ...]``
(float64), with ``time_support_samples = [n, first, last]``: the samples it was written
for. An object read back by xarray's own engines has a plain index; xr-nap adopts the
encoded support (:func:`time_index`) only when the coordinate still has those samples.
Otherwise the coordinate was changed after reading (sliced, concatenated, shifted) and
the attribute is stale: xr-nap warns and uses the support clipped to the samples (when
every sample lies inside it) or the first to last sample.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

# ``Index.sel`` must return an IndexSelResult; xarray documents it for custom indexes
# but exports it only from its core package (the one private import of xr-nap)
from xarray.core.indexing import IndexSelResult
from xarray.indexes import CoordinateTransformIndex, Index, PandasIndex

from xr_nap.core.rate_grid import RateTransform
from xr_nap.core.search import ranges
from xr_nap.errors import StaleSupportWarning, TimeAxisError, warn

__all__ = [
    "TimeIndex",
    "RateTransform",
    "time_index",
    "time_coords",
    "rate_time_coords",
    "select",
    "SUPPORT_ATTR",
    "SAMPLES_ATTR",
]

TIME = "time"
SUPPORT_ATTR = "time_support"
SAMPLES_ATTR = "time_support_samples"
SECONDS = {None, "s", "sec", "second", "seconds"}
_EMPTY = np.empty(0, dtype=np.float64)


# --------------------------------------------------------------------------- supports
def default_support(first: float, last: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """First to last sample; empty when that has no length (pynapple drops zero-length
    intervals, so a single sample has an empty support)."""
    if n > 1 and last > first:
        return np.array([first], dtype=np.float64), np.array([last], dtype=np.float64)
    return _EMPTY, _EMPTY


def clip_support(starts: np.ndarray, ends: np.ndarray, lo: float, hi: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The support ∩ [lo, hi], zero-length pieces dropped."""
    if starts.size <= 8:  # the usual case: plain floats beat numpy's per-call cost
        pairs = [(max(s, lo), min(e, hi)) for s, e in zip(starts.tolist(), ends.tolist(),
                                                         strict=True)]
        pairs = [p for p in pairs if p[1] > p[0]]
        return (np.array([p[0] for p in pairs], dtype=np.float64),
                np.array([p[1] for p in pairs], dtype=np.float64))
    a = np.maximum(starts, lo)
    b = np.minimum(ends, hi)
    keep = b > a
    return a[keep], b[keep]


def intersect_supports(s1, e1, s2, e2) -> tuple[np.ndarray, np.ndarray]:
    """Intersection of two sorted, disjoint interval lists (zero-length pieces dropped)."""
    j_lo = np.searchsorted(e2, s1, side="right")
    j_hi = np.searchsorted(s2, e1, side="left")
    counts = np.maximum(j_hi - j_lo, 0)
    i = np.repeat(np.arange(s1.size), counts)
    j = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
         + np.repeat(j_lo, counts))
    a, b = np.maximum(s1[i], s2[j]), np.minimum(e1[i], e2[j])
    keep = b > a
    return a[keep].astype(np.float64), b[keep].astype(np.float64)


def union_supports(parts: Iterable[tuple[np.ndarray, np.ndarray]]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Union of interval lists; overlapping or touching intervals are merged."""
    parts = list(parts)
    starts = np.concatenate([p[0] for p in parts]) if parts else _EMPTY
    ends = np.concatenate([p[1] for p in parts]) if parts else _EMPTY
    if starts.size == 0:
        return _EMPTY, _EMPTY
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], np.maximum.accumulate(ends[order])
    new = np.ones(starts.size, dtype=bool)
    new[1:] = starts[1:] > ends[:-1]
    last = np.append(np.flatnonzero(new)[1:] - 1, starts.size - 1)
    return starts[new].astype(np.float64), ends[last].astype(np.float64)


def check_support(starts: Any, ends: Any, what: str = "time support"
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, ends)`` as float64 arrays, refused unless sorted, disjoint, finite and
    of positive length (the form every interval set of xr-nap has)."""
    s = np.asarray(starts, dtype=np.float64).reshape(-1)
    e = np.asarray(ends, dtype=np.float64).reshape(-1)
    if s.shape != e.shape:
        raise ValueError(f"{what}: {s.size} starts but {e.size} ends")
    if not (np.isfinite(s).all() and np.isfinite(e).all()):
        raise ValueError(f"{what}: bounds must be finite")
    if np.any(e <= s) or np.any(s[1:] <= e[:-1]):
        raise ValueError(f"{what}: intervals must be sorted, disjoint and of positive length")
    return s, e


# --------------------------------------------------------------------------- time index
class TimeIndex(Index):
    """Sample times (pandas index or rate transform) and the time support.

    Build one with :func:`time_coords`, :func:`rate_time_coords`, xr-nap's constructors
    (``xr_nap.tsd`` ...), or on an existing coordinate with
    ``obj.drop_indexes("time").set_xindex("time", TimeIndex)``, which validates the
    times and adopts an encoded ``time_support`` attribute (see module docstring).

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> x = nap.tsd(np.arange(10.0), np.arange(10), time_support=(0, 9))
    >>> type(x.xindexes["time"]).__name__
    'TimeIndex'
    >>> nap.time_support(x.sel(time=slice(2.5, 20))).end.values
    array([9.])
    >>> x.isel(time=slice(3, 6)).time.attrs["time_support"]
    array([3., 5.])
    """

    def __init__(self, times: PandasIndex | CoordinateTransformIndex,
                 starts: Any = None, ends: Any = None):
        self.times = times
        if starts is None:
            n = self.size
            starts, ends = default_support(*(self.times_at([0, n - 1]) if n else (0.0, 0.0)),
                                           n)
        self.starts = np.asarray(starts, dtype=np.float64)
        self.ends = np.asarray(ends, dtype=np.float64)
        # the index a label slice computed, for the positional isel xarray runs next
        self._handoff: tuple[slice, TimeIndex] | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ basic facts
    @property
    def is_rate(self) -> bool:
        """Whether the times are computed from a start and a rate (never stored)."""
        return isinstance(self.times, CoordinateTransformIndex)

    @property
    def dim(self) -> str:
        return self.times.transform.dims[0] if self.is_rate else self.times.dim

    @property
    def coord_name(self) -> Hashable:
        return self.times.transform.coord_names[0] if self.is_rate else self.times.index.name

    @property
    def size(self) -> int:
        return self.times.transform.size if self.is_rate else len(self.times.index)

    def __len__(self) -> int:
        return self.size

    @property
    def values(self) -> np.ndarray:
        """All sample times as float64 (built on demand for a rate-based index)."""
        if self.is_rate:
            return self.times.transform.times(np.arange(self.size))
        return np.asarray(self.times.index.values, dtype=np.float64)

    @property
    def support(self) -> tuple[np.ndarray, np.ndarray]:
        """``(starts, ends)`` of the time support."""
        return self.starts, self.ends

    def searchsorted(self, values: Any, side: str = "left") -> np.ndarray:
        """``np.searchsorted(times, values, side)`` without building a lazy index."""
        if self.is_rate:
            return self.times.transform.searchsorted(values, side)
        return np.searchsorted(self.values, values, side=side)

    def _search_one(self, value: float, side: str) -> int:
        """``searchsorted`` of one finite label, without numpy's per-call cost."""
        if self.is_rate:
            tr = self.times.transform
            return tr.first_at_or_after(value if side == "left" else
                                        math.nextafter(value, math.inf))
        return int(np.searchsorted(self.times.index.values, value, side=side))

    def times_at(self, positions: Any) -> np.ndarray:
        """Sample times at integer ``positions``."""
        positions = np.asarray(positions, dtype=np.int64)
        if self.is_rate:
            return self.times.transform.times(positions)
        return self.values[positions]

    def with_support(self, starts: Any, ends: Any) -> TimeIndex:
        """The same times with another support."""
        return TimeIndex(self.times, starts, ends)

    def _with_times(self, times: PandasIndex | CoordinateTransformIndex, lo: float,
                    hi: float) -> TimeIndex:
        """``times`` (a selection of this index's) with the support ∩ [lo, hi]."""
        return TimeIndex(times, *clip_support(self.starts, self.ends, lo, hi))

    def _time(self, i: int) -> float:
        """The time of sample ``i`` as a Python float (no numpy call)."""
        if self.is_rate:
            return self.times.transform.time(i)
        return float(self.times.index.values[i])

    def hand_off(self, key: slice, index: TimeIndex) -> None:
        """Make the next ``isel`` with this very ``key`` give ``index``.

        xarray applies a label selection as a positional ``isel`` (which builds the
        coordinate variable, with its encoded support) and only then puts the index
        that ``sel`` returned in place; handing that index to the ``isel`` keeps the
        variable's attributes equal to it. xr-nap's functions use it the same way to
        select a window with a given support in one pass.
        """
        with self._lock:
            self._handoff = (key, index)

    def _pandas(self) -> pd.Index:
        return self.times.index if not self.is_rate else pd.Index(self.values,
                                                                   name=self.coord_name)

    def _as_pandas_index(self) -> PandasIndex:
        return self.times if not self.is_rate else PandasIndex(self._pandas(), self.dim)

    # ------------------------------------------------------------------ xarray API
    @classmethod
    def from_variables(cls, variables: Mapping[Any, xr.Variable], *,
                       options: Mapping[str, Any]) -> TimeIndex:
        if len(variables) != 1:
            raise ValueError(f"a TimeIndex is built on one coordinate, got {list(variables)}")
        name, var = next(iter(variables.items()))
        if var.ndim != 1:
            raise TimeAxisError(f"coordinate {name!r} must be 1-D, has dims {var.dims}")
        t = checked_times(var, name)
        index = PandasIndex(pd.Index(t, name=name), var.dims[0])
        if "time_support" in options and options["time_support"] is not None:
            starts, ends = options["time_support"]
        else:
            starts, ends = adopted_support(var.attrs, t, name)
        return cls(index, starts, ends)

    @classmethod
    def concat(cls, indexes: Sequence[TimeIndex], dim: Hashable,
               positions: Iterable[Iterable[int]] | None = None) -> TimeIndex:
        if not all(isinstance(i, TimeIndex) for i in indexes):
            raise TypeError("xr.concat along time needs xr-nap time indexes on every piece")
        support = union_supports(i.support for i in indexes)
        joined = _concat_rates(indexes) if positions is None else None
        if joined is not None:
            return cls(joined, *support)
        times = PandasIndex.concat([i._as_pandas_index() for i in indexes], dim, positions)
        if not times.index.is_monotonic_increasing:
            ends = [(float(i.times_at([i.size - 1])[0]), float(i.times_at([0])[0]))
                    for i in indexes if i.size]
            where = next((k for k in range(1, len(ends)) if ends[k][1] < ends[k - 1][0]), 0)
            raise TimeAxisError(
                f"xr.concat along 'time' gives unsorted times: piece {where} starts at "
                f"{ends[where][1]!r} s, before the previous piece ends at "
                f"{ends[where - 1][0]!r} s; concatenate the pieces in time order and "
                "without overlap")
        return cls(times, *support)

    def create_variables(self, variables: Mapping[Any, xr.Variable] | None = None
                         ) -> dict[Hashable, xr.Variable]:
        new = self.times.create_variables(variables)
        var = new[self.coord_name]
        # CF/cf_xarray: a time axis in seconds; the support encoded for files
        var.attrs.update({"units": "s", "axis": "T", "standard_name": "time"})
        var.attrs[SUPPORT_ATTR] = encode_support(self.starts, self.ends)
        n = self.size
        first, last = (self._time(0), self._time(n - 1)) if n else (np.nan, np.nan)
        var.attrs[SAMPLES_ATTR] = np.array([n, first, last], dtype=np.float64)
        return new

    def to_pandas_index(self) -> pd.Index:
        return self._pandas()

    def isel(self, indexers: Mapping[Any, Any]) -> Index | None:
        key = indexers[self.dim]
        if isinstance(key, slice):
            with self._lock:
                handoff, self._handoff = self._handoff, None
            if handoff is not None and handoff[0] is key:
                return handoff[1]
            return self._isel_slice(key)
        if isinstance(key, xr.Variable | xr.DataArray):
            if key.dims != (self.dim,):
                return None  # vectorized indexing onto other dims: no time axis left
            key = key.values
        key = np.asarray(key)
        if key.ndim == 0:
            return None  # one sample: the time dim goes away
        if key.ndim != 1:
            return None
        if key.dtype == bool:
            positions = np.flatnonzero(key)
        elif key.size and key.min() < 0:
            positions = np.where(key < 0, key + self.size, key).astype(np.int64)
        else:
            positions = key
        if positions.size == self.size and np.array_equal(positions, np.arange(self.size)):
            return self
        t = self.times_at(positions)
        times = PandasIndex(pd.Index(t, name=self.coord_name), self.dim)
        if t.size > 1 and np.any(t[1:] < t[:-1]):
            return times  # unsorted: a plain index; xr-nap refuses it until sorted
        return self._subset(times, t)

    def _isel_slice(self, key: slice) -> Index:
        r = range(self.size)[key]
        if r.step == 1 and r.start == 0 and r.stop == self.size:
            return self
        if r.step < 0:  # reversed: unsorted unless at most one sample is left
            t = self.times_at(np.arange(self.size)[key])
            times = PandasIndex(pd.Index(t, name=self.coord_name), self.dim)
            return times if t.size > 1 else self._subset(times, t)
        if not len(r):
            return TimeIndex(self._grid(key), _EMPTY, _EMPTY)
        return self._with_times(self._grid(key), self._time(r[0]), self._time(r[-1]))

    def _grid(self, key: slice) -> PandasIndex | CoordinateTransformIndex:
        """The sample times selected by a forward slice."""
        if self.is_rate:
            sliced = self.times.transform.slice(key)
            if sliced is not None:
                return CoordinateTransformIndex(sliced)
            return PandasIndex(pd.Index(self.times_at(np.arange(self.size)[key]),
                                        name=self.coord_name), self.dim)
        return self.times.isel({self.dim: key})

    def take(self, lo: np.ndarray, hi: np.ndarray, starts: Any, ends: Any) -> TimeIndex:
        """The samples in the position ranges ``[lo[i], hi[i])`` (sorted, disjoint) with
        the support ``(starts, ends)``; a rate-based index stays computed from the rate
        (one pair of integers per range, never the times)."""
        windows = self.times.transform.take(lo, hi) if self.is_rate else None
        if windows is not None:
            return TimeIndex(CoordinateTransformIndex(windows), starts, ends)
        if self.is_rate:  # a strided grid
            t = self.times_at(ranges(lo, hi))
        else:  # contiguous copies beat a gather
            values = self.values
            t = np.concatenate([values[a:b] for a, b in zip(lo.tolist(), hi.tolist(),
                                                             strict=True) if b > a]
                               or [values[:0]])
        return TimeIndex(PandasIndex(pd.Index(t, copy=False, name=self.coord_name),
                                     self.dim), starts, ends)

    def _subset(self, times: PandasIndex | CoordinateTransformIndex, t: np.ndarray
                ) -> TimeIndex:
        if len(t) == 0:
            return TimeIndex(times, _EMPTY, _EMPTY)
        return self._with_times(times, float(t[0]), float(t[-1]))

    def sel(self, labels: dict[Any, Any], method: str | None = None,
            tolerance: Any = None) -> IndexSelResult:
        label = next(iter(labels.values()))
        if isinstance(label, slice):
            return self._sel_slice(label, method)
        if isinstance(label, xr.Variable | xr.DataArray):
            values = np.asarray(label.values)
        else:
            values = np.asarray(label)
        if values.dtype.kind == "b":
            return IndexSelResult({self.dim: label})
        if values.dtype.kind not in "iuf" and values.dtype != object:
            raise TypeError(f"'time' labels are seconds (numbers), got {values.dtype} "
                            f"{label!r}")
        if not self.is_rate and not self.times.index.is_unique:  # repeated times
            return IndexSelResult(self.times.sel(labels, method, tolerance).dim_indexers)
        pos = self._positions(values.astype(np.float64), method, tolerance)
        if np.any(pos < 0):
            missing = np.atleast_1d(values)[np.atleast_1d(pos < 0)][0]
            hint = "" if method else " (use method='nearest' or a slice)"
            raise KeyError(f"time {missing!r} is not a sample time{hint}")
        if isinstance(label, xr.Variable):
            pos = xr.Variable(label.dims, pos)
        elif isinstance(label, xr.DataArray):
            pos = xr.DataArray(pos, dims=label.dims, coords=label.coords)
        elif pos.ndim == 0:
            pos = int(pos)
        return IndexSelResult({self.dim: pos})

    def _sel_slice(self, label: slice, method: str | None) -> IndexSelResult:
        if label.step is not None:
            raise ValueError("label slices with a step are not supported on 'time'")
        if method is not None:
            raise ValueError(f"method={method!r} is not supported for a slice of times")
        lo_label = -np.inf if label.start is None else _seconds(label.start)
        hi_label = np.inf if label.stop is None else _seconds(label.stop)
        lo = 0 if label.start is None else self._search_one(lo_label, "left")
        hi = self.size if label.stop is None else self._search_one(hi_label, "right")
        positions = slice(lo, max(lo, hi))
        times = self.times if (lo, hi) == (0, self.size) else self._grid(positions)
        selected = TimeIndex(times, *clip_support(self.starts, self.ends, lo_label, hi_label))
        self.hand_off(positions, selected)
        return IndexSelResult({self.dim: positions}, indexes={self.coord_name: selected})

    def _positions(self, labels: np.ndarray, method: str | None, tolerance: Any
                   ) -> np.ndarray:
        if self.is_rate:
            return self.times.transform.positions(labels, method, tolerance)
        flat = labels.reshape(-1)
        if method is None and tolerance is None:
            pos = self.times.index.get_indexer(flat)
        else:
            pos = self.times.index.get_indexer(flat, method=method, tolerance=tolerance)
        return np.asarray(pos, dtype=np.int64).reshape(labels.shape)

    def equals(self, other: Index, *, exclude: frozenset[Hashable] | None = None) -> bool:
        if not isinstance(other, TimeIndex) or self.size != other.size:
            return False
        if not (np.array_equal(self.starts, other.starts)
                and np.array_equal(self.ends, other.ends)):
            return False
        if self.is_rate and other.is_rate:
            return self.times.transform.equals(other.times.transform)
        if self.is_rate != other.is_rate and self.size and not np.array_equal(
                self.times_at([0, self.size - 1]), other.times_at([0, other.size - 1])):
            return False
        return bool(np.array_equal(self.values, other.values))

    def join(self, other: TimeIndex, how: str = "inner") -> TimeIndex:
        if how == "inner":
            support = intersect_supports(*self.support, *other.support)
        elif how == "outer":
            support = union_supports([self.support, other.support])
        else:
            raise ValueError(f"unsupported join {how!r}")
        joined = _join_rates(self, other, how)
        if joined is None:
            a, b = self._pandas(), other._pandas()
            index = a.union(b) if how == "outer" else a.intersection(b)
            joined = PandasIndex(index.rename(self.coord_name), self.dim)
        return TimeIndex(joined, *support)

    def reindex_like(self, other: TimeIndex, method: str | None = None,
                     tolerance: Any = None) -> dict[Hashable, Any]:
        if self.is_rate and other.is_rate and self.times.transform.equals(
                other.times.transform):
            return {self.dim: np.arange(self.size)}
        return {self.dim: self._positions(other.values, method, tolerance)}

    def __getitem__(self, indexer: Any) -> Any:
        """The time at an integer position, or the index of a selection."""
        if isinstance(indexer, int | np.integer):
            return self._time(int(indexer) % self.size if indexer < 0 else int(indexer))
        return self.isel({self.dim: indexer})

    def roll(self, shifts: Mapping[Any, int]) -> None:
        return None  # rolled times are not sorted: the index is dropped

    def rename(self, name_dict: Mapping[Any, Hashable], dims_dict: Mapping[Any, Hashable]
               ) -> TimeIndex:
        renamed = self.times.rename(name_dict, dims_dict)
        return self if renamed is self.times else TimeIndex(renamed, *self.support)

    def _copy(self, deep: bool = True, memo: dict[int, Any] | None = None) -> TimeIndex:
        return TimeIndex(self.times, self.starts.copy() if deep else self.starts,
                         self.ends.copy() if deep else self.ends)

    def __getstate__(self) -> dict:
        return {"times": self.times, "starts": self.starts, "ends": self.ends}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["times"], state["starts"], state["ends"])

    def _repr_inline_(self, max_width: int) -> str:
        kind = "rate" if self.is_rate else "times"
        return f"TimeIndex ({kind}, {self.starts.size} support interval(s))"

    def __repr__(self) -> str:
        pairs = ", ".join(f"[{s!r}, {e!r}]" for s, e in
                          zip(self.starts[:3].tolist(), self.ends[:3].tolist(), strict=True))
        more = ", ..." if self.starts.size > 3 else ""
        if self.is_rate and isinstance(self.times.transform, RateTransform):
            tr = self.times.transform
            grid = f"t0={tr.t0!r}, rate={tr.rate!r}, first={tr.first}, stride={tr.stride}"
        elif self.is_rate:
            tr = self.times.transform
            grid = f"t0={tr.t0!r}, rate={tr.rate!r}, {tr.starts.size} windows"
        else:
            grid = "times"
        return f"TimeIndex(size={self.size}, {grid}, support=[{pairs}{more}])"


def _concat_rates(indexes: Sequence[TimeIndex]) -> CoordinateTransformIndex | None:
    """One rate index for consecutive windows of the same rate-based series, else None."""
    nonempty = [i for i in indexes if i.size]
    if not nonempty or not all(i.is_rate and isinstance(i.times.transform, RateTransform)
                               for i in nonempty):
        return None
    trs = [i.times.transform for i in nonempty]
    head = trs[0]
    for prev, tr in zip(trs[:-1], trs[1:], strict=True):
        if (tr.t0, tr.rate, tr.stride) != (head.t0, head.rate, head.stride) or \
                tr.first != prev.first + prev.size * prev.stride:
            return None
    return CoordinateTransformIndex(RateTransform(
        head.t0, head.rate, sum(tr.size for tr in trs), head.coord_names[0], head.dims[0],
        first=head.first, stride=head.stride))


def _join_rates(a: TimeIndex, b: TimeIndex, how: str) -> CoordinateTransformIndex | None:
    """Join two windows of the same rate-based series (stride 1) as a window, or None."""
    if not (a.is_rate and b.is_rate):
        return None
    ta, tb = a.times.transform, b.times.transform
    if not (isinstance(ta, RateTransform) and isinstance(tb, RateTransform)):
        return None
    if (ta.t0, ta.rate, ta.stride, tb.stride) != (tb.t0, tb.rate, 1, 1):
        return None
    lo, hi = (max(ta.first, tb.first), min(ta.first + ta.size, tb.first + tb.size)) \
        if how == "inner" else (min(ta.first, tb.first), max(ta.first + ta.size,
                                                             tb.first + tb.size))
    if how == "outer" and max(ta.first, tb.first) > min(ta.first + ta.size,
                                                        tb.first + tb.size):
        return None  # a gap between the windows: not one window
    return CoordinateTransformIndex(RateTransform(
        ta.t0, ta.rate, max(hi - lo, 0), ta.coord_names[0], ta.dims[0], first=lo))


def _seconds(label: Any) -> float:
    try:
        value = float(label)
    except (TypeError, ValueError):
        raise TypeError(f"'time' labels are seconds (numbers), got {label!r}") from None
    if math.isnan(value):
        raise ValueError("a 'time' slice bound cannot be NaN")
    return value


def encode_support(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Interleave starts and ends: ``[s0, e0, s1, e1, ...]`` (float64)."""
    out = np.empty(2 * len(starts), dtype=np.float64)
    out[0::2] = starts
    out[1::2] = ends
    return out


# --------------------------------------------------------------------------- adoption
def float_seconds(values: Any, what: str) -> np.ndarray:
    """``values`` as float64 seconds, or a :class:`~xr_nap.errors.TimeAxisError` for
    what cannot be seconds (datetime64 and timedelta64 are never reinterpreted)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "mM":
        raise TimeAxisError(f"{what} holds {arr.dtype} values, not seconds: convert them "
                            "explicitly with xr_nap.to_seconds (seconds from the first "
                            "sample, or from an origin you give), or (t - t0) / "
                            "np.timedelta64(1, 's')")
    if arr.dtype.kind not in "biuf" and arr.dtype != object:
        raise TimeAxisError(f"{what} must be real numbers of seconds, got {arr.dtype}")
    try:
        return arr.astype(np.float64, copy=False)
    except (TypeError, ValueError) as err:
        raise TimeAxisError(f"{what} must be numbers of seconds (cftime dates or text? "
                            f"convert them with xr_nap.to_seconds): {err}") from None


def sorted_seconds(values: Any, what: str, fix: str = "sort them first") -> np.ndarray:
    """``values`` as a 1-D float64 array of sorted, finite seconds, or a
    :class:`~xr_nap.errors.TimeAxisError` naming the first offending position."""
    t = float_seconds(values, what)
    if t.ndim == 0:
        t = t.reshape(1)
    if t.ndim != 1:
        raise TimeAxisError(f"{what} must be 1-D, got shape {t.shape}")
    bad = ~np.isfinite(t)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise TimeAxisError(f"{what} must be finite; [{i}] = {t[i]} ({int(bad.sum())} "
                            "non-finite value(s)): drop those samples first")
    dec = np.flatnonzero(t[1:] < t[:-1])
    if dec.size:
        i = int(dec[0])
        raise TimeAxisError(f"{what} must be sorted in increasing order; [{i}] = "
                            f"{t[i]!r} > [{i + 1}] = {t[i + 1]!r}: {fix}")
    return t


def checked_times(var: xr.Variable | xr.DataArray, name: Hashable = TIME) -> np.ndarray:
    """The values of a time coordinate as sorted, finite float64 seconds, or a
    :class:`~xr_nap.errors.TimeAxisError` that says what is wrong and how to fix it."""
    units = var.attrs.get("units")
    if isinstance(units, str) and units.strip().lower() not in SECONDS \
            and var.dtype.kind not in "mM":
        raise TimeAxisError(
            f"coordinate {name!r} has units {units!r}; xr-nap works in seconds: convert "
            f"it (e.g. obj.assign_coords({name}=obj.{name} / 1000) for ms) and set "
            "units='s'")
    return sorted_seconds(var.values.reshape(-1), f"coordinate {name!r}",
                          "sort it first (obj.sortby('time'))")


def adopted_support(attrs: Mapping[str, Any], t: np.ndarray, name: Hashable = TIME
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The support encoded in ``attrs`` if it still fits the times ``t``.

    Used for a coordinate without an xr-nap index (read by xarray's own engines, or
    built by hand). A malformed attribute, or one written for other samples, is not
    trusted (a :class:`~xr_nap.errors.StaleSupportWarning` says so).
    """
    n = t.size
    first, last = (float(t[0]), float(t[-1])) if n else (np.nan, np.nan)
    span = default_support(first, last, n)
    raw = attrs.get(SUPPORT_ATTR)
    if raw is None:
        return span
    try:
        arr = np.asarray(raw, dtype=np.float64).reshape(-1)
        if arr.size % 2:
            raise ValueError(f"{arr.size} values, not start/end pairs")
        starts, ends = check_support(arr[0::2], arr[1::2], f"{name}.attrs['time_support']")
    except (TypeError, ValueError) as err:
        warn(f"ignoring the time_support attribute of {name!r}: {err}; using the first "
             "to last sample", StaleSupportWarning)
        return span
    written = attrs.get(SAMPLES_ATTR)
    try:
        written = np.asarray(written, dtype=np.float64).reshape(-1) \
            if written is not None else None
    except (TypeError, ValueError):
        written = None
    fits = written is not None and written.size == 3
    same = fits and written[0] == n and (n == 0 or (written[1] == first and written[2] == last))
    # a selection of the samples it was written for: fewer samples, within the old span
    subset = fits and n <= written[0] and (n == 0 or (first >= written[1]
                                                       and last <= written[2]))
    inside = _all_inside(t, starts, ends)
    if same and inside:
        return starts, ends
    if inside and (subset or written is None):
        clipped = clip_support(starts, ends, first, last) if n else (_EMPTY, _EMPTY)
        if written is not None:
            warn(f"the time_support attribute of {name!r} was written for "
                 f"{_describe(written)}, but the coordinate now has "
                 f"{_describe([n, first, last])} (selected after reading?): using that "
                 "support clipped to the samples. Open files with xr_nap.load_file, or "
                 "call xr_nap.set_time_index, to keep the support through xarray "
                 "operations", StaleSupportWarning)
        return clipped
    warn(f"the time_support attribute of {name!r} does not fit the samples of the "
         "coordinate (changed after the attribute was written?): using the first to "
         "last sample", StaleSupportWarning)
    return span


def _describe(written: Any) -> str:
    n, first, last = (float(x) for x in written)
    return f"{int(n)} samples from {first!r} to {last!r} s" if n else "no samples"


def _all_inside(t: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> bool:
    if t.size == 0 or starts.size == 0:
        return t.size == 0
    k = np.searchsorted(starts, t, side="right") - 1
    return bool(np.all((k >= 0) & (t <= ends[np.maximum(k, 0)])))


def time_index(obj: xr.DataArray | xr.Dataset, dim: str = TIME) -> TimeIndex:
    """The :class:`TimeIndex` of ``obj``: its own, or one built from its time coordinate.

    A coordinate without xr-nap's index is checked (seconds, sorted, finite) and its
    encoded support adopted only if it still fits (see :func:`adopted_support`).

    Raises
    ------
    TimeAxisError
        If ``obj`` has no usable ``time`` coordinate.
    """
    index = obj.xindexes.get(dim)
    if isinstance(index, TimeIndex):
        return index
    if dim not in obj.dims:
        raise TimeAxisError(f"object has no {dim!r} dimension (dims {tuple(obj.dims)})")
    if dim not in obj.coords:
        raise TimeAxisError(f"the {dim!r} dimension has no coordinate: give the sample "
                            "times, e.g. obj.assign_coords(time=seconds)")
    var = obj[dim].variable
    if var.dims != (dim,):
        raise TimeAxisError(f"coordinate {dim!r} must be 1-D along {dim!r}, has dims "
                            f"{var.dims}")
    attrs = dict(var.attrs)
    if SUPPORT_ATTR not in attrs and isinstance(obj, xr.DataArray) \
            and SUPPORT_ATTR in obj.attrs:  # where xr-nap 0.1 wrote it
        attrs[SUPPORT_ATTR] = obj.attrs[SUPPORT_ATTR]
    t = checked_times(var, dim)
    return TimeIndex(PandasIndex(pd.Index(t, name=dim), dim), *adopted_support(attrs, t, dim))


# --------------------------------------------------------------------------- coords
def time_coords(t: np.ndarray, starts: Any = None, ends: Any = None, *, copy: bool = True
                ) -> xr.Coordinates:
    """Indexed ``time`` coordinate for sorted float64 seconds ``t`` and a support
    (default: first to last sample). ``copy=False`` shares ``t``."""
    index = TimeIndex(PandasIndex(pd.Index(t, copy=copy, name=TIME), TIME), starts, ends)
    return xr.Coordinates.from_xindex(index)


def rate_time_coords(t0: float, rate: float, n: int, dim: str = TIME) -> xr.Coordinates:
    """Coordinates holding a lazy ``time`` index ``t0 + arange(n) / rate`` (seconds).

    Examples
    --------
    >>> from xr_nap.core.time_index import rate_time_coords
    >>> rate_time_coords(0.5, 4.0, 3)["time"].values
    array([0.5 , 0.75, 1.  ])
    """
    index = TimeIndex(CoordinateTransformIndex(RateTransform(t0, rate, int(n), dim, dim)))
    return xr.Coordinates.from_xindex(index)


def select(obj: Any, key: slice, starts: np.ndarray, ends: np.ndarray) -> Any:
    """``obj.isel(time=key)`` (a forward slice) with the support ``(starts, ends)``, in
    one pass: the new index is handed to xarray's isel instead of replaced after it."""
    index = obj.xindexes[TIME]
    r = range(index.size)[key]
    times = index.times if (r.start, r.stop, r.step) == (0, index.size, 1) else \
        index._grid(key)
    index.hand_off(key, TimeIndex(times, starts, ends))
    return obj.isel({TIME: key})


def index_coords(index: TimeIndex, like: Any = None) -> xr.Coordinates:
    """Coordinates holding ``index``, with the attrs of ``like``'s time coordinate."""
    name = index.coord_name
    old = None if like is None or name not in like.coords else like.coords[name].variable
    variables = index.create_variables(None if old is None else {name: old})
    return xr.Coordinates(variables, indexes={name: index})


def set_index(obj: Any, index: TimeIndex) -> Any:
    """``obj`` with ``index`` on its time coordinate (attrs of the coordinate kept)."""
    return obj.assign_coords(index_coords(index, obj))
