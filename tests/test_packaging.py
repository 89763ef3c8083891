"""What `pip install "assistant-stream-ce[...]"` gives: the `[all]` extra stays complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]


def test_the_all_extra_names_every_user_facing_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    user_facing = set(extras) - {"dev", "all"}
    (requirement,) = extras["all"]
    match = re.fullmatch(rf"{re.escape(project['name'])}\[([a-z,]+)\]", requirement)
    assert match, requirement
    assert set(match.group(1).split(",")) == user_facing


def test_the_readme_lists_every_extra() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in extras if name != "dev" and f"`[{name}]`" not in readme]
    assert not missing, f"README.md does not mention the extras {missing}"
