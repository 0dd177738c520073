"""WS /v1/calls/{id}/stream: the protocol, streaming = batch, and bad input that changes nothing."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from empathy_engine.pipeline import Engine
from empathy_engine.privacy import CallRedaction
from tests.service.helpers import batch_result, comparable, demo_conversation, header, turn_result, utterance

CALL = "/v1/calls/{}/stream"


def ask(ws: Any, event: dict[str, Any] | str) -> dict[str, Any]:
    ws.send_text(event if isinstance(event, str) else json.dumps(event))
    return ws.receive_json()  # type: ignore[no-any-return]


def test_stream_call_gives_the_batch_results_and_stores_them(any_client: TestClient, engine: Engine) -> None:
    conversation = demo_conversation("holiday_furnace")
    insights = []
    with any_client.websocket_connect(CALL.format("furnace-1")) as ws:
        started = ask(ws, {"type": "start", "call": header(conversation)})
        assert started["type"] == "started" and started["next_turn"] == 0
        assert started["call"]["customer"]["name"] == "[NAME]"  # PII: masked before it is stored or shown
        for i, turn in enumerate(conversation["turns"]):
            frame = ask(ws, utterance(turn["speaker"], turn["text"], t=turn["t"], turn=i))
            assert frame["type"] == "insight" and frame["turn"] == i and frame["provisional"] is False
            assert 0 < frame["latency_ms"] < 5000
            insights.append(turn_result(frame))
        ended = ask(ws, {"type": "end"})
    batch = batch_result(engine, conversation, "furnace-1")
    assert [comparable(r) for r in insights] == [comparable(r) for r in batch["turns"]]
    assert ended["type"] == "ended" and ended["turns"] == len(insights)
    assert ended["summary"] == batch["summary"]

    stored = any_client.get("/v1/calls/furnace-1").json()
    assert stored["status"] == "ended" and stored["summary"] == batch["summary"]
    masked = CallRedaction()  # stored as the redactor read each turn (the agent's "this is Sam" -> [NAME])
    expected = [masked.turn(t["speaker"], t["text"])[0] for t in conversation["turns"]]
    assert [t["text"] for t in stored["turns"]] == expected
    assert [t["result"] for t in stored["turns"]] == insights


def test_stream_customer_insight_has_the_analyze_fields(client: TestClient) -> None:
    with client.websocket_connect(CALL.format("c1")) as ws:
        ask(ws, {"type": "start", "call": {"service": "hvac"}})
        frame = ask(ws, utterance("customer", "This is the third time I'm calling and nobody showed up!", t=3.5))
        agent = ask(ws, utterance("agent", "I'm so sorry, that should never have happened."))
    assert {"index", "speaker", "states", "detected", "primary", "intensity", "evidence", "latency_ms"} <= set(frame)
    assert frame["speaker"] == "customer" and frame["t"] == 3.5 and "frustration" in frame["detected"]
    assert agent["speaker"] == "agent" and "apologize" in agent["behaviours"] and agent["missed_cue"] is False


def test_stream_bad_input_gets_error_frames_and_the_call_stays_up(client: TestClient) -> None:
    with client.websocket_connect(CALL.format("c1")) as ws:
        ask(ws, {"type": "start"})
        cases = {
            "{not json": "invalid_json",
            "[1, 2]": "invalid_event",
            '{"no": "type"}': "invalid_event",
            '{"type": "shout"}': "unknown_event",
            json.dumps(utterance("robot", "beep")): "invalid_event",
            json.dumps(utterance("customer", "")): "invalid_event",
            json.dumps({"type": "utterance", "speaker": "customer"}): "invalid_event",
            json.dumps(utterance("customer", "hi", t=-1)): "invalid_event",
        }
        for frame, code in cases.items():
            reply = ask(ws, frame)
            assert reply["type"] == "error" and reply["code"] == code, (frame, reply)
            assert reply["message"]
        assert "speaker" in ask(ws, json.dumps(utterance("robot", "beep")))["message"]
        ws.send_bytes(b"\x00\x01")
        assert ws.receive_json()["code"] == "binary_not_supported"
        ok = ask(ws, utterance("customer", "ok so when can someone come?"))
        assert ok["type"] == "insight" and ok["turn"] == 0
    assert client.get("/v1/calls/c1").json()["turn_count"] == 1


def test_stream_oversized_frames_and_texts_are_refused(make_client: Any, sqlite_url: str) -> None:
    client = make_client(sqlite_url, max_event_bytes=4096)
    with client.websocket_connect(CALL.format("c1")) as ws:
        ask(ws, {"type": "start"})
        big = ask(ws, utterance("customer", "x" * 5000))
        assert big["code"] == "frame_too_large" and "at most 4096 bytes" in big["message"]
    client = make_client(sqlite_url.replace("empathy.db", "other.db"))
    with client.websocket_connect(CALL.format("c2")) as ws:
        ask(ws, {"type": "start"})
        long = ask(ws, utterance("customer", "word " * 5000))
        assert long["code"] == "invalid_event" and "at most 20000" in long["message"]
        assert ask(ws, utterance("customer", "still here"))["type"] == "insight"
    assert client.get("/v1/calls/c2").json()["turn_count"] == 1


def test_stream_unknown_calls_and_bad_ids_get_clear_errors(client: TestClient) -> None:
    with client.websocket_connect(CALL.format("nobody")) as ws:
        assert ask(ws, utterance("customer", "hello?"))["code"] == "unknown_call"
        assert ask(ws, {"type": "resume"})["code"] == "unknown_call"
        assert ask(ws, {"type": "end"})["code"] == "unknown_call"
    with client.websocket_connect(CALL.format("bad%20id")) as ws:
        assert ws.receive_json()["code"] == "invalid_call_id"
    with client.websocket_connect(CALL.format("c1")) as ws:
        mismatch = ask(ws, {"type": "start", "call": {"id": "other"}})
        assert mismatch["code"] == "id_mismatch"
    assert client.get("/v1/calls/nobody").status_code == 404
    assert client.get("/v1/calls").json()["total"] == 0


def test_stream_second_start_and_events_after_end_store_nothing(client: TestClient) -> None:
    with client.websocket_connect(CALL.format("c1")) as ws:
        ask(ws, {"type": "start", "call": {"service": "hvac"}})
        assert ask(ws, {"type": "start"})["code"] == "already_started"
        ask(ws, utterance("customer", "my basement is flooding"))
    with client.websocket_connect(CALL.format("c1")) as ws:
        again = ask(ws, {"type": "start", "call": {"service": "plumbing"}})
        assert again["code"] == "already_started" and "resume" in again["message"]
        assert ask(ws, utterance("customer", "hello?"))["code"] == "not_started"
        assert ask(ws, {"type": "resume"})["next_turn"] == 1
        assert ask(ws, {"type": "end"})["type"] == "ended"
        assert ask(ws, utterance("customer", "one more thing"))["code"] == "call_ended"
        assert ask(ws, {"type": "end"})["code"] == "call_ended"
    with client.websocket_connect(CALL.format("c1")) as ws:
        assert ask(ws, {"type": "start"})["code"] == "call_ended"
        assert ask(ws, {"type": "resume"})["code"] == "call_ended"
    stored = client.get("/v1/calls/c1").json()
    assert stored["header"]["service"] == "hvac" and stored["turn_count"] == 1 and len(stored["turns"]) == 1


def test_stream_partial_utterance_gets_a_provisional_insight_that_changes_nothing(client: TestClient) -> None:
    with client.websocket_connect(CALL.format("c1")) as ws:
        ask(ws, {"type": "start"})
        partial = ask(ws, utterance("customer", "this is the third time I", final=False))
        assert partial["type"] == "insight" and partial["provisional"] is True and partial["turn"] == 0
        assert "states" in partial
        final = ask(ws, utterance("customer", "this is the third time I'm calling!"))
        assert final["turn"] == 0 and final["provisional"] is False
    with client.websocket_connect(CALL.format("c2")) as ws:
        ask(ws, {"type": "start"})
        alone = ask(ws, utterance("customer", "this is the third time I'm calling!"))
    assert turn_result(final) == turn_result(alone)  # the partial left no trace in the session
    assert client.get("/v1/calls/c1").json()["turn_count"] == 1


def test_stream_resent_turns_are_answered_from_storage_not_stored_twice(client: TestClient) -> None:
    with client.websocket_connect(CALL.format("c1")) as ws:
        ask(ws, {"type": "start"})
        first = ask(ws, utterance("customer", "nobody showed up last time", turn=0))
        again = ask(ws, utterance("customer", "nobody showed up last time", turn=0))
        assert again["duplicate"] is True and turn_result(again) == turn_result(first)
        assert ask(ws, utterance("customer", "something else", turn=0))["code"] == "turn_conflict"
        assert ask(ws, utterance("customer", "from the future", turn=5))["code"] == "turn_gap"
        assert ask(ws, utterance("agent", "I'm sorry about that.", turn=1))["turn"] == 1
    assert client.get("/v1/calls/c1").json()["turn_count"] == 2


def test_stream_resume_on_a_new_connection_continues_the_same_state(client: TestClient, engine: Engine) -> None:
    conversation = demo_conversation("cost_worry")
    turns = conversation["turns"]
    got = []
    with client.websocket_connect(CALL.format("c1")) as ws:
        ask(ws, {"type": "start", "call": header(conversation)})
        got += [ask(ws, utterance(t["speaker"], t["text"], t=t["t"])) for t in turns[:3]]
    with client.websocket_connect(CALL.format("c1")) as ws:
        assert ask(ws, {"type": "resume"})["next_turn"] == 3
        got += [ask(ws, utterance(t["speaker"], t["text"], t=t["t"])) for t in turns[3:]]
        summary = ask(ws, {"type": "end"})["summary"]
    batch = batch_result(engine, conversation, "c1")
    assert [comparable(turn_result(g)) for g in got] == [comparable(t) for t in batch["turns"]]
    assert summary == batch["summary"]


def test_stream_resume_takes_over_from_a_stale_connection(client: TestClient) -> None:
    with client.websocket_connect(CALL.format("c1")) as old:
        ask(old, {"type": "start"})
        ask(old, utterance("customer", "hello"))
        with client.websocket_connect(CALL.format("c1")) as new:
            assert ask(new, {"type": "resume"})["next_turn"] == 1
            assert ask(old, utterance("customer", "am I still here?"))["code"] == "taken_over"
            assert ask(new, utterance("customer", "yes"))["turn"] == 1


def test_stream_crm_customer_becomes_call_context(client: TestClient) -> None:
    customer = {
        "id": "c-7",
        "name": "Dana Reyes",
        "notes": ["worries about her elderly mother"],
        "prior_contacts": [{"at": "2025-12-20T10:00:00", "issue": "no heat", "outcome": "tech no-show"}],
    }
    assert client.post("/v1/customers", json=customer).status_code == 201
    text = "Hi, the furnace stopped working and it's getting cold in here."
    start = {"type": "start", "call": {"service": "hvac", "started_at": "2025-12-22T09:00:00-05:00"}}
    with client.websocket_connect(CALL.format("known")) as ws:
        started = ask(ws, {**start, "call": {**start["call"], "customer": {"id": "c-7"}}})
        known = ask(ws, utterance("customer", text))
    with client.websocket_connect(CALL.format("stranger")) as ws:
        ask(ws, start)
        stranger = ask(ws, utterance("customer", text))
    assert started["call"]["customer"]["name"] == "[NAME]"
    assert started["call"]["customer"]["prior_contacts"][0]["outcome"] == "tech no-show"
    # The unresolved no-show in the CRM raises distrust and frustration, as it would in the header.
    assert known["states"]["distrust"] > stranger["states"]["distrust"]
    assert known["states"]["frustration"] > stranger["states"]["frustration"]
    # The header the engine used is stored, so a restart rebuilds the same session.
    assert client.get("/v1/calls/known").json()["header"]["customer"]["notes"] == customer["notes"]


def test_stream_nothing_is_acknowledged_unless_stored(client: TestClient, monkeypatch: Any) -> None:
    from empathy_engine.store import calls as store

    real = store.append_turn

    def failing(tenant_id: str, call_id: str, turn: Any) -> Any:
        def job(connection: Any) -> bool:
            raise OSError("disk full")

        return job

    with client.websocket_connect(CALL.format("c1")) as ws:
        ask(ws, {"type": "start"})
        first = ask(ws, utterance("customer", "Nobody showed up last time!"))
        monkeypatch.setattr(store, "append_turn", failing)
        refused = ask(ws, utterance("customer", "And now the basement is flooding."))
        assert (
            refused["type"] == "error" and refused["code"] == "storage_failed" and "send it again" in refused["message"]
        )
        monkeypatch.setattr(store, "append_turn", real)
        again = ask(ws, utterance("customer", "And now the basement is flooding."))
    with client.websocket_connect(CALL.format("c2")) as ws:
        ask(ws, {"type": "start"})
        ask(ws, utterance("customer", "Nobody showed up last time!"))
        clean = ask(ws, utterance("customer", "And now the basement is flooding."))
    assert first["turn"] == 0 and again["turn"] == 1  # the refused one left no trace, in the DB or the session
    assert turn_result(again) == turn_result(clean)
    assert [t["text"] for t in client.get("/v1/calls/c1").json()["turns"]] == [
        "Nobody showed up last time!",
        "And now the basement is flooding.",
    ]
