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
