"""Sampling one time series at the times of another (pynapple ``value_from``)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import xarray as xr

from xr_nap.core.blocks import in_memory, take_rows
from xr_nap.core.intervals import bounds
from xr_nap.core.search import closest_rows, epoch_rows, interval_of, positions_in
from xr_nap.core.time_index import time_index
from xr_nap.core.time_series import (
    TIME,
    like_input,
    nap_type,
    series,
    support_bounds,
    times,
    tsd,
)

__all__ = ["value_from"]


def value_from(
    obj: xr.DataArray,
    data: xr.DataArray,
    ep: Any = None,
    mode: Literal["closest", "before", "after"] = "closest",
) -> xr.DataArray:
    """Values of ``data`` at the times of ``obj``, matched within each interval of ``ep``.

    ``closest`` takes the nearest sample of ``data`` (the later one on a tie),
    ``before`` the last one at or before the time, ``after`` the first one at or after
    it. Times with no match in their interval get NaN. Only the matched rows of
    ``data`` are read, so lazy data stay mostly on disk.

    Parameters
    ----------
    obj : DataArray
        Gives the times (a Ts or any time series).
    data : DataArray
        Gives the values.
    ep : interval set, optional
        Default: the time support of ``data``; becomes the result's support.
    mode : {"closest", "before", "after"}

    Returns
    -------
    xarray.DataArray
        Times of ``obj`` inside ``ep``, values (and non-time coordinates) of ``data``.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> pos = nap.tsd(np.arange(0.0, 10.0), np.arange(10.0) * 10)
    >>> spikes = nap.ts([0.4, 2.6, 8.7])
    >>> nap.value_from(spikes, pos).values
    array([ 0., 30., 90.])
    """
    if mode not in ("closest", "before", "after"):
        raise ValueError(f"mode must be 'closest', 'before' or 'after', got {mode!r}")
    if isinstance(obj, xr.Dataset) and nap_type(obj) == "TsGroup":
        from xr_nap.core.groups import value_from_group

        return value_from_group(obj, data, ep, mode)
    original = data
    obj, data = series(obj), series(data)
    if nap_type(data) in ("TsGroup", "IntervalSet") or nap_type(obj) in ("TsGroup", "IntervalSet"):
        raise TypeError("value_from works between time series (DataArrays with a time dim)")
    starts, ends = support_bounds(data) if ep is None else bounds(ep)
    t = times(obj)  # the sampling times; the target's may be a lazy index
    t = t[positions_in(t, starts, ends)]
    target = time_index(data)
    if mode == "closest":  # the later one on a tie
        j = closest_rows(t, target, starts, ends)
    else:
        k = interval_of(t, starts, ends)[0]  # interval of each time
        first, stop = epoch_rows(target, starts, ends)
        j = target.searchsorted(t, side="right") - 1 if mode == "before" else \
            target.searchsorted(t, side="left")
        j = np.where((j >= first[k]) & (j < stop[k]), j, -1)
    ok = j >= 0
    if in_memory(data):
        values = data.values[j[ok]]
    else:  # gathered block by block: repeated rows would defeat reads run by run
        values = take_rows(data, j[ok])
    if not ok.all():
        full = np.full((t.size, *values.shape[1:]), np.nan,
                       dtype=np.result_type(values.dtype, np.float64))
        full[ok] = values
        values = full
    coords = {c: v for c, v in data.coords.items() if TIME not in v.dims}
    out = tsd(t, values, (starts, ends), dims=data.dims, coords=coords, name=data.name,
              attrs=data.attrs)
    return like_input(out, original)
