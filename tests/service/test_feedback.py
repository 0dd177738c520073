"""POST /v1/calls/{id}/turns/{n}/feedback: stored once per (turn, who, kind), redacted, capped per
agent, refused clearly, and kept within its tenant (on PostgreSQL by row-level security alone)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from empathy_engine.store import feedback as feedback_store
from empathy_engine.store.db import open_database
from empathy_engine.store.models import DEFAULT_TENANT
from empathy_engine.store.tenancy import bind_tenant
from tests.service.auth import make_key
from tests.service.helpers import utterance
from tests.service.test_tenants import ALPHA, BRAVO, World, stream, world  # noqa: F401  (fixture)

URL = "/v1/calls/{call}/turns/{turn}/feedback"


def start_call(client: TestClient, call_id: str, agent: str = "a-1", end: bool = False) -> None:
    """A call whose turn 0 (customer) shows a card and turn 1 (agent) shows none."""
    with client.websocket_connect(f"/v1/calls/{call_id}/stream") as ws:
        ws.send_json({"type": "start", "call": {"agent": {"id": agent}}})
        ws.receive_json()
        ws.send_json(utterance("customer", "The heating is out again."))
        assert ws.receive_json()["cues"], "the test needs a card on turn 0"
        ws.send_json(utterance("agent", "Let me look at the booking."))
        ws.receive_json()
        if end:
            ws.send_json({"type": "end"})
            ws.receive_json()


def post(client: TestClient, call: str, turn: int, headers: dict[str, str] | None = None, **body: Any) -> Any:
    return client.post(URL.format(call=call, turn=turn), json=body, headers=headers or {})


def stored(database_url: str, tenant: str = DEFAULT_TENANT) -> list[feedback_store.FeedbackRecord]:
    db = open_database(database_url)
    try:
        with db.connect() as connection:
            bind_tenant(connection, tenant)
            return feedback_store.list_feedback(connection, tenant)
    finally:
        db.dispose()


def test_feedback_is_stored_once_per_turn_who_and_kind_note_redacted(make_client: Any, database_url: str) -> None:
    client = make_client(database_url)
    agent = {"Authorization": f"Bearer {make_key(database_url, 'agent', login='a-1')}"}
    start_call(client, "fb-1")
    first = post(client, "fb-1", 0, agent, kind="helpful")
    assert first.status_code == 201, first.text
    assert first.json() | {"created_at": None} == {
        "call_id": "fb-1",
        "turn_index": 0,
        "card_id": "urgency/acknowledge",
        "kind": "helpful",
        "given_by": "key:" + first.json()["given_by"].split(":", 1)[1],
        "agent_id": "a-1",
        "note": None,
        "created_at": None,
        "duplicate": False,
    }
    again = post(client, "fb-1", 0, agent, kind="helpful")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    wrong = post(client, "fb-1", 0, agent, kind="wrong_read", note="she is calm, call me on 415 555 0199")
    assert wrong.status_code == 201, wrong.text
    rows = stored(database_url)
    assert [(r.kind, r.turn_index, r.card_id) for r in rows] == [
        ("helpful", 0, "urgency/acknowledge"),
        ("wrong_read", 0, "urgency/acknowledge"),
    ]
    note = rows[1].note or ""
    assert note.startswith("she is calm, call me on") and "555" not in note and "0199" not in note


def test_feedback_refusals_name_the_problem(client: TestClient) -> None:
    start_call(client, "fb-2")
    cases = [
        (post(client, "nope", 0, kind="helpful"), 404, "no call 'nope'"),
        (post(client, "fb-2", 7, kind="helpful"), 404, "has no turn 7"),
        (post(client, "fb-2", 1, kind="helpful"), 422, "showed no card"),
        (post(client, "fb-2", 0, kind="useless"), 422, "kind"),
        (post(client, "fb-2", 0, kind="helpful", note="x" * 501), 422, "note"),
        (post(client, "fb-2", 0, kind="helpful", card_id="calm/none"), 422, "was not shown on turn 0"),
        (post(client, "fb-2", -1, kind="helpful"), 422, "turn_index"),
    ]
    for response, status, words in cases:
        assert response.status_code == status, response.text
        assert words in response.text, response.text
    assert stored(client.app.state.settings.database_url) == []


def test_feedback_cap_per_call_and_per_hour_is_a_clear_429(make_client: Any, sqlite_url: str) -> None:
    client = make_client(sqlite_url, feedback_per_call=2, feedback_per_hour=3)
    for call in ("cap-1", "cap-2"):
        start_call(client, call)
    other = {"Authorization": f"Bearer {make_key(sqlite_url, 'integration', scopes=('feedback',))}"}
    assert post(client, "cap-1", 0, kind="helpful").status_code == 201
    assert post(client, "cap-1", 0, kind="wrong_read").status_code == 201
    over = post(client, "cap-1", 0, other, kind="helpful")  # another key, the same agent's call
    assert over.status_code == 429 and "EMPATHY_FEEDBACK_PER_CALL=2" in over.text
    assert post(client, "cap-1", 0, kind="helpful").status_code == 200  # a repeat is no new feedback: not capped
    assert post(client, "cap-2", 0, kind="helpful").status_code == 201
    hour = post(client, "cap-2", 0, kind="wrong_read")
    assert hour.status_code == 429 and "EMPATHY_FEEDBACK_PER_HOUR=3" in hour.text
    assert hour.headers["Retry-After"]
    assert len(stored(sqlite_url)) == 3


def test_feedback_an_agent_may_not_give_it_on_another_agents_call(make_client: Any, sqlite_url: str) -> None:
    client = make_client(sqlite_url)
    start_call(client, "theirs", agent="a-2", end=True)
    agent = {"Authorization": f"Bearer {make_key(sqlite_url, 'agent', login='a-1')}"}
    refused = post(client, "theirs", 0, agent, kind="wrong_read")
    assert refused.status_code == 403 and "feedback" in refused.text
    assert stored(sqlite_url) == []


def test_feedback_stays_within_its_tenant(world: World) -> None:  # noqa: F811
    alpha, bravo = world.serve()
    stream(alpha, "same-id", ["The heating is out again."], end=False)
    stream(bravo, "same-id", ["The heating is out again."], end=False)
    stream(alpha, "only-alpha", ["The heating is out again."], end=True)
    path = URL.format(call="same-id", turn=0)
    assert alpha.send("POST", path, json={"kind": "wrong_read", "note": "alpha"}).status_code == 201
    assert bravo.send("POST", path, json={"kind": "helpful"}).status_code == 201
    assert bravo.send("POST", URL.format(call="only-alpha", turn=0), json={"kind": "helpful"}).status_code == 404
    owner = world.owner_url or world.url
    assert [(r.kind, r.note) for r in stored(owner, ALPHA)] == [("wrong_read", "alpha")]
    assert [(r.kind, r.note) for r in stored(owner, BRAVO)] == [("helpful", None)]


def test_feedback_is_in_the_openapi_document(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/calls/{call_id}/turns/{turn_index}/feedback"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert spec["components"]["schemas"][body]["properties"]["kind"]["enum"] == ["helpful", "wrong_read"]
    assert {"201", "200", "429"} <= set(operation["responses"])


def test_feedback_the_same_press_twice_at_once_lands_on_the_key(make_client: Any, database_url: str) -> None:
    """Two requests that both found no row yet: the second insert writes nothing and raises nothing."""
    start_call(make_client(database_url), "race-1")
    db = open_database(database_url)
    try:
        record = feedback_store.new_record("race-1", 0, "urgency/acknowledge", "helpful", "user:a-1", "a-1", None)
        with db.begin() as connection:
            bind_tenant(connection, DEFAULT_TENANT)
            assert feedback_store.add_feedback(connection, DEFAULT_TENANT, record) is True
            assert feedback_store.add_feedback(connection, DEFAULT_TENANT, record) is False
    finally:
        db.dispose()
    assert len(stored(database_url)) == 1
