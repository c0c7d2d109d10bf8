"""NPZ save/load: xr-nap vs pynapple vs raw numpy (np.savez / np.load).

    python benchmarks/bench_npz.py [--quick]

Both libraries read the same file (written by pynapple) and write their own; times are
the best of a few repeats. ``pynapple/numpy`` is the floor: the most any loader that
has to read the arrays could gain over pynapple.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import xr_nap as nap
from xr_nap.io import safe_npz


def best(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return min(times)


def raw_load(path: Path) -> None:
    with np.load(path) as f:
        for key in f.files:
            if key != "_metadata":
                f[key]


def report(what: str, ours: float, theirs: float, limit: float) -> None:
    print(f"{what:<22} xr-nap {ours * 1e3:9.2f} ms   pynapple {theirs * 1e3:9.2f} ms   "
          f"numpy {limit * 1e3:9.2f} ms   pynapple/xr-nap {theirs / ours:7.1f}x   "
          f"xr-nap/numpy {ours / limit:5.2f}x   pynapple/numpy {theirs / limit:7.1f}x")


def fresh(path: Path, save) -> float:
    """Time one save to a path that does not exist yet."""
    path.unlink(missing_ok=True)
    t0 = time.perf_counter()
    save(path)
    return time.perf_counter() - t0


def bench_group(pnap, rng, tmp: Path, n_units: int, n_spikes: int, duration: float,
                repeat: int) -> None:
    trains = {i: np.sort(rng.uniform(0, duration, n_spikes)) for i in range(n_units)}
    meta = {"area": np.array(["ca1", "pfc"])[np.arange(n_units) % 2],
            "depth": rng.uniform(0, 1, n_units)}
    ours = nap.ts_group(trains, time_support=(0.0, duration), metadata=meta)
    theirs = pnap.TsGroup({k: pnap.Ts(v) for k, v in trains.items()},
                          time_support=pnap.IntervalSet(0.0, duration), metadata=meta)
    theirs.save(tmp / "g_pn.npz")
    nap.save(ours, tmp / "g_xr.npz")
    raw = dict(np.load(tmp / "g_pn.npz", allow_pickle=True))
    report("  save", best(lambda: nap.save(ours, tmp / "g_xr2"), repeat),
           best(lambda: theirs.save(tmp / "g_pn2.npz"), repeat),
           best(lambda: np.savez(tmp / "g_np.npz", **raw), repeat))
    for label, name in (("pynapple's file", "g_pn.npz"), ("xr-nap's file", "g_xr.npz")):
        path = tmp / name
        report(f"  load {label}", best(lambda: nap.load_npz(path), repeat),  # noqa: B023
               best(lambda: pnap.load_file(str(path)), repeat),  # noqa: B023
               best(lambda: raw_load(path), repeat))  # noqa: B023


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes")
    args = parser.parse_args()
    import pynapple as pnap

    warnings.filterwarnings("ignore")
    total_spikes = 100_000 if args.quick else 2_000_000
    unit_counts = (20, 100) if args.quick else (20, 100, 200, 1000)
    n_samples = 100_000 if args.quick else 10_000_000
    repeat = 5
    rng = np.random.default_rng(0)
    duration = 1000.0

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for n_units in unit_counts:
            n_spikes = total_spikes // n_units
            print(f"TsGroup: {n_units} units x {n_spikes} spikes")
            bench_group(pnap, rng, tmp, n_units, n_spikes, duration, repeat)

        t = np.arange(n_samples) / 1000.0
        d = rng.standard_normal(n_samples)
        print(f"Tsd: {n_samples} float64 samples")
        ours_x = nap.tsd(t, d)
        theirs_x = pnap.Tsd(t, d)
        theirs_x.save(tmp / "x_pn.npz")
        start, end = np.array([t[0]]), np.array([t[-1]])

        def numpy_save(path):
            np.savez(path, t=t, d=d, start=start, end=end, type=np.array(["Tsd"]))

        # A new file, then overwriting one: the atomic replace pays ext4's flush of the
        # new data when the rename replaces an existing file (pynapple truncates in place).
        report("  save new file",
               min(fresh(tmp / "x_xr.npz", lambda p: nap.save(ours_x, p)) for _ in range(repeat)),
               min(fresh(tmp / "x_pn2.npz", theirs_x.save) for _ in range(repeat)),
               min(fresh(tmp / "x_np.npz", numpy_save) for _ in range(repeat)))
        report("  save overwrite", best(lambda: nap.save(ours_x, tmp / "x_xr"), repeat),
               best(lambda: theirs_x.save(tmp / "x_pn2.npz"), repeat),
               best(lambda: numpy_save(tmp / "x_np.npz"), repeat))
        report("  load", best(lambda: nap.load_npz(tmp / "x_pn.npz"), repeat),
               best(lambda: pnap.load_file(str(tmp / "x_pn.npz")), repeat),
               best(lambda: raw_load(tmp / "x_pn.npz"), repeat))
        report("  load mmap", best(lambda: nap.load_npz(tmp / "x_pn.npz", mmap=True), repeat),
               best(lambda: pnap.load_file(str(tmp / "x_pn.npz")), repeat),
               best(lambda: raw_load(tmp / "x_pn.npz"), repeat))

        def first_mmap():  # as on a file this Python session has not mapped before
            safe_npz._VERIFIED.clear()
            nap.load_npz(tmp / "x_pn.npz", mmap=True)

        report("  load mmap, 1st", best(first_mmap, repeat),
               best(lambda: pnap.load_file(str(tmp / "x_pn.npz")), repeat),
               best(lambda: raw_load(tmp / "x_pn.npz"), repeat))


if __name__ == "__main__":
    main()
