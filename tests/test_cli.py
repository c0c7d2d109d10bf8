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
