"""Kill the server mid-call (SIGKILL), restart it: everything acknowledged is there, and the
client resumes the call as if nothing happened (same results as one uninterrupted batch run)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import httpx

from empathy_engine.client import SyncCallStream
from empathy_engine.pipeline import Engine
from tests.service.helpers import batch_result, comparable, demo_conversation, header, turn_result
from tests.service.servers import ServeProcess, free_port


def test_restart_mid_call_keeps_every_acknowledged_turn_and_resumes(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    conversation = demo_conversation("holiday_furnace")
    turns = conversation["turns"]
    server = ServeProcess(database_url, free_port(), tmp_path / "server.log").start()
    try:
        acknowledged = []
        call = SyncCallStream.connect(server.base_url, "crash-1")
        call.start(header(conversation))
        for turn in turns[:6]:
            acknowledged.append(turn_result(call.say(turn["speaker"], turn["text"], turn["t"])))
        # One more utterance in flight, then the process dies before (or while) answering it.
        in_flight = turns[6]
        call.connection.send(json.dumps(call._utterance(in_flight["speaker"], in_flight["text"], in_flight["t"], True)))
        server.kill()
        with contextlib.suppress(Exception):
            call.close()

        server.start()
        stored = httpx.get(f"{server.base_url}/v1/calls/crash-1").json()
        assert stored["status"] == "live"
        kept = [t["result"] for t in stored["turns"]]
        assert len(kept) in (6, 7)  # the in-flight one was never acknowledged: it may or may not be there
        assert kept[:6] == acknowledged
        assert [t["text"] for t in stored["turns"]] == [t["text"] for t in turns[: len(kept)]]

        with SyncCallStream.connect(server.base_url, "crash-1") as call:
            resumed = call.resume()
            assert resumed["next_turn"] == len(kept) and resumed["call"]["customer"]["name"] == "Dana Reyes"
            rest = [turn_result(call.say(t["speaker"], t["text"], t["t"])) for t in turns[len(kept) :]]
            ended = call.end()
        batch = batch_result(engine, conversation, "crash-1")
        assert [comparable(r) for r in kept + rest] == [comparable(r) for r in batch["turns"]]
        assert ended["summary"] == batch["summary"]
        final = httpx.get(f"{server.base_url}/v1/calls/crash-1").json()
        assert final["status"] == "ended" and final["turn_count"] == len(turns) == len(final["turns"])
    finally:
        server.stop()
