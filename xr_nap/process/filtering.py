"""Band-pass, low-pass, high-pass and band-stop filters (pynapple's ``process.filtering``).

Two designs, as in pynapple 0.11:

- ``mode="butter"``: a Butterworth filter of ``order`` (scipy ``butter``, second-order
  sections) run forward and backward (``sosfiltfilt``, zero phase) on each epoch of the
  time support separately;
- ``mode="sinc"``: a Blackman-windowed sinc kernel of ``round(4 / transition_bandwidth)``
  (+1) taps convolved with each epoch (zero outside it), as :func:`xr_nap.convolve`.

The sampling rate is ``fs`` or, when not given, pynapple's rate (samples / support
length, see :mod:`xr_nap.process.per_epoch`); samples are taken as evenly spaced at
that rate, so an unevenly sampled series should be resampled first.

Lazy input: a dask-backed series gives a dask result. Each chunk is filtered with
context from its own epoch on both sides: the kernel length for ``"sinc"`` (exact), and
for ``"butter"`` as many samples as the slowest pole of the filter needs to decay below
1e-14 of its start plus scipy's edge padding, so chunked and in-memory results agree to
float precision everywhere, epoch edges included (the block that holds an epoch edge
sees that edge exactly as the in-memory filter does).

Differences from pynapple 0.11 (each shown by a test): an epoch without samples is
skipped (pynapple fails on it); an integer series is filtered to float64 (pynapple
truncates the result back to integers); a cutoff at or above the Nyquist frequency is an
error in both modes (pynapple's ``"sinc"`` mode returns an aliased result).
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Number
from typing import Any

import numpy as np
import xarray as xr

from xr_nap.core.blocks import in_memory
from xr_nap.core.time_series import support_bounds
from xr_nap.errors import XrNapError
from xr_nap.process.per_epoch import (
    epoch_rows,
    map_epochs,
    result_like,
    sampling_rate,
    signal_input,
    user_attrs,
)
from xr_nap.process.smoothing import _convolve

__all__ = [
    "apply_bandpass_filter",
    "apply_lowpass_filter",
    "apply_highpass_filter",
    "apply_bandstop_filter",
    "bandpass_filter",
    "lowpass_filter",
    "highpass_filter",
    "bandstop_filter",
    "get_filter_frequency_response",
    "filter_frequency_response",
]

FILTER_TYPES = ("lowpass", "highpass", "bandpass", "bandstop")
# decay an IIR transient must reach, relative to its start, before the rows it touches
# are trusted in a chunk of a dask-backed series
IIR_DECAY = 1e-14


def _is_number(x: Any) -> bool:
    return isinstance(x, Number) and not isinstance(x, bool)


def check_filter_args(cutoff: Any, filter_type: str, fs: float | None, mode: str,
                      order: Any, transition_bandwidth: Any) -> np.ndarray:
    """pynapple's argument checks, plus a cutoff strictly inside (0, fs / 2)."""
    if filter_type not in FILTER_TYPES:
        raise XrNapError(f"filter_type must be one of {FILTER_TYPES}, got {filter_type!r}")
    if filter_type in ("lowpass", "highpass") and not _is_number(cutoff):
        raise XrNapError(f"{filter_type} filter require a single number. {cutoff!r} "
                         "provided instead.")
    if filter_type in ("bandpass", "bandstop") and (
            not isinstance(cutoff, Iterable) or len(cutoff) != 2
            or not all(_is_number(f) for f in cutoff)):
        raise XrNapError(f"{filter_type} filter require a tuple of two numbers. "
                         f"{cutoff!r} provided instead.")
    if fs is not None and not _is_number(fs):
        raise XrNapError(f"Invalid value for 'fs'. Parameter 'fs' should be of type float "
                         f"or int, got {fs!r}")
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or order < 1:
        raise XrNapError(f"Invalid value for 'order': Parameter 'order' should be a "
                         f"positive int, got {order!r}")
    if not isinstance(transition_bandwidth, float) or not transition_bandwidth > 0:
        raise XrNapError("Invalid value for 'transition_bandwidth'. 'transition_bandwidth' "
                         f"should be a positive float, got {transition_bandwidth!r}")
    if mode not in ("butter", "sinc"):
        raise XrNapError(f"Unrecognized filter mode {mode!r}. Choose either 'butter' or "
                         "'sinc'")
    freqs = np.asarray(cutoff, dtype=np.float64)
    if fs is not None:
        nyquist = float(fs) / 2
        if not (np.all(freqs > 0) and np.all(freqs < nyquist)):
            raise XrNapError(f"cutoff frequencies must lie strictly between 0 and the "
                             f"Nyquist frequency fs / 2 = {nyquist} Hz, got {cutoff!r}")
        if freqs.size == 2 and not freqs[0] < freqs[1]:
            raise XrNapError(f"a {filter_type} cutoff must be (low, high) with low < "
                             f"high, got {cutoff!r}")
    return freqs


def butter_sos(cutoff: np.ndarray, filter_type: str, fs: float, order: int) -> np.ndarray:
    """Second-order sections of the Butterworth filter (scipy ``butter``)."""
    from scipy.signal import butter

    return butter(order, cutoff, btype=filter_type, fs=fs, output="sos")


def _inverted(kernel: np.ndarray) -> np.ndarray:
    """Spectral inversion: the kernel of the complementary filter (delta - kernel)."""
    out = -kernel
    out[kernel.size // 2] += 1.0
    return out


def sinc_kernel(cutoff: np.ndarray, filter_type: str, fs: float,
                transition_bandwidth: float = 0.02) -> np.ndarray:
    """The Blackman-windowed sinc kernel pynapple convolves with in ``"sinc"`` mode.

    ``round(4 / transition_bandwidth)`` sets the length (odd: the taps run from
    ``-(M // 2)`` to ``M // 2``); each low-pass prototype sums to 1; high-pass and the
    upper edge of band filters come from spectral inversion (Smith, 2003, ch. 16).

    Examples
    --------
    >>> import numpy as np
    >>> from xr_nap.process.filtering import sinc_kernel
    >>> k = sinc_kernel(np.array(10.0), "lowpass", 1000.0, 0.2)
    >>> k.size, round(float(k.sum()), 12)
    (21, 1.0)
    """
    half = int(np.rint(4.0 / transition_bandwidth)) // 2
    x = np.arange(-half, half + 1)
    rel = np.atleast_1d(cutoff / fs)
    lows = np.sinc(2 * rel[:, None] * x[None, :]) * np.blackman(x.size)
    lows /= lows.sum(axis=1, keepdims=True)
    if filter_type == "lowpass":
        return lows[0]
    if filter_type == "highpass":
        return _inverted(lows[0])
    band_stop = lows[0] + _inverted(lows[1])
    return band_stop if filter_type == "bandstop" else _inverted(band_stop)


def butter_halo(sos: np.ndarray) -> int:
    """Rows of context a chunk needs for ``sosfiltfilt`` to match the whole-epoch result:
    scipy's edge padding plus the decay time of the slowest pole to ``IIR_DECAY``."""
    from scipy.signal import sos2zpk

    radius = float(np.max(np.abs(sos2zpk(sos)[1]), initial=0.0))
    decay = 0 if radius <= 0 else int(np.ceil(np.log(IIR_DECAY) / np.log(min(radius,
                                                                             1 - 1e-15))))
    return decay + _padlen(sos) + 1


def _padlen(sos: np.ndarray) -> int:
    """scipy ``sosfiltfilt``'s default padding length for ``sos``."""
    ntaps = 2 * len(sos) + 1 - min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    return 3 * ntaps


def _no_nan(segment: np.ndarray) -> None:
    if np.isnan(segment).any():
        raise XrNapError(
            "The input signal contains NaN values, which filters do not support; drop "
            "them (obj.dropna('time'), which also shortens the time support) or fill "
            "them first")


def _butter(obj: xr.DataArray, first: xr.DataArray, sos: np.ndarray) -> xr.DataArray:
    from scipy.signal import sosfiltfilt

    starts, ends = support_bounds(first)
    lo, hi = epoch_rows(first, starts, ends)
    padlen = _padlen(sos)
    sizes = hi - lo
    short = np.flatnonzero((sizes > 0) & (sizes <= padlen))
    if short.size:
        k = int(short[0])
        raise XrNapError(
            f"epoch {k} [{starts[k]}, {ends[k]}] has {int(sizes[k])} samples; a "
            f"Butterworth filter of this order needs more than {padlen} per epoch. Drop "
            "the short epochs (nap.drop_short_intervals) or use mode='sinc'")
    dtype = np.result_type(first.dtype, np.float64)

    def run(segment: np.ndarray) -> np.ndarray:
        _no_nan(segment)
        return sosfiltfilt(sos, segment, axis=0)

    # in memory, each epoch is filtered whole: no halo to work out
    halo = 0 if in_memory(first) else butter_halo(sos)
    data = map_epochs(first, run, lo, hi, halo=halo, tail=first.shape[1:], dtype=dtype)
    return result_like(first, data, obj.dims, attrs=user_attrs(obj))


def _sinc(obj: xr.DataArray, first: xr.DataArray, kernel: np.ndarray) -> xr.DataArray:
    starts, ends = support_bounds(first)
    return _convolve(obj, first, kernel[:, None], None, {}, "both", starts, ends,
                     check=_no_nan)


def _filter(data: Any, cutoff: Any, fs: Any, mode: str, order: Any,
            transition_bandwidth: Any, filter_type: str) -> xr.DataArray:
    check_filter_args(cutoff, filter_type, fs, mode, order, transition_bandwidth)
    first = signal_input(data, f"apply_{filter_type}_filter")
    rate = sampling_rate(first, fs)
    freqs = check_filter_args(cutoff, filter_type, rate, mode, order, transition_bandwidth)
    if mode == "butter":
        return _butter(data, first, butter_sos(freqs, filter_type, rate, order))
    return _sinc(data, first, sinc_kernel(freqs, filter_type, rate, transition_bandwidth))


_DOC = """Apply a {kind} filter to a time series, epoch by epoch.

    pynapple's ``apply_{name}_filter``; see :mod:`xr_nap.process.filtering` for the
    designs and how lazy input is handled.

    Parameters
    ----------
    data : DataArray
        A Tsd, TsdFrame or TsdTensor (``time`` at any position), without NaN.
    cutoff : {cutoff_doc}
        Cutoff frequenc{ies} in Hz (-3 dB points for ``"butter"``).
    fs : float, optional
        Sampling rate in Hz. Default: pynapple's rate of ``data``.
    mode : {{"butter", "sinc"}}
        Butterworth (``order``) or windowed sinc (``transition_bandwidth``).
    order : int
        Order of the Butterworth filter.
    transition_bandwidth : float
        Width of the sinc filter's transition band, as a fraction of ``fs``; the kernel
        has about ``4 / transition_bandwidth`` taps.

    Returns
    -------
    DataArray
        float64, same dims, coordinates, support and attributes as ``data``.

    Raises
    ------
    XrNapError
        Bad parameters, a cutoff outside (0, fs / 2), NaN samples, or an epoch too
        short for a Butterworth filter ({padlen}).

    Examples
    --------
    >>> import numpy as np, xr_nap as nap
    >>> t = np.arange(0, 10, 0.001)
    >>> x = nap.tsd(t, np.sin(2 * np.pi * 5 * t) + np.sin(2 * np.pi * 100 * t))
    >>> y = nap.apply_{name}_filter(x, {example}, fs=1000.0)
    >>> round(float(np.std(y.values[2000:8000])), 2)
    {result}
    """


def apply_bandpass_filter(data: xr.DataArray, cutoff: tuple[float, float],
                          fs: float | None = None, mode: str = "butter", order: int = 4,
                          transition_bandwidth: float = 0.02) -> xr.DataArray:
    return _filter(data, cutoff, fs, mode, order, transition_bandwidth, "bandpass")


def apply_lowpass_filter(data: xr.DataArray, cutoff: float, fs: float | None = None,
                         mode: str = "butter", order: int = 4,
                         transition_bandwidth: float = 0.02) -> xr.DataArray:
    return _filter(data, cutoff, fs, mode, order, transition_bandwidth, "lowpass")


def apply_highpass_filter(data: xr.DataArray, cutoff: float, fs: float | None = None,
                          mode: str = "butter", order: int = 4,
                          transition_bandwidth: float = 0.02) -> xr.DataArray:
    return _filter(data, cutoff, fs, mode, order, transition_bandwidth, "highpass")


def apply_bandstop_filter(data: xr.DataArray, cutoff: tuple[float, float],
                          fs: float | None = None, mode: str = "butter", order: int = 4,
                          transition_bandwidth: float = 0.02) -> xr.DataArray:
    return _filter(data, cutoff, fs, mode, order, transition_bandwidth, "bandstop")


_PAD = "more than 3 * (2 * sections + 1) samples"
for _func, _kind, _cut, _example, _result in (
    (apply_bandpass_filter, "band-pass", "(float, float)", "(2.0, 10.0)", "0.71"),
    (apply_lowpass_filter, "low-pass", "float", "20.0", "0.71"),
    (apply_highpass_filter, "high-pass", "float", "50.0", "0.7"),
    (apply_bandstop_filter, "band-stop", "(float, float)", "(50.0, 150.0)", "0.71"),
):
    _func.__doc__ = _DOC.format(
        kind=_kind, name=_func.__name__.split("_")[1], cutoff_doc=_cut,
        ies="ies" if "(" in _cut else "y", padlen=_PAD, example=_example, result=_result)

bandpass_filter = apply_bandpass_filter
lowpass_filter = apply_lowpass_filter
highpass_filter = apply_highpass_filter
bandstop_filter = apply_bandstop_filter


def get_filter_frequency_response(
    cutoff: Any,
    fs: float,
    filter_type: str,
    mode: str,
    order: int = 4,
    transition_bandwidth: float = 0.02,
) -> xr.DataArray:
    """The gain ``|H(f)|`` of a filter the ``apply_*_filter`` functions would use.

    pynapple's ``get_filter_frequency_response``: 1024 frequencies from 0 to the Nyquist
    frequency for ``"butter"``; the non-negative FFT frequencies of the kernel for
    ``"sinc"``.

    Parameters
    ----------
    cutoff : float or (float, float)
        Cutoff frequency (frequencies) in Hz.
    fs : float
        Sampling rate in Hz.
    filter_type : {"lowpass", "highpass", "bandpass", "bandstop"}
    mode : {"butter", "sinc"}
    order, transition_bandwidth
        As for :func:`apply_bandpass_filter`.

    Returns
    -------
    DataArray
        dims ``("frequency",)`` (Hz), the linear gain.

    Examples
    --------
    >>> import xr_nap as nap
    >>> h = nap.get_filter_frequency_response((10.0, 20.0), 1000.0, "bandpass", "butter")
    >>> float(h.sel(frequency=15.0, method="nearest").round(2))
    1.0
    """
    if not _is_number(fs) or not fs > 0:
        raise XrNapError(f"fs must be a positive number (Hz), got {fs!r}")
    freqs = check_filter_args(cutoff, filter_type, float(fs), mode, order,
                              transition_bandwidth)
    if mode == "butter":
        from scipy.signal import sosfreqz

        f, h = sosfreqz(butter_sos(freqs, filter_type, fs, order), worN=1024, fs=fs)
    else:
        kernel = sinc_kernel(freqs, filter_type, fs, transition_bandwidth)
        spectrum = np.fft.fftshift(np.fft.fft(kernel))
        f = np.fft.fftshift(np.fft.fftfreq(n=kernel.size, d=1 / fs))
        h = spectrum[f >= 0]
        f = f[f >= 0]
    attrs = {"long_name": "filter gain |H(f)|", "units": "1", "filter_type": filter_type,
             "mode": mode, "cutoff": freqs.reshape(-1), "fs": float(fs)}
    if mode == "butter":
        attrs["order"] = int(order)
    else:
        attrs["transition_bandwidth"] = float(transition_bandwidth)
    return xr.DataArray(np.abs(h), dims=("frequency",), name="gain", attrs=attrs,
                        coords={"frequency": ("frequency", f, {"units": "Hz"})})


filter_frequency_response = get_filter_frequency_response
