"""The documentation builds without warnings, executing every example, and documents
every public name."""

import re
from pathlib import Path

import pytest

import xr_nap

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_api_page_lists_every_public_name():
    text = (DOCS / "api.md").read_text()
    documented = set(re.findall(
        r"^\.\. auto(?:function|class|exception):: (?:xr_nap\.)?(\S+)", text, re.M))
    missing = [name for name in xr_nap.__all__ if name not in documented]
    assert not missing, f"docs/api.md does not document {missing}"


def test_code_cells_are_executable_pages():
    # A page with {code-cell} blocks but no notebook front matter would be shown as
    # plain text and never run.
    for page in DOCS.glob("*.md"):
        text = page.read_text()
        if "```{code-cell}" in text:
            assert text.startswith("---\n") and "format_name: myst" in text, (
                f"{page.name} has code cells but no MyST-NB front matter")


def test_docs_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx", reason="building the docs needs sphinx (docs/test extra)")
    pytest.importorskip("myst_nb", reason="building the docs needs myst-nb (docs/test extra)")
    pytest.importorskip("numpydoc", reason="building the docs needs numpydoc (docs/test extra)")
    pytest.importorskip("matplotlib", reason="the docs' examples draw figures")
    pytest.importorskip("zarr", reason="the docs' examples use zarr")
    from sphinx.cmd.build import build_main

    warnings_file = tmp_path / "warnings.txt"
    status = build_main(["-W", "--keep-going", "-b", "html", "-q", "-w", str(warnings_file),
                         "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")])
    warnings = warnings_file.read_text() if warnings_file.exists() else ""
    assert status == 0, f"sphinx-build failed:\n{warnings}"
    assert (tmp_path / "html" / "io-guide.html").exists()


# --------------------------------------------------------------------------- the docs extra
ROOT = DOCS.parent
# what the pages use through xr-nap or xarray without importing it themselves
INDIRECT = {"chunks=": "dask", 'engine="zarr"': "zarr", ".to_zarr(": "zarr",
            ".plot": "matplotlib", "plot_": "matplotlib"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(extra: str) -> list[str]:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], *project["optional-dependencies"][extra]]


def _closure(requirements: list[str]) -> set[str]:
    """Distributions that installing ``requirements`` brings in, followed through the
    installed packages' own metadata (extras and environment markers included)."""
    from importlib import metadata

    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [(Requirement(r), ()) for r in requirements]
    while todo:
        req, parent_extras = todo.pop()
        if req.marker is not None and not any(
                req.marker.evaluate({"extra": e}) for e in (parent_extras or ("",))):
            continue
        name = _norm(req.name)
        key = f"{name}[{','.join(sorted(req.extras))}]"
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = metadata.requires(req.name) or []
        except metadata.PackageNotFoundError:  # not installed here: its name is enough
            continue
        todo += [(Requirement(r), tuple(req.extras)) for r in requires]
    return {k.split("[")[0] for k in seen}


def _docs_imports() -> tuple[set[str], str]:
    """Top-level modules the executed pages (and conf.py) import, and their code."""
    import ast

    code = [(DOCS / "conf.py").read_text()]
    for page in DOCS.glob("*.md"):
        for cell in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", page.read_text(), re.S):
            code.append("\n".join(line for line in cell.splitlines()
                                  if not line.startswith(":")))  # cell options
    modules = set()
    for source in code:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                modules |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    return modules, "\n".join(code)


def test_docs_extra_installs_what_the_docs_execute():
    """``pip install ".[docs]"`` then ``sphinx-build`` (the README's command) needs
    every module the pages import; the test extra hides a missing one, so the docs
    extra is checked on its own."""
    import sys
    from importlib import metadata

    installed = _closure(_requirements("docs")) | {"xr-nap"}
    owners = metadata.packages_distributions()
    modules, code = _docs_imports()
    needed = {}
    for module in modules - set(sys.stdlib_module_names):
        if module == "xr_nap":
            continue
        dists = owners.get(module)
        assert dists, f"the docs import {module!r}, which no installed package provides"
        needed[module] = {_norm(d) for d in dists}
    needed.update({pattern: {dist} for pattern, dist in INDIRECT.items() if pattern in code})
    missing = {m: d for m, d in needed.items() if not d & installed}
    assert not missing, f"the docs extra does not install {missing}"
    for tool in ("sphinx", "myst-nb", "numpydoc", "jupytext", "distributed", "cf-xarray"):
        assert tool in installed, tool


@pytest.mark.slow
@pytest.mark.skipif(not __import__("os").environ.get("XR_NAP_FRESH_VENV"),
                    reason="minutes of installing: set XR_NAP_FRESH_VENV=1 to run it")
def test_readme_docs_command_in_a_fresh_venv(tmp_path):
    """The README's docs command, as a new user runs it: a new virtual environment,
    ``pip install ".[docs]"``, ``sphinx-build -W``."""
    import subprocess
    import sys

    readme = (ROOT / "README.md").read_text()
    command = 'pip install ".[docs]" && sphinx-build -W -b html docs docs/_build/html'
    assert command in readme
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    out = tmp_path / "html"
    script = (f". {venv}/bin/activate && cd {ROOT} && pip install -q '.[docs]' && "
              f"sphinx-build -W -q -b html -d {tmp_path / 'doctrees'} docs {out}")
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (out / "io-guide.html").exists()
