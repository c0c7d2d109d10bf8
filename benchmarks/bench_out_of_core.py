"""Every reduction and transform over a big NWB series: time and peak memory growth.

    python benchmarks/bench_out_of_core.py [--quick] [--keep PATH] [--ops a,b]
                                           [--skip-pynapple]

Writes a rate-based float32 series (1e8 samples at 1 kHz, 400 MB; ``--quick``: 1e7,
40 MB) and 5 units of 20 000 spikes to an NWB file, then runs each operation in a fresh
process for each way of holding the series and prints its wall time and peak resident
memory growth (``xr_nap.testing.measure_in_subprocess``):

- ``file``: ``xr_nap.load_file`` (file-backed, read block by block);
- ``dask 4 / 20 / 64 MB``: ``load_file(chunks=)`` with chunks of that size;
- ``memory``: the values loaded first (not counted), explicit float64 times;
- ``pynapple``: pynapple 0.11's lazy path (``load_file`` keeps the h5py dataset, as its
  guide shows), the same operation by its pynapple name.

Goals (issue 15): tuning curves under +150 MiB with 20 MB chunks, and no operation
above +200 MiB at 20 MB chunks. Results that are as long as the series (threshold's
kept samples, perievent windows) count in the growth.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from xr_nap.testing import measure_in_subprocess, write_large_nwb

RATE = 1000.0

SETUP = """
import warnings
warnings.simplefilter("ignore")
import numpy as np
import xr_nap as nap
path, mode = {path!r}, {mode!r}
chunks = None if not mode.startswith("dask") else {{"time": int(mode.split()[1]) * 2**18}}
data = nap.load_file(path, chunks=chunks)
units, feat = data["units"], data["feature"]
if mode == "memory":
    n = feat.sizes["time"]
    feat = nap.tsd(np.arange(n) / {rate}, feat.values, time_support=(0, (n - 1) / {rate}))
spikes = nap.select_units(units, units.unit.values[0])
events = nap.ts(spikes.values[:2000])
ep = nap.interval_set(np.arange(10) * 1000.0, np.arange(10) * 1000.0 + 100)
"""

PYNAPPLE_SETUP = """
import warnings
warnings.simplefilter("ignore")
import numpy as np
import pynapple as nap
data = nap.load_file({path!r})
units, feat = data["units"], data["feature"]
spikes = units[units.index[0]]
events = nap.Ts(spikes.t[:2000])
ep = nap.IntervalSet(np.arange(10) * 1000.0, np.arange(10) * 1000.0 + 100)
"""

# name: (xr-nap, pynapple); a trailing .values makes lazy results count
OPS = {
    "count 1 s": ("nap.count(feat, 1.0)", "feat.count(1.0)"),
    "bin_average 1 s": ("nap.bin_average(feat, 1.0).values",
                        "feat.bin_average(1.0).values"),
    "restrict 10 x 100 s": ("nap.restrict(feat, ep).values", "feat.restrict(ep).values"),
    "value_from 20k spikes": ("nap.value_from(spikes, feat).values",
                              "spikes.value_from(feat).values"),
    "threshold": ("nap.threshold(feat, 60.0)", "feat.threshold(60.0)"),
    "tuning curves, spikes": ("nap.tuning_curves(units, feat, 20).values",
                              "nap.compute_tuning_curves(units, feat, 20).values"),
    "tuning curves, signal": ("nap.tuning_curves(feat, feat, 20).values",
                              "nap.compute_tuning_curves(feat, feat, 20).values"),
    "trigger average": ("nap.event_triggered_average(units, feat, 0.1, (1, 1)).values",
                        "nap.compute_event_triggered_average(feat, units, 0.1, (1, 1))"
                        ".values"),
    "perievent 2000 x 2 s": ("nap.perievent(feat, events, 1.0).values",
                             "nap.compute_perievent(feat, events, 1.0).values"),
    "mean PSD 10 s": ("nap.compute_mean_power_spectral_density(feat, 10.0).values",
                      "nap.compute_mean_power_spectral_density(feat, 10.0).values"),
}
MODES = ["file", "dask 4", "dask 20", "dask 64", "memory"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 MB instead of 400 MB")
    parser.add_argument("--keep", type=Path, help="write/reuse the NWB file here")
    parser.add_argument("--ops", help="comma-separated operation names (default: all)")
    parser.add_argument("--skip-pynapple", action="store_true")
    parser.add_argument("--timeout", type=float, default=900.0, help="per run, seconds")
    args = parser.parse_args()
    n = 10_000_000 if args.quick else 100_000_000
    ops = OPS if not args.ops else {k: OPS[k] for k in args.ops.split(",")}
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "big.nwb"
        if not path.exists():
            write_large_nwb(path, n, RATE, 1 << 16, n_units=5, spikes_per_unit=20_000,
                            dtype=np.float32)
        size = path.stat().st_size / 2**20
        modes = MODES + ([] if args.skip_pynapple else ["pynapple"])
        print(f"{n:.3g} float32 samples at {RATE:g} Hz, {size:.0f} MiB file; "
              "each cell: seconds / peak RSS growth (MiB)")
        print(f"{'operation':<24}" + "".join(f"{m:>17}" for m in modes))
        for name, (ours, theirs) in ops.items():
            cells = []
            for mode in modes:
                if mode == "pynapple":
                    r = measure_in_subprocess(PYNAPPLE_SETUP.format(path=str(path)), theirs,
                                              args.timeout)
                else:
                    r = measure_in_subprocess(SETUP.format(path=str(path), mode=mode,
                                                           rate=RATE), ours, args.timeout)
                cells.append("failed" if "error" in r else
                             f"{r['secs']:.2f}/{r['growth_mib']:.0f}")
            print(f"{name:<24}" + "".join(f"{c:>17}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
