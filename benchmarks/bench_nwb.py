"""NWB reading: xr-nap vs pynapple vs raw h5py/pynwb on the same generated file.

Run ``python benchmarks/bench_nwb.py`` (500 s of LFP, 100 units, position, trials) or
``--quick`` for a small file; ``--units N`` sets the number of units. Every task is timed
in interleaved rounds (xr-nap, pynapple, raw, xr-nap, ...) and the best round is kept,
because the machine is shared and noisy.

- open/parse: ``xr_nap.load_file`` vs ``pynapple.load_file`` (and pynwb's own read);
- units first access: ``data["units"]`` on a freshly opened file;
- 10 s windows of int16 LFP at 1250 Hz (``conversion`` set, so values are float64
  volts), 16 channels (400 kB per window) and 64 channels (1.6 MB), chunks of about
  512 kB: xr-nap by label (``.sel``) and with ``nap.get``, pynapple's ``get`` (raw int16,
  unscaled), and the raw limit: the same h5py slice, cast and scaled in place (the
  fastest way to get the same float64 values) -- and unscaled;
- ``.sel`` alone (no read), next to ``.sel`` on an in-memory DataArray of the same shape:
  the fixed per-window cost, which is xarray's own.
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
import xarray as xr

RATE = 1250.0
CHANNELS = 16  # an LFP of n_samples values = n_samples / CHANNELS time points x CHANNELS
WIDE = 64  # a second LFP of the same duration with 64 channels
CONVERSION = 0.195e-6


def make_file(path: Path, n_samples: int, n_units: int) -> Path:
    import pynwb
    from hdmf.backends.hdf5 import H5DataIO
    from pynwb.behavior import Position

    rng = np.random.default_rng(0)
    nwb = pynwb.NWBFile(session_description="bench", identifier="bench",
                        session_start_time=datetime(2024, 1, 1, tzinfo=UTC))
    duration = n_samples / CHANNELS / RATE
    for name, width in (("lfp", CHANNELS), ("lfp64", WIDE)):
        lfp = rng.integers(-2000, 2000, (n_samples // CHANNELS, width), dtype=np.int16)
        nwb.add_acquisition(pynwb.TimeSeries(
            name=name, data=H5DataIO(lfp, chunks=((1 << 18) // width, width)), unit="V",
            rate=RATE, starting_time=0.0, conversion=CONVERSION))
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


def interleaved(funcs: dict, repeat: int) -> dict:
    """Best time of each function over ``repeat`` rounds that run them all in turn.

    Each round starts one function further on, so none always runs right after the
    same other (which leaves caches and the allocator in its own state). A function may
    return its own elapsed time (to leave setup out of it).
    """
    times: dict = {k: [] for k in funcs}
    items = list(funcs.items())
    for r in range(repeat):
        for key, func in items[r % len(items):] + items[: r % len(items)]:
            t0 = time.perf_counter()
            inner = func()
            times[key].append(inner if inner is not None else time.perf_counter() - t0)
    return {k: min(v) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small file, fewer repeats")
    parser.add_argument("--units", type=int, help="number of units (default 100; 20 quick)")
    args = parser.parse_args()
    n_samples, n_units, repeat = (10**6, 20, 5) if args.quick else (10**7, 100, 15)
    n_units = args.units or n_units

    import pynapple
    import pynwb

    import xr_nap

    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        path = make_file(Path(tmp) / "bench.nwb", n_samples, n_units)
        duration = n_samples / CHANNELS / RATE
        print(f"file: {duration:.0f} s of LFP at {RATE:.0f} Hz ({CHANNELS} and {WIDE} "
              f"channels, int16), {n_units} units, {path.stat().st_size / 2**20:.0f} MiB")

        def open_pynwb():
            with pynwb.NWBHDF5IO(str(path), "r") as io:
                io.read()

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
        t = interleaved({"xr": lambda: xr_nap.load_file(path).close(),
                         "pn": lambda: pynapple.load_file(str(path)).io.close(),
                         "pynwb read": open_pynwb,
                         "h5py open": lambda: h5py.File(path, "r").close()}, repeat)
        rows.append(("open/parse", t))
        rows.append(("units first access",
                     interleaved({"xr": units_xr, "pn": units_pn}, 3 * repeat)))

        # 20 windows of 10 s at random places, files already open
        starts = np.random.default_rng(1).uniform(0, duration - 10.0, 20)
        data_xr, data_pn = xr_nap.load_file(path), pynapple.load_file(str(path))
        f = h5py.File(path, "r")
        for key, width in (("lfp", CHANNELS), ("lfp64", WIDE)):
            lfp_xr, lfp_pn, raw = data_xr[key], data_pn[key], f[f"acquisition/{key}/data"]
            bounds = [(int(np.ceil(s * RATE)), int(np.floor((s + 10.0) * RATE)) + 1)
                      for s in starts]

            def each(read, items):  # one window at a time, dropped after use
                def run():
                    for item in items:
                        read(item)
                return run

            def scaled(bound, raw=raw):
                out = raw[bound[0]:bound[1]].astype(np.float64)
                out *= CONVERSION
                return out

            t = interleaved({
                "xr": each(lambda s, x=lfp_xr: x.sel(time=slice(s, s + 10.0)).values, starts),
                "pn": each(lambda s, x=lfp_pn: np.asarray(x.get(s, s + 10.0).values), starts),
                "nap.get": each(lambda s, x=lfp_xr: xr_nap.get(x, s, s + 10.0).values, starts),
                "raw h5py": each(scaled, bounds),
                "raw h5py unscaled": each(lambda b, r=raw: r[b[0]:b[1]], bounds),
            }, repeat)
            rows.append((f"10 s x{width} ch (x20)", t))
        # the fixed cost of a window before any read: xarray's own .sel, here and on an
        # ordinary in-memory DataArray of the same shape (pandas index)
        lfp_xr = data_xr["lfp"]
        in_memory = xr.DataArray(np.zeros(lfp_xr.shape), dims=lfp_xr.dims,
                                 coords={"time": lfp_xr.time.values,
                                         "column": lfp_xr.column.values})
        rows.append(("  .sel, no read (x20)", interleaved({
            "xr": each(lambda s: lfp_xr.sel(time=slice(s, s + 10.0)), starts),
            "xarray in memory": each(lambda s: in_memory.sel(time=slice(s, s + 10.0)),
                                     starts),
        }, repeat)))
        f.close()
        data_xr.close()
        data_pn.io.close()

    print(f"{'task':<24}{'xr-nap':>11}{'pynapple':>11}{'pn/xr':>8}   other (xr/other)")
    for name, t in rows:
        a, b = t.pop("xr"), t.pop("pn", None)
        extra = "  ".join(f"{k} {v * 1e3:.2f} ms ({a / v:.2f})" for k, v in t.items())
        theirs = f"{b * 1e3:>9.2f}ms{b / a:>8.1f}" if b else f"{'-':>11}{'-':>8}"
        print(f"{name:<24}{a * 1e3:>9.2f}ms{theirs}   {extra}")


if __name__ == "__main__":
    main()
