"""The service under the hostile inputs of issue 12, on SQLite and on PostgreSQL.

Every input error is a 4xx (or the protocol's error frame) that names the problem; nothing is a
500 or a `storage_failed` that can never succeed; what was accepted before stays; and on a real
server the next request on the same keep-alive connection is answered. Health tells the truth
(a deleted SQLite file, a nearly full disk, a database gone) and shows no internals.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from empathy_engine.pipeline import Engine
from empathy_engine.service.app import create_app
from empathy_engine.service.settings import Settings
from tests.service.auth import ADMIN_HEADERS
from tests.service.conftest import ClientFactory
from tests.service.helpers import utterance
from tests.service.servers import ThreadedServer
from tests.store.databases import fresh_database_url

#: (method, path, raw JSON body or None, expected status, words the error must contain)
HOSTILE_REQUESTS = [
    ("GET", "/v1/calls?offset=9223372036854775808", None, 422, "less than or equal to 2147483647"),
    ("GET", "/v1/customers?offset=99999999999999999999", None, 422, "less than or equal to 2147483647"),
    ("PUT", "/v1/calls/c1/outcome", '{"csat": NaN}', 400, "NaN is not a JSON number"),
    ("PUT", "/v1/calls/c1/outcome", '{"csat": 1e400}', 400, "too large for a 64-bit float"),
    ("PUT", "/v1/calls/c1/outcome", '{"csat": ' + "9" * 5000 + "}", 400, "5000 digits"),
    ("PUT", "/v1/calls/c1/outcome", '{"review_text": "\\ud83d"}', 400, "unpaired UTF-16 surrogate"),
    ("PUT", "/v1/calls/c1/outcome", '{"review_text": "ok\\u0000"}', 400, "NUL character"),
    ("PUT", "/v1/calls/c1/outcome", '{"review_text": ' + "[" * 50_000 + "]" * 50_000 + "}", 400, "nested too deeply"),
    ("POST", "/v1/customers", '{"id": "c-1", "name": "Ann\\u0000"}', 400, "NUL character"),
    ("POST", "/v1/customers", '{"id": "c-2", "notes": ["\\udfff"]}', 400, "unpaired UTF-16 surrogate"),
    ("PATCH", "/v1/customers/c-9", '{"notes": ["a\\u0000"]}', 400, "NUL character"),
]


def _started_call(client: TestClient, call_id: str = "c1") -> None:
    with client.websocket_connect(f"/v1/calls/{call_id}/stream") as ws:
        ws.send_json({"type": "start", "call": {"customer": {"id": "c-9"}}})
        assert ws.receive_json()["type"] == "started"
        ws.send_json(utterance("customer", "The heating is off again.", t=1.0))
        assert ws.receive_json()["type"] == "insight"


@pytest.mark.parametrize("attack", range(len(HOSTILE_REQUESTS)))
def test_rest_hostile_inputs_are_clear_4xx_on_both_backends(any_client: TestClient, attack: int) -> None:
    method, path, body, status, words = HOSTILE_REQUESTS[attack]
    _started_call(any_client)
    any_client.post("/v1/customers", json={"id": "c-9"})
    headers = {"content-type": "application/json"}
    response = any_client.request(method, path, content=body.encode() if body else None, headers=headers)
    assert response.status_code == status, response.text
    assert words in json.dumps(response.json()["detail"])
    assert any_client.get("/v1/calls/c1").json()["turn_count"] == 1  # what was accepted stays
    assert any_client.get("/v1/customers/c-9").json()["notes"] == []


def test_rest_csv_import_with_a_nul_is_refused_on_both_backends(any_client: TestClient) -> None:
    body = "customer_id,note\nk-1,fine\nk-2,bad\x00note\n"
    response = any_client.post("/v1/customers/import", content=body.encode(), headers={"content-type": "text/csv"})
    assert response.status_code == 422 and "line 3 has a NUL character" in response.json()["detail"]
    assert any_client.get("/v1/customers").json()["total"] == 0  # refused whole, consistently


def test_rest_next_keep_alive_request_works_after_each_attack(engine: Engine, database_url: str) -> None:
    app = create_app(Settings(database_url=database_url), engine=engine)
    with ThreadedServer(app) as server, socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        for method, path, body, status, _ in HOSTILE_REQUESTS:
            assert _exchange(conn, method, path, body)[0] == status
            answered, health = _exchange(conn, "GET", "/v1/health", None)  # same socket: kept alive
            assert answered == 200 and health["status"] == "ok"


def _exchange(conn: socket.socket, method: str, path: str, body: str | None) -> tuple[int, Any]:
    """One HTTP/1.1 request and its response on an open socket (keep-alive is HTTP/1.1's default)."""
    data = (body or "").encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += f"Authorization: {ADMIN_HEADERS['Authorization']}\r\n"
    conn.sendall(f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data)
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = conn.recv(65536)
        assert chunk, "the server closed the keep-alive connection"
        raw += chunk
    header, rest = raw.split(b"\r\n\r\n", 1)
    length = next(int(h.split(b":")[1]) for h in header.split(b"\r\n") if h.lower().startswith(b"content-length"))
    while len(rest) < length:
        rest += conn.recv(65536)
    return int(header.split(b" ")[1]), json.loads(rest[:length])


# --- the stream ------------------------------------------------------------------------------

STREAM_ATTACKS = {
    "infinity": ('{"type": "utterance", "speaker": "customer", "text": "hi", "t": Infinity}', "Infinity"),
    "huge": ('{"type": "utterance", "speaker": "customer", "text": "hi", "t": 1e400}', "64-bit float"),
    "nul": ('{"type": "utterance", "speaker": "customer", "text": "card \\u0000 number"}', "NUL character"),
    "surrogate": ('{"type": "utterance", "speaker": "customer", "text": "\\ud800"}', "unpaired UTF-16"),
    "digits": ('{"type": "utterance", "speaker": "customer", "text": "hi", "turn": ' + "1" * 5000 + "}", "digits"),
    "deep": ('{"type": "utterance", "extra": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested too deeply"),
}


def test_stream_refuses_each_attack_for_good_and_keeps_the_call(any_client: TestClient) -> None:
    with any_client.websocket_connect("/v1/calls/s1/stream") as ws:
        ws.send_json({"type": "start"})
        assert ws.receive_json()["type"] == "started"
        for frame, words in STREAM_ATTACKS.values():
            ws.send_text(frame)
            refused = ws.receive_json()
            assert refused["type"] == "error" and refused["code"] == "invalid_json" and words in refused["message"]
            assert "send it again" not in refused["message"]
        ws.send_json(utterance("customer", "Still here, the furnace is out.", t=2.0))
        insight = ws.receive_json()
        assert insight["type"] == "insight" and insight["turn"] == 0  # nothing refused took a turn
        ws.send_json({"type": "end"})
        assert ws.receive_json()["type"] == "ended"
    stored = any_client.get("/v1/calls/s1").json()
    assert stored["status"] == "ended" and [t["text"] for t in stored["turns"]] == ["Still here, the furnace is out."]


def test_stream_url_call_id_with_a_trailing_newline_is_refused(client: TestClient) -> None:
    with client.websocket_connect("/v1/calls/c1%0A/stream") as ws:
        assert ws.receive_json()["code"] == "invalid_call_id"


def test_audiohook_deep_json_gets_a_disconnect_not_a_dropped_socket(client: TestClient) -> None:
    with client.websocket_connect("/v1/telephony/audiohook") as ws:
        ws.send_text('{"version": "2", "type": "open", "x": ' + "[" * 50_000 + "]" * 50_000 + "}")
        reply = ws.receive_json()
        assert reply["type"] == "disconnect" and "nested too deeply" in reply["parameters"]["info"]


def test_twilio_call_sid_outside_the_call_id_rule_is_never_stored(client: TestClient) -> None:
    media = {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}
    start = {"streamSid": "MZ1", "callSid": "../../etc/passwd", "tracks": ["inbound"], "mediaFormat": media}
    with client.websocket_connect("/v1/telephony/twilio") as ws:
        ws.send_text(json.dumps({"event": "start", "start": start, "streamSid": "MZ1"}))
        ws.send_text(json.dumps({"event": "stop", "streamSid": "MZ1"}))
    assert client.get("/v1/calls").json()["total"] == 0


# --- health ----------------------------------------------------------------------------------


def test_health_is_503_when_the_sqlite_file_is_deleted(make_client: ClientFactory, tmp_path: Path) -> None:
    path = tmp_path / "gone.db"
    client = make_client(f"sqlite:///{path}")
    assert client.get("/v1/health").json()["database"] == "ok"
    path.unlink()
    response = client.get("/v1/health")
    assert response.status_code == 503
    assert response.json() | {"version": "", "live_calls": 0, "replica": ""} == {
        "status": "degraded", "database": "missing", "disk": "ok", "version": "", "live_calls": 0, "replica": ""
    }  # fmt: skip
    assert str(tmp_path) not in response.text


def test_health_is_503_when_the_disk_is_nearly_full(make_client: ClientFactory, sqlite_url: str) -> None:
    import shutil

    free_mb = shutil.disk_usage(Path(sqlite_url.removeprefix("sqlite:///")).parent).free >> 20
    roomy = make_client(sqlite_url, health_min_free_mb=max(0, free_mb - 10))
    assert roomy.get("/v1/health").json()["disk"] == "ok"
    full = make_client(sqlite_url.replace(".db", "-2.db"), health_min_free_mb=free_mb + 1024)
    response = full.get("/v1/health")
    assert response.status_code == 503 and response.json()["status"] == "degraded"
    assert response.json()["disk"] == "low" and response.json()["database"] == "ok"


def test_health_hides_the_host_and_driver_error_of_a_database_gone(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    pytest.importorskip("psycopg")
    urls = fresh_database_url("postgresql", tmp_path)
    url = next(urls)
    client = make_client(url)
    assert client.get("/v1/health").json() | {"version": "", "live_calls": 0, "replica": ""} == {
        "status": "ok", "database": "ok", "disk": "not checked", "version": "", "live_calls": 0, "replica": ""
    }  # fmt: skip
    next(urls, None)  # drops the database (WITH FORCE): the server's connections are cut
    response = client.get("/v1/health")
    assert response.status_code == 503 and response.json()["database"] == "unreachable"
    for internal in ("127.0.0.1", "localhost", "5432", "empathy_test_", "psycopg", "does not exist", "FATAL"):
        assert internal not in response.text


def test_a_turn_the_database_refuses_is_storage_refused_not_send_it_again(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the parsers let through but a database still refuses (a constraint of its own) can never
    succeed on a resend: the frame says so, and the call goes on."""
    from sqlalchemy.exc import DataError

    from empathy_engine.service import live_call

    real = live_call.store.append_turn

    def refusing(tenant_id: str, call_id: str, turn: Any, epoch: int | None = None) -> Any:
        if "refuse me" not in turn.text:
            return real(tenant_id, call_id, turn, epoch)

        def job(connection: Any) -> bool:
            raise DataError("INSERT INTO turns ...", {}, ValueError("value out of range"))

        return job

    monkeypatch.setattr(live_call.store, "append_turn", refusing)
    with client.websocket_connect("/v1/calls/r1/stream") as ws:
        ws.send_json({"type": "start"})
        assert ws.receive_json()["type"] == "started"
        ws.send_json(utterance("customer", "please refuse me", t=1.0))
        refused = ws.receive_json()
        assert refused["code"] == "storage_refused" and "do not send it again unchanged" in refused["message"]
        ws.send_json(utterance("customer", "The furnace is out.", t=2.0))
        assert ws.receive_json()["turn"] == 0
    assert [t["text"] for t in client.get("/v1/calls/r1").json()["turns"]] == ["The furnace is out."]
