import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from xr_nap.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_readme_commands_are_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    blocks = [b.split("```")[0].strip() for b in readme.split("```bash\n")[1:3]]
    assert blocks[0].endswith('pip install ".[plot]" && xr-nap demo')
    assert blocks[1].endswith("python -m pytest")
    assert blocks[1] in (ROOT / ".ci" / "run").read_text()


def test_demo_runs_and_writes_a_figure(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--duration", "60", "--units", "4"]) == 0
    out = capsys.readouterr().out
    assert "TsGroup" in out and "Place fields" in out
    png = tmp_path / "xr_nap_demo.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_without_matplotlib_skips_the_figure(tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    assert main(["demo", "--out", str(tmp_path), "--duration", "30", "--units", "2"]) == 0
    assert "Figure skipped" in capsys.readouterr().out
    assert not (tmp_path / "xr_nap_demo.png").exists()


def test_info_and_convert(tmp_path, capsys):
    import xarray as xr

    from xr_nap.testing import write_sample_nwb

    path = write_sample_nwb(tmp_path / "s.nwb", duration=30.0, n_units=3)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "units" in out and "3 units" in out and "Time span" in out
    for suffix in (".nc", ".zarr"):
        target = tmp_path / f"s{suffix}"
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no serialization or format warnings
            assert main(["convert", str(path), str(target)]) == 0
        tree = xr.open_datatree(target, engine="netcdf4" if suffix == ".nc" else "zarr")
        assert set(tree.children) == {"lfp", "epochs", "position", "units"}
        assert tree["units"].attrs["nap_type"] == "TsGroup"
        lfp = tree["lfp"]["lfp"]
        assert lfp.encoding["dtype"] == "int16" and lfp.attrs["units"] == "mV"
        capsys.readouterr()
        assert main(["info", str(target)]) == 0
        out = capsys.readouterr().out
        assert "TsdFrame" in out and "3 units" in out and "IntervalSet" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["info", "missing.nwb"], "no such file"),
        (["convert", "missing.nwb", "x.nc"], "no such file"),
    ],
)
def test_errors_are_one_line_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_bad_suffix_and_not_nwb(tmp_path, capsys):
    bogus = tmp_path / "x.nwb"
    bogus.write_bytes(b"not an hdf5 file")
    assert main(["info", str(bogus)]) == 2
    assert main(["convert", str(bogus), str(tmp_path / "x.csv")]) == 2
    assert all(line.startswith("xr-nap") for line in capsys.readouterr().err.splitlines())


def test_help_explains_itself():
    out = subprocess.run([sys.executable, "-m", "xr_nap.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for word in ("demo", "info", "convert", "netCDF"):
        assert word in out


def test_convert_never_replaces_an_output_without_overwrite(tmp_path, capsys):
    import xr_nap as nap

    src = nap.save(nap.ts_group({0: [1.0, 2.0], 3: [1.5]}), tmp_path / "g")
    for suffix in (".nc", ".zarr"):
        out = tmp_path / f"g{suffix}"
        if suffix == ".zarr":
            out.mkdir()
            (out / "zarr.json").write_text("{}")
            (out / "keep").write_text("mine")
        else:
            out.write_text("mine")
        assert main(["convert", str(src), str(out)]) == 2
        assert "exists; pass --overwrite" in capsys.readouterr().err
        assert (out / "keep" if suffix == ".zarr" else out).read_text() == "mine"
        assert main(["convert", str(src), str(out), "--overwrite"]) == 0
        assert not (out / "keep").exists() if suffix == ".zarr" else out.read_bytes()[:3] \
            in (b"CDF", b"\x89HD")
    # a folder that is not a zarr store is never deleted, even with --overwrite
    home = tmp_path / "home.zarr"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work")
    assert main(["convert", str(src), str(home), "--overwrite"]) == 2
    assert "not a zarr store" in capsys.readouterr().err
    assert (home / "thesis.tex").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_info_lists_every_npz_kind(tmp_path, capsys):
    import xr_nap as nap

    objects = {"g": nap.ts_group({0: [1.0, 2.0]}), "ep": nap.interval_set([0], [5]),
               "x": nap.tsd([0.0, 1.0], [1.0, 2.0])}
    for name, obj in objects.items():
        assert main(["info", str(nap.save(obj, tmp_path / name))]) == 0
        assert nap.nap_type(obj) in capsys.readouterr().out


def test_info_on_damaged_npz_is_one_line(tmp_path, capsys):
    (tmp_path / "x.npz").write_bytes(b"PK\x05\x06" + bytes(10))
    os.symlink("loop.npz", tmp_path / "loop.npz")
    for name in ("x.npz", "loop.npz"):
        assert main(["info", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err.strip()
        assert name in err and "\n" not in err
