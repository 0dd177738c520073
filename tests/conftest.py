from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from empathy_engine.pipeline import Engine

REPO = Path(__file__).resolve().parents[1]

# Every server a test starts holds this admin key (tests/service/auth.py), and the stream client
# (and `empathy serve` children) send it: the suite authenticates like a real integration.
# TestClient calls itself "testserver": allowed beside the loopback names real servers use.
from tests.service.auth import TEST_ADMIN_KEY, TEST_HOSTS  # noqa: E402

os.environ.setdefault("EMPATHY_API_KEY", TEST_ADMIN_KEY)
os.environ.setdefault("EMPATHY_ALLOWED_HOSTS", TEST_HOSTS)
# Whisper's base model is joined into a cache on first use: the suite's own, not the user's.
os.environ.setdefault("EMPATHY_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"empathy-test-cache-{os.getuid()}"))
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine()


def conversation(*turns: tuple[str, str], **header: Any) -> dict[str, Any]:
    """A conversation v1 object from (speaker, text) pairs."""
    return {
        "id": header.pop("id", "call-1"),
        **header,
        "turns": [{"speaker": s, "text": t, "t": 5.0 * i} for i, (s, t) in enumerate(turns)],
    }


def write_jsonl(path: Path, objects: list[Any]) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objects))
    return path


#: How to run what a plain `make test` skips (each skip's own reason names its switch too).
RUN_IT_ALL = ".ci/run runs everything: it starts PostgreSQL, uses /usr/bin/chromium and sets EMPATHY_TEST_INSTALL=1"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """At the very end: what was skipped and why (grouped), and how to run it all."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons: dict[str, int] = {}
    for report in skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    write = terminalreporter.write_line
    terminalreporter.section(f"{len(skipped)} skipped", sep="-")
    for reason, count in sorted(reasons.items(), key=lambda r: -r[1]):
        write(f"{count:4d}  {reason}")
    write(f"to run them all: {RUN_IT_ALL}")
