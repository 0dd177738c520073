from __future__ import annotations

import json
import os
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
