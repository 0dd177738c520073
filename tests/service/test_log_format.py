"""`empathy serve`'s logs: one JSON object a line with level, logger, message and the call and
tenant where known; no transcript text at INFO; privacy/logs.py's masking still applies."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
from pathlib import Path

import httpx
import pytest

from empathy_engine.client import SyncCallStream
from empathy_engine.privacy import logs as privacy_logs
from empathy_engine.service import log_format
from empathy_engine.service.log_format import JsonFormatter, TextFormatter, chosen_format, uvicorn_log_config
from tests.service.auth import ADMIN_HEADERS
from tests.service.servers import ServeProcess, free_port

#: Words only the transcript has: none may reach the log at INFO.
SAID = ("My furnace sounds like a trombone rehearsal", "The Zanzibar voucher code did not work either")


def _captured(formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"test.log_format.{id(out)}")
    logger.handlers, logger.propagate, logger.level = [handler], False, logging.DEBUG
    return logger, out


def test_json_lines_carry_the_call_and_tenant_bound_in_their_task_only() -> None:
    logger, out = _captured(JsonFormatter())

    async def stream(call_id: str) -> None:
        log_format.bind(tenant_id="acme", call_id=call_id)
        await asyncio.sleep(0)
        logger.warning("turn %d refused", 3)

    async def both() -> None:
        await asyncio.gather(stream("c-1"), stream("c-2"))
        logger.info("outside any call")

    asyncio.run(both())
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(x["call_id"], x["tenant_id"]) for x in lines[:2]] == [("c-1", "acme"), ("c-2", "acme")]
    first = lines[0]
    assert (first["level"], first["logger"], first["message"]) == ("WARNING", logger.name, "turn 3 refused")
    assert first["time"].endswith("Z")
    assert "call_id" not in lines[2] and lines[2]["level"] == "INFO"  # each task has its own context


def test_json_lines_are_masked_by_privacy_logs_exception_included() -> None:
    privacy_logs.install()
    logger, out = _captured(JsonFormatter())
    try:
        raise ValueError("card 4111 1111 1111 1111 refused")
    except ValueError:
        logger.exception("charge for %s failed", "4111 1111 1111 1111", extra={"call_id": "c-9"})
    line = json.loads(out.getvalue())
    assert "4111" not in out.getvalue()
    assert line["call_id"] == "c-9" and "ValueError" in line["exception"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_text_lines_name_the_call_and_auto_is_text_only_at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    logger, out = _captured(TextFormatter())
    logger.warning("storing failed", extra={"call_id": "c-3", "tenant_id": "default"})
    assert " WARNING " in out.getvalue() and "[default/c-3] storing failed" in out.getvalue()
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a pipe, a file, a service manager
    assert chosen_format("auto") == "json" and chosen_format("text") == "text"
    monkeypatch.setattr(sys, "stderr", _Terminal())
    assert chosen_format("auto") == "text" and chosen_format("json") == "json"
    chosen = uvicorn_log_config("auto", "warning")
    assert chosen["formatters"]["chosen"]["()"].endswith("TextFormatter") and chosen["root"]["level"] == "WARNING"


def test_serve_logs_json_lines_with_call_ids_and_no_transcript(sqlite_url: str, tmp_path: Path) -> None:
    env = {"EMPATHY_LOG_FORMAT": "json", "EMPATHY_LOG_LEVEL": "info"}
    server = ServeProcess(sqlite_url, free_port(), tmp_path / "server.log", env=env).start()
    try:
        with SyncCallStream.connect(server.base_url, "log-1") as call:
            call.start({"customer": {"id": "cust-7"}})
            for text in SAID:
                call.say("customer", text)
            call.end()
        assert httpx.get(f"{server.base_url}/v1/calls/log-1", headers=ADMIN_HEADERS).status_code == 200
    finally:
        server.stop()
    text = server.log_path.read_text()
    banner = ("empathy-engine on ", "  supervisor board: ", "  audio-only streams: ", "  voice activity: ")
    lines = [json.loads(line) for line in text.splitlines() if line.strip() and not line.startswith(banner)]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    ours = [line for line in lines if line.get("call_id") == "log-1"]
    assert [line["message"] for line in ours] == ["call started", "call ended after 2 turns"]
    assert all(line["tenant_id"] == "default" and line["level"] == "INFO" for line in ours)
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert any("/v1/calls/log-1" in line["message"] and "200" in line["message"] for line in access)
    for said in SAID:
        for word in said.split()[1:]:
            if len(word) > 5:
                assert word not in text, f"{word!r} (from the transcript) is in the log"
