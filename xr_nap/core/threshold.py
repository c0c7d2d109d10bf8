"""Thresholding a 1-D time series (pynapple ``Tsd.threshold``)."""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import xarray as xr

from xr_nap.core.blocks import reduce_time
from xr_nap.core.intervals import interval_set, positions_in
from xr_nap.core.time_series import TIME, nap_type, series, support_bounds, times, with_support

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
    t = times(obj)
    compare = _COMPARE[method]
    # only the boolean mask is kept in memory; lazy data are compared block by block
    passed = reduce_time(obj, lambda block, _: compare(block, thr),
                         lambda parts: np.concatenate(parts) if parts else np.zeros(0, bool))
    s, e = support_bounds(obj)
    k = np.searchsorted(s, t, side="right") - 1  # support interval of each sample
    prev_same = np.zeros(t.size, bool)
    prev_same[1:] = k[1:] == k[:-1]
    before = np.concatenate([[False], passed[:-1]]) & prev_same
    after = np.concatenate([passed[1:], [False]]) & np.append(prev_same[1:], False)
    opens = passed & ~before
    closes = passed & ~after
    # same arithmetic as pynapple: the boundary is t[i] - (t[i] - t[i-1]) / 2
    half_back = np.zeros(t.size)
    half_back[1:] = (t[1:] - t[:-1]) / 2
    new_s = np.where(prev_same, t - half_back, t)[opens]
    nxt = np.flatnonzero(closes) + 1
    cont = np.append(prev_same[1:], False)[closes]
    nxt_t = t[np.minimum(nxt, t.size - 1)]
    new_e = np.where(cont, nxt_t - half_back[np.minimum(nxt, t.size - 1)], t[closes])
    with warnings.catch_warnings():  # a one-sample run at an edge has no duration
        warnings.simplefilter("ignore")
        ep = interval_set(new_s, new_e)
    ns, ne = ep["start"].values, ep["end"].values
    rows = np.flatnonzero(passed)
    # as in pynapple, samples left outside the new support (zero-length runs) go
    out = obj.isel({TIME: rows[positions_in(t[rows], ns, ne)]})
    return with_support(out, ns, ne)
