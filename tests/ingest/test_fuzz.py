"""Property-based fuzzing of every parser of outside input (hypothesis).

The property is the same for each: whatever arrives, the parser gives a valid result or its own
clear refusal (`InputError`, `ProtocolError`, `WireError`, an AudioHook `disconnect`), never
another exception. Inputs are drawn three ways: arbitrary text or bytes, arbitrary JSON, and
well-formed messages with one field replaced by arbitrary JSON (which reaches the field checks).
A few hundred examples each keep the file to a few seconds.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from empathy_engine.events import Event
from empathy_engine.ingest.audiohook import AudioHookSession
from empathy_engine.ingest.conversation import InputError, Loaded, read_bytes
from empathy_engine.ingest.live import EVENTS, ProtocolError, parse_event
from empathy_engine.ingest.twilio import TwilioMediaSerializer
from empathy_engine.ingest.wire import Received, WireError
from tests.replay import AudioHookClient

FUZZ = settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
#: JSON text as a client could send it, hostile tokens included (json.dumps writes NaN and Infinity).
json_texts = json_values.map(json.dumps) | st.text(max_size=200) | st.sampled_from(
    ["[" * 5000, '{"a": ' + "9" * 5000 + "}", '{"t": 1e400}', '"\\ud800"', '"\\u0000"', "{", "[]", "null"]
)


def _replace(message: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """`message` with the field at `path` replaced by `value` (objects on the way are made)."""
    out = json.loads(json.dumps(message))
    node = out
    for key in path[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            return out
    node[path[-1]] = value
    return out


# --- the conversation reader -----------------------------------------------------------------

GOOD_CONVERSATION = {
    "id": "c1",
    "customer": {"id": "k", "notes": ["n"]},
    "turns": [{"speaker": "customer", "text": "hi"}],
}
CONVERSATION_FIELDS = [["id"], ["turns"], ["customer"], ["customer", "notes"], ["started_at"], ["recording"]]


def _read_only_results(data: bytes, jsonl: bool) -> None:
    for item in read_bytes(data, "fuzz.json", None, jsonl=jsonl):
        assert isinstance(item, Loaded | InputError)
        if isinstance(item, Loaded):
            assert item.events()  # a conversation that was accepted becomes events without failing


@FUZZ
@given(st.binary(max_size=300), st.booleans())
def test_conversation_reader_survives_any_bytes(data: bytes, jsonl: bool) -> None:
    _read_only_results(data, jsonl)


@FUZZ
@given(json_texts, st.booleans())
def test_conversation_reader_survives_any_json(text: str, jsonl: bool) -> None:
    _read_only_results(text.encode("utf-8", "surrogatepass"), jsonl)


@FUZZ
@given(st.sampled_from(CONVERSATION_FIELDS), json_values)
def test_conversation_reader_survives_any_field_value(path: list[str], value: Any) -> None:
    _read_only_results(json.dumps(_replace(GOOD_CONVERSATION, path, value)).encode(), False)


# --- the live stream protocol ----------------------------------------------------------------

GOOD_EVENTS = {
    "start": {"type": "start", "call": {"service": "hvac", "customer": {"id": "c", "prior_contacts": []}}},
    "utterance": {"type": "utterance", "speaker": "customer", "text": "hello", "t": 1.0, "turn": 0},
    "end": {"type": "end", "t": 3.0},
    "resume": {"type": "resume"},
}
EVENT_FIELDS = [["call"], ["call", "customer"], ["call", "started_at"], ["speaker"], ["text"], ["t"], ["turn"]]


def _parse_only_results(text: str) -> None:
    try:
        event = parse_event(text, 1 << 16)
    except ProtocolError as refused:
        assert refused.code and refused.message
        return
    assert isinstance(event, tuple(EVENTS.values()))


@FUZZ
@given(json_texts)
def test_stream_protocol_survives_any_frame(text: str) -> None:
    _parse_only_results(text)


@FUZZ
@given(st.sampled_from(sorted(GOOD_EVENTS)), st.sampled_from(EVENT_FIELDS), json_values)
def test_stream_protocol_survives_any_field_value(kind: str, path: list[str], value: Any) -> None:
    _parse_only_results(json.dumps(_replace(GOOD_EVENTS[kind], path, value)))


# --- telephony frames ------------------------------------------------------------------------

TWILIO_START = {
    "event": "start",
    "streamSid": "MZ1",
    "start": {
        "callSid": "CA1",
        "streamSid": "MZ1",
        "tracks": ["inbound"],
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        "customParameters": {"customer_id": "c-1", "started_at": "2025-01-01T10:00:00Z"},
    },
}
TWILIO_MEDIA = {
    "event": "media",
    "streamSid": "MZ1",
    "media": {"track": "inbound", "timestamp": "20", "payload": "//8="},
}
TWILIO_FIELDS = [["start", "callSid"], ["start", "mediaFormat"], ["start", "customParameters"], ["start", "tracks"]]
MEDIA_FIELDS = [["media", "payload"], ["media", "track"], ["media", "timestamp"], ["streamSid"], ["event"]]


def _twilio_only_results(serializer: TwilioMediaSerializer, text: str) -> None:
    received = serializer.receive_text(text)
    assert isinstance(received, Received)
    assert received.problem is None or isinstance(received.problem, WireError)
    assert all(isinstance(e, Event) for e in received.events)


@FUZZ
@given(json_texts)
def test_twilio_survives_any_frame(text: str) -> None:
    _twilio_only_results(TwilioMediaSerializer(), text)


@FUZZ
@given(st.sampled_from(TWILIO_FIELDS), json_values, st.sampled_from(MEDIA_FIELDS), json_values)
def test_twilio_survives_any_field_value(start_path: list[str], start_value: Any, path: list[str], value: Any) -> None:
    serializer = TwilioMediaSerializer()
    _twilio_only_results(serializer, json.dumps(_replace(TWILIO_START, start_path, start_value)))
    started = TwilioMediaSerializer()
    started.receive_text(json.dumps(TWILIO_START))
    _twilio_only_results(started, json.dumps(_replace(TWILIO_MEDIA, path, value)))
    assert all(isinstance(e, Event) for e in started.end())


OPEN_FIELDS = [["conversationId"], ["media"], ["customConfig"], ["inputVariables"], ["language"]]


def _audiohook_only_results(session: AudioHookSession, frame: str | bytes) -> None:
    received = session.receive_binary(frame) if isinstance(frame, bytes) else session.receive_text(frame)
    assert isinstance(received, Received)
    assert all(r["type"] in {"opened", "pong", "closed", "disconnect", "resumed", "paused"} for r in received.replies)
    if received.problem is not None:
        assert isinstance(received.problem, WireError)


@FUZZ
@given(json_texts, st.binary(max_size=64))
def test_audiohook_survives_any_frame(text: str, audio: bytes) -> None:
    session = AudioHookSession()
    _audiohook_only_results(session, text)
    _audiohook_only_results(session, audio)


@FUZZ
@given(st.sampled_from(OPEN_FIELDS), json_values, st.binary(max_size=64))
def test_audiohook_survives_any_open_parameter(path: list[str], value: Any, audio: bytes) -> None:
    client = AudioHookClient()
    media = [{"type": "audio", "format": "PCMU", "channels": ["external", "internal"], "rate": 8000}]
    parameters = _replace({"conversationId": "3f2c6a8e-1b1a-4c1e-9d7a-8a7f5b1c2d3e", "media": media}, path, value)
    session = AudioHookSession()
    _audiohook_only_results(session, client.message("open", parameters))
    _audiohook_only_results(session, audio)
    _audiohook_only_results(session, client.message("ping", {"rtt": value}))
    assert all(isinstance(e, Event) for e in session.end())
