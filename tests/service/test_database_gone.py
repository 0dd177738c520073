"""A SQLite file deleted under a running server: nothing more is acknowledged (it would be lost)."""

from __future__ import annotations

from pathlib import Path

from tests.service.conftest import ClientFactory
from tests.service.helpers import utterance


def test_database_gone_no_turn_is_acknowledged_after_the_file_is_deleted(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    path = tmp_path / "empathy.db"
    client = make_client(f"sqlite:///{path}")
    with client.websocket_connect("/v1/calls/gone-1/stream") as ws:
        ws.send_json({"type": "start"})
        assert ws.receive_json()["type"] == "started"
        ws.send_json(utterance("customer", "The furnace is out.", t=1.0))
        assert ws.receive_json()["type"] == "insight"
        path.unlink()
        ws.send_json(utterance("customer", "Are you still there?", t=2.0))
        refused = ws.receive_json()
    assert refused["type"] == "error" and refused["code"] == "storage_failed"
    health = client.get("/v1/health")
    assert health.status_code == 503 and health.json()["database"] == "missing"
