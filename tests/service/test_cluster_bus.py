"""Redis between replicas (service/cluster_bus.py), two apps in this process and a real redis-server:
one board shows both replicas' calls, a watcher on the other replica gets the holder's frames,
and Redis going away costs the turns nothing (messages dropped and counted)."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi.testclient import TestClient

from empathy_engine.pipeline import Engine
from empathy_engine.service.app import create_app
from empathy_engine.service.settings import Settings
from tests.cluster.redis_server import redis_url  # noqa: F401  (fixture)
from tests.service.auth import ADMIN_HEADERS
from tests.service.conftest import ClientFactory
from tests.service.helpers import utterance

CALL = "/v1/calls/{}/stream"


def ask(ws: Any, event: dict[str, Any]) -> dict[str, Any]:
    ws.send_text(json.dumps(event))
    return ws.receive_json()  # type: ignore[no-any-return]


def _board_until(board: Any, wanted: set[str], within_s: float) -> set[str]:
    deadline = time.monotonic() + within_s
    seen: set[str] = set()
    while time.monotonic() < deadline and not wanted <= seen:
        seen = {row["call_id"] for row in board.receive_json()["calls"]}
    return seen


def test_one_board_shows_every_replicas_calls_and_frames_cross(
    make_client: ClientFactory,
    sqlite_url: str,
    redis_url: str,  # noqa: F811
) -> None:
    a: TestClient = make_client(sqlite_url, replica_id="a", redis_url=redis_url, board_interval_s=0.1)
    b: TestClient = make_client(sqlite_url, replica_id="b", redis_url=redis_url, board_interval_s=0.1)
    with a.websocket_connect("/v1/board/watch") as board, b.websocket_connect(CALL.format("on-b")) as on_b:
        assert board.receive_json()["total"] == 0
        ask(on_b, {"type": "start", "call": {"service": "hvac", "agent": {"id": "sam"}}})
        started = time.monotonic()
        assert "on-b" in _board_until(board, {"on-b"}, within_s=1.0)  # held by b, on a's board within 1 s
        assert time.monotonic() - started < 1.0
        with a.websocket_connect("/v1/calls/on-b/watch") as watcher:  # a cockpit open on the other replica
            watcher.receive_json()  # the stored snapshot a builds for a call it does not hold
            time.sleep(0.5)  # a subscribes to the call's channel
            ask(on_b, utterance("customer", "My heating has been broken for three days!", turn=0))
            frame = watcher.receive_json()
            while frame["type"] != "turn":
                frame = watcher.receive_json()
            assert frame["entry"]["text"].startswith("My heating")
    published = b.get("/metrics").text
    assert 'empathy_redis_messages_total{outcome="published"}' in published


def test_redis_down_drops_and_counts_but_turns_go_on(
    make_client: ClientFactory, sqlite_url: str, tmp_path: Any
) -> None:
    from tests.cluster.redis_server import free_port

    nowhere = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    a: TestClient = make_client(sqlite_url, replica_id="a", redis_url=nowhere, redis_queue=100)
    with a.websocket_connect(CALL.format("alone")) as ws:
        ask(ws, {"type": "start"})
        for i in range(150):
            assert ask(ws, utterance("customer" if i % 2 == 0 else "agent", f"turn number {i}", turn=i))["turn"] == i
    metrics = a.get("/metrics").text
    dropped = [
        line for line in metrics.splitlines() if line.startswith('empathy_redis_messages_total{outcome="dropped"}')
    ]
    assert dropped and float(dropped[0].split()[-1]) > 0


def test_a_dead_replicas_rows_age_out_of_the_other_boards(
    make_client: ClientFactory,
    sqlite_url: str,
    redis_url: str,  # noqa: F811
    engine: Engine,
) -> None:
    from empathy_engine.service.cluster_bus import ROWS_TTL_S

    a: TestClient = make_client(sqlite_url, replica_id="a", redis_url=redis_url, board_interval_s=0.1)
    settings = Settings(database_url=sqlite_url, replica_id="b", redis_url=redis_url, board_interval_s=0.1)
    with TestClient(create_app(settings, engine=engine), headers=ADMIN_HEADERS) as b:  # b dies at the block's end
        with a.websocket_connect("/v1/board/watch") as board, b.websocket_connect(CALL.format("gone-b")) as on_b:
            board.receive_json()
            ask(on_b, {"type": "start"})
            assert "gone-b" in _board_until(board, {"gone-b"}, within_s=1.0)
    # b stopped without a word (its stream closed, its process gone as far as Redis can tell):
    # a's board drops b's row once it expires, with no message from b.
    deadline = time.monotonic() + ROWS_TTL_S + 2.0
    while True:  # a new board each time: its first frame is the board now (no waiting on a push)
        with a.websocket_connect("/v1/board/watch") as board:
            rows = {row["call_id"] for row in board.receive_json()["calls"]}
        if "gone-b" not in rows or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert "gone-b" not in rows
