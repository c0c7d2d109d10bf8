"""Tuning curves: xr-nap vs pynapple vs a raw numpy baseline.

Generated data: a 1e6-sample 2-D position at 100 Hz and 60 place cells
(``--quick``: 1e5 samples). Times 1-D (40 bins) and 2-D (20 x 20 bins) curves.

    python benchmarks/bench_tuning.py [--quick]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from _common import timed

import xr_nap as nap


def make_data(n_samples: int, n_units: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples) / 100.0
    xy = np.cumsum(rng.standard_normal((n_samples, 2)), axis=0)
    xy = np.abs((xy / 50.0) % 2 - 1)  # reflected random walk in [0, 1]^2
    spikes = {}
    for i in range(n_units):
        centre = rng.random(2)
        rate = 20 * np.exp(-np.sum((xy - centre) ** 2, axis=1) / 0.02) * 0.01
        spikes[i] = t[rng.random(n_samples) < rate]
    return t, xy, spikes


def numpy_tuning(t, values, spikes, bins):
    """Occupancy by histogramdd, spikes by nearest sample + histogramdd (one epoch)."""
    occ, edges = np.histogramdd(values, bins=bins)
    out = []
    for s in spikes.values():
        j = np.clip(np.searchsorted(t, s), 0, t.size - 1)
        out.append(np.histogramdd(values[j], bins=edges)[0] / occ * 100.0)
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1e5 samples instead of 1e6")
    args = parser.parse_args()
    n = 10**5 if args.quick else 10**6
    t, xy, spikes = make_data(n)
    print(f"position: {n:.0e} samples, {len(spikes)} units, "
          f"{sum(map(len, spikes.values()))} spikes")
    group = nap.ts_group(spikes)
    x = nap.tsd(t, xy[:, 0])
    frame = nap.tsd_frame(t, xy, columns=["x", "y"])
    try:
        import pynapple as pnap
        warnings.simplefilter("ignore")
        pg = pnap.TsGroup({k: pnap.Ts(v) for k, v in spikes.items()})
        px, pframe = pnap.Tsd(t, xy[:, 0]), pnap.TsdFrame(t, xy, columns=["x", "y"])
        pnap.compute_tuning_curves(pg, pnap.Tsd(t[:100], xy[:100, 0]), 5)  # JIT warm-up
    except ImportError:
        pnap = None
    for label, feat, pfeat, bins, target in (
        ("1-D, 40 bins", x, px if pnap else None, 40, 2),
        ("2-D, 20x20 bins", frame, pframe if pnap else None, 20, 3),
    ):
        tc, t_first = timed(nap.tuning_curves, group, feat, bins)
        _, t_xr = timed(nap.tuning_curves, group, feat, bins)
        lazy = feat.chunk({"time": n // 10})
        tc_dask, t_dask = timed(nap.tuning_curves, group, lazy, bins)
        vals = xy[:, :1] if feat.ndim == 1 else xy
        _, t_np = timed(numpy_tuning, t, vals, spikes, bins)
        print(f"\n{label}")
        print(f"  xr-nap first call {t_first:7.3f} s")
        print(f"  xr-nap            {t_xr:7.3f} s")
        print(f"  xr-nap (dask)     {t_dask:7.3f} s  same result: "
              f"{np.allclose(tc.values, tc_dask.values, equal_nan=True)}")
        print(f"  numpy baseline    {t_np:7.3f} s   xr-nap / numpy = {t_xr / t_np:.2f}")
        if pnap is not None:
            ref, t_pn = timed(pnap.compute_tuning_curves, pg, pfeat, bins)
            same = np.allclose(tc.values, ref.values, equal_nan=True)
            print(f"  pynapple          {t_pn:7.3f} s   same result: {same}")
            print(f"  speed-up vs pynapple: {t_pn / t_xr:.1f}x (target >= {target}x)")


if __name__ == "__main__":
    main()
