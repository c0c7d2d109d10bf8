"""Convolution and Gaussian smoothing along time (pynapple ``convolve`` / ``smooth``).

Each epoch of the support is convolved on its own, zero-padded at its edges, and the
full convolution is trimmed back to the epoch's samples (``trim``). The use cases are
firing rates (smoothing the counts of a TsGroup, ``nap.count(group, 0.001)``), PETHs
and LFP smoothing. Dask-backed input stays lazy: each chunk is convolved with the
kernel length of context from its epoch, so the result equals the in-memory one.

Differences from pynapple 0.11, each shown by a test:

- a NaN sample makes NaN only the outputs whose kernel window covers it (pynapple's
  FFT path, which scipy picks for long kernels, makes its whole epoch NaN);
- a complex kernel gives a complex result (pynapple discards the imaginary part);
- the columns of a TsdFrame are convolved in one call (pynapple loops over them).
"""

from __future__ import annotations

from collections.abc import Hashable
from numbers import Number
from typing import Any

import numpy as np
import xarray as xr

from xr_nap.core.intervals import bounds
from xr_nap.core.restrict import restrict
from xr_nap.core.time_series import TIME, support_bounds
from xr_nap.errors import XrNapError, XrNapWarning, warn
from xr_nap.process.per_epoch import (
    epoch_rows,
    map_epochs,
    result_like,
    sampling_rate,
    signal_input,
    user_attrs,
)
from xr_nap.process.perievent import to_seconds

__all__ = ["convolve", "smooth", "gaussian_kernel"]

KERNEL = "kernel"
# below this many taps a direct sum beats an FFT (overlap-add) convolution
DIRECT_TAPS = 64


def trim_offset(k: int, trim: str) -> int:
    """Index in the full convolution of the first kept sample (pynapple's cut)."""
    if trim == "left":
        return k - 1
    if trim == "right":
        return 0
    return (k - 1) // 2


def convolve_rows(x: np.ndarray, kernel: np.ndarray, offset: int) -> np.ndarray:
    """``full_convolution(x, kernel)[offset:offset + len(x)]`` along axis 0.

    ``x`` is ``(t, c)``, ``kernel`` is ``(k, m)``; the result is ``(t, c, m)``, a view of
    a ``(c, m, t)`` array (each output series contiguous). NaN samples make NaN the
    outputs whose window of ``k`` samples covers them, and only those.
    """
    from scipy import signal

    t, c = x.shape
    k, m = kernel.shape
    if np.iscomplexobj(kernel) and not np.iscomplexobj(x):
        # two real convolutions (real FFTs) cost less than one complex one
        parts = convolve_rows(x, np.concatenate([kernel.real, kernel.imag], axis=1), offset)
        out = np.empty((c, m, t), dtype=np.result_type(kernel.dtype, np.complex128))
        out.real = parts[:, :, :m].transpose(1, 2, 0)
        out.imag = parts[:, :, m:].transpose(1, 2, 0)
        return out.transpose(2, 0, 1)
    dtype = np.result_type(x.dtype, kernel.dtype, np.float64)
    if t == 0:
        return np.empty((t, c, m), dtype=dtype)
    nan = np.isnan(x)
    has_nan = nan.any()
    if has_nan:
        x = np.where(nan, 0.0, x)
    stop = offset + t
    if k <= DIRECT_TAPS or t * k <= 1 << 16:
        out = np.empty((c, m, t), dtype=dtype)
        for i in range(c):
            for j in range(m):
                out[i, j] = np.convolve(x[:, i], kernel[:, j])[offset:stop]
    else:  # one overlap-add call for all columns and kernels, on contiguous rows
        rows = np.ascontiguousarray(x.T)[:, None, :]
        full = signal.oaconvolve(rows, np.ascontiguousarray(kernel.T)[None, :, :], axes=2)
        out = full[:, :, offset:stop]
    out = out.transpose(2, 0, 1)
    if has_nan:
        out[np.broadcast_to(_touched_by_nan(nan, k, offset), out.shape)] = np.nan
    return out


def _touched_by_nan(nan: np.ndarray, k: int, offset: int) -> np.ndarray:
    """``(t, c, 1)`` mask of the outputs whose window of k samples holds a NaN."""
    t = nan.shape[0]
    counts = np.zeros((t + 1, nan.shape[1]), dtype=np.int64)
    np.cumsum(nan, axis=0, out=counts[1:])
    full = np.arange(offset, offset + t)  # index in the full convolution
    upper = np.minimum(full, t - 1) + 1
    lower = np.clip(full - k + 1, 0, t)
    return ((counts[upper] - counts[lower]) > 0)[:, :, None]


def _as_kernel(array: Any) -> tuple[np.ndarray, Hashable | None, dict]:
    """The kernel as ``(k, m)``, the name of its second dim (None if 1-D), its coords."""
    if isinstance(array, xr.DataArray):
        first = TIME if TIME in array.dims else array.dims[0] if array.dims else None
        if array.ndim == 2:
            array = array.transpose(first, ...)
            dim = array.dims[1]
            coords = {k: v.variable for k, v in array.coords.items() if v.dims == (dim,)}
            return np.asarray(array.values), dim, coords
        array = array.values
    if not hasattr(array, "shape") or not hasattr(array, "dtype"):
        raise TypeError(f"the kernel must be a numpy array or a DataArray, got "
                        f"{type(array).__name__}")
    kernel = np.asarray(array)
    if kernel.ndim not in (1, 2):
        raise XrNapError(f"the kernel must be 1-D or 2-D, got shape {kernel.shape}")
    if kernel.shape[0] == 0:
        raise XrNapError("the kernel is empty")
    if kernel.dtype.kind not in "biufc":
        raise TypeError(f"the kernel must be numeric, got dtype {kernel.dtype}")
    if kernel.ndim == 1:
        return kernel[:, None], None, {}
    return kernel, KERNEL, {}


def convolve(
    obj: xr.DataArray,
    array: Any,
    ep: Any = None,
    trim: str = "both",
) -> xr.DataArray:
    """Convolve a time series with a kernel along time, epoch by epoch.

    pynapple's ``Tsd.convolve``: the full discrete convolution of each epoch (zero
    outside it) trimmed to the epoch's samples. Assumes a constant sampling rate.

    Parameters
    ----------
    obj : DataArray
        A Tsd, TsdFrame or TsdTensor (``time`` may be at any position), e.g. the
        counts of a TsGroup from :func:`xr_nap.count`.
    array : array-like or DataArray
        1-D kernel, or 2-D ``(taps, kernels)``: one result per kernel along a new
        ``kernel`` dimension (a DataArray kernel gives its own second dimension and
        coordinates, e.g. ``frequency`` for a filter bank).
    ep : interval set, optional
        Convolve only these epochs (the result is restricted to them and gets them
        as support). Default: the time support.
    trim : {"both", "left", "right"}
        Which side of the full convolution is cut: ``"both"`` centres the kernel,
        ``"right"`` makes it causal (each output uses the current and past samples),
        ``"left"`` anti-causal (current and next samples).

    Returns
    -------
    DataArray
        float64 (complex for a complex kernel or signal), same dims as ``obj`` plus the
        kernel's dimension for a 2-D kernel. Attributes are kept.

    Warns
    -----
    XrNapWarning
        When the kernel is longer than an epoch (its output is then mostly padding).

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> x = nap.tsd(np.arange(5.0), [0.0, 0.0, 3.0, 0.0, 0.0])
    >>> nap.convolve(x, np.ones(3) / 3).values
    array([0., 1., 1., 1., 0.])
    >>> nap.convolve(x, np.array([1.0, 1.0]), trim="right").values
    array([0., 0., 3., 3., 0.])
    """
    first = signal_input(obj, "convolve")
    if trim not in ("both", "left", "right"):
        raise XrNapError(f"trim should be 'both', 'left' or 'right', got {trim!r}")
    kernel, kdim, kcoords = _as_kernel(array)
    if ep is None:
        starts, ends = support_bounds(first)
    else:
        starts, ends = bounds(ep)
        first = restrict(first, ep)
    return _convolve(obj, first, kernel, kdim, kcoords, trim, starts, ends)


def _convolve(obj, first, kernel, kdim, kcoords, trim, starts, ends, attrs=None,
              check=None):
    """:func:`convolve` on the time-first ``first`` over the epochs (starts, ends);
    ``check(segment)`` (optional) vets each segment before it is convolved."""
    lo, hi = epoch_rows(first, starts, ends)
    k = kernel.shape[0]
    sizes = hi - lo
    short = (sizes > 0) & (sizes < k)
    if short.any():
        warn(f"the kernel ({k} samples) is longer than {int(short.sum())} of "
             f"{sizes.size} epochs (shortest: {int(sizes[sizes > 0].min())} samples); "
             "the signal is zero outside each epoch, so their output is mostly padding",
             XrNapWarning)
    offset = trim_offset(k, trim)
    rest = first.shape[1:]
    n_cols = int(np.prod(rest, dtype=np.int64))
    m = kernel.shape[1]
    tail = (*rest, m) if kdim is not None else rest
    dtype = np.result_type(first.dtype, kernel.dtype, np.float64)

    def run(segment: np.ndarray) -> np.ndarray:
        if check is not None:
            check(segment)
        flat = segment.reshape(segment.shape[0], n_cols)
        return convolve_rows(flat, kernel, offset).reshape(segment.shape[0], *tail)

    data = map_epochs(first, run, lo, hi, halo=k - 1, tail=tail, dtype=dtype)
    new_dims = (kdim,) if kdim is not None else ()
    return result_like(first, data, obj.dims, new_dims=new_dims, new_coords=kcoords,
                       attrs=user_attrs(obj) if attrs is None else attrs,
                       support=(starts, ends))


def gaussian_kernel(
    std: float,
    rate: float,
    windowsize: float | None = None,
    time_units: str = "s",
    size_factor: int = 100,
    norm: bool = True,
) -> np.ndarray:
    """The Gaussian window pynapple's ``smooth`` convolves with, at ``rate`` Hz.

    ``std`` (and ``windowsize``) in ``time_units``; the window has ``int(rate *
    windowsize)`` samples, or ``int(rate * std * size_factor)``, made odd, and sums to 1
    when ``norm``.

    Examples
    --------
    >>> from xr_nap.process.smoothing import gaussian_kernel
    >>> w = gaussian_kernel(0.01, 100.0, size_factor=5)
    >>> w.size, round(float(w.sum()), 12)
    (5, 1.0)
    """
    from scipy.signal import windows

    if isinstance(std, bool) or not isinstance(std, Number) or not std > 0:
        raise XrNapError(f"std must be a positive number, got {std!r}")
    if isinstance(size_factor, bool) or not isinstance(size_factor, int | np.integer) \
            or size_factor <= 0:
        raise XrNapError(f"size_factor must be a positive int, got {size_factor!r}")
    if not isinstance(norm, bool | np.bool_):
        raise TypeError(f"norm must be a bool, got {norm!r}")
    std_rows = rate * float(to_seconds(std, time_units))
    if windowsize is not None:
        if isinstance(windowsize, bool) or not isinstance(windowsize, Number) \
                or not windowsize > 0:
            raise XrNapError(f"windowsize must be a positive number, got {windowsize!r}")
        m = int(rate * float(to_seconds(windowsize, time_units)))
    else:
        m = int(std_rows * size_factor)
    m += m % 2 == 0
    window = windows.gaussian(m, std=std_rows)
    return window / window.sum() if norm else window


def smooth(
    obj: xr.DataArray,
    std: float,
    windowsize: float | None = None,
    time_units: str = "s",
    size_factor: int = 100,
    norm: bool = True,
) -> xr.DataArray:
    """Smooth a time series with a Gaussian kernel (pynapple's ``Tsd.smooth``).

    Parameters
    ----------
    obj : DataArray
        A Tsd, TsdFrame (e.g. a TsGroup's counts) or TsdTensor.
    std : float
        Standard deviation of the Gaussian, in ``time_units``. In samples it is
        ``rate * std``, with ``rate`` pynapple's (samples / support length).
    windowsize : float, optional
        Kernel length in ``time_units``. Default: ``size_factor * std``.
    time_units : {"s", "ms", "us"}
    size_factor : int
        Kernel length in standard deviations when ``windowsize`` is not given.
    norm : bool
        Make the kernel sum to 1 (a rate stays a rate).

    Returns
    -------
    DataArray
        float64, same dims, coordinates and attributes as ``obj``; each epoch is
        convolved on its own (zero outside it).

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> x = nap.tsd(np.arange(0, 1, 0.01), np.r_[np.zeros(50), np.ones(50)])
    >>> y = nap.smooth(x, 0.02, size_factor=6)
    >>> np.round(y.values[47:53], 3)
    array([0.105, 0.226, 0.401, 0.599, 0.774, 0.895])
    """
    first = signal_input(obj, "smooth")
    if not isinstance(time_units, str):
        raise TypeError(f"time_units must be a str, got {time_units!r}")
    window = gaussian_kernel(std, sampling_rate(first), windowsize, time_units,
                             size_factor, norm)
    starts, ends = support_bounds(first)
    return _convolve(obj, first, window[:, None], None, {}, "both", starts, ends)
