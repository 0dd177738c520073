"""The telephony endpoints, replaying recorded-format sessions built from synthesised speech.

Every stream here is signed as the platform signs it (tests/service/signing.py); the refusals of
unsigned or badly signed upgrades are in test_telephony_auth.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from empathy_engine.service import telephony
from tests.replay import CALL_SID, CONVERSATION_ID, SCRIPT, audiohook_messages, twilio_messages, two_channel_call
from tests.service.conftest import ClientFactory
from tests.service.signing import audiohook_headers, signed_settings, twilio_headers


class ScriptedRecogniser:
    """Words for each utterance in the order they end (pocketsphinx itself is tested elsewhere)."""

    def __init__(self) -> None:
        self.heard = iter(
            [
                "hi the furnace in my basement is out again",
                "I am sorry, the earliest we can do is Wednesday afternoon.",
                "it started making a strange noise last night",
                "the model number is on a sticker near the filter",
                "I am sorry, the earliest we can do is Wednesday afternoon.",
                "okay I guess it is fine",
            ]
        )

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> str:
        return next(self.heard, "")


@pytest.fixture(autouse=True)
def scripted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(telephony, "recogniser", ScriptedRecogniser)


@pytest.fixture
def client(make_client: ClientFactory, sqlite_url: str) -> TestClient:
    """The app with the platforms' credentials configured (secure by default: none means refused)."""
    return make_client(sqlite_url, **signed_settings())


def _stored(client: TestClient, call_id: str, ready: Callable[[dict], bool], timeout: float = 60.0) -> dict:
    """The stored call once `ready` holds. Asked while the socket is still open: the test client
    cancels the server's side of a socket when the test hangs up, which a real server does not."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/v1/calls/{call_id}")
        if response.status_code == 200 and ready(response.json()) or time.monotonic() > deadline:
            assert response.status_code == 200, response.text
            return response.json()
        time.sleep(0.1)


def ended(call: dict) -> bool:
    return call["status"] == "ended"


def test_telephony_twilio_call_is_analysed_stored_and_ended(client: TestClient) -> None:
    call = two_channel_call(SCRIPT)
    with client.websocket_connect("/v1/telephony/twilio", headers=twilio_headers()) as ws:
        for frame in twilio_messages(call, {"customer_id": "c-7", "service": "hvac"}):
            ws.send_text(frame)
        stored = _stored(client, CALL_SID, ended)
    assert stored["status"] == "ended"
    turns = stored["turns"]
    speakers = [t["speaker"] for t in turns]
    assert speakers.count("customer") >= 3 and "agent" in speakers
    customer = [t for t in turns if t["speaker"] == "customer"]
    assert all("voice" in t["result"] for t in customer)  # the tone of voice came with every customer turn
    assert all(set(t["result"]["states"]) >= {"frustration", "dejection"} for t in customer)


def test_telephony_recognition_never_runs_on_the_event_loop(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whisper takes a good part of a second an utterance: on the loop it would stall every stream.
    where: list[str] = []

    class Recording(ScriptedRecogniser):
        def transcribe(self, samples: np.ndarray, sample_rate: int) -> str:
            try:
                asyncio.get_running_loop()
                where.append("event loop")
            except RuntimeError:
                where.append("worker thread")
            return super().transcribe(samples, sample_rate)

    monkeypatch.setattr(telephony, "recogniser", Recording)
    with client.websocket_connect("/v1/telephony/twilio", headers=twilio_headers()) as ws:
        for frame in twilio_messages(two_channel_call(SCRIPT)):
            ws.send_text(frame)
        _stored(client, CALL_SID, ended)
    assert len(where) >= 4 and set(where) == {"worker thread"}


def test_telephony_twilio_utterances_are_stored_as_heard_and_bad_frames_skipped(client: TestClient) -> None:
    call = two_channel_call(SCRIPT)
    frames = twilio_messages(call, stop=False)
    with client.websocket_connect("/v1/telephony/twilio", headers=twilio_headers()) as ws:
        for frame in frames[: len(frames) * 2 // 3]:
            ws.send_text(frame)
        ws.send_text("{not json")  # a malformed frame is logged; the stream goes on
        ws.send_text('{"event": "media", "media": {"track": "inbound", "payload": "@@@"}}')
        stored = _stored(client, CALL_SID, lambda c: len(c["turns"]) >= 3)
    assert stored["status"] == "live" and len(stored["turns"]) >= 3  # each turn was kept as it was heard


def test_telephony_audiohook_session_answers_and_stores_the_call(client: TestClient) -> None:
    call = two_channel_call(SCRIPT)
    replies = []
    with client.websocket_connect("/v1/telephony/audiohook", headers=audiohook_headers()) as ws:
        for message in audiohook_messages(call):
            if isinstance(message, bytes):
                ws.send_bytes(message)
            else:
                ws.send_text(message)
                replies.append(ws.receive_json())
        stored = _stored(client, CONVERSATION_ID, ended)
    kinds = [r["type"] for r in replies]
    assert kinds[0] == "opened" and kinds[-1] == "closed" and "pong" in kinds
    assert [r["seq"] for r in replies] == list(range(1, len(replies) + 1))
    assert stored["status"] == "ended"
    assert any(t["speaker"] == "customer" and "voice" in t["result"] for t in stored["turns"])


def test_telephony_pings_are_answered_while_an_utterance_is_still_being_recognised(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The socket is read on while the call hears: a recogniser slower than the pings between
    # utterances (Whisper on a busy machine) must not hold up the answers (or the platform gives
    # up on the stream). Each utterance takes 2 s to recognise; pings come every 5 s of audio.
    slow_s = 2.0

    class Slow(ScriptedRecogniser):
        def transcribe(self, samples: np.ndarray, sample_rate: int) -> str:
            time.sleep(slow_s)
            return super().transcribe(samples, sample_rate)

    monkeypatch.setattr(telephony, "recogniser", Slow)
    waits: dict[str, list[float]] = {}
    with client.websocket_connect("/v1/telephony/audiohook", headers=audiohook_headers()) as ws:
        for message in audiohook_messages(two_channel_call(SCRIPT)):
            if isinstance(message, bytes):
                ws.send_bytes(message)
                continue
            sent = time.monotonic()
            ws.send_text(message)
            reply = ws.receive_json()
            waits.setdefault(reply["type"], []).append(time.monotonic() - sent)
        stored = _stored(client, CONVERSATION_ID, ended)
    assert len(waits["pong"]) >= 3 and max(waits["pong"]) < slow_s / 2, waits
    assert stored["status"] == "ended" and len(stored["turns"]) >= 4  # and every utterance was still heard


def test_telephony_audiohook_bad_frame_gets_a_disconnect_and_keeps_the_call(client: TestClient) -> None:
    messages = audiohook_messages(two_channel_call(SCRIPT), close=False)
    with client.websocket_connect("/v1/telephony/audiohook", headers=audiohook_headers()) as ws:
        ws.send_text(messages[0])
        assert ws.receive_json()["type"] == "opened"
        ws.send_bytes(b"\x00\x01\x02")  # an odd length cannot be two interleaved channels
        reply = ws.receive_json()
        assert reply["type"] == "disconnect" and reply["parameters"]["reason"] == "error"
        assert "frame" in reply["parameters"]["info"] or "byte" in reply["parameters"]["info"]
        assert _stored(client, CONVERSATION_ID, lambda c: c["status"] == "live")["status"] == "live"


def test_telephony_without_the_voice_extra_is_refused_with_1011_naming_it(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telephony, "has", lambda extra: extra != "voice")  # as if scipy/pocketsphinx were absent
    with pytest.raises(WebSocketDisconnect) as closed:
        with client.websocket_connect("/v1/telephony/twilio", headers=twilio_headers()) as ws:
            ws.receive_text()
    assert closed.value.code == 1011 and "empathy-engine[voice]" in closed.value.reason


def test_telephony_unknown_vendor_is_refused_with_1008(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/v1/telephony/nobody") as ws:
        ws.receive_text()
    assert closed.value.code == 1008 and "twilio" in closed.value.reason


def test_telephony_customer_speech_gets_partial_transcripts_as_provisional_insights(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Spare:  # always free, so every partial that is due is asked for
        spare = True

        def transcribe(self, samples: np.ndarray, sample_rate: int) -> str:
            return "the furnace is out and my mother is freezing" if len(samples) else ""

    monkeypatch.setattr(telephony, "recogniser", Spare)
    with client.websocket_connect(f"/v1/calls/{CALL_SID}/watch") as watch:
        with client.websocket_connect("/v1/telephony/twilio", headers=twilio_headers()) as ws:
            for frame in twilio_messages(two_channel_call(SCRIPT)):
                ws.send_text(frame)
            stored = _stored(client, CALL_SID, ended)
        frames = []
        while (frame := watch.receive_json())["type"] != "ended":
            frames.append(frame)
    kinds = [f["type"] for f in frames]
    partials = [f for f in frames if f["type"] == "provisional"]
    assert partials and all(f["speaker"] == "customer" for f in partials), kinds
    assert all("states" in f["result"] for f in partials)
    assert kinds.index("provisional") < len(kinds) - 1 - kinds[::-1].index("turn")  # while the call went on
    assert len(stored["turns"]) == kinds.count("turn")  # partials are shown, never stored
