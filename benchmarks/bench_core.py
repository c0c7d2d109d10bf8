"""restrict and count: xr-nap vs pynapple vs raw numpy on the same data, one run.

Usage: python benchmarks/bench_core.py [--quick]
Default: a 1e7-sample Tsd, 1000 intervals, and a 60-unit TsGroup for count.
"""

import argparse
import warnings

import numpy as np
import pynapple as pnap
from _common import best_of, report

import xr_nap as nap


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1e6 samples, 100 intervals")
    args = parser.parse_args()
    n, n_ep = (10**6, 100) if args.quick else (10**7, 1000)
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    t = np.arange(n) / 1000.0  # 1 kHz
    d = rng.standard_normal(n)
    edges = np.sort(rng.choice(n, 2 * n_ep, replace=False)) / 1000.0
    starts, ends = edges[0::2], edges[1::2]

    x, ep = nap.tsd(t, d), nap.interval_set(starts, ends)
    px, pep = pnap.Tsd(t=t, d=d), pnap.IntervalSet(starts, ends)

    def raw_restrict():
        lo = np.searchsorted(t, starts, "left")
        hi = np.searchsorted(t, ends, "right")
        idx = nap.core.intervals.ranges(lo, hi)
        return t[idx], d[idx]

    def copy_floor():  # the least any restrict must do: copy the kept times and values
        lo = np.searchsorted(t, starts, "left")
        hi = np.searchsorted(t, ends, "right")
        return (np.concatenate([t[a:b] for a, b in zip(lo, hi, strict=True)]),
                np.concatenate([d[a:b] for a, b in zip(lo, hi, strict=True)]))

    # warm-up so that pynapple's numba compilation is not counted
    px.restrict(pep), px.count(0.01, ep=pep)
    rows = [("pynapple", best_of(lambda: px.restrict(pep))[0]),
            ("xr-nap", best_of(lambda: nap.restrict(x, ep))[0]),
            ("raw numpy (one gather)", best_of(raw_restrict)[0]),
            ("copy floor (kept slices)", best_of(copy_floor)[0])]
    report(f"restrict: {n:.0e} samples, {n_ep} intervals", rows)

    spikes = {i: np.sort(rng.uniform(0, t[-1], n // 600)) for i in range(60)}
    g = nap.ts_group(spikes, time_support=(0, t[-1]))
    pg = pnap.TsGroup({k: pnap.Ts(v) for k, v in spikes.items()},
                      time_support=pnap.IntervalSet(0, t[-1]))
    pg.count(0.01, ep=pep)

    def raw_count():
        allt = np.concatenate(list(spikes.values()))
        unit = np.repeat(np.arange(60), [v.size for v in spikes.values()])
        b = ((allt - starts[0]) // 0.01).astype(np.int64)
        ok = b >= 0
        return np.bincount(b[ok] * 60 + unit[ok])

    rows = [("pynapple", best_of(lambda: px.count(0.01, ep=pep))[0]),
            ("xr-nap", best_of(lambda: nap.count(x, 0.01, ep))[0])]
    report(f"count Tsd: {n:.0e} samples, 10 ms bins over {n_ep} intervals", rows)
    rows = [("pynapple", best_of(lambda: pg.count(0.01, ep=pep))[0]),
            ("xr-nap", best_of(lambda: nap.count(g, 0.01, ep))[0]),
            ("raw numpy (one bincount)", best_of(raw_count)[0])]
    report(f"count TsGroup: 60 units x {n // 600} spikes, 10 ms bins", rows)
    rows = [("pynapple", best_of(lambda: px.bin_average(0.01, ep=pep))[0]),
            ("xr-nap", best_of(lambda: nap.bin_average(x, 0.01, ep))[0])]
    report(f"bin_average Tsd: {n:.0e} samples, 10 ms bins", rows)


if __name__ == "__main__":
    main()
