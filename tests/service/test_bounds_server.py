"""Attacks on a real `empathy serve` (a child process, its own event loop and GIL): a 100,000-row
import, another process holding SQLite's write lock, a chunked body of hundreds of megabytes.
Each must leave streams and health answering, and lose nothing that was accepted."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks.load import crm_csv
from empathy_engine.client import StreamError, SyncCallStream
from tests.service.auth import ADMIN_HEADERS
from tests.service.servers import ServeProcess, free_port
from tests.store.test_writer_lock import hold_write_lock


def _get(url: str, timeout: float = 30) -> httpx.Response:
    return httpx.get(url, timeout=timeout, headers=ADMIN_HEADERS)

TEXTS = ["the heat is out again", "nobody showed up last time", "I need someone here today", "thank you"]


@pytest.fixture
def sqlite_file(tmp_path: Path) -> str:
    return str(tmp_path / "empathy.db")


def serve(tmp_path: Path, db_file: str, **env: str) -> ServeProcess:
    return ServeProcess(f"sqlite:///{db_file}", free_port(), tmp_path / "server.log", env=env).start()


@pytest.fixture
def server(tmp_path: Path, sqlite_file: str) -> Iterator[ServeProcess]:
    process = serve(tmp_path, sqlite_file, EMPATHY_WRITE_TIMEOUT_S="1", EMPATHY_MAX_BODY_BYTES=str(1 << 20))
    yield process
    process.stop()


def timed(work: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = work()
    return time.perf_counter() - t0, result


def test_a_100000_row_import_leaves_streams_and_health_answering(tmp_path: Path, sqlite_file: str) -> None:
    body = crm_csv(100_000, "imp-")  # the load benchmark's own CRM export
    assert 3.0e6 < len(body) < 3.6e6  # the 3.2 MB of the attack
    process = serve(tmp_path, sqlite_file)
    try:
        report: dict[str, Any] = {}

        def run_import() -> None:
            headers = {"content-type": "text/csv", **ADMIN_HEADERS}
            reply = httpx.post(f"{process.base_url}/v1/customers/import", content=body, headers=headers, timeout=300)
            report.update(reply.json())

        importing = threading.Thread(target=run_import)
        stream_s, health_s = [], []
        with SyncCallStream.connect(process.base_url, "during-import") as call:
            call.start({"service": "hvac"})
            importing.start()
            while importing.is_alive():
                took, reply = timed(lambda: call.say("customer", TEXTS[len(stream_s) % 4]))
                assert reply["type"] == "insight"
                stream_s.append(took)
                took, health = timed(lambda: _get(f"{process.base_url}/v1/health", timeout=30))
                assert health.status_code == 200
                health_s.append(took)
                time.sleep(0.05)
            importing.join()
            call.end()
    finally:
        process.stop()
    assert report["rows"] == 100_000 and report["errors"] == []
    assert report["customers_created"] == 33_334 and report["notes_added"] == 66_667
    assert len(stream_s) >= 10  # the import took a while, and the stream was answered all along
    # The attack froze every stream and health for 36 s; now no answer waits for the import.
    assert max(stream_s) < 2.0 and max(health_s) < 2.0, (max(stream_s), max(health_s))
    assert sorted(stream_s)[len(stream_s) // 2] < 0.5


def test_an_external_write_lock_gets_retryable_refusals_in_time_and_loses_nothing(
    server: ServeProcess, sqlite_file: str
) -> None:
    # The attack held the lock for 35 s; here 6 s, with a 1 s write deadline (EMPATHY_WRITE_TIMEOUT_S).
    with SyncCallStream.connect(server.base_url, "locked-1") as call:
        call.start({"service": "hvac"})
        acknowledged = [call.say("customer", TEXTS[0])["turn"], call.say("agent", "I am so sorry")["turn"]]
        taken = threading.Event()
        holder = hold_write_lock(sqlite_file, 6.0, taken)
        assert taken.wait(5)
        refusals = []
        for _ in range(2):
            took, outcome = timed(lambda: _refusal(call, TEXTS[1]))
            assert outcome is not None and outcome.code == "database_busy", outcome
            assert "send it again" in outcome.message
            refusals.append(took)
        took_health, health = timed(lambda: _get(f"{server.base_url}/v1/health", timeout=10))
        took_read, read = timed(lambda: _get(f"{server.base_url}/v1/calls/locked-1", timeout=10))
        with SyncCallStream.connect(server.base_url, "locked-2") as other:
            started = _refusal(other, None)
        holder.join(15)
        acknowledged.append(call.say("customer", TEXTS[1])["turn"])  # the same turn, sent again: now stored
        call.end()
    assert all(0.9 < t < 3.0 for t in refusals), refusals  # answered at the deadline, not after the lock
    assert health.status_code == 503 and health.json()["database"].startswith("busy") and took_health < 1.0
    assert read.status_code == 200 and took_read < 1.0  # reads go on
    assert started is not None and started.code == "database_busy"
    stored = _get(f"{server.base_url}/v1/calls/locked-1").json()
    assert [t["index"] for t in stored["turns"]] == acknowledged == [0, 1, 2]
    assert [t["text"] for t in stored["turns"]] == [TEXTS[0], "I am so sorry", TEXTS[1]]
    assert stored["status"] == "ended"
    assert _get(f"{server.base_url}/v1/calls/locked-2").status_code == 404  # refused start: not stored
    assert _get(f"{server.base_url}/v1/health").json()["database"] == "ok"


def _refusal(call: SyncCallStream, text: str | None) -> StreamError | None:
    try:
        call.say("customer", text) if text is not None else call.start({"service": "hvac"})
    except StreamError as e:
        return e
    return None


def test_a_chunked_400_mb_body_gets_413_once_past_the_limit_not_after_reading_it(server: ServeProcess) -> None:
    limit = 1 << 20  # EMPATHY_MAX_BODY_BYTES of the fixture's server
    chunk = b"c-1,Dana,note\n" * 4096  # 56 KiB
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent, answer = 0, b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(
            b"POST /v1/customers/import HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\n"
            + f"Authorization: {ADMIN_HEADERS['Authorization']}\r\n".encode()
            + b"Transfer-Encoding: chunked\r\n\r\n16\r\ncustomer_id,name,note\n\r\n"
        )
        try:
            while sent < 400 * 1024 * 1024:
                if select.select([s], [], [], 0)[0]:
                    break  # the server has answered
                s.sendall(frame)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        while b"EMPATHY_MAX_BODY_BYTES" not in answer and (more := s.recv(65536)):
            answer += more  # the status line and the JSON detail may come in separate packets
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"EMPATHY_MAX_BODY_BYTES" in answer
    assert limit <= sent < 32 * limit, sent  # stopped soon after the limit (socket buffers hold a few MB)
    declared = httpx.post(
        f"{server.base_url}/v1/customers/import",
        content=b"x" * (limit + 1),
        headers={"content-type": "text/csv", **ADMIN_HEADERS},
    )
    assert declared.status_code == 413  # a Content-Length over the limit is refused before the body is read
    assert _get(f"{server.base_url}/v1/health").status_code == 200
