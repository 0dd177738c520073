from __future__ import annotations

import json
from functools import cache

import numpy as np
import pytest

from empathy_engine.events import AudioChunk, CallEnded, CallStarted, Event, Utterance
from empathy_engine.ingest.audio import decode_mulaw
from empathy_engine.ingest.twilio import TwilioMediaSerializer
from empathy_engine.ingest.wire import WireError
from empathy_engine.perception.turns import AudioTurnTaker, HeardTurn
from empathy_engine.pipeline import Engine
from empathy_engine.results import CustomerTurn
from tests.perception.vads import START_SLACK_S
from tests.replay import CALL_SID, SCRIPT, STREAM_SID, WORDS, Call, encode_mulaw, twilio_messages, two_channel_call

PARAMETERS = {"customer_id": "cust-7", "customer_name": "Dana", "service": "hvac", "handled_by": "human"}


@cache
def _call() -> Call:
    return two_channel_call(SCRIPT)


@cache
def _messages() -> tuple[str, ...]:
    return tuple(twilio_messages(_call(), PARAMETERS))


def _replay(messages: list[str] | tuple[str, ...], serializer: TwilioMediaSerializer | None = None) -> list[Event]:
    serializer = serializer or TwilioMediaSerializer()
    return [event for text in messages for event in serializer.parse(text)]


class ScriptedRecogniser:
    """Says the script's sentences in order: deterministic words for the utterances it is given."""

    def __init__(self, call: Call) -> None:
        self.words = [WORDS[line.name] for line in call.lines]
        self.heard: list[float] = []

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> str:
        self.heard.append(len(samples) / sample_rate)
        return self.words.pop(0)


def _turns(events: list[Event], call: Call) -> list[HeardTurn]:
    taker = AudioTurnTaker(recogniser=ScriptedRecogniser(call))
    turns = [turn for e in events if isinstance(e, AudioChunk) for turn in taker.feed(e)]
    return turns + taker.flush()


def test_twilio_full_call_gives_the_call_its_audio_and_its_end() -> None:
    events = _replay(_messages())
    call = events[0]
    assert isinstance(call, CallStarted) and call.call_id == CALL_SID and call.channel == "voice"
    # The name is PII: masked at the edge, like everything a call carries.
    assert (call.service, call.handled_by, call.customer.id) == ("hvac", "human", "cust-7")
    assert call.customer.name == "[NAME]"
    chunks = [e for e in events if isinstance(e, AudioChunk)]
    assert len(chunks) == len(events) - 2 and isinstance(events[-1], CallEnded)
    customer = np.concatenate([c.samples for c in chunks if c.speaker == "customer"])
    agent = np.concatenate([c.samples for c in chunks if c.speaker == "agent"])
    assert np.array_equal(customer, decode_mulaw(encode_mulaw(_call().customer)))  # inbound is the caller
    assert np.array_equal(agent, decode_mulaw(encode_mulaw(_call().agent)))
    assert [c.t for c in chunks[:4]] == [0.0, 0.0, 0.02, 0.02] and chunks[0].samples.dtype == np.float32
    assert events[-1].t == pytest.approx(_call().duration, abs=0.021)


def test_twilio_serializer_records_marks_and_keys() -> None:
    serializer = TwilioMediaSerializer()
    _replay(_messages(), serializer)
    assert serializer.marks == ["cue-1", "cue-2", "cue-3", "cue-4"]
    assert (serializer.protocol, serializer.version, serializer.stream_sid) == ("Call", "1.0.0", STREAM_SID)
    assert serializer.stream_tracks == ("inbound", "outbound")
    dtmf = {
        "event": "dtmf",
        "streamSid": STREAM_SID,
        "sequenceNumber": "9",
        "dtmf": {"track": "inbound_track", "digit": "1"},
    }
    serializer = TwilioMediaSerializer()
    _replay([*_messages()[:3], json.dumps(dtmf)], serializer)
    assert serializer.digits == ["1"]


def test_twilio_replay_cuts_the_script_into_utterances_with_voice() -> None:
    turns = _turns(_replay(_messages()), _call())
    lines = _call().lines
    assert [t.utterance.speaker for t in turns] == [line.speaker for line in lines]
    for (utterance, voice), line in zip(turns, lines, strict=True):
        assert utterance.text == WORDS[line.name]
        assert utterance.t == pytest.approx(line.t, abs=START_SLACK_S)
        assert utterance.end == pytest.approx(line.end, abs=0.1)
        assert (voice is not None) == (line.speaker == "customer")
    readings = [v for _, v in turns if v is not None]
    assert all(v.speech for v in readings) and [v.baseline_turns for v in readings] == [0, 1, 2, 3]
    assert "raised_voice" in readings[-1].cues  # the last turn is the loud, high, fast rendition


def test_twilio_replay_through_the_engine_gives_insights(engine: Engine) -> None:
    events = _replay(_messages())
    assert isinstance(events[0], CallStarted)
    session = engine.open(events[0])
    results = [session.feed(utterance) for utterance, _ in _turns(events, _call())]
    customer = [r for r in results if isinstance(r, CustomerTurn)]
    assert len(customer) == 4 and len(results) == 6


def test_twilio_inbound_only_stream_and_track_mapping() -> None:
    messages = list(_messages())
    start = json.loads(messages[1])
    start["start"]["tracks"] = ["inbound"]
    messages[1] = json.dumps(start)
    inbound_only = [m for m in messages if '"track": "outbound"' not in m]
    chunks = [e for e in _replay(inbound_only) if isinstance(e, AudioChunk)]
    assert chunks and {c.speaker for c in chunks} == {"customer"}
    # An outbound call where the customer is the one Twilio dialled: the mapping is configurable.
    swapped = TwilioMediaSerializer(tracks={"inbound": "agent", "outbound": "customer"})
    first = [e for e in _replay(_messages()[:4], swapped) if isinstance(e, AudioChunk)]
    assert [c.speaker for c in first] == ["agent", "customer"]
    ignoring = TwilioMediaSerializer(tracks={"inbound": "customer"})
    assert [e.speaker for e in _replay(_messages()[:4], ignoring) if isinstance(e, AudioChunk)] == ["customer"]
    with pytest.raises(ValueError, match="track mapping"):
        TwilioMediaSerializer(tracks={"both": "customer"})


def _media(payload: str = "////", track: str = "inbound", timestamp: str = "0") -> str:
    media = {"track": track, "chunk": "1", "timestamp": timestamp, "payload": payload}
    return json.dumps({"event": "media", "sequenceNumber": "2", "media": media, "streamSid": STREAM_SID})


def _start(**changes: object) -> str:
    start = json.loads(_messages()[1])
    for path, value in changes.items():
        node = start
        *parents, last = path.split("__")
        for key in parents:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return json.dumps(start)


MALFORMED = [
    ("{not json", "not JSON"),
    ("[1, 2]", "JSON object"),
    ('{"sequenceNumber": "3"}', "no 'event' field"),
    ('{"event": "play"}', "unknown event 'play'"),
    (_media(payload="not base64!"), "media.payload is not base64"),
    (_media(track="both"), "unknown media.track 'both'"),
    (_media(timestamp="soon"), "'media.timestamp' must be a number"),
    (json.dumps({"event": "media", "streamSid": STREAM_SID, "media": {"track": "inbound"}}), "missing field"),
    (_media().replace(STREAM_SID, "MZother"), "streamSid 'MZother' is not this connection's stream"),
    (_start(), "a second start"),
    (json.dumps({"event": "mark", "streamSid": STREAM_SID, "mark": {}}), "missing field 'mark.name'"),
]


@pytest.mark.parametrize(("bad", "message"), MALFORMED)
def test_twilio_malformed_frame_is_refused_and_the_call_goes_on(bad: str, message: str) -> None:
    messages = _messages()
    serializer = TwilioMediaSerializer()
    before = _replay(messages[:400], serializer)
    with pytest.raises(WireError, match=message):
        serializer.parse(bad)
    after = _replay(messages[400:], serializer)
    assert len(before) + len(after) == len(_replay(messages))  # nothing accepted was lost, nothing after either
    assert isinstance(after[-1], CallEnded)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start__mediaFormat__encoding": "audio/l16"}, "encoding is 'audio/l16'; this endpoint takes 'audio/x-mulaw'"),
        ({"start__mediaFormat__sampleRate": 16000}, "sampleRate is 16000; this endpoint takes 8000 Hz"),
        ({"start__mediaFormat__channels": 2}, "channels is 2"),
        ({"start__callSid": None}, "missing field 'start.callSid'"),
        ({"start__mediaFormat": None}, "missing field 'start.mediaFormat.encoding'"),
        ({"start__tracks": ["inbound", "both_tracks"]}, "unknown track 'both_tracks'"),
        ({"start__customParameters": {"handled_by": "robot"}}, "'handled_by' is 'robot'; use 'human' or 'bot'"),
        ({"start__customParameters": {"started_at": "Christmas"}}, "'started_at' 'Christmas' is not an ISO 8601"),
    ],
)
def test_twilio_wrong_codec_or_header_is_refused_with_the_fix(changes: dict[str, object], message: str) -> None:
    serializer = TwilioMediaSerializer()
    serializer.parse(_messages()[0])
    with pytest.raises(WireError, match=message):
        serializer.parse(_start(**changes))
    with pytest.raises(WireError, match="'media' before 'start'"):
        serializer.parse(_messages()[2])  # without a start, audio has no call to belong to
    assert isinstance(serializer.parse(_messages()[1])[0], CallStarted)  # a correct start is still taken


def test_twilio_started_at_and_bot_calls_come_from_parameters() -> None:
    events = _replay([_start(start__customParameters={"handled_by": "bot", "started_at": "2025-12-25T07:40:00-05:00"})])
    call = events[0]
    assert isinstance(call, CallStarted) and call.handled_by == "bot"
    assert call.started_at is not None and call.started_at.hour == 7


def test_twilio_abrupt_end_keeps_what_was_heard() -> None:
    call = _call()
    messages = twilio_messages(call, stop=False)
    cut = messages[: len(messages) * 2 // 3]  # the socket drops in the middle of the call
    serializer = TwilioMediaSerializer()
    events = _replay(cut, serializer)
    assert not any(isinstance(e, CallEnded) for e in events)
    end = serializer.end()
    assert len(end) == 1 and isinstance(end[0], CallEnded) and end[0].t == pytest.approx(13.9, abs=0.5)
    assert serializer.end() == []  # once
    turns = _turns([*events, *end], call)
    assert [t.utterance.speaker for t in turns] == ["customer", "agent", "customer", "customer"]
    last = turns[-1].utterance
    assert isinstance(last, Utterance) and last.end is not None and end[0].t is not None
    assert last.end <= end[0].t  # cut where the audio ends


def test_twilio_after_stop_the_stream_is_over() -> None:
    serializer = TwilioMediaSerializer()
    events = _replay(_messages(), serializer)
    assert isinstance(events[-1], CallEnded) and serializer.end() == []
    with pytest.raises(WireError, match="after 'stop'"):
        serializer.parse(_media())
    assert TwilioMediaSerializer().end() == []  # a socket that closed before any start: no call, no end
