"""One version everywhere: the package metadata, `empathy --version`, the API and CHANGELOG.md's
latest release."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from empathy_engine import __version__
from empathy_engine.cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_version_is_the_same_in_pyproject_the_cli_and_the_changelog() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert declared == __version__
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"empathy-engine {declared}"
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert releases and releases[0] == declared, "CHANGELOG.md's latest release is not the package's version"
    assert re.fullmatch(r"\d+\.\d+\.\d+", declared)  # semantic versioning: MAJOR.MINOR.PATCH
