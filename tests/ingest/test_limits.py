"""Hostile JSON and call ids on every reader of outside input: a clear refusal, never a crash.

Each attack of issue 12 is run against each parser that reads it: the conversation reader
(`analyze`, `audit`), the live stream protocol and both telephony serializers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from empathy_engine.events import CallStarted
from empathy_engine.ingest.audiohook import AudioHookSession
from empathy_engine.ingest.conversation import InputError, Loaded, read_bytes, read_inputs
from empathy_engine.ingest.limits import MAX_DEPTH, JsonLimitError, is_call_id, load_json
from empathy_engine.ingest.live import ProtocolError, parse_event
from empathy_engine.ingest.twilio import TwilioMediaSerializer
from empathy_engine.ingest.wire import WireError
from tests.conftest import conversation
from tests.replay import AudioHookClient

DEEP_50K = "[" * 50_000 + "]" * 50_000
DIGITS_5000 = "9" * 5_000
HOSTILE_VALUES = {  # JSON text of a value, and what the refusal says
    "deep": (DEEP_50K, "nested too deeply"),
    "digits": (DIGITS_5000, "5000 digits"),
    "float_digits": ("0." + "1" * 5_000, "characters"),
    "huge_float": ("1e400", "too large for a 64-bit float"),
    "nan": ("NaN", "NaN is not a JSON number"),
    "infinity": ("Infinity", "Infinity is not a JSON number"),
    "minus_infinity": ("-Infinity", "-Infinity is not a JSON number"),
    "nul": ('"a\\u0000b"', "NUL character"),
    "lone_surrogate": ('"\\ud800"', "unpaired UTF-16 surrogate"),
}
BAD_CALL_IDS = ["../../etc/passwd", "a/b", "-leading-dash", "x" * 201, "call\n", "call 1", "caf\u00e9", ".."]


@pytest.mark.parametrize("name", HOSTILE_VALUES)
def test_load_json_refuses_each_attack_with_its_reason(name: str) -> None:
    text, reason = HOSTILE_VALUES[name]
    with pytest.raises(JsonLimitError, match=reason):
        load_json('{"value": ' + text + "}")


def test_load_json_limits_depth_just_above_what_documents_need() -> None:
    assert load_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(JsonLimitError, match="at most 64 levels"):
        load_json("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    with pytest.raises(JsonLimitError, match="NUL"):
        load_json('{"key\\u0000": 1}')  # keys are strings too


def test_load_json_keeps_ordinary_values_exact() -> None:
    doc = '{"n": -12, "f": 2.5e-3, "big": 12345678901234567890, "s": "caf\\u00e9 \\ud83d\\ude00", "z": null}'
    assert load_json(doc) == {"n": -12, "f": 0.0025, "big": 12345678901234567890, "s": "café 😀", "z": None}


# --- conversation files (analyze, audit) -----------------------------------------------------


@pytest.mark.parametrize("name", HOSTILE_VALUES)
def test_conversation_reader_refuses_attacks_in_json_and_jsonl_and_keeps_the_good_ones(name: str) -> None:
    text, reason = HOSTILE_VALUES[name]
    good = json.dumps(conversation(("customer", "My heating is off.")))
    bad = '{"id": "bad", "turns": [{"speaker": "customer", "text": "hi", "t": ' + text + "}]}"
    single = list(read_bytes(bad.encode(), "bad.json", None, jsonl=False))
    assert len(single) == 1 and isinstance(single[0], InputError) and reason in single[0].message
    lines = list(read_bytes(f"{good}\n{bad}\n{good}\n".encode(), "calls.jsonl", None, jsonl=True))
    assert [type(item) for item in lines] == [Loaded, InputError, Loaded]
    assert lines[1].where == "calls.jsonl:2" and reason in str(lines[1])


def test_conversation_ids_obey_the_call_id_rule(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    rows = [conversation(("customer", "hello"), id=i) for i in ("../../etc/passwd", "ok-1", "a b")]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    items = list(read_inputs([path]))
    assert [type(i) for i in items] == [InputError, Loaded, InputError]
    assert "field id:" in str(items[0]) and "a call id is 1-200 letters" in str(items[0])


# --- the live stream protocol ----------------------------------------------------------------


@pytest.mark.parametrize("name", HOSTILE_VALUES)
def test_stream_protocol_refuses_attacks_with_invalid_json(name: str) -> None:
    text, reason = HOSTILE_VALUES[name]
    frame = '{"type": "utterance", "speaker": "customer", "text": "hi", "t": ' + text + "}"
    with pytest.raises(ProtocolError) as refused:
        parse_event(frame, 1 << 20)
    assert refused.value.code == "invalid_json" and reason in refused.value.message


# --- telephony frames ------------------------------------------------------------------------


@pytest.mark.parametrize("name", HOSTILE_VALUES)
def test_twilio_frames_refuse_attacks_and_the_stream_goes_on(name: str) -> None:
    text, reason = HOSTILE_VALUES[name]
    serializer = TwilioMediaSerializer()
    received = serializer.receive_text('{"event": "connected", "protocol": "Call", "x": ' + text + "}")
    assert isinstance(received.problem, WireError) and reason in str(received.problem)
    assert serializer.receive_text(_twilio_start("CA0123")).events[0].call_id == "CA0123"  # still usable


@pytest.mark.parametrize("name", HOSTILE_VALUES)
def test_audiohook_frames_refuse_attacks_with_a_disconnect(name: str) -> None:
    text, reason = HOSTILE_VALUES[name]
    session = AudioHookSession()
    received = session.receive_text('{"version": "2", "type": "open", "id": "s", "extra": ' + text + "}")
    assert [r["type"] for r in received.replies] == ["disconnect"]
    assert reason in received.replies[0]["parameters"]["info"]


@pytest.mark.parametrize("call_id", BAD_CALL_IDS)
def test_every_source_applies_the_one_call_id_rule(call_id: str) -> None:
    assert not is_call_id(call_id)
    received = TwilioMediaSerializer().receive_text(_twilio_start(call_id))
    assert received.events == [] and received.problem is not None and "a call id is 1-200" in str(received.problem)
    client = AudioHookClient()
    media = [{"type": "audio", "format": "PCMU", "channels": ["external"], "rate": 8000}]
    opened = AudioHookSession().receive_text(client.message("open", {"conversationId": call_id, "media": media}))
    assert opened.events == [] and [r["type"] for r in opened.replies] == ["disconnect"]
    assert "a call id is 1-200" in opened.replies[0]["parameters"]["info"]


def test_good_call_ids_pass_everywhere() -> None:
    for call_id in ("CA0123456789abcdef0123456789abcdef", "3f2c6a8e-1b1a-4c1e-9d7a-8a7f5b1c2d3e", "a", "x.y:z@w_v-1"):
        assert is_call_id(call_id)
        events = TwilioMediaSerializer().receive_text(_twilio_start(call_id)).events
        assert isinstance(events[0], CallStarted) and events[0].call_id == call_id


def _twilio_start(call_sid: str) -> str:
    media = {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}
    start = {"streamSid": "MZ1", "callSid": call_sid, "tracks": ["inbound"], "mediaFormat": media}
    return json.dumps({"event": "start", "start": start, "streamSid": "MZ1"})
