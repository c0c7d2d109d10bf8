"""Thresholding a 1-D time series (pynapple ``Tsd.threshold``)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import xarray as xr

from xr_nap.core.blocks import Reduction, add_pairs, reduce_time
from xr_nap.core.restrict import take_times
from xr_nap.core.time_index import time_index
from xr_nap.core.time_series import nap_type, series, support_bounds

__all__ = ["threshold"]

_COMPARE = {
    "above": np.greater,
    "below": np.less,
    "aboveequal": np.greater_equal,
    "belowequal": np.less_equal,
}


def threshold(
    obj: xr.DataArray,
    thr: float,
    method: Literal["above", "below", "aboveequal", "belowequal"] = "above",
) -> xr.DataArray:
    """Keep the samples passing ``thr``; the new time support covers each passing run.

    A run starts half-way between its first sample and the sample before it (or at
    the first sample when the run opens an interval of the support) and ends
    half-way to the next sample (or at the last sample when it closes an interval).

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> x = nap.tsd(np.arange(6.0), [0, 5, 6, 0, 0, 7])
    >>> y = nap.threshold(x, 1)
    >>> y.time.values, y.time.attrs["time_support"]
    (array([1., 2., 5.]), array([0.5, 2.5, 4.5, 5. ]))
    """
    if method not in _COMPARE:
        raise ValueError(f"Method {method} for thresholding is not accepted.")
    obj = series(obj)
    if nap_type(obj) != "Tsd":
        raise TypeError("threshold works on a 1-D time series (Tsd)")
    if obj.dtype.kind not in "iufb":
        raise TypeError(f"threshold compares real numbers; this series holds {obj.dtype}")
    if not np.isfinite(float(thr)):
        raise ValueError(f"thr must be a finite number, got {thr!r}")
    compare = _COMPARE[method]

    def chunk(block: np.ndarray, c0: int) -> tuple[list, list]:
        passed = compare(block, thr)
        step = np.diff(passed.astype(np.int8), prepend=0, append=0)
        return [np.flatnonzero(step == 1) + c0], [np.flatnonzero(step == -1) + c0 - 1]

    # runs of passing samples (first and last position), block by block: only the
    # runs are kept, never a mask or the times of the whole series
    opens, closes = reduce_time(obj, Reduction(chunk, add_pairs, _join_runs))
    index = time_index(obj)
    s, e = support_bounds(obj)
    # a run stops where the support interval changes (k = last start <= t)
    cuts = index.searchsorted(s[1:], side="left")
    opens, closes = _split_runs(opens, closes, cuts)
    n = index.size
    # same arithmetic as pynapple: the boundary is t[i] - (t[i] - t[i-1]) / 2
    starts_inner = (opens > 0) & ~np.isin(opens, cuts)
    ends_inner = (closes < n - 1) & ~np.isin(closes + 1, cuts)
    t_open, t_close = index.times_at(opens), index.times_at(closes)
    before = index.times_at(np.maximum(opens - 1, 0))
    after = index.times_at(np.minimum(closes + 1, n - 1))
    new_s = np.where(starts_inner, t_open - (t_open - before) / 2, t_open)
    new_e = np.where(ends_inner, after - (after - t_close) / 2, t_close)
    # as in pynapple, a run of no duration (one sample at an edge) goes, with its sample
    keep = new_e > new_s
    return take_times(obj, opens[keep], closes[keep] + 1, new_s[keep], new_e[keep])



def _join_runs(parts: tuple | None) -> tuple[np.ndarray, np.ndarray]:
    """All runs in order; a run cut by a block edge (one closing just before the next
    opens) is one run."""
    if parts is None:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    opens, closes = np.concatenate(parts[0]), np.concatenate(parts[1])
    if not opens.size:
        return opens, closes
    touching = closes[:-1] + 1 == opens[1:]
    return opens[np.r_[True, ~touching]], closes[np.r_[~touching, True]]


def _split_runs(opens: np.ndarray, closes: np.ndarray, cuts: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Runs split at the positions ``cuts`` (each starts a new run inside a run)."""
    inside = cuts[(cuts > 0)]
    k = np.searchsorted(opens, inside, side="right") - 1
    hit = (k >= 0) & (inside <= closes[np.maximum(k, 0)]) & (inside > opens[np.maximum(k, 0)])
    inside = inside[hit]
    if not inside.size:
        return opens, closes
    opens = np.sort(np.concatenate([opens, inside]))
    closes = np.sort(np.concatenate([closes, inside - 1]))
    return opens, closes
