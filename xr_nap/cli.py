"""The ``xr-nap`` command: ``demo``, ``info FILE``, ``convert FILE OUT``.

Errors are printed as one line on stderr and the command exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

DESCRIPTION = """\
xr-nap: pynapple's neuroscience time-series toolkit on lazy xarray objects.

  xr-nap demo               generate a sample session, open it lazily, compute tuning
                            curves and a trigger average, save a figure
  xr-nap info FILE          list the objects of an NWB, NPZ, netCDF or zarr file (kind,
                            shape, dtype, time span) without reading their data
  xr-nap convert FILE OUT   write an NWB/NPZ file as netCDF (.nc) or zarr (.zarr),
                            one group per object (xr_nap.load_file reads it back);
                            an existing OUT is replaced only with --overwrite
"""


class CLIError(Exception):
    """A problem to report to the user in one line."""


# --------------------------------------------------------------------------- demo
def demo(out_dir: Path | None, duration: float, n_units: int, plot: bool) -> Path | None:
    import numpy as np

    import xr_nap as nap
    from xr_nap.core.blocks import in_memory
    from xr_nap.testing import write_sample_nwb

    out_dir = Path(out_dir or tempfile.mkdtemp(prefix="xr-nap-demo-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "sample_session.nwb"
    t0 = time.perf_counter()
    write_sample_nwb(path, duration=duration, n_units=n_units)
    print(f"Wrote a synthetic session ({duration:.0f} s, {n_units} place cells) to {path}")
    print(f"  ({time.perf_counter() - t0:.1f} s)\n")

    with nap.load_file(path) as data:  # lazy: nothing but times and small tables read
        print(data)
        lfp, units, position = data["lfp"], data["units"], data["position"]
        epochs = data["epochs"]
        on_disk = not in_memory(lfp)
        print(f"\nlfp: {lfp.sizes['time']} samples x {lfp.sizes['column']} channels, "
              f"data still on disk: {on_disk}")

        wake = epochs.isel(interval=np.flatnonzero(epochs.label.values == "wake"))
        spikes = units.nap.restrict(wake)
        counts = spikes.nap.count(1.0)
        print(f"\nrestrict(units, wake) kept {int(spikes.row_size.sum())} of "
              f"{int(units.row_size.sum())} spikes; count(1 s) -> "
              f"{dict(counts.sizes)}, mean rate {float(counts.mean()):.2f} spikes/s")

        chunk = lfp.nap.get(10.0, 20.0)  # reads only these 10 s from the file
        print(f"get(10, 20) on the lazy lfp read {chunk.sizes['time']} samples; "
              f"channel means {np.round(chunk.mean('time').values, 3).tolist()} mV")

        tc = nap.tuning_curves(units, position, bins=40, epochs=wake)
        peaks = tc.idxmax(tc.dims[1]).values
        print("\nPlace fields (tuning curves vs position, wake only):")
        for uid, peak, want in zip(tc.unit.values, peaks, units.peak_position.values,
                                   strict=True):
            print(f"  unit {uid}: peak at {peak:5.1f} cm (true centre {want:5.1f} cm)")

        eta = nap.event_triggered_average(units, lfp.isel(column=0), 0.004, (0.25, 0.25),
                                          ep=wake)
        print(f"\nSpike-triggered LFP average: {dict(eta.sizes)}, "
              f"peak-to-peak {float(eta.max() - eta.min()):.3f} mV")

        figure = None
        if plot and importlib.util.find_spec("matplotlib") is None:
            print("\nFigure skipped: matplotlib is not installed "
                  "(pip install 'xr-nap[plot]' to get it)")
        elif plot:
            from xr_nap.plotting import plot_trigger_average, plot_tuning_curves

            figure = out_dir / "xr_nap_demo.png"
            _save_figure(figure, tc, eta, plot_tuning_curves, plot_trigger_average)
            print(f"\nFigure: {figure}")
    return figure


def _save_figure(path, tc, eta, plot_tc, plot_eta):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    plot_tc(tc, ax=axes[0])
    plot_eta(eta, ax=axes[1])
    fig.suptitle("xr-nap demo: synthetic place cells")
    from xr_nap.io.atomic import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


# --------------------------------------------------------------------------- info
def info(path: Path) -> None:
    import xr_nap as nap
    from xr_nap.io.describe import describe

    if not os.path.lexists(path):  # a link loop exists, and gets load_file's own error
        raise CLIError(f"no such file: {path}")
    obj = nap.load_file(path)
    try:
        print(describe(obj, title=path.name))
    finally:
        if hasattr(obj, "close"):
            obj.close()


# --------------------------------------------------------------------------- convert
def _is_zarr_store(path: Path) -> bool:
    return any((path / name).is_file() for name in
               ("zarr.json", ".zgroup", ".zarray", ".zattrs", ".zmetadata"))


def _readable_objects(loaded) -> dict:
    """Every object of an opened file; one that cannot be read is skipped with a
    warning naming it, and the others are still converted."""
    import xarray as xr

    from xr_nap.errors import FileFormatError, SkippedObjectWarning, warn

    if isinstance(loaded, xr.DataArray | xr.Dataset):
        return {None: loaded}
    objects = {}
    for key in loaded:
        try:
            objects[key] = loaded[key]
        except (FileFormatError, OSError, KeyError) as err:
            warn(f"skipped {key!r}: {err}", SkippedObjectWarning)
    return objects


def convert(src: Path, out: Path, overwrite: bool = False) -> None:
    import xr_nap as nap
    from xr_nap.io.netcdf import write_objects

    if not os.path.lexists(src):
        raise CLIError(f"no such file: {src}")
    suffix = out.suffix.lower()
    if suffix not in (".nc", ".zarr"):
        raise CLIError(f"OUT must end in .nc (netCDF) or .zarr, got {out.name!r}")
    if os.path.lexists(out):
        if not overwrite:
            raise CLIError(f"{out} exists; pass --overwrite to replace it")
        if out.is_dir() and not (suffix == ".zarr" and _is_zarr_store(out)):
            raise CLIError(f"{out} is a folder but not a zarr store; not replacing it")
    # NWB series as dask arrays: written chunk by chunk (bounded memory, progress bar)
    lazy = src.suffix.lower() in (".nwb", ".nc", ".zarr")
    loaded = nap.load_file(src, chunks={}) if lazy else nap.load_file(src)
    try:
        objects = _readable_objects(loaded)
        if not objects:
            raise CLIError(f"{src} holds no object xr-nap can read; nothing written")
        from xr_nap.progress import progress

        single = list(objects) == [None]
        with progress(f"writing {len(objects)} object(s) to {out}"):
            write_objects(objects[None] if single else objects, out,
                          attrs=getattr(loaded, "attrs", None) if not single else None)
    finally:
        if hasattr(loaded, "close"):
            loaded.close()
    print(f"wrote {out} ({'one object' if single else ', '.join(objects)})")


# --------------------------------------------------------------------------- entry point
def build_parser() -> argparse.ArgumentParser:
    from xr_nap import __version__

    parser = argparse.ArgumentParser(
        prog="xr-nap", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"xr-nap {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("demo", help="run the demo on a generated session",
                       description="Generate a synthetic NWB session (no download), open it "
                                   "lazily and run restrict, count, tuning curves and a "
                                   "spike-triggered average; save a PNG figure.")
    p.add_argument("--out", type=Path, help="folder for the NWB file and the figure "
                                            "(default: a new temporary folder)")
    p.add_argument("--duration", type=float, default=600.0, help="seconds (default 600)")
    p.add_argument("--units", type=int, default=10, help="number of units (default 10)")
    p.add_argument("--no-plot", action="store_true", help="skip the figure")
    p = sub.add_parser("info", help="list the objects of an NWB, NPZ, netCDF or zarr file",
                       description="Print the objects of FILE (NWB, NPZ, or the .nc/.zarr "
                                   "that convert writes) with their kind, "
                                   "shape, dtype and time span, reading no array data.")
    p.add_argument("file", type=Path)
    p = sub.add_parser("convert", help="convert NWB/NPZ to netCDF or zarr",
                       description="Write every object of FILE as a group of a netCDF "
                                   "(.nc) file or zarr (.zarr) store (an NPZ's one object "
                                   "at its root), with progress; xr_nap.load_file reads it "
                                   "back. Objects that cannot be read are skipped with a "
                                   "warning. The output is written under a temporary name "
                                   "and renamed when complete; an existing OUT is refused "
                                   "unless --overwrite.")
    p.add_argument("file", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--overwrite", action="store_true",
                   help="replace OUT if it exists (a netCDF file or a zarr store)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    def show(message, category, *rest, **kwargs):  # one line per warning, no source line
        print(f"xr-nap {args.command}: {category.__name__}: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="hdmf")
        warnings.showwarning = show
        try:
            if args.command == "demo":
                demo(args.out, args.duration, args.units, not args.no_plot)
            elif args.command == "info":
                info(args.file)
            else:
                convert(args.file, args.out, args.overwrite)
        except (CLIError, OSError, ValueError, TypeError, KeyError) as err:
            print(f"xr-nap {args.command}: error: {err}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
