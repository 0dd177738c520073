"""`empathy feedback export`: the "wrong read" turns as JSONL for annotation, in the documented shape,
filtered by --since, redacted, and read back by the training side once annotated."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from empathy_engine.cli import app as cli
from empathy_engine.store.db import open_database
from empathy_engine.store.models import FeedbackRow
from tests.service.helpers import utterance
from training.real.feedback_queue import read_annotated

URL = "/v1/calls/{call}/turns/{turn}/feedback"


def _call(client: TestClient, call_id: str, customer: str) -> None:
    with client.websocket_connect(f"/v1/calls/{call_id}/stream") as ws:
        ws.send_json({"type": "start", "call": {"agent": {"id": "a-1"}}})
        ws.receive_json()
        for speaker, text in (
            ("agent", "Hello, you are through to Dana, my email is dana.r@example.com."),
            ("customer", customer),
        ):
            ws.send_json(utterance(speaker, text))
            ws.receive_json()
        ws.send_json({"type": "end"})
        ws.receive_json()


def _export(url: str, out: Path, *more: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["feedback", "export", "--database", url, "-o", str(out), *more])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_feedback_export_writes_the_wrong_reads_in_the_documented_shape(
    make_client: Any, sqlite_url: str, tmp_path: Path
) -> None:
    client = make_client(sqlite_url)
    _call(client, "q-1", "The heating is out again, call me back on 415 555 0199.")
    _call(client, "q-2", "This is the third time I call, nobody showed up and I am furious.")
    assert (
        client.post(URL.format(call="q-1", turn=1), json={"kind": "wrong_read", "note": "just asking"}).status_code
        == 201
    )
    assert client.post(URL.format(call="q-2", turn=1), json={"kind": "helpful"}).status_code == 201

    lines = _export(sqlite_url, tmp_path / "queue.jsonl")
    assert len(lines) == 1  # helpful feedback is no review
    line = lines[0]
    assert set(line) == {
        "id",
        "source",
        "dialogue",
        "turn",
        "speaker",
        "text",
        "agent_before",
        "engine",
        "card",
        "feedback",
        "labels",
    }
    assert (line["id"], line["source"], line["dialogue"], line["turn"]) == ("feedback|q-1|1", "feedback", "q-1", 1)
    assert line["text"].startswith("The heating is out again") and "0199" not in line["text"]
    assert line["agent_before"].startswith("Hello") and "dana.r@example.com" not in line["agent_before"]
    assert line["engine"]["detected"] and line["engine"]["primary"] in line["engine"]["states"]
    assert line["card"] == {"id": "urgency/acknowledge", "state": "urgency"}
    assert line["feedback"]["wrong_read"] == 1 and line["feedback"]["notes"] == ["just asking"]
    assert line["feedback"]["agents"] == ["a-1"] and line["labels"] is None

    # --since leaves out what came before it
    db = open_database(sqlite_url)
    with db.begin() as connection:
        connection.execute(update(FeedbackRow).values(created_at=datetime.now(UTC) - timedelta(days=3)))
    db.dispose()
    assert (
        _export(
            sqlite_url, tmp_path / "recent.jsonl", "--since", (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
        )
        == []
    )
    assert len(_export(sqlite_url, tmp_path / "all.jsonl", "--since", "2020-01-01")) == 1


def test_feedback_export_annotated_lines_are_training_turns(tmp_path: Path) -> None:
    base = {"source": "feedback", "dialogue": "q-1", "turn": 1, "speaker": "customer", "agent_before": "Hello"}
    lines = [
        {
            **base,
            "id": "feedback|q-1|1",
            "text": "fine, whatever",
            "engine": {"detected": ["satisfaction"]},
            "labels": ["dejection"],
        },
        {**base, "id": "feedback|q-1|3", "turn": 3, "text": "ok", "engine": {"detected": []}, "labels": None},
    ]
    path = tmp_path / "annotated.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    turns, waiting = read_annotated(path)
    assert waiting == 1 and [(t.id, t.text, t.previous, t.labels, t.engine_read) for t in turns] == [
        ("feedback|q-1|1", "fine, whatever", "Hello", ("dejection",), ("satisfaction",))
    ]
    assert turns[0].split in ("train", "dev")
    path.write_text(json.dumps({**lines[0], "labels": ["grumpy"]}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"annotated.jsonl:1: labels \['grumpy'\]; use one or more of"):
        read_annotated(path)


def test_feedback_export_bad_since_is_a_clear_error(sqlite_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["feedback", "export", "--database", sqlite_url, "--since", "last tuesday"])
    assert result.exit_code == 2 and "--since 'last tuesday' is not a date or time" in result.output
    assert "Traceback" not in result.output
