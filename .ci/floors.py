"""Print pip constraints that pin every dependency of pyproject.toml to its floor.

`pip install ".[test]" -c <(python .ci/floors.py)` then installs the oldest versions
the project promises to work with, as xarray's min-versions job does: the floors
stay true because CI runs the fast tests against them.
"""

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
requirements = list(project["dependencies"])
for extra in project["optional-dependencies"].values():
    requirements += extra

pins = {}
for requirement in requirements:
    match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*>=\s*([^,;\s]+)(,<[^;\s]+)?",
                         requirement)
    if match is None:
        sys.exit(f"{requirement!r}: give every dependency a floor (name>=version)")
    name = re.sub(r"[-_.]+", "-", match[1]).lower()
    version = match[3]
    pins.setdefault(name, set()).add(version)
for name, versions in sorted(pins.items()):
    if len(versions) > 1:  # two extras disagree: the floor is the higher one
        versions = {max(versions, key=lambda v: tuple(int(p) for p in v.split(".")))}
    print(f"{name}=={versions.pop()}")
