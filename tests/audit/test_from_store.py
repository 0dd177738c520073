"""`empathy audit --database`: the service's stored calls, audited by the same pipeline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from empathy_engine.pipeline import Engine
from empathy_engine.service.app import create_app
from empathy_engine.service.settings import Settings
from tests.service.helpers import demo_conversation, header


def test_audit_reads_the_service_database(tmp_path: Path, engine: Engine) -> None:
    url = f"sqlite:///{tmp_path / 'service.db'}"
    conversation = demo_conversation("cost_worry")
    with TestClient(create_app(Settings(database_url=url), engine=engine)) as client:
        with client.websocket_connect("/v1/calls/stored-1/stream") as ws:
            ws.send_text(json.dumps({"type": "start", "call": header(conversation)}))
            ws.receive_json()
            for turn in conversation["turns"]:
                ws.send_text(json.dumps({"type": "utterance", "speaker": turn["speaker"], "text": turn["text"]}))
                ws.receive_json()
            ws.send_text(json.dumps({"type": "end"}))
            ws.receive_json()
        with client.websocket_connect("/v1/calls/still-live/stream") as ws:  # not ended: not audited
            ws.send_text(json.dumps({"type": "start", "call": {}}))
            ws.receive_json()
    out = tmp_path / "audit.json"
    run = subprocess.run(
        [sys.executable, "-m", "empathy_engine", "audit", "--database", url, "--json", str(out), "--workers", "1"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert run.returncode == 0, run.stderr
    audited = json.loads(out.read_text())
    assert [c["id"] for c in audited["calls"]] == ["stored-1"]


def test_audit_bad_database_is_a_usage_error(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "empathy_engine", "audit", "--database", "nosuchdb://x"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr and "database" in run.stderr
