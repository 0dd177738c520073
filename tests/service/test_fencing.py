"""Two replicas on one database: a call is held by one at a time (owner and epoch, migration 0008).

Both apps run in this process on the same database, as two `empathy serve` replicas would on
two machines: `resume` on the second takes the call over, every later write of the first is
refused with `taken_over` (the fence is in the database, not in memory), and the second goes on
from the stored turns with exactly what `empathy analyze` gives.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from empathy_engine.pipeline import Engine
from empathy_engine.store.db import make_engine
from empathy_engine.store.models import DEFAULT_TENANT
from empathy_engine.store.tenancy import bind_tenant
from tests.service.conftest import ClientFactory
from tests.service.helpers import batch_result, comparable, demo_conversation, header, turn_result, utterance

CALL = "/v1/calls/{}/stream"


def ask(ws: Any, event: dict[str, Any]) -> dict[str, Any]:
    ws.send_text(json.dumps(event))
    return ws.receive_json()  # type: ignore[no-any-return]


def _owner(url: str, call_id: str) -> tuple[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            bind_tenant(c, DEFAULT_TENANT)  # row-level security on PostgreSQL
            row = c.execute(sa.text("SELECT owner, epoch FROM calls WHERE id = :id"), {"id": call_id}).one()
    finally:
        engine.dispose()
    return row.owner, row.epoch


def test_a_second_replica_takes_the_call_over_and_the_first_is_fenced(
    make_client: ClientFactory, database_url: str, engine: Engine
) -> None:
    a: TestClient = make_client(database_url, replica_id="replica-a")
    b: TestClient = make_client(database_url, replica_id="replica-b")
    conversation = demo_conversation("cost_worry")
    turns = conversation["turns"]
    got = []
    with a.websocket_connect(CALL.format("f1")) as on_a:
        ask(on_a, {"type": "start", "call": header(conversation)})
        got += [ask(on_a, utterance(t["speaker"], t["text"], t=t["t"], turn=i)) for i, t in enumerate(turns[:3])]
        assert _owner(database_url, "f1") == ("replica-a", 1)
        with b.websocket_connect(CALL.format("f1")) as on_b:
            assert ask(on_b, {"type": "resume"})["next_turn"] == 3  # rebuilt from the store on b
            assert _owner(database_url, "f1") == ("replica-b", 2)
            # a still has the call in memory and its connection open: the database refuses its write
            late = ask(on_a, utterance(turns[3]["speaker"], turns[3]["text"], t=turns[3]["t"], turn=3))
            assert late["code"] == "taken_over"
            assert ask(on_a, {"type": "end"})["code"] in ("taken_over", "not_started")
            got += [
                ask(on_b, utterance(t["speaker"], t["text"], t=t["t"], turn=3 + i)) for i, t in enumerate(turns[3:])
            ]
            summary = ask(on_b, {"type": "end"})["summary"]
    batch = batch_result(engine, conversation, "f1")
    assert [comparable(turn_result(g)) for g in got] == [comparable(t) for t in batch["turns"]]
    assert summary == batch["summary"]
    stored = b.get("/v1/calls/f1").json()
    assert stored["turn_count"] == len(turns) and [t["index"] for t in stored["turns"]] == list(range(len(turns)))
    assert a.get("/v1/health").json()["live_calls"] == 0  # a forgot the call it lost


def test_the_first_replica_resuming_again_takes_it_back_with_the_turns_b_stored(
    make_client: ClientFactory, database_url: str
) -> None:
    a: TestClient = make_client(database_url, replica_id="replica-a")
    b: TestClient = make_client(database_url, replica_id="replica-b")
    with a.websocket_connect(CALL.format("f2")) as on_a:
        ask(on_a, {"type": "start"})
        ask(on_a, utterance("customer", "hello", turn=0))
    with b.websocket_connect(CALL.format("f2")) as on_b:
        assert ask(on_b, {"type": "resume"})["next_turn"] == 1
        assert ask(on_b, utterance("agent", "hi, how can I help?", turn=1))["turn"] == 1
    with a.websocket_connect(CALL.format("f2")) as again:  # a's memory says one turn; the store says two
        assert ask(again, {"type": "resume"})["next_turn"] == 2
        assert ask(again, utterance("customer", "my heating is broken", turn=2))["turn"] == 2
    assert _owner(database_url, "f2") == ("replica-a", 3)
