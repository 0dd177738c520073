"""Kill the server mid-call (SIGKILL), restart it: everything acknowledged is there, and the
client resumes the call as if nothing happened (same results as one uninterrupted batch run)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from empathy_engine.client import SyncCallStream
from empathy_engine.perception.context import ContextSettings
from empathy_engine.pipeline import Engine, EngineSettings
from empathy_engine.privacy import CallRedaction
from empathy_engine.service.app import create_app
from empathy_engine.service.settings import Settings
from tests.replay import CALL_SID, SCRIPT, twilio_messages, two_channel_call
from tests.service.auth import ADMIN_HEADERS, admin_client
from tests.service.helpers import batch_result, comparable, demo_conversation, header, turn_result
from tests.service.servers import ServeProcess, free_port
from tests.service.signing import signed_env, twilio_headers


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
        stored = httpx.get(f"{server.base_url}/v1/calls/crash-1", headers=ADMIN_HEADERS).json()
        assert stored["status"] == "live"
        kept = [t["result"] for t in stored["turns"]]
        assert len(kept) in (6, 7)  # the in-flight one was never acknowledged: it may or may not be there
        assert kept[:6] == acknowledged
        masked = CallRedaction()  # what the server stores: each turn as its redactor read it
        expected = [masked.turn(t["speaker"], t["text"])[0] for t in turns[: len(kept)]]
        assert [t["text"] for t in stored["turns"]] == expected

        with SyncCallStream.connect(server.base_url, "crash-1") as call:
            resumed = call.resume()
            assert resumed["next_turn"] == len(kept) and resumed["call"]["customer"]["name"] == "[NAME]"
            rest = [turn_result(call.say(t["speaker"], t["text"], t["t"])) for t in turns[len(kept) :]]
            ended = call.end()
        batch = batch_result(engine, conversation, "crash-1")
        assert [comparable(r) for r in kept + rest] == [comparable(r) for r in batch["turns"]]
        assert ended["summary"] == batch["summary"]
        final = httpx.get(f"{server.base_url}/v1/calls/crash-1", headers=ADMIN_HEADERS).json()
        assert final["status"] == "ended" and final["turn_count"] == len(turns) == len(final["turns"])
    finally:
        server.stop()


def _split_twilio(frames: list[str], cut_ms: int) -> tuple[list[str], list[str]]:
    """A Twilio stream cut at `cut_ms`: the first connection's frames, and a second connection that
    starts again (connected, start) and carries on with the rest of the call's audio."""
    first, rest = frames[:2], frames[:2]  # connected, start
    for frame in frames[2:]:
        message = json.loads(frame)
        late = message["event"] == "stop" or (
            message["event"] == "media" and int(message["media"]["timestamp"]) >= cut_ms
        )
        (rest if late else first).append(frame)
    return first, rest


def _stored_call(base_url: str, call_id: str, ready: Callable[[dict], bool], timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = httpx.get(f"{base_url}/v1/calls/{call_id}", headers=ADMIN_HEADERS)
        if response.status_code == 200 and ready(response.json()):
            return response.json()
        assert time.monotonic() < deadline, f"call {call_id} never got there: {response.text[:500]}"
        time.sleep(0.1)


@contextlib.contextmanager
def _twilio_stream(base_url: str, frames: list[str]) -> Iterator[None]:
    """A Twilio Media Streams connection that has sent `frames`, open until the block ends."""
    url = base_url.replace("http", "ws") + "/v1/telephony/twilio"
    signed = twilio_headers()  # as Twilio signs the public URL (EMPATHY_PUBLIC_BASE_URL in signed_env)
    with contextlib.suppress(ConnectionClosed), connect(url, additional_headers=signed) as ws:  # it may die first
        for frame in frames:
            ws.send(frame)
        yield


def test_restart_mid_telephony_call_gives_the_uninterrupted_results_voice_included(
    database_url: str, tmp_path: Path
) -> None:
    frames = twilio_messages(two_channel_call(SCRIPT), {"customer_id": "c-7", "service": "hvac"})
    # 14.9 s: the customer's third utterance (11.7-14.1 s) has just closed (0.7 s after its last speech
    # frame: at 14.80 s for the energy rule, 14.82 s for Silero's 32 ms frames); the agent speaks at 15.0 s.
    first, rest = _split_twilio(frames, cut_ms=14_900)
    launcher = "tests.service.scripted_serve"  # pocketsphinx replaced by the script's words
    whole_db = f"sqlite:///{tmp_path / 'whole.db'}"
    whole = ServeProcess(whole_db, free_port(), tmp_path / "whole.log", launcher, signed_env())
    whole.start()
    try:
        with _twilio_stream(whole.base_url, frames):
            uninterrupted = _stored_call(whole.base_url, CALL_SID, lambda c: c["status"] == "ended")
    finally:
        whole.stop()

    server = ServeProcess(database_url, free_port(), tmp_path / "server.log", launcher, signed_env()).start()
    try:
        with _twilio_stream(server.base_url, first):
            _stored_call(server.base_url, CALL_SID, lambda c: len(c["turns"]) == 4)  # heard and stored
            server.kill()  # with the stream open: a socket that closed first would end the call
        server.start()
        with _twilio_stream(server.base_url, rest):  # the platform reconnects and streams the rest
            resumed = _stored_call(server.base_url, CALL_SID, lambda c: c["status"] == "ended")
    finally:
        server.stop()
    voiced = [t for t in uninterrupted["turns"] if "voice" in t["result"]]
    assert len(voiced) == 4 and len(uninterrupted["turns"]) == 6  # every customer turn came with its voice
    assert [t["result"] for t in resumed["turns"]] == [t["result"] for t in uninterrupted["turns"]]
    assert [(t["speaker"], t["text"], t["t"]) for t in resumed["turns"]] == [
        (t["speaker"], t["text"], t["t"]) for t in uninterrupted["turns"]
    ]
    assert resumed["summary"] == uninterrupted["summary"]


def test_restart_with_other_settings_continues_a_call_with_its_own(engine: Engine, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empathy.db'}"
    conversation = {**demo_conversation("holiday_furnace"), "started_at": "2025-12-26T07:40:00-05:00"}  # GB only
    turns = conversation["turns"]
    british = Engine(EngineSettings(context=ContextSettings("GB")))
    with admin_client(create_app(Settings(database_url=url, holiday_country="GB"), engine=british)) as client:
        with client.websocket_connect("/v1/calls/boxing-1/stream") as ws:
            ws.send_text(json.dumps({"type": "start", "call": header(conversation)}))
            ws.receive_json()
            for turn in turns[:4]:
                ws.send_text(json.dumps({"type": "utterance", **turn}))
                ws.receive_json()
    with admin_client(create_app(Settings(database_url=url), engine=engine)) as client:  # now a US server
        with client.websocket_connect("/v1/calls/boxing-1/stream") as ws:
            ws.send_text(json.dumps({"type": "resume"}))
            assert ws.receive_json()["next_turn"] == 4
            for turn in turns[4:]:
                ws.send_text(json.dumps({"type": "utterance", **turn}))
                ws.receive_json()
            ws.send_text(json.dumps({"type": "end"}))
            ended = ws.receive_json()
        stored = client.get("/v1/calls/boxing-1").json()
    batch = batch_result(british, conversation, "boxing-1")
    assert [comparable(t["result"]) for t in stored["turns"]] == [comparable(r) for r in batch["turns"]]
    assert ended["summary"] == batch["summary"]
    assert batch["turns"] != batch_result(engine, conversation, "boxing-1")["turns"]  # the calendar matters here
