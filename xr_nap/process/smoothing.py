"""Convolution and Gaussian smoothing along time (pynapple ``convolve`` / ``smooth``).

Each epoch of the support is convolved on its own, zero-padded at its edges, and the
full convolution is trimmed back to the epoch's samples (``trim``). The use cases are
firing rates (smoothing the counts of a TsGroup, ``nap.count(group, 0.001)``), PETHs
and LFP smoothing. Dask-backed input stays lazy: each chunk is convolved with the
kernel length of context from its epoch, so the result equals the in-memory one.

Differences from pynapple 0.11, each shown by a test:

- a NaN sample makes NaN only the outputs whose kernel window (from the kernel's first
  to its last non-zero tap) covers it; pynapple's FFT path, which scipy picks for long
  kernels, makes its whole epoch NaN;
- a complex kernel gives a complex result (pynapple discards the imaginary part).

Speed: the zero taps at the ends of a kernel are not convolved (a Gaussian window of
``size_factor=100`` standard deviations is exactly zero beyond about 38 of them); a
short kernel is summed directly, a long one through FFTs shared by all the columns.
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
# FFTs of this many bytes (per group of columns) keep the temporaries cache-friendly
FFT_GROUP_BYTES = 64 * 2**20


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
    outputs whose window (the kernel's first to last non-zero tap) covers them.
    """
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
    nonzero = kernel != 0
    taps = np.flatnonzero(nonzero.any(axis=1))
    if t == 0 or taps.size == 0:
        return np.zeros((t, c, m), dtype=dtype)
    # the zero taps at the ends only shift the result
    kernel = kernel[taps[0]:taps[-1] + 1]
    offset -= int(taps[0])
    cols = np.ascontiguousarray(x.T, dtype=np.result_type(x.dtype, np.float64))
    nan = np.isnan(cols)
    has_nan = bool(nan.any())
    if has_nan:
        cols = np.where(nan, 0.0, cols)  # cols may be a view of the caller's data
    out = _convolve_columns(cols, kernel, offset).transpose(2, 0, 1)
    if has_nan:
        _spread_nan(out, nan.T, nonzero[taps[0]:taps[-1] + 1], offset)
    return out


def _window(full: np.ndarray, offset: int, t: int) -> np.ndarray:
    """``full[..., offset:offset + t]``, zero where that leaves ``full`` (a view when it
    does not)."""
    a, b = max(offset, 0), min(offset + t, full.shape[-1])
    if a == offset and b == offset + t:
        return full[..., a:b]
    out = np.zeros((*full.shape[:-1], t), dtype=full.dtype)
    if b > a:
        out[..., a - offset:b - offset] = full[..., a:b]
    return out


def _convolve_columns(cols: np.ndarray, kernel: np.ndarray, offset: int) -> np.ndarray:
    """``(c, m, t)``: column i convolved with kernel j, samples ``[offset, offset + t)``
    of the full convolution."""
    from scipy import signal

    c, t = cols.shape
    m = kernel.shape[1]
    # scipy's estimate of direct sum vs FFT (measured: its crossover, a few hundred
    # taps on long series, holds for overlap-add too)
    direct = signal.choose_conv_method(cols[0], kernel[:, 0]) == "direct"
    if not direct and not np.iscomplexobj(cols) and c * m > 1:
        return _overlap_save(cols, kernel, offset)
    conv = np.convolve if direct else signal.oaconvolve
    if c * m == 1:  # no copy: a view of the full convolution
        return _window(conv(cols[0], kernel[:, 0]), offset, t)[None, None]
    out = np.empty((c, m, t), dtype=np.result_type(cols.dtype, kernel.dtype))
    for i in range(c):
        for j in range(m):
            out[i, j] = _window(conv(cols[i], kernel[:, j]), offset, t)
    return out


def _overlap_save(cols: np.ndarray, kernel: np.ndarray, offset: int) -> np.ndarray:
    """:func:`_convolve_columns` for real data by overlap-save, each block of a column
    transformed once for all the kernels (a filter bank costs one inverse FFT per
    kernel, not a forward and an inverse)."""
    from scipy import fft

    c, t = cols.shape
    k, m = kernel.shape
    size = fft.next_fast_len(min(max(4 * k, 4096), t + k - 1), real=True)
    hop = size - k + 1
    n_blocks = -(-t // hop)
    spectra = fft.rfft(kernel, size, axis=0).T  # (m, size // 2 + 1)
    # ext[:, i] holds sample offset - (k - 1) + i of each column, zero outside [0, t)
    length = (n_blocks - 1) * hop + size
    first = offset - (k - 1)
    a, b = max(-first, 0), min(t - first, length)
    out = np.empty((c, m, t), dtype=np.float64)
    group = max(FFT_GROUP_BYTES // (16 * length), 1)
    for g in range(0, c, group):
        ext = np.zeros((min(group, c - g), length))
        if b > a:
            ext[:, a:b] = cols[g:g + group, a + first:b + first]
        blocks = np.lib.stride_tricks.sliding_window_view(ext, size, axis=1)[:, ::hop]
        spectrum = fft.rfft(blocks, axis=2)  # (columns, blocks, size // 2 + 1)
        for j in range(m):
            full = fft.irfft(spectrum * spectra[j], size, axis=2)[:, :, k - 1:]
            out[g:g + group, j] = full.reshape(full.shape[0], -1)[:, :t]
    return out


def _spread_nan(out: np.ndarray, nan: np.ndarray, nonzero: np.ndarray, offset: int) -> None:
    """Set NaN the outputs ``out`` ``(t, c, m)`` whose kernel window (from kernel j's first
    to its last non-zero tap) covers a NaN sample of ``nan`` ``(t, c)``."""
    t = nan.shape[0]
    counts = np.zeros((t + 1, nan.shape[1]), dtype=np.int64)
    np.cumsum(nan, axis=0, out=counts[1:])
    full = np.arange(offset, offset + t)  # index in the full convolution
    for j in range(nonzero.shape[1]):
        taps = np.flatnonzero(nonzero[:, j])
        if taps.size == 0:
            continue
        upper = np.clip(full - taps[0] + 1, 0, t)
        lower = np.minimum(np.clip(full - taps[-1], 0, t), upper)
        out[:, :, j][(counts[upper] - counts[lower]) > 0] = np.nan


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
