"""Limits that keep one client from stalling or swelling the service (issue 12, "Hardening"):
long texts, idle and too many live calls, customers' notes, oversized CSV fields."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi.testclient import TestClient

from empathy_engine.pipeline import Engine
from empathy_engine.store import customers as store
from empathy_engine.store.db import open_database
from tests.service.conftest import ClientFactory
from tests.service.helpers import batch_result, comparable, turn_result, utterance

CALL = "/v1/calls/{}/stream"


def ask(ws: Any, event: dict[str, Any]) -> dict[str, Any]:
    ws.send_text(json.dumps(event))
    return ws.receive_json()  # type: ignore[no-any-return]


def long_text(chars: int) -> str:
    sentence = "The heat is out again and nobody came last time, I am so frustrated with all of this. "
    return (sentence * (chars // len(sentence) + 1))[:chars]


def test_a_20000_character_text_is_refused_at_once_and_the_longest_allowed_is_read_as_in_batch(
    client: TestClient, engine: Engine
) -> None:
    longest = client.app.state.settings.max_utterance_chars  # type: ignore[attr-defined]
    with client.websocket_connect(CALL.format("long-1")) as ws:
        ask(ws, {"type": "start", "call": {"service": "hvac"}})
        t0 = time.perf_counter()
        refused = ask(ws, utterance("customer", long_text(20_000), t=1.0))
        refused_s = time.perf_counter() - t0
        assert refused["type"] == "error" and refused["code"] == "utterance_too_long"
        assert "20000 characters" in refused["message"] and "EMPATHY_MAX_UTTERANCE_CHARS" in refused["message"]
        assert refused_s < 1.0  # refused before the engine reads a word of it
        # The longest text allowed is read in the engine thread, with the same result as in batch.
        frames = [ask(ws, utterance("customer", long_text(longest), t=2.0, turn=0))]
        frames.append(ask(ws, utterance("agent", "I am so sorry, let me get someone out today.", t=3.0, turn=1)))
        provisional = ask(ws, utterance("customer", long_text(longest - 1), t=4.0, final=False))
        assert provisional["type"] == "insight" and provisional["provisional"] is True
        ask(ws, {"type": "end"})
    assert [f["type"] for f in frames] == ["insight", "insight"]
    conversation = {
        "service": "hvac",
        "turns": [
            {"speaker": "customer", "text": long_text(longest), "t": 2.0},
            {"speaker": "agent", "text": "I am so sorry, let me get someone out today.", "t": 3.0},
        ],
    }
    batch = batch_result(engine, conversation, "long-1")
    assert [comparable(turn_result(f)) for f in frames] == [comparable(r) for r in batch["turns"]]
    stored = client.get("/v1/calls/long-1").json()
    assert [len(t["text"]) for t in stored["turns"]] == [longest, 44]  # the refused one was not stored


def start_calls(client: TestClient, ids: list[str]) -> list[dict[str, Any]]:
    replies = []
    for call_id in ids:
        with client.websocket_connect(CALL.format(call_id)) as ws:
            replies.append(ask(ws, {"type": "start", "call": {"service": "hvac"}}))
    return replies


def wait_until(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_never_ended_calls_expire_as_abandoned_and_so_do_calls_restored_after_a_restart(
    make_client: ClientFactory, sqlite_url: str
) -> None:
    # 20,000 calls and 30 minutes in the attack; scaled down here to 200 calls and 0.6 s.
    first = make_client(sqlite_url, idle_call_minutes=60)
    ids = [f"idle-{i}" for i in range(200)]
    assert {r["type"] for r in start_calls(first, ids)} == {"started"}
    with first.websocket_connect(CALL.format("idle-0")) as ws:  # one with a turn, resumed and left
        ask(ws, {"type": "resume"})
        ask(ws, utterance("customer", "the heat is out again", t=1.0))
    first.__exit__(None, None, None)  # a restart: every call is restored as live

    second = make_client(sqlite_url, idle_call_minutes=0.01)
    live = second.app.state.services.live  # type: ignore[attr-defined]
    assert len(live.calls) == 200
    wait_until(lambda: not live.calls)
    assert live.live_count("default") == 0
    page = second.get("/v1/calls", params={"status": "ended", "limit": 500}).json()
    assert page["total"] == 200 and second.get("/v1/calls", params={"status": "live"}).json()["total"] == 0
    call = second.get("/v1/calls/idle-0").json()
    assert call["status"] == "ended" and call["summary"] is not None and call["turn_count"] == 1
    assert call["extra"]["abandoned"]["reason"] == "idle"
    assert "EMPATHY_IDLE_CALL_MINUTES" in call["extra"]["abandoned"]["message"]
    with second.websocket_connect(CALL.format("idle-1")) as ws:  # the stream comes back too late
        assert ask(ws, {"type": "resume"})["code"] == "call_ended"


def test_a_quiet_connected_call_expires_too_and_its_stream_is_told_on_the_next_event(
    make_client: ClientFactory, sqlite_url: str
) -> None:
    client = make_client(sqlite_url, idle_call_minutes=0.01)
    with client.websocket_connect(CALL.format("quiet-1")) as ws:
        ask(ws, {"type": "start", "call": {"service": "hvac"}})
        live = client.app.state.services.live  # type: ignore[attr-defined]
        wait_until(lambda: live.get("default", "quiet-1") is None)
        late = ask(ws, utterance("customer", "hello? are you still there?"))
    assert late["type"] == "error" and late["code"] == "call_ended"
    assert client.get("/v1/calls/quiet-1").json()["extra"]["abandoned"]["reason"] == "idle"


def test_live_calls_per_tenant_are_capped_with_a_clear_refusal(make_client: ClientFactory, sqlite_url: str) -> None:
    client = make_client(sqlite_url, max_live_calls=3)
    assert [r["type"] for r in start_calls(client, ["cap-1", "cap-2", "cap-3"])] == ["started"] * 3
    refused = start_calls(client, ["cap-4"])[0]
    assert refused["type"] == "error" and refused["code"] == "too_many_calls"
    assert "EMPATHY_MAX_LIVE_CALLS" in refused["message"] and "3 calls" in refused["message"]
    assert client.get("/v1/calls/cap-4").status_code == 404  # nothing stored
    with client.websocket_connect(CALL.format("cap-1")) as ws:
        ask(ws, {"type": "resume"})
        assert ask(ws, {"type": "end"})["type"] == "ended"
    assert start_calls(client, ["cap-4"])[0]["type"] == "started"  # a place is free again


def test_notes_over_the_limits_are_refused_on_input_with_the_field_named(client: TestClient) -> None:
    big = client.post("/v1/customers", json={"id": "n-1", "notes": ["x" * 100_000]})
    assert big.status_code == 422 and "notes" in json.dumps(big.json()) and "2000" in json.dumps(big.json())
    many = client.post("/v1/customers", json={"id": "n-1", "notes": [f"note {i}" for i in range(201)]})
    assert many.status_code == 422 and "200" in json.dumps(many.json())
    assert client.post("/v1/customers", json={"id": "n-1", "notes": ["ok"]}).status_code == 201
    patch = client.patch("/v1/customers/n-1", json={"notes": ["y" * 2001]})
    assert patch.status_code == 422

    rows = "".join(f"n-1,,note number {i},,,\n" for i in range(250))
    report = client.post(
        "/v1/customers/import", content=f"customer_id,name,note,a,b,c\n{rows}", headers={"content-type": "text/csv"}
    ).json()
    assert report["notes_added"] == 199  # room left next to the one it had
    refused = [e for e in report["errors"] if "200 notes" in e["error"]]
    assert len(refused) == 51 and refused[0]["line"] == 2 + 199  # line 1 is the header
    assert len(client.get("/v1/customers/n-1").json()["notes"]) == 200


def test_a_customer_with_200_notes_of_100_kb_gives_a_small_start_frame(
    make_client: ClientFactory, sqlite_url: str
) -> None:
    # Stored before the limits existed (straight into the database): calls still get a bounded context.
    db = open_database(sqlite_url)
    with db.begin() as connection:
        notes = [f"{i} " + "very long note " * 6_700 for i in range(200)]  # about 100 KB each, 20 MB in all
        contacts = [store.ContactRecord(None, f"issue {i}", "unresolved") for i in range(600)]
        store.create_customer(connection, "default", "heavy-1", "Dana Reyes", notes, contacts)
        store.create_customer(connection, "default", "many-1", None, [f"short note {i}" for i in range(200)], [])
    db.dispose()
    client = make_client(sqlite_url)
    with client.websocket_connect(CALL.format("heavy-call")) as ws:
        ws.send_text(json.dumps({"type": "start", "call": {"customer": {"id": "heavy-1"}}}))
        raw = ws.receive_text()
    started = json.loads(raw)
    assert started["type"] == "started" and started["call"]["customer"]["name"] == "[NAME]"  # PII: masked
    assert len(raw) < 10_000  # not 20 MB
    customer = started["call"]["customer"]
    assert len(customer["prior_contacts"]) == store.CONTACTS_IN_CALL
    assert customer["prior_contacts"][-1]["issue"] == "issue 599"  # the newest
    assert sum(len(n) for n in customer["notes"]) <= store.NOTE_CHARS_IN_CALL
    with client.websocket_connect(CALL.format("many-call")) as ws:
        customer = ask(ws, {"type": "start", "call": {"customer": {"id": "many-1"}}})["call"]["customer"]
    assert customer["notes"] == [f"short note {i}" for i in range(180, 200)]  # the newest 20
    assert client.get("/v1/calls/many-call").json()["header"]["customer"]["notes"] == customer["notes"]


def test_a_csv_field_over_128_kib_is_a_clear_422(client: TestClient) -> None:
    huge = 'customer_id,name,note\nc-1,Dana,"' + "x" * (200 * 1024) + '"\nc-2,Lee,ok\n'
    reply = client.post("/v1/customers/import", content=huge, headers={"content-type": "text/csv"})
    assert reply.status_code == 422
    assert "line 2" in reply.json()["detail"] and "field larger than field limit" in reply.json()["detail"]
    unclosed = 'customer_id,name,note\nc-1,Dana,"never closed\n' + "c-2,Lee,ok\n" * 20_000
    reply = client.post("/v1/customers/import", content=unclosed, headers={"content-type": "text/csv"})
    assert reply.status_code == 422 and "unclosed quote" in reply.json()["detail"]
    assert client.get("/v1/customers").json()["total"] == 0


def test_a_call_using_more_than_its_share_of_the_engine_waits_and_a_normal_call_never_does() -> None:
    from empathy_engine.ingest.conversation import call_from_header
    from empathy_engine.service.live import ENGINE_BURST_S, ENGINE_SHARE, LiveCall

    heavy, normal = (LiveCall("default", i, {}, call_from_header(i, {})) for i in ("heavy", "normal"))
    for _ in range(100):  # 100 of the longest texts back to back, 13 ms of engine time each
        heavy.charge(0.013)
    wait = heavy.engine_wait_s()
    assert (1.3 - ENGINE_BURST_S) / ENGINE_SHARE * 0.95 < wait <= (1.3 - ENGINE_BURST_S) / ENGINE_SHARE
    for _ in range(50):  # a busy real call: 50 utterances of 3 ms
        normal.charge(0.003)
    assert normal.engine_wait_s() == 0.0
