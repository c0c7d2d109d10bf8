"""pynapple's process functions beyond tuning curves: xr-nap vs pynapple in one run.

Generated data: a 1e6-sample 2-D position at 100 Hz (a 2.8 h session) and 60 place
cells (``--quick``: 1e5 samples), 200 trials of 1-4 s. Times correlograms, ISI
distributions, decoding, randomisation, trial tensors and the small core methods on
the same data and prints pynapple's time, xr-nap's, their ratio and whether the
results agree.

    python benchmarks/bench_process.py [--quick] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from _common import best_of

import xr_nap as nap


def make_data(n_samples: int, n_units: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples) / 100.0
    xy = np.cumsum(rng.standard_normal((n_samples, 2)), axis=0)
    xy = np.abs((xy / 50.0) % 2 - 1)  # reflected random walk in [0, 1]^2
    spikes = {}
    for i in range(n_units):
        centre = rng.random(2)
        rate = 20 * np.exp(-np.sum((xy - centre) ** 2, axis=1) / 0.02) + 0.5
        fire = rng.random(n_samples) < rate / 100.0
        spikes[i] = np.sort(t[fire] + rng.uniform(0, 0.01, fire.sum()))  # off the grid
    slots = np.arange(5.0, t[-1] - 10, 5.0)  # trials 5 s apart at most, 200 of them
    starts = np.sort(rng.choice(slots, min(200, slots.size), replace=False))
    trials = (starts, starts + rng.uniform(1.0, 4.0, starts.size))
    return t, xy, spikes, trials


def agree(ours, theirs) -> bool:
    """Same numbers (NaN where NaN), whatever the container."""
    a = ours.values if hasattr(ours, "values") else np.asarray(ours)
    b = theirs.values if hasattr(theirs, "values") else np.asarray(theirs)
    if callable(a) or callable(b):
        return True
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-7, atol=1e-9,
                                                   equal_nan=True))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1e5 samples instead of 1e6")
    parser.add_argument("--only", nargs="*", help="run only these rows (by name)")
    args = parser.parse_args()
    n = 10**5 if args.quick else 10**6
    t, xy, spikes, (starts, ends) = make_data(n)
    warnings.simplefilter("ignore")
    import pynapple as pn

    g = nap.ts_group(spikes)
    pg = pn.TsGroup({k: pn.Ts(v) for k, v in spikes.items()})
    x, px = nap.tsd(t, xy[:, 0]), pn.Tsd(t, xy[:, 0])
    f, pf = nap.tsd_frame(t, xy, columns=["x", "y"]), pn.TsdFrame(t, xy, columns=["x", "y"])
    trials, ptrials = nap.interval_set(starts, ends), pn.IntervalSet(starts, ends)
    events = spikes[0][::10]
    ev, pev = nap.ts(events), pn.Ts(events)
    ep, pep = (t[0], t[-1]), pn.IntervalSet(t[0], t[-1])
    tc, ptc = nap.tuning_curves(g, x, 30), pn.compute_tuning_curves(pg, px, 30)
    tc2, ptc2 = nap.tuning_curves(g, f, 8), pn.compute_tuning_curves(pg, pf, 8)
    tc1, ptc1 = nap.compute_1d_tuning_curves(g, x, 30), pn.compute_1d_tuning_curves(pg, px, 30)
    tc2d = nap.compute_2d_tuning_curves(g, f, 8)
    ptc2d, bins_xy = pn.compute_2d_tuning_curves(pg, pf, 8)
    query = pn.Ts(t[::7] + 0.004)
    g_half = nap.ts_group({k + 100: v for k, v in spikes.items()})
    pg_half = pn.TsGroup({k + 100: pn.Ts(v) for k, v in spikes.items()})
    print(f"{n:.0e} samples, {len(spikes)} units, {sum(map(len, spikes.values()))} spikes, "
          f"{starts.size} trials")

    rows = [  # name, pynapple call, xr-nap call, exact result expected
        ("autocorrelogram 1ms/50ms", lambda: pn.compute_autocorrelogram(pg, 0.001, 0.05),
         lambda: nap.compute_autocorrelogram(g, 0.001, 0.05)),
        ("autocorrelogram 5ms/500ms", lambda: pn.compute_autocorrelogram(pg, 0.005, 0.5),
         lambda: nap.compute_autocorrelogram(g, 0.005, 0.5)),
        ("crosscorrelogram 1ms/50ms", lambda: pn.compute_crosscorrelogram(pg, 0.001, 0.05),
         lambda: nap.compute_crosscorrelogram(g, 0.001, 0.05)),
        ("eventcorrelogram 5ms/500ms",
         lambda: pn.compute_eventcorrelogram(pg, pev, 0.005, 0.5),
         lambda: nap.compute_eventcorrelogram(g, ev, 0.005, 0.5)),
        ("isi_distribution", lambda: pn.compute_isi_distribution(pg, 50),
         lambda: nap.compute_isi_distribution(g, 50)),
        ("decode_bayes 1-D, 0.5 s bins", lambda: pn.decode_bayes(ptc, pg, pep, 0.5)[1],
         lambda: nap.decode_bayes(tc, g, ep, 0.5)[1]),
        ("decode_bayes 1-D, 0.1 s bins", lambda: pn.decode_bayes(ptc, pg, pep, 0.1)[1],
         lambda: nap.decode_bayes(tc, g, ep, 0.1)[1]),
        ("decode_bayes 2-D, 0.5 s bins", lambda: pn.decode_bayes(ptc2, pg, pep, 0.5)[1],
         lambda: nap.decode_bayes(tc2, g, ep, 0.5)[1]),
        ("decode_template, 0.5 s bins", lambda: pn.decode_template(ptc, pg, pep, 0.5)[1],
         lambda: nap.decode_template(tc, g, ep, 0.5)[1]),
        ("decode_1d", lambda: pn.decode_1d(ptc1, pg, pep, 0.5)[1],
         lambda: nap.decode_1d(tc1, g, ep, 0.5)[1]),
        ("decode_2d", lambda: pn.decode_2d(ptc2d, pg, pep, 0.5, bins_xy)[1],
         lambda: nap.decode_2d(tc2d, g, ep, 0.5, bins_xy)[1]),
        ("shift_timestamps", lambda: pn.shift_timestamps(pg, mode="wrap"),
         lambda: nap.shift_timestamps(g, mode="wrap"), None),
        ("jitter_timestamps", lambda: pn.jitter_timestamps(pg, 0.01),
         lambda: nap.jitter_timestamps(g, 0.01), None),
        ("resample_timestamps", lambda: pn.resample_timestamps(pg),
         lambda: nap.resample_timestamps(g), None),
        ("shuffle_ts_intervals", lambda: pn.shuffle_ts_intervals(pg),
         lambda: nap.shuffle_ts_intervals(g), None),
        ("build_tensor TsGroup", lambda: pn.build_tensor(pg, ptrials, 0.05),
         lambda: nap.build_tensor(g, trials, 0.05)),
        ("build_tensor TsdFrame", lambda: pn.build_tensor(pf, ptrials),
         lambda: nap.build_tensor(f, trials)),
        ("warp_tensor TsGroup", lambda: pn.warp_tensor(pg, ptrials, 50),
         lambda: nap.warp_tensor(g, trials, 50)),
        ("warp_tensor TsdFrame", lambda: pn.warp_tensor(pf, ptrials, 50),
         lambda: nap.warp_tensor(f, trials, 50)),
        ("TsGroup.to_tsd", lambda: pg.to_tsd(), lambda: nap.to_tsd(g)),
        ("TsGroup.value_from", lambda: pg.value_from(px),
         lambda: nap.value_from_group(g, x), None),
        ("TsGroup.merge", lambda: pg.merge(pg_half), lambda: nap.merge(g, g_half), None),
        ("derivative", lambda: pf.derivative(), lambda: nap.derivative(f)),
        ("interpolate", lambda: pf.interpolate(query),
         lambda: nap.interpolate(f, nap.ts(query.t))),
        ("decimate", lambda: pf.decimate(4), lambda: nap.decimate(f, 4)),
        ("time_diff", lambda: px.time_diff(), lambda: nap.time_diff(x)),
        ("find_support", lambda: pn.Ts(events).find_support(1.0),
         lambda: nap.find_support(ev, 1.0), None),
    ]
    print(f"\n  {'function':<30} {'pynapple':>10} {'xr-nap':>10} {'ratio':>8}  same result")
    for name, theirs, ours, *exact in rows:
        if args.only and not any(o in name for o in args.only):
            continue
        ours()  # warm-up: imports and numba compilation are not timed
        theirs()
        t_pn, ref = best_of(theirs, repeat=1 if "decode" in name or "cross" in name else 3)
        t_xr, out = best_of(ours, repeat=3)
        same = "-" if exact else agree(out, ref)
        print(f"  {name:<30} {t_pn * 1e3:8.1f}ms {t_xr * 1e3:8.1f}ms {t_pn / t_xr:7.1f}x  "
              f"{same}")


if __name__ == "__main__":
    main()
