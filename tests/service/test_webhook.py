"""The signed outbound webhook: a real HTTP server receives hand-overs and safety alerts, checks
each signature the way docs/operations.md tells a receiver to, and a failing one gets retries."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from empathy_engine.service.metrics import Metrics
from empathy_engine.service.settings import Settings
from empathy_engine.service.webhook import Webhook, sign, verify
from tests.service.conftest import ClientFactory
from tests.service.helpers import utterance
from tests.service.receiver import Receiver

SECRET = "whsec-test-0123456789abcdef"
BOT_OPENING = "Hi, I'm the virtual assistant. How can I help?"


def receiver_accepts(headers: dict[str, str], body: bytes, secret: str = SECRET) -> bool:
    """The receiver's check, written from docs/operations.md (not with the server's own code)."""
    fields = dict(item.split("=", 1) for item in headers["empathy-signature"].split(","))
    signed = fields["t"].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(fields["t"])) <= 300
    return fresh and hmac.compare_digest(expected, fields["v1"])


def _bot_call(client: TestClient, call_id: str, customer: list[str]) -> list[dict[str, Any]]:
    frames = []
    with client.websocket_connect(f"/v1/calls/{call_id}/stream") as ws:
        ws.send_json({"type": "start", "call": {"handled_by": "bot", "service": "hvac"}})
        ws.receive_json()
        ws.send_json(utterance("agent", BOT_OPENING))
        ws.receive_json()
        for text in customer:
            ws.send_json(utterance("customer", text))
            frames.append(ws.receive_json())
            ws.send_json(utterance("agent", "I can help with that. Could you tell me more?"))
            ws.receive_json()
    return frames


def _hooked(make_client: ClientFactory, sqlite_url: str, url: str, **more: Any) -> TestClient:
    return make_client(sqlite_url, webhook_url=url, webhook_secret=SECRET, webhook_backoff_s=0.05, **more)


def test_webhook_handover_is_received_with_a_valid_signature(make_client: ClientFactory, sqlite_url: str) -> None:
    with Receiver() as receiver:
        client = _hooked(make_client, sqlite_url, receiver.url)
        frames = _bot_call(client, "bot-hook-1", ["my furnace is making a noise", "can I talk to a real person please"])
        assert frames[-1]["escalation"]["reason"] == "asked_for_human"
        (got,) = receiver.wait_for(1)
    assert receiver_accepts(got.headers, got.body)
    assert not receiver_accepts(got.headers, got.body.replace(b"bot-hook-1", b"bot-hook-2"))  # a changed body fails
    assert not receiver_accepts(got.headers, got.body, secret="another-secret-0123456789")
    body = json.loads(got.body)
    assert body["type"] == got.headers["empathy-event"] == "handover"
    assert body["id"] == got.headers["empathy-delivery"]
    assert (body["tenant_id"], body["call_id"], body["turn"]) == ("default", "bot-hook-1", 3)
    assert body["data"]["reason"] == "asked_for_human" and body["data"]["handoff"]["opening_line"]
    assert got.headers["content-type"] == "application/json"
    metrics = client.app.state.metrics
    assert metrics.webhook[("handover", "delivered")] == 1 and metrics.escalations["asked_for_human"] == 1


def test_webhook_failing_receiver_gets_retries_with_the_same_delivery_id(
    make_client: ClientFactory, sqlite_url: str
) -> None:
    with Receiver(statuses=[500, 503]) as receiver:
        client = _hooked(make_client, sqlite_url, receiver.url)
        _bot_call(client, "bot-hook-2", ["can I talk to a real person please"])
        first, second, third = receiver.wait_for(3)
    assert first.headers["empathy-delivery"] == second.headers["empathy-delivery"] == third.headers["empathy-delivery"]
    assert first.body == second.body == third.body
    assert all(receiver_accepts(r.headers, r.body) for r in (first, second, third))  # each attempt signed afresh
    assert second.at - first.at >= 0.05 * 0.5 and third.at - second.at >= 0.1 * 0.5  # backoff, with jitter
    metrics = client.app.state.metrics
    deadline = time.monotonic() + 5
    while metrics.webhook[("handover", "delivered")] != 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert metrics.webhook_failed_attempts == 2 and metrics.webhook[("handover", "delivered")] == 1


def test_webhook_given_up_after_its_attempts_is_counted_and_logged(
    make_client: ClientFactory, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with Receiver(statuses=[500, 500, 500, 500]) as receiver, caplog.at_level(logging.WARNING):
        client = _hooked(make_client, sqlite_url, receiver.url, webhook_attempts=3)
        _bot_call(client, "bot-hook-3", ["can I talk to a real person please"])
        receiver.wait_for(3)
        metrics = client.app.state.metrics
        deadline = time.monotonic() + 5
        while metrics.webhook[("handover", "given_up")] != 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # no fourth attempt comes
        assert len(receiver.requests) == 3
    assert metrics.webhook_failed_attempts == 3 and metrics.webhook[("handover", "given_up")] == 1
    assert any("given up after 3 attempts (last: HTTP 500)" in r.getMessage() for r in caplog.records)


def test_webhook_safety_alert_is_sent_once_per_card(make_client: ClientFactory, sqlite_url: str) -> None:
    with Receiver() as receiver:
        client = _hooked(make_client, sqlite_url, receiver.url)
        with client.websocket_connect("/v1/calls/gas-1/stream") as ws:
            ws.send_json({"type": "start", "call": {"service": "hvac"}})
            ws.receive_json()
            for text in ("I can smell gas in the kitchen", "It still smells of gas, what do I do?"):
                ws.send_json(utterance("customer", text))
                frame = ws.receive_json()
                assert any(c["source"] == "safety" for c in frame["cues"]), frame
        (got,) = receiver.wait_for(1)
        time.sleep(0.3)
        assert len(receiver.requests) == 1  # the card stayed up on the second turn: no second alert
    body = json.loads(got.body)
    assert receiver_accepts(got.headers, got.body)
    assert body["type"] == "alert" and body["data"]["kind"] == "safety" and body["data"]["card"]["id"] == "safety/gas"
    assert client.app.state.metrics.safety_alerts == 1


def test_webhook_a_full_queue_drops_the_event_at_once_and_counts_it() -> None:
    metrics = Metrics()
    settings = Settings(webhook_url="https://hooks.example.com/x", webhook_secret=SECRET, webhook_queue=1)

    async def run() -> tuple[bool, bool, float]:
        webhook = Webhook(settings, metrics)  # not started: nothing takes events off the queue
        began = time.perf_counter()
        first = webhook.send("handover", "default", "c-1", 0, {})
        second = webhook.send("handover", "default", "c-1", 1, {})
        return first, second, time.perf_counter() - began

    first, second, took = asyncio.run(run())
    assert (first, second) == (True, False) and took < 0.05
    assert metrics.webhook[("handover", "dropped")] == 1 and metrics.webhook_queued() == 1


def test_webhook_signature_helpers_round_trip_and_refuse_old_or_forged() -> None:
    body = b'{"x": 1}'
    header = sign(SECRET.encode(), int(time.time()), body)
    assert verify(SECRET.encode(), header, body)
    assert not verify(SECRET.encode(), header, body + b" ")
    assert not verify(b"another-secret-0123456789", header, body)
    assert not verify(SECRET.encode(), sign(SECRET.encode(), int(time.time()) - 600, body), body)  # replayed late
    assert not verify(SECRET.encode(), "v1=abc", body)


def test_webhook_settings_need_a_secret_and_a_full_url() -> None:
    with pytest.raises(ValidationError) as no_secret:
        Settings(webhook_url="https://hooks.example.com/x")
    assert no_secret.value.errors()[0]["loc"] == ("webhook_secret",)
    assert "EMPATHY_WEBHOOK_URL" in str(no_secret.value)
    with pytest.raises(ValidationError, match="too short"):
        Settings(webhook_url="https://hooks.example.com/x", webhook_secret="short")
    with pytest.raises(ValidationError, match="full URL"):
        Settings(webhook_url="hooks.example.com/x", webhook_secret=SECRET)
    short = Settings(webhook_url="https://hooks.example.com/x", webhook_secret="x" * 16)
    assert SECRET not in repr(short) and "x" * 16 not in repr(short)
