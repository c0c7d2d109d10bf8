"""Tuning curves over a ~1 GiB lazy NWB series: pynapple vs xr-nap vs raw numpy/h5py.

    python benchmarks/bench_out_of_core.py [--quick] [--keep PATH]

Writes a rate-based float64 series (1.34e8 samples, 1 GiB; ``--quick``: 1.25e7, 100 MB)
and 5 units to an NWB file in a temporary folder, then runs each contender in a fresh
process and reports its wall time and peak RSS growth (``ru_maxrss``) over the
computation:

- pynapple 0.11: ``load_file`` (lazy: the data stay an h5py dataset, as in its guide),
  then ``compute_tuning_curves(units, feature, bins=20)``;
- xr-nap lazy: ``load_file`` (file-backed, block by block) and ``load_file(chunks=)``
  (dask), then ``tuning_curves(units, feature, bins=20)``;
- the raw limit: one pass of h5py reads + ``np.histogram`` over the same windows
  (occupancy only, the floor for any implementation that reads the data).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from xr_nap.testing import write_large_nwb

RATE = 1000.0
CHUNK = 1 << 16

CHILD = r"""
import json, sys, time
import numpy as np
path, who = sys.argv[1:3]

def status(key):  # MiB, from /proc/self/status
    with open("/proc/self/status") as f:
        return next(int(x.split()[1]) for x in f if x.startswith(key)) / 1024

def now():  # reset the peak (VmHWM) to the current RSS and return that RSS
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return status("VmRSS")

def peak():
    return status("VmHWM")

if who == "pynapple":
    import pynapple as nap
    data = nap.load_file(path)
    units, feature = data["units"], data["feature"]
    before, t0 = now(), time.perf_counter()
    tc = nap.compute_tuning_curves(units, feature, bins=20)
    secs = time.perf_counter() - t0
    values = np.asarray(tc.values)
elif who.startswith("xr-nap"):
    import xr_nap as nap
    chunks = {"time": 1 << 20} if who == "xr-nap dask" else None
    data = nap.load_file(path, chunks=chunks)
    units, feature = data["units"], data["feature"]
    before, t0 = now(), time.perf_counter()
    tc = nap.tuning_curves(units, feature, bins=20)
    secs = time.perf_counter() - t0
    values = tc.values
else:  # raw limit: read every block once and histogram it
    import h5py
    f = h5py.File(path, "r")
    ds = f["acquisition/feature/data"]
    before, t0 = now(), time.perf_counter()
    step = 1 << 21
    lo, hi = np.inf, -np.inf
    for a in range(0, ds.shape[0], step):
        x = ds[a:a + step]
        lo, hi = min(lo, x.min()), max(hi, x.max())
    occ = np.zeros(20, dtype=np.int64)
    for a in range(0, ds.shape[0], step):
        occ += np.histogram(ds[a:a + step], bins=20, range=(lo, hi))[0]
    secs = time.perf_counter() - t0
    values = occ
print(json.dumps({"secs": secs, "growth_mib": peak() - before,
                  "sum": float(np.nansum(values))}))
"""


def write_nwb(path: Path, n: int, seed: int = 0) -> Path:
    """The series of tests/test_out_of_core.py at benchmark size."""
    return write_large_nwb(path, n, RATE, CHUNK, n_units=5, spikes_per_unit=20_000, seed=seed)


def run(path: Path, who: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path), who], capture_output=True,
                          text=True, check=False)
    if proc.returncode:
        return {"error": proc.stderr.strip().splitlines()[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 MB instead of 1 GiB")
    parser.add_argument("--keep", type=Path, help="write/reuse the NWB file here")
    parser.add_argument("--skip-pynapple", action="store_true")
    args = parser.parse_args()
    n = 12_500_000 if args.quick else 134_217_728  # float64: 100 MB / 1 GiB
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "big.nwb"
        if not path.exists():
            write_nwb(path, n)
        size = path.stat().st_size / 2**20
        print(f"tuning curves (20 bins, 5 units) over a lazy series of {n:.3g} samples "
              f"({size:.0f} MiB file)")
        who = ["raw h5py+numpy", "xr-nap lazy", "xr-nap dask"]
        if not args.skip_pynapple:
            who.insert(0, "pynapple")
        results = {w: run(path, w) for w in who}
    for w, r in results.items():
        if "error" in r:
            print(f"  {w:<16} failed: {r['error']}")
        else:
            print(f"  {w:<16} {r['secs']:8.2f} s   peak RSS growth {r['growth_mib']:7.0f} MiB")
    ok = {w: r for w, r in results.items() if "error" not in r}
    if "pynapple" in ok:
        for w in ("xr-nap lazy", "xr-nap dask"):
            if w in ok:
                p, x = ok["pynapple"], ok[w]
                print(f"  pynapple / {w}: time {p['secs'] / x['secs']:.1f}x, "
                      f"memory {p['growth_mib'] / max(x['growth_mib'], 1):.1f}x")
    if "raw h5py+numpy" in ok and "xr-nap lazy" in ok:
        print(f"  xr-nap lazy / raw limit: time "
              f"{ok['xr-nap lazy']['secs'] / ok['raw h5py+numpy']['secs']:.1f}x")


if __name__ == "__main__":
    main()
