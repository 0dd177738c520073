from __future__ import annotations

import json
from functools import cache
from typing import Any

import numpy as np
import pytest

from empathy_engine.events import AudioChunk, CallEnded, CallStarted, Event
from empathy_engine.ingest.audio import decode_mulaw
from empathy_engine.ingest.audiohook import NULL_UUID, AudioHookSession
from empathy_engine.ingest.wire import WireError
from empathy_engine.perception.turns import AudioTurnTaker
from empathy_engine.pipeline import Engine
from empathy_engine.results import CustomerTurn
from tests.perception.vads import START_SLACK_S
from tests.replay import (
    CONVERSATION_ID,
    SCRIPT,
    SESSION_ID,
    WORDS,
    AudioHookClient,
    Call,
    audiohook_messages,
    encode_mulaw,
    two_channel_call,
)

Replies = list[dict[str, Any]]


@cache
def _call() -> Call:
    return two_channel_call(SCRIPT)


@cache
def _messages() -> tuple[str | bytes, ...]:
    return tuple(audiohook_messages(_call()))


def _replay(
    messages: list[str | bytes] | tuple[str | bytes, ...], session: AudioHookSession
) -> tuple[Replies, list[Event]]:
    replies: Replies = []
    events: list[Event] = []
    for m in messages:
        if isinstance(m, bytes):
            events += session.on_binary(m)
        else:
            r, e = session.on_text(m)
            replies += r
            events += e
    return replies, events


class ScriptedRecogniser:
    def __init__(self, call: Call) -> None:
        self.words = [WORDS[line.name] for line in call.lines]

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> str:
        return self.words.pop(0)


def test_audiohook_full_session_answers_in_sequence() -> None:
    session = AudioHookSession()
    replies, events = _replay(_messages(), session)
    assert [r["type"] for r in replies] == ["opened", "pong", "pong", "pong", "pong", "closed"]
    assert [r["seq"] for r in replies] == [1, 2, 3, 4, 5, 6]  # the server's own sequence
    assert [r["clientseq"] for r in replies] == [1, 2, 3, 4, 5, 6]  # the client message each one answers
    assert all(r["version"] == "2" and r["id"] == SESSION_ID for r in replies)
    opened = replies[0]["parameters"]["media"]
    assert opened == [{"type": "audio", "format": "PCMU", "channels": ["external", "internal"], "rate": 8000}]
    assert session.state == "closed" and session.close_reason == "end" and session.language == "en-US"
    assert session.failed is None


def test_audiohook_full_session_gives_the_call_its_audio_and_its_end() -> None:
    _, events = _replay(_messages(), AudioHookSession())
    call = events[0]
    assert isinstance(call, CallStarted) and call.call_id == CONVERSATION_ID and call.channel == "voice"
    assert (call.customer.id, call.service) == ("cust-7", "hvac")
    chunks = [e for e in events if isinstance(e, AudioChunk)]
    customer = np.concatenate([c.samples for c in chunks if c.speaker == "customer"])
    agent = np.concatenate([c.samples for c in chunks if c.speaker == "agent"])
    assert np.array_equal(customer, decode_mulaw(encode_mulaw(_call().customer)))  # external is the customer
    assert np.array_equal(agent, decode_mulaw(encode_mulaw(_call().agent)))
    assert [c.t for c in chunks[:4]] == [0.0, 0.0, 0.1, 0.1]
    assert isinstance(events[-1], CallEnded) and events[-1].t == pytest.approx(_call().duration, abs=0.01)


def test_audiohook_replay_cuts_utterances_with_voice_and_insights(engine: Engine) -> None:
    _, events = _replay(_messages(), AudioHookSession())
    taker = AudioTurnTaker(recogniser=ScriptedRecogniser(_call()))
    turns = [turn for e in events if isinstance(e, AudioChunk) for turn in taker.feed(e)] + taker.flush()
    lines = _call().lines
    assert [(u.speaker, u.text) for u, _ in turns] == [(line.speaker, WORDS[line.name]) for line in lines]
    for (u, voice), line in zip(turns, lines, strict=True):
        assert u.t == pytest.approx(line.t, abs=START_SLACK_S) and u.end == pytest.approx(line.end, abs=0.1)
        assert (voice is not None and voice.speech) == (line.speaker == "customer")
    assert isinstance(events[0], CallStarted)
    session = engine.open(events[0])
    results = [session.feed(u) for u, _ in turns]
    assert sum(isinstance(r, CustomerTurn) for r in results) == 4


def test_audiohook_external_channel_only() -> None:
    client = AudioHookClient()
    mono = [{"type": "audio", "format": "PCMU", "channels": ["external"], "rate": 8000}]
    session = AudioHookSession()
    replies, _ = session.on_text(client.open(media=mono))
    assert replies[0]["parameters"]["media"] == mono
    events = session.on_binary(client.frame(_call().customer[:800]))
    assert [e.speaker for e in events if isinstance(e, AudioChunk)] == ["customer"]


@pytest.mark.parametrize(
    "offers",
    [
        [{"type": "audio", "format": "L16", "channels": ["external", "internal"], "rate": 8000}],
        [{"type": "audio", "format": "PCMU", "channels": ["external", "internal"], "rate": 16000}],
        [{"type": "audio", "format": "PCMU", "channels": ["internal"], "rate": 8000}],
        [],
    ],
)
def test_audiohook_no_pcmu_offer_is_refused_with_disconnect(offers: list[dict[str, Any]]) -> None:
    client = AudioHookClient()
    session = AudioHookSession()
    replies, events = session.on_text(client.open(media=offers))
    assert events == [] and len(replies) == 1
    reply = replies[0]
    assert (reply["type"], reply["seq"], reply["clientseq"]) == ("disconnect", 1, 1)
    assert reply["parameters"]["reason"] == "error"
    assert (
        "no acceptable media offered" in reply["parameters"]["info"]
        and "PCMU at 8000 Hz" in reply["parameters"]["info"]
    )
    with pytest.raises(WireError, match="before 'open'"):
        session.on_binary(client.frame(np.zeros(160, np.float32), np.zeros(160, np.float32)))
    replies, events = session.on_text(client.message("close", {"reason": "disconnect"}))
    assert [r["type"] for r in replies] == ["closed"] and replies[0]["seq"] == 2 and events == []


def test_audiohook_binary_errors_keep_the_session() -> None:
    client = AudioHookClient()
    session = AudioHookSession()
    with pytest.raises(WireError, match="audio frame before 'open'"):
        session.on_binary(b"\xff" * 320)
    replies, events = session.on_text(client.open())
    assert replies[0]["type"] == "opened" and isinstance(events[0], CallStarted)
    good = client.frame(_call().customer[4000:4800], _call().agent[4000:4800])
    first = session.on_binary(good)
    with pytest.raises(WireError, match="321 bytes does not hold whole samples for 2 channels"):
        session.on_binary(b"\xff" * 321)
    disconnect = session.fail(WireError("odd frame"))
    assert [(d["type"], d["seq"], d["clientseq"], d["parameters"]) for d in disconnect] == [
        ("disconnect", 2, 1, {"reason": "error", "info": "odd frame"})
    ]
    assert session.fail("again") == []  # answered once; the client is closing
    second = session.on_binary(good)
    assert [c.t for c in first + second if isinstance(c, AudioChunk)] == [
        0.0,
        0.0,
        0.1,
        0.1,
    ]  # the bad frame took no time
    replies, events = session.on_text(client.message("close", {"reason": "disconnect"}))
    assert [(r["type"], r["seq"], r["clientseq"]) for r in replies] == [("closed", 3, 2)]
    assert len(events) == 1 and isinstance(events[0], CallEnded) and events[0].t == pytest.approx(0.2)


def _opened() -> tuple[AudioHookClient, AudioHookSession]:
    client, session = AudioHookClient(), AudioHookSession()
    session.on_text(client.open())
    return client, session


def _bad_messages(client: AudioHookClient) -> list[tuple[str, str]]:
    ok = json.loads(client.message("ping", {}))
    client.seq -= 1  # the templates reuse the next seq
    return [
        ("{", "not JSON"),
        (json.dumps(ok | {"version": "1"}), "version '1'; this server speaks AudioHook protocol version '2'"),
        (json.dumps(ok | {"type": "dance"}), "unknown message type 'dance'"),
        (json.dumps(ok | {"seq": ok["seq"] + 3}), "seq 5 after 1; client seq must go up by one"),
        (json.dumps(ok | {"id": "2f1b1f1e-0000-4000-8000-000000000000"}), "is not this session's id"),
        (json.dumps(ok | {"position": "12s"}), "'position' is '12s'"),
        (json.dumps(ok | {"serverseq": 9}), "serverseq 9 is ahead of the last server seq 1"),
        (json.dumps({k: v for k, v in ok.items() if k != "parameters"}), "missing field 'parameters'"),
    ]


@pytest.mark.parametrize("case", range(8))
def test_audiohook_client_mistakes_get_a_disconnect_that_names_them(case: int) -> None:
    client, session = _opened()
    text, info = _bad_messages(client)[case]
    replies, events = session.on_text(text)
    assert events == [] and [r["type"] for r in replies] == ["disconnect"]
    assert replies[0]["seq"] == 2 and replies[0]["parameters"]["reason"] == "error"
    assert info in replies[0]["parameters"]["info"]
    assert session.state == "active" and isinstance(session.call, CallStarted)  # what was accepted stays


def test_audiohook_ping_pause_resume_and_gaps() -> None:
    client, session = _opened()
    replies, _ = session.on_text(client.message("ping", {"rtt": "PT0.2S"}))
    assert [(r["type"], r["seq"], r["clientseq"]) for r in replies] == [("pong", 2, 2)]
    x = _call().customer[4000:4800]
    session.on_binary(client.frame(x, x))
    assert session.on_text(client.message("paused", {}, replies=0)) == ([], []) and session.state == "paused"
    with pytest.raises(WireError, match="while paused"):
        session.on_binary(client.frame(x, x))
    client.samples -= len(x)
    session.on_text(client.message("resumed", {"start": "PT0.1S", "discarded": "PT2.5S"}, replies=0))
    chunks = session.on_binary(client.frame(x, x))
    assert session.state == "active" and chunks[0].t == pytest.approx(2.6)  # the paused audio never comes
    session.on_text(client.message("discarded", {"start": "PT2.7S", "discarded": "PT0.4S"}, replies=0))
    assert session.on_binary(client.frame(x, x))[0].t == pytest.approx(3.1)
    session.on_text(client.message("update", {"language": "es-US"}, replies=0))
    session.on_text(client.message("error", {"code": 429, "message": "slow down"}, replies=0))
    assert session.language == "es-US" and session.client_errors == ["429: slow down"] and session.failed is None


def test_audiohook_probe_opens_without_a_call() -> None:
    client, session = AudioHookClient(), AudioHookSession(session_id=SESSION_ID)
    replies, events = session.on_text(client.message("ping", {}))  # a ping may come first
    assert replies[0]["type"] == "pong" and events == []
    replies, events = session.on_text(client.open(conversationId=NULL_UUID))
    assert [r["type"] for r in replies] == ["opened"] and events == [] and session.probe
    replies, events = session.on_text(client.message("close", {"reason": "end"}))
    assert [r["type"] for r in replies] == ["closed"] and events == []


def test_audiohook_abrupt_end_and_header_id() -> None:
    messages = audiohook_messages(_call(), close=False)
    session = AudioHookSession(session_id="6c1c3a4e-0000-4000-8000-000000000001")
    replies, events = _replay(messages[:1], session)
    assert replies[0]["type"] == "disconnect" and "not this session's id" in replies[0]["parameters"]["info"]
    session = AudioHookSession(session_id=SESSION_ID)
    _, events = _replay(messages[: len(messages) // 2], session)
    assert not any(isinstance(e, CallEnded) for e in events)
    end = session.end()
    assert isinstance(end[0], CallEnded) and end[0].t == pytest.approx(_call().duration / 2, abs=0.3)
    assert session.end() == []
    assert AudioHookSession().end() == []
