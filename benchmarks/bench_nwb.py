"""NWB reading: xr-nap vs pynapple vs raw h5py/pynwb on the same generated file.

Run ``python benchmarks/bench_nwb.py`` (1e7-sample LFP, 100 units, position, trials) or
``--quick`` for a small file. Prints the best of several runs for:

- open/parse: ``xr_nap.load_file`` vs ``pynapple.load_file`` (and pynwb's own read);
- units first access: ``data["units"]`` on a freshly opened file;
- a 10 s window of the LFP (16 channels at 1250 Hz) read lazily, vs the same slice read
  and scaled with h5py. A window is only 400 kB, so xarray's fixed cost per selection
  (~0.1-0.2 ms) is a visible part of it; the ratio shrinks as windows grow.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import h5py
import numpy as np

RATE = 1250.0
CHANNELS = 16  # an LFP of n_samples values = n_samples / CHANNELS time points x CHANNELS


def make_file(path: Path, n_samples: int, n_units: int) -> Path:
    import pynwb
    from hdmf.backends.hdf5 import H5DataIO
    from pynwb.behavior import Position

    rng = np.random.default_rng(0)
    nwb = pynwb.NWBFile(session_description="bench", identifier="bench",
                        session_start_time=datetime(2024, 1, 1, tzinfo=UTC))
    duration = n_samples / CHANNELS / RATE
    lfp = rng.integers(-2000, 2000, (n_samples // CHANNELS, CHANNELS), dtype=np.int16)
    nwb.add_acquisition(pynwb.TimeSeries(
        name="lfp", data=H5DataIO(lfp, chunks=(1 << 14, CHANNELS)), unit="V", rate=RATE,
        starting_time=0.0, conversion=0.195e-6))
    module = nwb.create_processing_module("behavior", "position")
    position = Position(name="Position")
    t_pos = np.arange(0.0, duration, 0.01)
    position.create_spatial_series(name="pos", data=rng.normal(size=(t_pos.size, 2)),
                                   reference_frame="arena", timestamps=t_pos)
    module.add(position)
    nwb.add_unit_column("quality", "label")
    nwb.add_unit_column("depth", "um")
    for uid in range(n_units):
        spikes = np.sort(rng.uniform(0.0, duration, int(rng.integers(500, 5000))))
        nwb.add_unit(spike_times=spikes, quality="good" if uid % 3 else "mua",
                     depth=float(uid))
    for i in range(50):
        nwb.add_trial(start_time=i * duration / 50, stop_time=(i + 0.5) * duration / 50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pynwb.NWBHDF5IO(str(path), "w") as io:
            io.write(nwb)
    return path


def best(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small file, fewer repeats")
    args = parser.parse_args()
    n_samples, n_units, repeat = (10**6, 20, 3) if args.quick else (10**7, 100, 5)

    import pynapple
    import pynwb

    import xr_nap

    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        path = make_file(Path(tmp) / "bench.nwb", n_samples, n_units)
        print(f"file: {n_samples:.0e} LFP samples ({CHANNELS} channels), {n_units} units, "
              f"{path.stat().st_size / 2**20:.0f} MiB")

        def open_xr():
            xr_nap.load_file(path).close()

        def open_pn():
            pynapple.load_file(str(path)).io.close()

        def open_pynwb():
            with pynwb.NWBHDF5IO(str(path), "r") as io:
                io.read()

        def open_h5():
            h5py.File(path, "r").close()

        def units_xr():
            with xr_nap.load_file(path) as data:
                t0 = time.perf_counter()
                data["units"]
                return time.perf_counter() - t0

        def units_pn():
            data = pynapple.load_file(str(path))
            t0 = time.perf_counter()
            data["units"]
            elapsed = time.perf_counter() - t0
            data.io.close()
            return elapsed

        rows = []
        t_xr, t_pn = best(open_xr, repeat), best(open_pn, repeat)
        rows.append(("open/parse", t_xr, t_pn, {"pynwb read": best(open_pynwb, repeat),
                                                "h5py open": best(open_h5, repeat)}))
        u_xr = min(units_xr() for _ in range(repeat))
        u_pn = min(units_pn() for _ in range(repeat))
        rows.append(("units first access", u_xr, u_pn, {}))

        # 10 s windows at random places, file already open
        rng = np.random.default_rng(1)
        starts = rng.uniform(0, n_samples / CHANNELS / RATE - 10.0, 20)
        data_xr, data_pn = xr_nap.load_file(path), pynapple.load_file(str(path))
        lfp_xr, lfp_pn = data_xr["lfp"], data_pn["lfp"]
        f = h5py.File(path, "r")
        raw = f["acquisition/lfp/data"]

        def win_xr():
            for s in starts:
                np.asarray(lfp_xr.sel(time=slice(s, s + 10.0)))

        def win_pn():
            for s in starts:
                np.asarray(lfp_pn.get(s, s + 10.0).values)

        def win_h5():
            for s in starts:
                i0 = int(np.ceil(s * RATE))
                raw[i0:int(np.floor((s + 10.0) * RATE)) + 1] * 0.195e-6

        w_xr, w_pn, w_h5 = best(win_xr, repeat), best(win_pn, repeat), best(win_h5, repeat)
        rows.append(("10 s window read (x20)", w_xr, w_pn, {"raw h5py": w_h5}))
        f.close()
        data_xr.close()
        data_pn.io.close()

    print(f"{'task':<24}{'xr-nap':>11}{'pynapple':>11}{'pn/xr':>8}   other")
    for name, a, b, other in rows:
        extra = "  ".join(f"{k} {v * 1e3:.2f} ms (xr/that {a / v:.2f})"
                          for k, v in other.items())
        print(f"{name:<24}{a * 1e3:>9.2f}ms{b * 1e3:>9.2f}ms{b / a:>8.1f}   {extra}")


if __name__ == "__main__":
    main()
