"""Sphinx configuration for the xr-nap documentation.

Pages are MyST markdown; pages with ``{code-cell}`` blocks are executed by MyST-NB on
every build (``nb_execution_mode = "force"``), so an example that stops working fails
the build. Build with ``sphinx-build -W -b html docs docs/_build/html``.
"""

import xr_nap

project = "xr-nap"
author = "xr-nap contributors"
copyright = "xr-nap contributors"  # noqa: A001  (Sphinx's name)
release = version = xr_nap.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "numpydoc",
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
source_suffix = {".md": "myst-nb", ".rst": "restructuredtext"}
root_doc = "index"

# --- MyST / MyST-NB: every example runs when the docs build ---------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "force"
nb_execution_raise_on_error = True  # a failing cell fails the build
nb_execution_timeout = 300
nb_execution_in_temp = True  # files the examples write go to a temporary folder
nb_merge_streams = True
nb_output_stderr = "show"
nb_render_markdown_format = "myst"  # Markdown outputs (the accessor table) may hold tables

# --- API reference ----------------------------------------------------------------------
autodoc_typehints = "none"  # numpydoc's Parameters sections already give the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()  # others' docstrings are not linted here
numpydoc_xref_param_type = False

html_theme = "alabaster"
html_title = f"xr-nap {release}"
html_static_path: list[str] = []
