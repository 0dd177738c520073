"""The audit of the service's database shows, per state and per pattern, how often agents called the
reading wrong (HTML and JSON); the counting itself against hand-counted turns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from empathy_engine.audit.feedback_rates import tally
from empathy_engine.cli import app as cli
from tests.service.helpers import utterance

URL = "/v1/calls/{call}/turns/{turn}/feedback"
HEATING = "The heating is out again."  # an urgency card
FURIOUS = "This is the third time I call, nobody showed up and I am furious."  # frustration; two patterns


def _ended_call(client: TestClient, call_id: str, *customer: str) -> list[dict[str, Any]]:
    """A call of agent a-1 (customer turns at 0, 2, ...): the insight frames of its customer turns."""
    frames = []
    with client.websocket_connect(f"/v1/calls/{call_id}/stream") as ws:
        ws.send_json({"type": "start", "call": {"agent": {"id": "a-1"}}})
        ws.receive_json()
        for text in customer:
            ws.send_json(utterance("customer", text))
            frames.append(ws.receive_json())
            ws.send_json(utterance("agent", "Let me check that for you."))
            ws.receive_json()
        ws.send_json({"type": "end"})
        ws.receive_json()
    return frames


def test_feedback_audit_shows_called_wrong_by_state_and_pattern(
    make_client: Any, sqlite_url: str, tmp_path: Path
) -> None:
    client = make_client(sqlite_url)
    shown = []
    for call_id in ("au-1", "au-2", "au-3"):
        shown += [f["cues"][0]["state"] for f in _ended_call(client, call_id, HEATING, FURIOUS)]
    assert shown == ["urgency", "frustration"] * 3, "the test needs these cards"
    for call, turn, kind in (("au-1", 2, "wrong_read"), ("au-2", 2, "wrong_read"), ("au-3", 0, "helpful")):
        assert client.post(URL.format(call=call, turn=turn), json={"kind": kind}).status_code == 201
    report, out = tmp_path / "audit.html", tmp_path / "audit.json"
    result = CliRunner().invoke(cli, ["audit", "--database", sqlite_url, "--report", str(report), "--json", str(out)])
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text(encoding="utf-8"))["summary"]["feedback"]
    assert (figures["cards"], figures["wrong_read"], figures["helpful"]) == (6, 2, 1)
    by_state = {r["state"]: (r["cards"], r["wrong_read"], r["helpful"]) for r in figures["by_state"]}
    assert by_state == {"frustration": (3, 2, 0), "urgency": (3, 0, 1)}
    frustration = figures["by_state"][0]  # the most called wrong first
    assert frustration["state"] == "frustration" and frustration["rate"]["value"] == round(2 / 3, 4)
    assert frustration["rate"]["lo"] < 2 / 3 < frustration["rate"]["hi"]
    by_pattern = {r["pattern"]: (r["cards"], r["wrong_read"]) for r in figures["by_pattern"]}
    assert by_pattern == {"nobody showed": (3, 2), "third time": (3, 2)}
    html = report.read_text(encoding="utf-8")
    assert 'id="feedback"' in html and "Readings agents called wrong" in html and "66.7%" in html


def test_feedback_audit_of_files_has_no_such_section(tmp_path: Path) -> None:
    conversation = tmp_path / "call.json"
    conversation.write_text(json.dumps({"id": "f-1", "turns": [{"speaker": "customer", "text": HEATING}]}))
    out = tmp_path / "audit.json"
    result = CliRunner().invoke(cli, ["audit", str(conversation), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "feedback" not in json.loads(out.read_text(encoding="utf-8"))["summary"]


def test_feedback_tally_counts_each_turn_once_per_state_and_pattern() -> None:
    def result(state: str, *patterns: str) -> dict[str, Any]:
        evidence = [{"state": state, "quote": p, "source": "pattern"} for p in patterns]
        return {
            "cues": [{"id": f"{state}/x", "state": state}],
            "evidence": [*evidence, {"quote": "x", "source": "text"}],
        }

    turns = [
        ("c1", 1, result("worry", "Again", "nobody came")),
        ("c1", 3, result("worry")),
        ("c2", 1, result("distrust", "again")),
    ]
    marks = {"wrong_read": {("c1", 1), ("c2", 1)}, "helpful": {("c1", 3)}}
    figures = tally(iter(turns), marks)
    assert (figures["cards"], figures["wrong_read"], figures["helpful"]) == (3, 2, 1)
    assert [(r["state"], r["cards"], r["wrong_read"], r["helpful"]) for r in figures["by_state"]] == [
        ("worry", 2, 1, 1),  # as many called wrong: the state with more cards first
        ("distrust", 1, 1, 0),
    ]
    assert [(r["pattern"], r["cards"], r["wrong_read"]) for r in figures["by_pattern"]] == [
        ("again", 2, 2),
        ("nobody came", 1, 1),
    ]
