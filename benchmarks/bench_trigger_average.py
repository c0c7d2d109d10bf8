"""Event-triggered average: xr-nap vs pynapple vs a raw numpy baseline.

Generated data: a 1e7-sample signal at 1 kHz, 60 units, 5 ms bins, +-0.5 s window
(``--quick``: 1e6 samples). Also times xr-nap on the same signal as a dask array.

    python benchmarks/bench_trigger_average.py [--quick]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from _common import timed

import xr_nap as nap


def make_data(n_samples: int, n_units: int = 60, rate: float = 5.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples) / 1000.0
    signal = np.cumsum(rng.standard_normal(n_samples)) * 1e-2
    duration = t[-1]
    spikes = {i: np.sort(rng.uniform(0, duration, rng.poisson(rate * duration)))
              for i in range(n_units)}
    return t, signal, spikes


def numpy_eta(t, signal, spikes, bin_size, n_lag):
    """The arithmetic alone: bin means by reduceat, one gather per lag (one epoch)."""
    edges = np.arange(t[0], t[-1] + bin_size, bin_size)
    lo = np.searchsorted(t, edges[:-1])
    v = np.add.reduceat(signal, lo) / np.diff(np.append(lo, t.size))
    v = np.concatenate([np.zeros(n_lag), v, np.zeros(n_lag)])
    out = np.zeros((2 * n_lag + 1, len(spikes)))
    for u, s in enumerate(spikes.values()):
        b = np.searchsorted(edges, s, side="right") - 1 + n_lag
        out[:, u] = v[b[None, :] + np.arange(-n_lag, n_lag + 1)[:, None]].mean(axis=1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1e6 samples instead of 1e7")
    args = parser.parse_args()
    n = 10**6 if args.quick else 10**7
    bin_size, window = 0.005, 0.5
    t, signal, spikes = make_data(n)
    print(f"signal: {n:.0e} samples, {len(spikes)} units, "
          f"{sum(map(len, spikes.values()))} spikes, bin {bin_size} s, window +-{window} s")

    group = nap.ts_group(spikes)
    feature = nap.tsd(t, signal)
    eta, t_first = timed(nap.event_triggered_average, group, feature, bin_size, window)
    _, t_xr = timed(nap.event_triggered_average, group, feature, bin_size, window)
    lazy = feature.chunk({"time": n // 10})
    eta_dask, t_dask = timed(nap.event_triggered_average, group, lazy, bin_size, window)
    _, t_np = timed(numpy_eta, t, signal, spikes, bin_size, 100)
    print(f"xr-nap first call   {t_first:8.3f} s")
    print(f"xr-nap              {t_xr:8.3f} s")
    print(f"xr-nap (dask, 10 chunks) {t_dask:8.3f} s  same result: "
          f"{np.allclose(eta.values, eta_dask.values)}")
    print(f"numpy baseline      {t_np:8.3f} s   xr-nap / numpy = {t_xr / t_np:.2f}")
    try:
        import pynapple as pnap
    except ImportError:
        print("pynapple not installed: no comparison")
        return
    warnings.simplefilter("ignore")
    pg = pnap.TsGroup({k: pnap.Ts(v) for k, v in spikes.items()})
    pf = pnap.Tsd(t, signal)
    small = pnap.Tsd(t[:1000], signal[:1000])  # numba compilation, not counted
    _, t_jit = timed(pnap.compute_event_triggered_average, small, pg, bin_size, window)
    ref, t_pn = timed(pnap.compute_event_triggered_average, pf, pg, bin_size, window)
    print(f"pynapple            {t_pn:8.3f} s   (first call incl. JIT: +{t_jit:.2f} s)")
    print(f"max |xr-nap - pynapple| = {np.abs(eta.values - ref.values).max():.2e}")
    print(f"speed-up vs pynapple: {t_pn / t_xr:.0f}x (target >= 100x)")


if __name__ == "__main__":
    main()
