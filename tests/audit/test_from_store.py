"""`empathy audit --database`: the service's stored calls, audited by the same pipeline."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from empathy_engine.audit.mapper import audit_call
from empathy_engine.audit.runner import Payload, _load_engine
from empathy_engine.audit.sources import StoredCall, from_store
from empathy_engine.ingest.conversation import call_from_header
from empathy_engine.pipeline import Engine
from empathy_engine.service import telephony
from empathy_engine.service.app import create_app
from empathy_engine.service.settings import Settings
from tests.replay import CALL_SID, SCRIPT, twilio_messages, two_channel_call
from tests.service.auth import admin_client
from tests.service.helpers import demo_conversation, header
from tests.service.scripted_serve import LengthRecogniser
from tests.service.signing import signed_settings, twilio_headers


def test_audit_reads_the_service_database(tmp_path: Path, engine: Engine) -> None:
    url = f"sqlite:///{tmp_path / 'service.db'}"
    conversation = demo_conversation("cost_worry")
    with admin_client(create_app(Settings(database_url=url), engine=engine)) as client:
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


BOXING_DAY = "2025-12-26T07:40:00-05:00"  # a public holiday in GB, not in the US
PLAYBOOK = (
    "states:\n"
    "  urgency:\n"
    "    priority: 1\n"
    "    steps:\n"
    "      - id: right_now\n"
    "        do: Say we are on our way\n"
    "        expects: [urgency_ack]\n"
    '        say: ["Summit Heating is on it, {name} - a van leaves in ten minutes."]\n'
)


def _stored(client: TestClient, call_id: str) -> dict:
    deadline = time.monotonic() + 120
    while (call := client.get(f"/v1/calls/{call_id}").json()).get("status") != "ended":
        assert time.monotonic() < deadline, call
        time.sleep(0.1)
    return call


def _live_result(call: dict) -> dict:
    """The live call as `empathy analyze` would write it: the stored turn results, summary and
    hand-over, each card's `followed` filled in from the next agent turn (live, it is not known yet)."""
    turns = [copy.deepcopy(t["result"]) for t in call["turns"]]
    for turn, after in zip(turns, turns[1:], strict=False):
        if (follow := after.get("follow_through")) is not None:
            for card in turn.get("cues", []):
                if card["id"] == follow["card"]:
                    card["followed"] = follow["followed"]
    return {"id": call["id"], "turns": turns, "summary": call["summary"], **call["extra"]}


def test_audit_of_stored_calls_equals_the_live_results_with_the_servers_settings_and_voice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'service.db'}"
    playbook = tmp_path / "ours.yaml"
    playbook.write_text(PLAYBOOK)
    monkeypatch.setattr(telephony, "recogniser", LengthRecogniser)
    conversation = {**demo_conversation("holiday_furnace"), "started_at": BOXING_DAY}
    settings = Settings(database_url=url, playbook=playbook, holiday_country="GB", **signed_settings())
    with admin_client(create_app(settings)) as client:  # the app builds its engine from the settings
        with client.websocket_connect("/v1/calls/chat-1/stream") as ws:
            ws.send_text(json.dumps({"type": "start", "call": header(conversation)}))
            ws.receive_json()
            for turn in conversation["turns"]:
                ws.send_text(json.dumps({"type": "utterance", **turn}))
                ws.receive_json()
            ws.send_text(json.dumps({"type": "end"}))
            ws.receive_json()
        parameters = {"customer_id": "c-7", "service": "hvac", "started_at": BOXING_DAY}
        with client.websocket_connect("/v1/telephony/twilio", headers=twilio_headers()) as ws:
            for frame in twilio_messages(two_channel_call(SCRIPT), parameters):
                ws.send_text(frame)
            voice_call = _stored(client, CALL_SID)
        chat_call = _stored(client, "chat-1")
    assert any("voice" in t["result"] for t in voice_call["turns"])
    cards = [c for t in chat_call["turns"] for c in t["result"].get("cues", [])]
    assert any(c["id"] == "urgency/right_now" for c in cards)  # the server's playbook coached the call

    out = tmp_path / "audit.json"
    env = {k: v for k, v in os.environ.items() if k != "EMPATHY_PLAYBOOK"}
    run = subprocess.run(
        [sys.executable, "-m", "empathy_engine", "audit", "--database", url, "--json", str(out), "--workers", "1"],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )
    assert run.returncode == 0, run.stderr
    audited = {c["id"]: c for c in json.loads(out.read_text())["calls"]}
    for call in (chat_call, voice_call):
        start = call_from_header(call["id"], call["header"])
        texts = [t["text"] for t in call["turns"]]
        expected = audit_call(start, texts, _live_result(call), f"database call {call['id']}")
        assert audited[call["id"]] == json.loads(json.dumps(expected.to_dict()))

    # The same replay in-process, turn by turn: the audit's engine gives exactly the live results.
    for item in from_store(url, "default"):
        assert isinstance(item, StoredCall)
        call = {CALL_SID: voice_call, "chat-1": chat_call}[item.loaded.conversation.id]
        replayed = Payload.of(item)
        result = _load_engine(replayed.engine).analyze(replayed.events, replayed.voices).to_dict()
        assert result == _live_result(call)
