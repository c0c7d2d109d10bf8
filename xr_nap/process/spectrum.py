"""Fourier transform and power spectral densities (pynapple's ``process.spectrum``).

``compute_fft`` and ``compute_power_spectral_density`` transform one epoch (the whole
epoch is loaded: a Fourier transform needs all of it). ``compute_mean_power_spectral_density``
averages the periodograms of Hamming-windowed windows of ``interval_size`` seconds cut
in each epoch (never across a gap); it reads the signal a batch of consecutive windows
at a time, so a file-backed series is never loaded whole and a dask-backed one becomes
one task per batch.

All assume a constant sampling rate ``fs`` (default pynapple's rate, see
:mod:`xr_nap.process.per_epoch`). Results have a ``frequency`` dimension (Hz) first,
then the non-time dimensions of the signal. Without ``full_range`` only the
non-negative frequencies are kept (the Nyquist bin of an even length, which numpy
labels negative, is dropped as in pynapple) and the power of each frequency other than
0 and Nyquist is doubled.

Differences from pynapple 0.11: TsdTensor signals are accepted; real signals are
transformed with real FFTs (same values to float precision, faster).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from numbers import Number
from typing import Any

import numpy as np
import xarray as xr

from xr_nap.core.blocks import BLOCK_BYTES, in_memory, is_dask
from xr_nap.core.intervals import bounds
from xr_nap.core.restrict import restrict
from xr_nap.core.time_series import TIME, search_times, support_bounds
from xr_nap.errors import XrNapError
from xr_nap.process.per_epoch import sampling_rate, signal_input
from xr_nap.process.perievent import to_seconds

__all__ = [
    "compute_fft",
    "compute_power_spectral_density",
    "compute_mean_power_spectral_density",
    "power_spectral_density",
    "mean_power_spectral_density",
]

FREQUENCY = "frequency"
# pynapple does not double frequencies within this of fs / 2 (fftfreq rounding)
NYQUIST_SLACK = 1e-6


def _check_types(**kwargs: Any) -> None:
    """pynapple's type checks of the spectrum functions (TypeError on a mismatch)."""
    kinds = {"fs": Number, "full_range": bool, "norm": bool, "n": int, "time_unit": str,
             "interval_size": Number, "overlap": float}
    for name, value in kwargs.items():
        if value is None and name in ("fs", "n"):
            continue
        kind = kinds[name]
        bad = not isinstance(value, kind) or (kind in (Number, int) and isinstance(value,
                                                                                   bool))
        if bad:
            raise TypeError(f"Invalid type. Parameter {name} must be of type "
                            f"{kind.__name__}, got {value!r}")


def _epoch(first: xr.DataArray, ep: Any) -> tuple[np.ndarray, np.ndarray]:
    if ep is not None and not isinstance(ep, xr.Dataset):
        raise TypeError(f"Invalid type. Parameter ep must be an interval set, got "
                        f"{type(ep).__name__}")
    return support_bounds(first) if ep is None else bounds(ep)


def _spectrum_like(first: xr.DataArray, values: np.ndarray, freqs: np.ndarray,
                   attrs: dict[str, Any], name: Hashable | None = None) -> xr.DataArray:
    """``values`` (frequency first, then the non-time dims of ``first``) as a DataArray."""
    coords: dict[Hashable, Any] = {FREQUENCY: (FREQUENCY, freqs, {"units": "Hz"})}
    coords.update({k: v.variable for k, v in first.coords.items() if TIME not in v.dims})
    return xr.DataArray(values, dims=(FREQUENCY, *first.dims[1:]), coords=coords,
                        name=first.name if name is None else name, attrs=attrs)


def _power_units(first: xr.DataArray) -> str:
    units = first.attrs.get("units")
    return f"({units})^2/Hz" if isinstance(units, str) and units else "1/Hz"


def _one_epoch(first: xr.DataArray, ep: Any) -> np.ndarray:
    starts, ends = _epoch(first, ep)
    if starts.size != 1:
        raise XrNapError(f"Given epoch (or signal time_support) must have length 1, got "
                         f"{starts.size} epochs; use compute_mean_power_spectral_density "
                         "or restrict to one epoch first")
    return np.asarray(restrict(first, (starts, ends)).values)


def _epoch_fft(sig: Any, fs: Any, ep: Any, full_range: bool, n: int | None, what: str
               ) -> tuple[xr.DataArray, float, np.ndarray, int]:
    """The signal (time first), its rate, the FFT of its one epoch and the FFT length."""
    first = signal_input(sig, what)
    rate = sampling_rate(first, fs)
    values = _one_epoch(first, ep)
    n = values.shape[0] if n is None else n
    if n < 1:
        raise XrNapError(f"the transform needs at least one point, got n={n}")
    return first, rate, _fft(values, n, not full_range), n


def _fft(values: np.ndarray, n: int, positive: bool, axis: int = 0) -> np.ndarray:
    """``fft(values, n, axis)``: only the bins of non-negative frequencies when
    ``positive`` (a real FFT for real input), else all of them in ascending order."""
    from scipy import fft

    if positive:
        keep = [slice(None)] * values.ndim
        keep[axis] = slice(0, (n + 1) // 2)
        if np.iscomplexobj(values):
            return fft.fft(values, n, axis=axis)[tuple(keep)]
        return fft.rfft(values, n, axis=axis)[tuple(keep)]
    return fft.fftshift(fft.fft(values, n, axis=axis), axes=axis)


def _freqs(n: int, fs: float, positive: bool) -> np.ndarray:
    f = np.fft.fftfreq(n, 1 / fs)
    return f[:(n + 1) // 2] if positive else np.fft.fftshift(f)


def _doubled(freqs: np.ndarray, fs: float) -> np.ndarray:
    """Frequencies whose power pynapple doubles in a one-sided spectrum."""
    return (freqs != 0) & (freqs < fs / 2 - NYQUIST_SLACK)


def compute_fft(
    sig: xr.DataArray,
    fs: float | None = None,
    ep: Any = None,
    full_range: bool = False,
    norm: bool = False,
    n: int | None = None,
) -> xr.DataArray:
    """The discrete Fourier transform of a signal over one epoch.

    Parameters
    ----------
    sig : DataArray
        A Tsd, TsdFrame or TsdTensor.
    fs : float, optional
        Sampling rate in Hz; default pynapple's rate of ``sig``.
    ep : interval set of one interval, optional
        Default: the time support of ``sig`` (which must then be one interval).
    full_range : bool
        Keep the negative frequencies too (ascending order).
    norm : bool
        Divide by the number of points.
    n : int, optional
        Transform length: the epoch's samples are cut or zero-padded to it.

    Returns
    -------
    DataArray
        complex128, dims ``("frequency", ...)``.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> t = np.arange(0, 1, 0.01)
    >>> f = nap.compute_fft(nap.tsd(t, np.cos(2 * np.pi * 10 * t)), fs=100.0, norm=True)
    >>> float(abs(f).idxmax("frequency")), round(float(abs(f).max()), 6)
    (10.0, 0.5)

    Without ``fs``, pynapple's rate (100 samples over 0.99 s) shifts the frequencies:

    >>> float(abs(nap.compute_fft(nap.tsd(t, np.cos(2 * np.pi * 10 * t)))).idxmax())
    10.1010101010101
    """
    _check_types(fs=fs, full_range=full_range, norm=norm, n=n)
    first, rate, spectrum, n = _epoch_fft(sig, fs, ep, full_range, n, "compute_fft")
    if norm:
        spectrum = spectrum / n
    attrs = {"long_name": "Fourier transform", "fs": rate, "n": n}
    if "units" in sig.attrs:
        attrs["units"] = sig.attrs["units"]
    return _spectrum_like(first, spectrum, _freqs(n, rate, not full_range), attrs)


def compute_power_spectral_density(
    sig: xr.DataArray,
    fs: float | None = None,
    ep: Any = None,
    full_range: bool = False,
    n: int | None = None,
) -> xr.DataArray:
    """The periodogram ``|FFT|^2 / (fs n)`` of a signal over one epoch.

    Parameters as for :func:`compute_fft`. Without ``full_range``, the power of each
    frequency other than 0 and Nyquist is doubled (a one-sided density).

    Returns
    -------
    DataArray
        float64 power per Hz, dims ``("frequency", ...)``.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> t = np.arange(0, 10, 0.001)
    >>> x = nap.tsd(t, np.sin(2 * np.pi * 50 * t))
    >>> psd = nap.compute_power_spectral_density(x, fs=1000.0)
    >>> float(psd.idxmax("frequency")), round(float(psd.sum() * 0.1), 6)
    (50.0, 0.5)
    """
    _check_types(fs=fs, full_range=full_range, n=n)
    first, rate, spectrum, n = _epoch_fft(sig, fs, ep, full_range, n,
                                          "compute_power_spectral_density")
    power = np.square(np.abs(spectrum)) / (rate * n)
    freqs = _freqs(n, rate, not full_range)
    if not full_range:
        power[_doubled(freqs, rate)] *= 2
    attrs = {"long_name": "power spectral density", "units": _power_units(first),
             "fs": rate, "n": n}
    return _spectrum_like(first, power, freqs, attrs)


def window_starts(starts: np.ndarray, ends: np.ndarray, size: float, overlap: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Windows of ``size`` seconds, every ``(1 - overlap) * size``, inside each epoch.

    pynapple's split: in each epoch, a window starts at the epoch start and the next
    one ``step`` later (by repeated addition, hence ``cumsum``), while ``start + size``
    stays strictly before the epoch end.
    """
    step = (1 - overlap) * size
    firsts, lasts = [], []
    for s, e in zip(starts, ends, strict=True):
        k = int(np.ceil((e - s) / step)) + 2
        t = np.cumsum(np.concatenate([[s], np.full(k, step)]))
        t = t[:np.argmin(t + size < e)] if not np.all(t + size < e) else t
        firsts.append(t)
        lasts.append(t + size)
    if not firsts:
        return np.empty(0), np.empty(0)
    return np.concatenate(firsts), np.concatenate(lasts)


def _batches(lo: np.ndarray, width: int, max_rows: int) -> list[tuple[int, int]]:
    """Consecutive windows grouped so that each group spans at most ``max_rows`` rows."""
    out, a = [], 0
    while a < lo.size:
        b = int(np.searchsorted(lo, lo[a] + max(max_rows - width, 0), side="right"))
        b = max(b, a + 1)
        out.append((a, b))
        a = b
    return out


def _for_each_span(first: xr.DataArray, spans: list[tuple[int, int, Any]],
                   func: Callable[[np.ndarray, Any], Any]) -> list[Any]:
    """``[func(rows s0..s1 of first, arg)]`` for each span ``(s0, s1, arg)``: numpy
    slices in memory, bounded reads from a file, one dask task per span."""
    if is_dask(first):
        import dask

        data = first.data.rechunk({i: -1 for i in range(1, first.ndim)})
        return list(dask.compute(*[dask.delayed(func)(data[s0:s1], arg)
                                   for s0, s1, arg in spans]))
    if in_memory(first):
        data = first.values
        return [func(data[s0:s1], arg) for s0, s1, arg in spans]
    return [func(first.isel({TIME: slice(s0, s1)}).values, arg) for s0, s1, arg in spans]


def compute_mean_power_spectral_density(
    sig: xr.DataArray,
    interval_size: float,
    fs: float | None = None,
    overlap: float = 0.25,
    ep: Any = None,
    full_range: bool = False,
    time_unit: str = "s",
) -> xr.DataArray:
    """The mean periodogram over Hamming-windowed windows of ``interval_size``.

    pynapple's ``compute_mean_power_spectral_density`` (Welch's method without
    detrending): windows start at each epoch's start and every ``(1 - overlap) *
    interval_size`` after it while they fit strictly inside the epoch; each holds the
    first ``N`` samples from its start, ``N`` being the fewest samples any window has.

    Parameters
    ----------
    sig : DataArray
        A Tsd, TsdFrame or TsdTensor, evenly sampled.
    interval_size : float
        Window length in ``time_unit``.
    fs : float, optional
        Sampling rate in Hz; default pynapple's rate of ``sig``.
    overlap : float
        Fraction of a window shared with the next, in [0, 1).
    ep : interval set, optional
        Epochs to cut windows in. Default: the time support of ``sig``.
    full_range : bool
        Keep the negative frequencies too.
    time_unit : {"s", "ms", "us"}

    Returns
    -------
    DataArray
        float64 power per Hz, dims ``("frequency", ...)``; attrs give the number of
        windows and their length.

    Raises
    ------
    XrNapError
        ``overlap`` outside [0, 1), a window longer than every epoch, or a window with
        no sample.

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> t = np.arange(0, 20, 0.001)
    >>> x = nap.tsd(t, np.sin(2 * np.pi * 40 * t), time_support=([0, 12], [8, 20]))
    >>> psd = nap.compute_mean_power_spectral_density(x, 1.0, fs=1000.0)
    >>> round(float(psd.idxmax("frequency")), 2), psd.attrs["n_windows"]
    (39.96, 20)

    A window is closed, ``[t, t + interval_size]``: here each holds 1001 samples, so
    the frequency grid steps by 1000 / 1001 Hz (``psd.attrs["window_samples"]``).
    """
    _check_types(interval_size=interval_size, fs=fs, overlap=overlap,
                 full_range=full_range, time_unit=time_unit)
    if not 0.0 <= overlap < 1.0:
        raise XrNapError(f"Overlap should be in intervals [0.0, 1.0), got {overlap}")
    first = signal_input(sig, "compute_mean_power_spectral_density")
    starts, ends = _epoch(first, ep)
    rate = sampling_rate(first, fs)
    size = float(to_seconds(interval_size, time_unit))
    if not size > 0:
        raise XrNapError(f"interval_size must be positive, got {interval_size!r}")
    if starts.size == 0 or np.max(ends - starts) < size:
        raise XrNapError(f"Splitting epochs with interval_size={size} generated no window: "
                         "every epoch is shorter. Try decreasing interval_size")
    wstart, wend = window_starts(starts, ends, size, overlap)
    if wstart.size == 0:
        raise XrNapError(f"no window of interval_size={size} fits strictly inside an "
                         "epoch. Try decreasing interval_size")
    lo = search_times(first, wstart, side="left")
    hi = search_times(first, wend, side="right")
    n = int(np.min(hi - lo))
    if n == 0:
        k = int(np.argmin(hi - lo))
        raise XrNapError(f"the window [{wstart[k]}, {wend[k]}] holds no sample. Check the "
                         "parameter ep or the time support if no epoch is passed.")
    total = _windowed_power(first, lo, n, full_range)
    power = total / (rate * n * lo.size)
    freqs = _freqs(n, rate, not full_range)
    if not full_range:
        power[_doubled(freqs, rate)] *= 2
    attrs = {"long_name": "mean power spectral density", "units": _power_units(first),
             "fs": rate, "n_windows": int(lo.size), "window_samples": n,
             "window": "hamming", "overlap": float(overlap), "interval_size": size}
    return _spectrum_like(first, power, freqs, attrs)


def _windowed_power(first: xr.DataArray, lo: np.ndarray, n: int, full_range: bool
                    ) -> np.ndarray:
    """Sum over the windows ``[lo[i], lo[i] + n)`` of ``|FFT(hamming * x)|^2``."""
    from scipy.signal import windows

    taper = windows.hamming(n).reshape((n,) + (1,) * (first.ndim - 1))
    row_bytes = max(int(np.prod(first.shape[1:], dtype=np.int64)), 1) * 16
    per_batch = max(BLOCK_BYTES // (n * row_bytes), 1)  # windows held at once
    offsets = np.arange(n)

    def batch_power(block: np.ndarray, starts: np.ndarray) -> np.ndarray:
        total = 0.0
        for i in range(0, starts.size, per_batch):
            rows = starts[i:i + per_batch, None] + offsets  # (windows, n)
            spectra = _fft(block[rows] * taper, n, not full_range, axis=1)
            total = total + np.square(np.abs(spectra)).sum(axis=0)
        return total

    max_rows = max(BLOCK_BYTES // row_bytes, n)
    spans = [(int(lo[a]), int(lo[b - 1]) + n, lo[a:b] - lo[a])
             for a, b in _batches(lo, n, max_rows)]
    return np.sum(_for_each_span(first, spans, batch_power), axis=0)


power_spectral_density = compute_power_spectral_density
mean_power_spectral_density = compute_mean_power_spectral_density
