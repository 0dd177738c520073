"""espeak-ng, which speaks the tests' telephone audio: its path, or the test skipped (failed in CI,
where .ci/run installs it)."""

from __future__ import annotations

import os
import shutil

import pytest


def espeak_ng() -> str:
    found = shutil.which("espeak-ng")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("espeak-ng is not installed: apt-get install espeak-ng (.ci/run does)")
        pytest.skip("espeak-ng is not installed")
    return found
