from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from empathy_engine.coaching.phrases import words_of
from empathy_engine.events import AudioChunk, Speaker
from empathy_engine.perception.prosody import ProsodyPerceiver
from empathy_engine.perception.speech import chosen_recogniser
from empathy_engine.perception.turns import (
    PARTIAL_EVERY_S,
    AudioTurnTaker,
    HeardTurn,
    SilentRecogniser,
    TurnSettings,
)
from empathy_engine.perception.vad import Closed, Dropped, Opened, SpeechSegmenter
from tests.perception.vads import RULES, START_SLACK_S
from tests.replay import RATE, SCRIPT, WORDS, Call, fixture, two_channel_call


class LengthRecogniser:
    """Deterministic words: the utterance's length, so tests can see which audio was recognised."""

    def __init__(self) -> None:
        self.calls = 0

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> str:
        self.calls += 1
        return f"words for {len(samples) / sample_rate:.1f} seconds"


@cache
def _call() -> Call:
    return two_channel_call(SCRIPT)


def _chunks(call: Call, size: int = 160, until: float | None = None) -> list[AudioChunk]:
    stop = len(call.customer) if until is None else int(until * RATE)
    speakers: tuple[Speaker, Speaker] = ("customer", "agent")
    return [
        AudioChunk(speaker, x[i : i + size], i / RATE)
        for i in range(0, stop, size)
        for speaker, x in zip(speakers, (call.customer, call.agent), strict=True)
    ]


def _run(taker: AudioTurnTaker, chunks: list[AudioChunk], flush: bool = True) -> list[HeardTurn]:
    out = [turn for chunk in chunks for turn in taker.feed(chunk)]
    return out + (taker.flush() if flush else [])


def _spans(turns: list[HeardTurn]) -> list[tuple[str, float | None, float | None]]:
    return [(u.speaker, u.t, u.end) for u, _ in turns]


@pytest.mark.parametrize("vad", RULES)
def test_segmenter_finds_each_sentence_and_drops_clicks(vad: str) -> None:
    x = np.zeros(5 * RATE, np.float32)
    x[RATE : RATE + len(fixture("fine_flat"))] = fixture("fine_flat")  # "Okay. ... I guess it is fine." (0.54 s pause)
    x[int(4.6 * RATE) : int(4.6 * RATE) + 80] = 0.5  # a click: 10 ms, after the turn
    segmenter = SpeechSegmenter(vad=vad)
    events = segmenter.push(x) + segmenter.close()
    closed = [e for e in events if isinstance(e, Closed)]
    assert len(closed) == 1 and sum(isinstance(e, Opened) for e in events) == 1  # the pause is inside the turn
    assert closed[0].speech_start / RATE == pytest.approx(1.0, abs=START_SLACK_S)
    assert closed[0].speech_end / RATE == pytest.approx(1 + len(fixture("fine_flat")) / RATE, abs=0.1)
    assert not any(isinstance(e, Dropped) for e in events)  # one frame is not an onset
    x[int(4.6 * RATE) : int(4.6 * RATE) + 640] = 0.5  # 80 ms of a loud step
    segmenter = SpeechSegmenter(vad=vad)
    events = segmenter.push(x) + segmenter.close()
    if vad == "energy":
        assert isinstance(events[-1], Dropped)  # loud enough for an onset, too little speech to count
    else:
        assert sum(isinstance(e, Opened) for e in events) == 1  # Silero hears no speech in it at all


@pytest.mark.parametrize("vad", RULES)
def test_segmenter_cuts_long_speech_and_follows_line_noise(vad: str) -> None:
    rng = np.random.default_rng(0)
    talk = np.tile(fixture("rate_fast")[: int(1.9 * RATE)], 6)  # ~11 s without a pause
    segmenter = SpeechSegmenter(TurnSettings(max_turn_s=5.0), vad=vad)
    closed = [e for e in segmenter.push(talk) + segmenter.close() if isinstance(e, Closed)]
    assert len(closed) == 3 and all((c.speech_end - c.speech_start) / RATE <= 5.0 for c in closed)
    hum = (0.02 * rng.standard_normal(20 * RATE)).astype(np.float32)  # a steady -34 dBFS hiss, no speech
    segmenter = SpeechSegmenter(vad=vad)
    closed = [e for e in segmenter.push(hum) + segmenter.close() if isinstance(e, Closed)]
    if vad == "energy":
        assert sum(c.speech_s for c in closed) <= 5.0  # the noise floor learns the hiss once it fills its window
    else:
        assert closed == []  # Silero never takes it for speech


def test_turns_follow_the_script_whatever_the_chunk_size() -> None:
    spans = []
    for size in (160, 800, 1234):
        turns = _run(AudioTurnTaker(recogniser=LengthRecogniser()), _chunks(_call(), size))
        spans.append(_spans(turns))
        assert [s for s, _, _ in spans[-1]] == [line.speaker for line in _call().lines]
    assert spans[0] == spans[1] == spans[2]
    for (_, t, end), line in zip(spans[0], _call().lines, strict=True):
        assert t == pytest.approx(line.t, abs=START_SLACK_S) and end == pytest.approx(line.end, abs=0.1)


def test_turns_customer_voice_readings_track_the_baseline() -> None:
    turns = _run(AudioTurnTaker(recogniser=LengthRecogniser()), _chunks(_call()))
    readings = [v for u, v in turns if u.speaker == "customer"]
    assert all(v is not None and v.speech for v in readings)
    assert [v.baseline_turns for v in readings if v] == [0, 1, 2, 3]
    last = readings[-1]
    assert last is not None and "raised_voice" in last.cues and last.arousal > 0.8
    assert all(v is None for u, v in turns if u.speaker == "agent")
    assert all(v is not None and v.features.overtalk_s == 0 for v in readings)  # the script never overlaps


def test_turns_overtalk_is_heard_on_the_customer_turn() -> None:
    # The agent cuts in 1.5 s into the customer's sentence.
    call = two_channel_call([("customer", "base_1", 0.5), ("agent", "agent_1", 2.0)])
    turns = _run(AudioTurnTaker(recogniser=LengthRecogniser()), _chunks(call))
    voice = next(v for u, v in turns if u.speaker == "customer")
    assert voice is not None and voice.features.overtalk_s > 0.5 and "overtalk" in voice.cues


def test_turns_partial_reading_while_the_customer_speaks() -> None:
    taker = AudioTurnTaker(recogniser=LengthRecogniser())
    _run(taker, _chunks(_call(), until=2.0), flush=False)
    partial = taker.partial()
    assert partial is not None and partial.features.speech_s > 1.0
    _run(taker, [c for c in _chunks(_call()) if 2.0 <= c.t < 4.0], flush=False)
    assert taker.partial() is None  # between turns



class SpareLengthRecogniser(LengthRecogniser):
    spare = True


def test_turns_partial_transcripts_grow_with_the_open_utterance_and_stop_at_its_end() -> None:
    taker = AudioTurnTaker(recogniser=SpareLengthRecogniser())
    due = []
    for chunk in _chunks(_call(), until=2.5):
        taker.feed(chunk)
        if (partial := taker.partial_due()) is not None:
            due.append(partial)
    assert len(due) == 1 and len(due[0].audio) >= PARTIAL_EVERY_S * RATE and taker.still_open(due[0])
    assert taker.partial_words(due[0]).startswith("words for 1.")
    _run(taker, [c for c in _chunks(_call()) if 2.5 <= c.t < 4.0], flush=False)
    assert not taker.still_open(due[0]) and taker.partial_due() is None  # ended: the final words come instead
    busy = AudioTurnTaker(recogniser=LengthRecogniser())  # no `spare`: never asked for partials
    platform = AudioTurnTaker(recogniser=SpareLengthRecogniser(), expect_transcripts=True)  # its own come
    for taker in (busy, platform):
        _run(taker, _chunks(_call(), until=2.5), flush=False)
        assert taker.partial_due() is None

def test_turns_gap_in_the_stream_is_silence() -> None:
    chunks = [c for c in _chunks(_call()) if not 2.0 <= c.t < 5.0]  # three seconds never arrive (a pause)
    turns = _run(AudioTurnTaker(recogniser=LengthRecogniser()), chunks)
    first, second = turns[0].utterance, turns[1].utterance
    assert first.speaker == "customer" and first.t == pytest.approx(0.5, abs=START_SLACK_S)
    assert first.end is not None and first.end <= 2.04  # the gap ended it: within a frame (20 or 32 ms) of 2.0 s
    assert second.speaker == "agent" and second.t == pytest.approx(5.0, abs=START_SLACK_S)  # on the call's clock


def test_turns_abrupt_end_flushes_the_open_utterance() -> None:
    taker = AudioTurnTaker(recogniser=LengthRecogniser())
    turns = _run(taker, _chunks(_call(), until=9.5), flush=False)
    assert _spans(turns)[-1][0] == "agent"
    last = taker.flush()
    assert len(last) == 1 and last[0].utterance.speaker == "customer"
    assert last[0].utterance.t == pytest.approx(8.1, abs=START_SLACK_S)
    assert last[0].voice is not None and taker.flush() == []


def test_turns_silent_recogniser_drops_wordless_utterances() -> None:
    taker = AudioTurnTaker(recogniser=SilentRecogniser())
    assert _run(taker, _chunks(_call(), until=8.0)) == []
    assert taker.voice.baseline.turns == 1  # the customer's voice was still learned


# -- platform transcripts -------------------------------------------------------------------------


def test_transcript_offered_during_the_utterance_wins() -> None:
    recogniser = LengthRecogniser()
    taker = AudioTurnTaker(recogniser=recogniser)
    turns = _run(taker, _chunks(_call(), until=1.5), flush=False)
    turns += taker.offer_transcript("customer", WORDS["base_1"], 0.55, 3.2)
    turns += _run(taker, [c for c in _chunks(_call(), until=8.0) if c.t >= 1.5])
    assert [u.text for u, _ in turns] == [WORDS["base_1"], "words for 3.4 seconds"]
    assert recogniser.calls == 1 and turns[0].voice is not None


def test_transcript_arriving_late_is_waited_for_and_orders_are_kept() -> None:
    recogniser = LengthRecogniser()
    taker = AudioTurnTaker(recogniser=recogniser, expect_transcripts=True)
    chunks = _chunks(_call(), until=12.0)
    # The platform's customer transcript for 0.5-3.28 s arrives when the call is at 4.5 s.
    early = _run(taker, [c for c in chunks if c.t < 4.5], flush=False)
    assert early == []  # waiting for the words
    early += taker.offer_transcript("customer", "hi I'm calling about the furnace", 0.5, 3.3)
    assert [u.text for u, _ in early] == ["hi I'm calling about the furnace"]
    # The agent's words never come: recognised after the wait; the next customer turn waits behind nothing.
    later = _run(taker, [c for c in chunks if c.t >= 4.5], flush=False)
    assert [u.speaker for u, _ in later] == ["agent"] and later[0].utterance.text == "words for 3.4 seconds"
    later += taker.offer_transcript("customer", "it started making a noise", 8.0, 10.8)
    assert later[-1].utterance.text == "it started making a noise" and later[-1].voice is not None
    assert recogniser.calls == 1


def test_transcript_spanning_two_utterances_goes_to_the_first() -> None:
    taker = AudioTurnTaker(recogniser=LengthRecogniser(), expect_transcripts=True)
    taker.offer_transcript("customer", "one long platform segment", 8.1, 14.1)
    turns = _run(taker, [c for c in _chunks(_call()) if 7.5 <= c.t < 15.0])
    assert [(u.speaker, u.text) for u, _ in turns] == [("customer", "one long platform segment")]
    assert turns[0].utterance.t == pytest.approx(8.1, abs=START_SLACK_S)


def test_transcript_without_audio_becomes_its_own_utterance_and_late_ones_are_counted() -> None:
    taker = AudioTurnTaker(recogniser=LengthRecogniser())
    turns = _run(taker, _chunks(_call(), until=8.0), flush=False)
    assert [u.text for u, _ in turns] == ["words for 3.2 seconds", "words for 3.4 seconds"]
    taker.offer_transcript("agent", "I'm sorry", 4.3, 7.0)  # its utterance went out 0.7 s after 7.18
    assert taker.late_transcripts == 1
    alone = taker.offer_transcript("customer", "hello?", 7.5)  # nothing was heard then (a point in time)
    alone += _run(taker, [c for c in _chunks(_call(), until=10.2) if c.t >= 8.0], flush=False)
    assert [(u.speaker, u.text, u.t, v) for u, v in alone] == [("customer", "hello?", 7.5, None)]
    with pytest.raises(ValueError, match="transcript speaker"):
        taker.offer_transcript("supervisor", "hi", 1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("recogniser", ["pocketsphinx", "auto"])
def test_turns_with_a_real_recogniser(recogniser: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPATHY_RECOGNISER", recogniser)  # auto: Whisper with the speech extra
    call = two_channel_call([("customer", "base_1", 0.3), ("agent", "agent_1", 3.9)])
    taker = AudioTurnTaker(chosen_recogniser(), voice=ProsodyPerceiver().new_call())
    turns = _run(taker, _chunks(call))
    assert [u.speaker for u, _ in turns] == ["customer", "agent"]
    for utterance, _ in turns:  # how well each recogniser hears: tests/perception/test_whisper.py
        words = words_of(utterance.text)
        assert len(words) >= 3 and all(w.isalnum() for w in words)  # rough, but real words
