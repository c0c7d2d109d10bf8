"""Remote NWB: requests, bytes and time to open a large file, read its units and a 10 s
window, over a loopback HTTP server that adds a delay to every request.

Run ``python benchmarks/bench_remote.py`` (a 400 MB file: 1e8 float32 samples at
1 kHz, 5 units of 20 000 spikes) or ``--quick`` (40 MB); ``--delay`` sets the added
seconds per request (default 0.02, a cloud round trip). The server
(:class:`xr_nap.testing.FileServer`, 127.0.0.1 only) counts requests and body bytes.

Side by side:

- xr-nap: ``xr_nap.load_file(url)``, ``data["units"]``, ``data["feature"].sel(time=...)``;
- pynapple's streaming recipe: ``remfile.File(url)`` -> ``h5py.File`` ->
  ``pynwb.NWBHDF5IO(...).read()`` -> ``nap.NWBFile`` -> ``data["units"]``,
  ``data["feature"].get(...)``;
- the same xr-nap open through other byte sources given as file objects (remfile,
  fsspec's HTTP file), to show what the choice of byte source costs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

RATE = 1000.0
WINDOW = (5000.0, 5010.0)


def run_steps(server, steps) -> list[tuple[str, int, int, float]]:
    """Run ``steps`` (name, function) in order; requests, bytes and seconds of each."""
    out = []
    for name, func in steps:
        server.reset_counts()
        t0 = time.perf_counter()
        func()
        out.append((name, server.requests, server.bytes_sent, time.perf_counter() - t0))
    return out


def xr_nap_steps(url: str, state: dict, source=None):
    import xr_nap as nap

    def open_():
        state["data"] = nap.load_file(source() if source else url)

    def units():
        state["units"] = state["data"]["units"]

    def window():
        feature = state["data"]["feature"]
        state["window"] = feature.sel(time=slice(*WINDOW)).values

    return [("open", open_), ("units", units), ("10 s window", window)]


def pynapple_steps(url: str, state: dict):
    import h5py
    import pynapple as nap
    import pynwb
    import remfile

    def open_():
        state["rem"] = remfile.File(url)
        state["h5"] = h5py.File(state["rem"], "r")
        state["io"] = pynwb.NWBHDF5IO(file=state["h5"], load_namespaces=True)
        state["data"] = nap.NWBFile(state["io"].read(), lazy_loading=True)

    def units():
        state["units"] = state["data"]["units"]

    def window():
        state["window"] = state["data"]["feature"].get(*WINDOW).values

    return [("open", open_), ("units", units), ("10 s window", window)]


def show(title: str, rows: list[tuple[str, int, int, float]]) -> tuple[int, int, float]:
    print(f"\n{title}")
    print(f"  {'step':<14}{'requests':>9}{'MB':>9}{'seconds':>10}")
    for name, n, nbytes, sec in rows:
        print(f"  {name:<14}{n:>9}{nbytes / 1e6:>9.2f}{sec:>10.3f}")
    total = (sum(r[1] for r in rows), sum(r[2] for r in rows), sum(r[3] for r in rows))
    print(f"  {'total':<14}{total[0]:>9}{total[1] / 1e6:>9.2f}{total[2]:>10.3f}")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 40 MB file")
    parser.add_argument("--delay", type=float, default=0.02,
                        help="seconds added to every request (default 0.02)")
    args = parser.parse_args()
    n_samples = 10**7 if args.quick else 10**8

    # imported before timing, so no step pays for a first import
    import fsspec
    import pynapple  # noqa: F401
    import pynwb  # noqa: F401
    import remfile
    import requests  # noqa: F401

    import xr_nap.io.nwb  # noqa: F401
    from xr_nap.testing import FileServer, write_large_nwb

    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        path = write_large_nwb(Path(tmp) / "large.nwb", n_samples, rate=RATE,
                               dtype=np.float32)
        print(f"file: {path.stat().st_size / 1e6:.0f} MB, {n_samples:.0e} float32 samples "
              f"at {RATE:.0f} Hz, 5 units x 20000 spikes; +{args.delay * 1000:.0f} ms per "
              "request")
        with FileServer(tmp, delay=args.delay) as server:
            url = server.url(path.name)
            xr_state: dict = {}
            xr_total = show("xr-nap (load_file(url))",
                            run_steps(server, xr_nap_steps(url, xr_state)))
            pn_state: dict = {}
            pn_total = show("pynapple (remfile -> h5py -> pynwb -> nap.NWBFile)",
                            run_steps(server, pynapple_steps(url, pn_state)))
            np.testing.assert_array_equal(xr_state["window"], pn_state["window"])
            print(f"\nxr-nap vs pynapple: {pn_total[2] / xr_total[2]:.1f}x faster, "
                  f"{pn_total[0]} vs {xr_total[0]} requests, "
                  f"{pn_total[1] / 1e6:.1f} vs {xr_total[1] / 1e6:.1f} MB")
            for title, source in (
                    ("xr-nap through remfile.File (a file object)",
                     lambda: remfile.File(url)),
                    ("xr-nap through fsspec's HTTP file (a file object)",
                     lambda: fsspec.open(url, "rb").open())):
                state: dict = {}
                show(title, run_steps(server, xr_nap_steps(url, state, source)))
                np.testing.assert_array_equal(state["window"], xr_state["window"])


if __name__ == "__main__":
    main()
