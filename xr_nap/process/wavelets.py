"""Morlet wavelet filter banks and transforms (pynapple's ``process.wavelets``).

The filter bank is pynapple's: one finely sampled complex Morlet wavelet (``2 **
precision`` points over [-8, 8]) resampled for each frequency, conjugated and reversed,
and zero-padded to the longest one. The transform convolves each epoch of the signal
with every wavelet (zero outside the epoch, centred: trim "both") and divides by
``fs / f`` (``norm="l1"``) or ``fs / sqrt(f)`` (``"l2"``).

All the wavelets are applied in one overlap-save pass: each block of the signal is
Fourier transformed once for the whole bank, then one inverse transform per wavelet.
A NaN sample spreads over each wavelet's own taps, not over the zeros that pad it to
the longest wavelet (pynapple's FFT convolution makes every output NaN). Dask-backed
signals give a dask result, each chunk computed with the longest wavelet's length of
context (exact).
"""

from __future__ import annotations

from numbers import Number
from typing import Any

import numpy as np
import xarray as xr

from xr_nap.core.time_series import support_bounds, tsd
from xr_nap.errors import XrNapError
from xr_nap.process.per_epoch import (
    epoch_rows,
    map_epochs,
    result_like,
    sampling_rate,
    signal_input,
)
from xr_nap.process.smoothing import convolve_rows, trim_offset

__all__ = [
    "generate_morlet_filterbank",
    "compute_wavelet_transform",
    "morlet_filterbank",
    "wavelet_transform",
]

FREQUENCY = "frequency"
CUTOFF = 8  # the mother wavelet is sampled over [-8, 8]


def _check_freqs(freqs: Any) -> np.ndarray:
    if isinstance(freqs, str | bytes) or not hasattr(freqs, "__len__"):
        raise TypeError(f"`freqs` must be a 1-D array of frequencies, got {freqs!r}")
    freqs = np.asarray(freqs, dtype=np.float64)
    if freqs.ndim != 1:
        raise TypeError(f"`freqs` must be 1-D, got shape {freqs.shape}")
    if freqs.size == 0:
        raise XrNapError("Given list of freqs cannot be empty.")
    if not np.all(np.isfinite(freqs)) or np.min(freqs) <= 0:
        raise XrNapError("All frequencies in freqs must be strictly positive")
    return freqs


def _positive(name: str, value: Any, kinds: Any = Number) -> None:
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not value > 0:
        raise XrNapError(f"{name} must be a positive number, got {value!r}")


def _conj_morlet(x: np.ndarray, gaussian_width: float, window_length: float) -> np.ndarray:
    """The conjugate of the complex Morlet wavelet at the points ``x``.

    Written as ``g cos - i g sin`` rather than ``g * exp(i theta)``: the same numbers
    (the complex exponential of an imaginary number is its cosine and sine), at a
    fraction of the cost.
    """
    envelope = (np.pi * gaussian_width) ** -0.25 * np.exp(-(x ** 2) / gaussian_width)
    theta = 2 * np.pi * window_length * x
    out = np.empty(x.shape, dtype=np.complex128)
    out.real = envelope * np.cos(theta)
    out.imag = -(envelope * np.sin(theta))
    return out


def morlet_wavelets(freqs: np.ndarray, fs: float, gaussian_width: float,
                    window_length: float, precision: int
                    ) -> tuple[list[np.ndarray], np.ndarray]:
    """Each frequency's wavelet (its own taps) and the time axis of the longest.

    Each wavelet takes every ``1 / (scale * step)``-th point of the mother wavelet
    sampled at ``2 ** precision`` points over [-8, 8]; only those points are computed.
    """
    m = int(2 ** precision)
    x = np.linspace(-CUTOFF, CUTOFF, m)  # m >= 2
    span, step = x[-1] - x[0], x[1] - x[0]
    wavelets, longest, kernel_time = [], -1, np.zeros(0)
    for freq in freqs:
        scale = window_length / (freq / fs)
        j = np.ceil(np.arange(scale * span + 1) / (scale * step)).astype(int)
        j = j[j < m]
        wavelet = _conj_morlet(x[j[::-1]], gaussian_width, window_length)
        if wavelet.size > longest:
            longest = wavelet.size
            kernel_time = np.linspace(-CUTOFF * window_length / freq,
                                      CUTOFF * window_length / freq, longest)
        wavelets.append(wavelet)
    return wavelets, kernel_time


def _check_bank_args(gaussian_width: Any, window_length: Any, precision: Any) -> None:
    _positive("gaussian_width", gaussian_width)
    _positive("window_length", window_length)
    _positive("precision", precision, int | np.integer)


def generate_morlet_filterbank(
    freqs: Any,
    fs: float,
    gaussian_width: float = 1.5,
    window_length: float = 1.0,
    precision: int = 16,
) -> xr.DataArray:
    """Complex Morlet wavelets, one per frequency, as pynapple builds them.

    Parameters
    ----------
    freqs : 1-D array
        Frequencies in Hz, all positive.
    fs : float
        Sampling rate in Hz.
    gaussian_width : float
        Width of the Gaussian envelope of the mother wavelet.
    window_length : float
        Cycles of the mother wavelet per unit of its time axis.
    precision : int
        The mother wavelet is sampled at ``2 ** precision`` points.

    Returns
    -------
    DataArray
        complex128, dims ``("time", "frequency")``: time in seconds relative to the
        wavelet centre (the longest wavelet's axis; shorter ones are zero-padded).

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> bank = nap.generate_morlet_filterbank(np.array([5.0, 10.0]), 100.0)
    >>> bank.dims, bank.sizes["time"], bank.frequency.values.tolist()
    (('time', 'frequency'), 320, [5.0, 10.0])
    """
    freqs = _check_freqs(freqs)
    _positive("fs", fs)
    _check_bank_args(gaussian_width, window_length, precision)
    wavelets, kernel_time = morlet_wavelets(freqs, float(fs), gaussian_width,
                                            window_length, int(precision))
    longest = kernel_time.size
    bank = np.zeros((longest, freqs.size), dtype=np.complex128)
    for i, w in enumerate(wavelets):
        left = (longest - w.size) // 2
        bank[left:left + w.size, i] = w
    return tsd(kernel_time, bank, dims=("time", FREQUENCY),
               coords={FREQUENCY: (FREQUENCY, freqs, {"units": "Hz"})},
               attrs={"long_name": "Morlet wavelet", "fs": float(fs),
                      "gaussian_width": float(gaussian_width),
                      "window_length": float(window_length), "precision": int(precision)})


def compute_wavelet_transform(
    sig: xr.DataArray,
    freqs: Any,
    fs: float | None = None,
    gaussian_width: float = 1.5,
    window_length: float = 1.0,
    precision: int = 16,
    norm: str | None = "l1",
) -> xr.DataArray:
    """The continuous wavelet transform of a signal with Morlet wavelets.

    Parameters
    ----------
    sig : DataArray
        A Tsd, TsdFrame or TsdTensor (``time`` at any position).
    freqs : 1-D array
        Frequencies in Hz.
    fs : float, optional
        Sampling rate in Hz; default pynapple's rate of ``sig``.
    gaussian_width, window_length, precision
        As for :func:`generate_morlet_filterbank`.
    norm : {"l1", "l2", None}
        Divide by ``fs / f`` (``"l1"``: a sine of amplitude A gives about A / 2 at its
        frequency), by ``fs / sqrt(f)`` (``"l2"``), or not at all.

    Returns
    -------
    DataArray
        complex128, dims of ``sig`` plus ``frequency`` (Hz, last), with a ``scale``
        coordinate (the wavelet's stretch, in samples per unit of the mother wavelet's
        time axis). Same time support as ``sig``.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> t = np.arange(0, 4, 0.001)
    >>> x = nap.tsd(t, np.sin(2 * np.pi * 12 * t))
    >>> w = nap.compute_wavelet_transform(x, np.array([6.0, 12.0, 24.0]), fs=1000.0)
    >>> w.dims, int(abs(w).isel(time=2000).argmax("frequency"))
    (('time', 'frequency'), 1)
    """
    first = signal_input(sig, "compute_wavelet_transform")
    freqs = _check_freqs(freqs)
    if fs is not None:
        _positive("fs", fs)
    _check_bank_args(gaussian_width, window_length, precision)
    if norm not in (None, "l1", "l2"):
        raise XrNapError(f"norm parameter must be 'l1', 'l2', or None, got {norm!r}")
    rate = sampling_rate(first, fs)
    wavelets, kernel_time = morlet_wavelets(freqs, rate, gaussian_width, window_length,
                                            int(precision))
    longest = kernel_time.size
    offset = trim_offset(longest, "both")
    scale = {"l1": rate / freqs, "l2": rate / np.sqrt(freqs), None: np.ones(freqs.size)}
    divisor = scale[norm]
    rest = first.shape[1:]
    n_cols = int(np.prod(rest, dtype=np.int64))

    # the wavelets side by side, each scaled by its norm, zero-padded as pynapple does
    bank = np.zeros((longest, freqs.size), dtype=np.complex128)
    for i, w in enumerate(wavelets):
        left = (longest - w.size) // 2
        bank[left:left + w.size, i] = w / divisor[i]

    def run(segment: np.ndarray) -> np.ndarray:
        flat = segment.reshape(segment.shape[0], n_cols)
        return convolve_rows(flat, bank, offset).reshape(segment.shape[0], *rest, freqs.size)

    starts, ends = support_bounds(first)
    lo, hi = epoch_rows(first, starts, ends)
    data = map_epochs(first, run, lo, hi, halo=longest - 1, tail=(*rest, freqs.size),
                      dtype=np.complex128)
    attrs = {"long_name": "Morlet wavelet transform", "fs": rate, "norm": str(norm),
             "gaussian_width": float(gaussian_width), "window_length": float(window_length),
             "precision": int(precision)}
    if "units" in sig.attrs:
        attrs["units"] = sig.attrs["units"]
    coords = {FREQUENCY: (FREQUENCY, freqs, {"units": "Hz"}),
              "scale": (FREQUENCY, window_length * rate / freqs)}
    return result_like(first, data, sig.dims, new_dims=(FREQUENCY,), new_coords=coords,
                       attrs=attrs)


morlet_filterbank = generate_morlet_filterbank
wavelet_transform = compute_wavelet_transform
