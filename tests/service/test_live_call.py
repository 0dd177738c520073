"""The live-call service on its own: typed events in, typed replies out, no socket in between."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from empathy_engine.events import CallStarted, Utterance
from empathy_engine.ingest.conversation import ConversationV1
from empathy_engine.ingest.live import Closed, Opened, ProtocolError, TurnReply
from empathy_engine.pipeline import Engine
from empathy_engine.service.live_call import LiveCallService
from empathy_engine.store.models import DEFAULT_TENANT
from tests.service.helpers import batch_result, comparable, demo_conversation


def test_live_call_service_runs_a_call_over_typed_events_without_a_socket(client: TestClient, engine: Engine) -> None:
    services = client.app.state.services
    conversation = demo_conversation("cost_worry")
    events = ConversationV1.model_validate({**conversation, "id": "typed-1"}).events()
    start = events[0]
    assert isinstance(start, CallStarted)
    utterances = [e for e in events if isinstance(e, Utterance)]

    async def call() -> tuple[Opened, list[TurnReply], Closed]:
        service = LiveCallService(services, DEFAULT_TENANT, "typed-1")
        opened = await service.start(start)
        replies = [await service.feed(u, time.perf_counter(), turn=i) for i, u in enumerate(utterances)]
        return opened, replies, await service.end()

    assert client.portal is not None  # the app's event loop, where live calls run
    opened, replies, closed = client.portal.call(call)
    batch = batch_result(engine, conversation, "typed-1")
    assert opened.kind == "started" and opened.next_turn == 0
    assert [comparable(r.result) for r in replies] == [comparable(t) for t in batch["turns"]]
    assert closed.turns == len(utterances) and closed.summary == batch["summary"]
    assert client.get("/v1/calls/typed-1").json()["status"] == "ended"  # stored as it went

    async def again() -> Opened:
        return await LiveCallService(services, DEFAULT_TENANT, "typed-1").start(start)

    with pytest.raises(ProtocolError) as refused:  # refusals are typed too; the adapters turn them into frames
        client.portal.call(again)
    assert refused.value.code == "call_ended" and refused.value.frame()["type"] == "error"
