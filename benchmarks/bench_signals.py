"""Smoothing, filters, Hilbert, spectra and wavelets: xr-nap vs pynapple, one run.

Generated data: a 1e6-sample LFP at 1 kHz (a theta rhythm, ripple bursts and noise)
over two epochs, and the 10 ms counts of 60 units (1e5 bins). ``--quick``: 1e5
samples. Each line prints pynapple's time, xr-nap's, their ratio and whether the
results agree (to float tolerance).

    python benchmarks/bench_signals.py [--quick]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from _common import best_of

import xr_nap as nap

FS = 1000.0


def make_lfp(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / FS
    d = np.sin(2 * np.pi * 8 * t) + 0.5 * rng.standard_normal(n)
    for centre in rng.uniform(0, t[-1], n // 20_000):
        d += np.exp(-((t - centre) / 0.02) ** 2) * 3 * np.sin(2 * np.pi * 150 * t)
    return t, d


def same(ours, ref) -> bool:
    a = np.asarray(ours.values)
    b = np.asarray(ref.values if hasattr(ref, "values") else ref).reshape(a.shape)
    scale = max(float(np.nanmax(np.abs(b))), 1e-300)
    return bool(np.allclose(a, b, rtol=1e-7, atol=1e-9 * scale, equal_nan=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1e5 samples instead of 1e6")
    args = parser.parse_args()
    n = 10**5 if args.quick else 10**6
    warnings.simplefilter("ignore")
    import pynapple as pnap

    t, d = make_lfp(n)
    ep = ([0.0, t[n // 2] + 0.0005], [t[n // 2 - 1], t[-1]])
    x = nap.tsd(t, d, time_support=ep)
    px = pnap.Tsd(t, d, time_support=pnap.IntervalSet(*ep))
    one = nap.tsd(t, d)  # one epoch, for the single-epoch spectra
    pone = pnap.Tsd(t, d)

    rng = np.random.default_rng(1)
    bins = n // 10
    spikes = {i: np.sort(rng.uniform(0, bins * 0.01, 2000)) for i in range(60)}
    counts = nap.count(nap.ts_group(spikes, time_support=(0, bins * 0.01)), 0.01)
    pcounts = pnap.TsGroup({k: pnap.Ts(v) for k, v in spikes.items()},
                           time_support=pnap.IntervalSet(0, bins * 0.01)).count(0.01)

    freqs = np.geomspace(2, 150, 20)
    kernel = rng.standard_normal(101)
    cases = [
        ("smooth, std 50 ms", lambda: px.smooth(0.05), lambda: nap.smooth(x, 0.05), 3),
        (f"smooth 60-unit counts ({bins:.0e} bins)", lambda: pcounts.smooth(0.05),
         lambda: nap.smooth(counts, 0.05), 3),
        ("convolve, 101 taps", lambda: px.convolve(kernel), lambda: nap.convolve(x, kernel),
         3),
        ("bandpass butter 6-10 Hz", lambda: pnap.apply_bandpass_filter(px, (6, 10)),
         lambda: nap.apply_bandpass_filter(x, (6, 10)), 5),
        ("lowpass butter 50 Hz", lambda: pnap.apply_lowpass_filter(px, 50.0),
         lambda: nap.apply_lowpass_filter(x, 50.0), 5),
        ("highpass butter 100 Hz", lambda: pnap.apply_highpass_filter(px, 100.0),
         lambda: nap.apply_highpass_filter(x, 100.0), 5),
        ("bandstop butter 45-55 Hz", lambda: pnap.apply_bandstop_filter(px, (45, 55)),
         lambda: nap.apply_bandstop_filter(x, (45, 55)), 5),
        ("bandpass sinc 6-10 Hz", lambda: pnap.apply_bandpass_filter(px, (6, 10), mode="sinc"),
         lambda: nap.apply_bandpass_filter(x, (6, 10), mode="sinc"), 5),
        ("filter frequency response",
         lambda: pnap.get_filter_frequency_response((6, 10), FS, "bandpass", "butter"),
         lambda: nap.get_filter_frequency_response((6, 10), FS, "bandpass", "butter"), 20),
        ("Hilbert transform", lambda: pnap.apply_hilbert_transform(px),
         lambda: nap.apply_hilbert_transform(x), 5),
        ("Hilbert envelope", lambda: pnap.compute_hilbert_envelope(px),
         lambda: nap.compute_hilbert_envelope(x), 5),
        ("Hilbert phase", lambda: pnap.compute_hilbert_phase(px),
         lambda: nap.compute_hilbert_phase(x), 5),
        ("detect oscillatory events",
         lambda: pnap.detect_oscillatory_events(px, px.time_support, (100, 200), (2, 20),
                                                (0.02, 0.5), 0.02),
         lambda: nap.detect_oscillatory_events(x, nap.time_support(x), (100, 200), (2, 20),
                                               (0.02, 0.5), 0.02), 3),
        ("fft", lambda: pnap.compute_fft(pone), lambda: nap.compute_fft(one), 3),
        ("power spectral density", lambda: pnap.compute_power_spectral_density(pone),
         lambda: nap.compute_power_spectral_density(one), 3),
        ("mean PSD, 1 s windows", lambda: pnap.compute_mean_power_spectral_density(px, 1.0),
         lambda: nap.compute_mean_power_spectral_density(x, 1.0), 3),
        ("Morlet filter bank, 20 freqs", lambda: pnap.generate_morlet_filterbank(freqs, FS),
         lambda: nap.generate_morlet_filterbank(freqs, FS), 10),
        ("wavelet transform, 20 freqs",
         lambda: pnap.compute_wavelet_transform(px, freqs, fs=FS),
         lambda: nap.compute_wavelet_transform(x, freqs, fs=FS), 2),
    ]
    # warm-up: numba compilation (pynapple) and first imports (both) are not counted
    pnap.compute_mean_power_spectral_density(px.restrict(pnap.IntervalSet(0, 10)), 1.0)
    nap.compute_mean_power_spectral_density(nap.restrict(x, (0, 10)), 1.0)
    px.smooth(0.05)
    nap.smooth(x, 0.05)
    print(f"LFP: {n:.0e} samples at {FS:g} Hz, 2 epochs; counts: 60 units x {bins:.0e} bins")
    print(f"{'':40s} {'pynapple':>10s} {'xr-nap':>10s} {'ratio':>7s}  same")
    for label, ref_call, our_call, repeat in cases:
        t_ref, ref = best_of(ref_call, repeat)
        t_our, ours = best_of(our_call, repeat)
        agree = _agree(label, ours, ref)
        print(f"{label:40s} {t_ref * 1e3:8.1f}ms {t_our * 1e3:8.1f}ms "
              f"{t_ref / t_our:6.2f}x  {agree}")


def _agree(label, ours, ref) -> bool:
    if label.startswith("detect"):
        return len(ref) == ours.sizes["interval"] and bool(
            np.allclose(ours.start.values, ref.start) and np.allclose(ours.end.values, ref.end))
    if label == "Hilbert phase":  # modulo 2 pi
        return bool(np.allclose(np.angle(np.exp(1j * (ours.values - ref.values))), 0,
                                atol=1e-7))
    return same(ours, ref)


if __name__ == "__main__":
    main()
