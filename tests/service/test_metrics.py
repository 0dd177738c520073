"""GET /metrics scraped from a real server the way Prometheus does (Bearer credential, text
format), while a real stream runs: the numbers are the ones the calls made."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from empathy_engine.pipeline import Engine
from empathy_engine.service.app import create_app
from empathy_engine.service.settings import Settings
from tests.service.auth import ADMIN_HEADERS, make_key
from tests.service.conftest import ClientFactory
from tests.service.helpers import utterance
from tests.service.servers import ThreadedServer


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, sorted labels) -> value, parsed by prometheus-client's own parser."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def scrape(base_url: str, headers: dict[str, str] = ADMIN_HEADERS) -> dict[tuple[str, tuple[Any, ...]], float]:
    response = httpx.get(f"{base_url}/metrics", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(response.text)


TURNS = ("My heating stopped working last night.", "Thanks, that helps.", "Is anyone coming today?")


def test_metrics_scraped_from_a_real_server_count_the_calls_turns_and_sockets(engine: Engine, tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}"), engine=engine)
    with ThreadedServer(app) as server:
        ws_url = server.base_url.replace("http", "ws") + "/v1/calls/metrics-1/stream"
        with connect(ws_url, additional_headers=ADMIN_HEADERS) as ws:
            ws.send(json.dumps({"type": "start", "call": {"service": "hvac"}}))
            assert json.loads(ws.recv())["type"] == "started"
            for text in TURNS:
                ws.send(json.dumps(utterance("customer", text)))
                assert json.loads(ws.recv())["type"] == "insight"
            live = scrape(server.base_url)
        bad = httpx.get(f"{server.base_url}/metrics", headers={"Authorization": "Bearer ee_nobody_wrong"})
        assert bad.status_code == 401
        after = scrape(server.base_url)
    tenant = (("tenant", "default"),)
    assert live[("empathy_calls_live", tenant)] == 1
    assert live[("empathy_calls_started_total", tenant)] == 1
    assert live[("empathy_turns_total", tenant)] == len(TURNS)
    assert live[("empathy_websocket_connections", (("kind", "stream"),))] == 1
    assert live[("empathy_insight_latency_seconds_count", ())] == len(TURNS)
    assert 0 < live[("empathy_insight_latency_seconds_sum", ())] < 5 * len(TURNS)
    assert live[("empathy_insight_latency_seconds_bucket", (("le", "+Inf"),))] == len(TURNS)
    assert live[("empathy_build_info", (("version", "0.3.0"),))] == 1
    assert live[("process_resident_memory_bytes", ())] > 0  # prometheus-client's process metrics
    # The stream closed (the call stays live, to be resumed); the wrong key was counted.
    assert after[("empathy_websocket_connections", (("kind", "stream"),))] == 0
    assert after[("empathy_calls_live", tenant)] == 1
    assert after[("empathy_auth_refusals_total", (("reason", "unauthorized"),))] == 1


def test_metrics_need_an_admin_or_a_metrics_key_of_the_default_tenant(client: TestClient, sqlite_url: str) -> None:
    def status(key: str | None) -> int:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return TestClient(client.app, headers=headers).get("/metrics").status_code

    assert status(make_key(sqlite_url, "integration", scopes=("metrics",))) == 200
    assert status(make_key(sqlite_url, "admin")) == 200
    assert status(make_key(sqlite_url, "integration", scopes=("stream",))) == 403
    assert status(make_key(sqlite_url, "supervisor", team="east")) == 403
    other = TestClient(client.app, headers={"Authorization": f"Bearer {make_key(sqlite_url, 'admin', tenant='acme')}"})
    refused = other.get("/metrics")
    assert refused.status_code == 403 and "every tenant" in refused.json()["detail"]
    assert status(None) == 401


def test_metrics_count_storage_failures_and_escalations(make_client: ClientFactory, sqlite_url: str) -> None:
    client = make_client(sqlite_url)
    with client.websocket_connect("/v1/calls/bot-m/stream") as ws:
        ws.send_json({"type": "start", "call": {"handled_by": "bot"}})
        ws.receive_json()
        ws.send_json(utterance("agent", "Hi, I'm the virtual assistant. How can I help?"))
        ws.receive_json()
        ws.send_json(utterance("customer", "can I talk to a real person please"))
        assert ws.receive_json()["escalation"]["reason"] == "asked_for_human"
    services = client.app.state.services

    def refused(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the disk is gone")

    with client.websocket_connect("/v1/calls/store-m/stream") as ws:
        ws.send_json({"type": "start"})
        ws.receive_json()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(services.writer, "run", refused)
            ws.send_json(utterance("customer", "My heating stopped."))
            assert ws.receive_json()["code"] == "storage_failed"
    got = samples(client.get("/metrics").text)
    assert got[("empathy_escalations_total", (("reason", "asked_for_human"),))] == 1
    assert got[("empathy_storage_failures_total", (("reason", "storage_failed"),))] == 1
    assert got[("empathy_turns_total", (("tenant", "default"),))] == 2  # the bot's greeting and the ask
