from __future__ import annotations

import pickle
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from empathy_engine.ingest.audio import ANALYSIS_RATE, read_recording, read_wav, write_wav
from empathy_engine.perception.prosody import (
    ProsodyModel,
    ProsodyPerceiver,
    VoiceReading,
    VoiceTracker,
)
from empathy_engine.perception.prosody_bench import prosody_real_time_factor, synthetic_speech
from empathy_engine.perception.prosody_features import FEATURES, TurnFeatures
from empathy_engine.perception.prosody_fusion import voice_signals
from empathy_engine.pipeline import Engine
from empathy_engine.results import CustomerTurn
from empathy_engine.state.tracker import fuse
from empathy_engine.taxonomy import STATES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "voice"
BASELINE = ("base_1", "base_2", "base_3")
PERCEIVER = ProsodyPerceiver()


@cache
def _wav(name: str) -> np.ndarray:
    return read_wav(FIXTURES / f"{name}.wav").channel(0)


def _call(*turns: str | np.ndarray, gain: float = 1.0) -> list[VoiceReading]:
    """Readings of one call's customer turns, in order (fixture names or samples)."""
    tracker = PERCEIVER.new_call()
    return [tracker.observe_turn((_wav(t) if isinstance(t, str) else t) * gain, ANALYSIS_RATE) for t in turns]


def _after_baseline(name: str) -> VoiceReading:
    return _call(*BASELINE, name)[-1]


def _feature(name: str, feature: str) -> float:
    return _call(name)[0].features.get(feature)


def test_prosody_pitch_level_follows_the_synthesiser_pitch() -> None:
    assert _feature("pitch_high", "pitch_st") > _feature("pitch_low", "pitch_st") + 4.0  # semitones


def test_prosody_speech_rate_follows_the_synthesiser_rate() -> None:
    slow, fast = _feature("rate_slow", "speech_rate"), _feature("rate_fast", "speech_rate")
    assert fast > 1.6 * slow  # espeak -s 260 vs -s 115 words a minute
    assert 3.0 < slow < 5.0 and 6.5 < fast < 10.0  # syllables a second


def test_prosody_loudness_follows_the_level() -> None:
    # The two renditions differ only in their peak level: -1 vs -20 dB full scale.
    assert _feature("level_loud", "loudness_db") - _feature("level_quiet", "loudness_db") == pytest.approx(
        19.0, abs=0.5
    )


def test_prosody_monotone_has_a_narrow_pitch_range() -> None:
    flat, wide = _feature("range_flat", "pitch_range_st"), _feature("range_wide", "pitch_range_st")
    assert flat < 2.0 < 6.0 < wide
    assert all(flat < _feature(b, "pitch_range_st") for b in BASELINE)


def test_prosody_pitch_of_a_known_tone_at_every_input_rate(tmp_path: Path) -> None:
    for rate in (8000, 16000, 22050, 44100, 48000):
        t = np.arange(rate) / rate
        syllables = (t % 0.3) < 0.2  # a steady tone is not speech: it needs to come and go
        tone = sum(0.3 / k * np.sin(2 * np.pi * k * 150.0 * t) for k in range(1, 6)) * syllables
        samples = read_wav(write_wav(tmp_path / "t.wav", tone, rate)).channel(0)
        reading = PERCEIVER.new_call().observe_turn(samples, ANALYSIS_RATE)
        assert reading.features.pitch_hz == pytest.approx(150.0, rel=0.01), rate


def test_prosody_raised_and_flat_renditions_of_the_same_words() -> None:
    raised, flat = _after_baseline("fine_raised"), _after_baseline("fine_flat")
    assert raised.arousal > 0.7 > 0.3 > flat.arousal
    assert raised.energy > 0.7 > 0.3 > flat.energy
    assert "raised_voice" in raised.cues and "flat_tone" not in raised.cues
    assert "flat_tone" in flat.cues and "raised_voice" not in flat.cues
    assert _after_baseline("rate_fast").cues == ("fast_speech",)


def test_prosody_baseline_is_the_speakers_own() -> None:
    # The same turn is a raised voice for a speaker who has been quiet, and ordinary for one who has not.
    quiet_speaker = _call(_wav("base_2") * 0.1, _wav("base_3") * 0.1, "base_1")[-1]
    usual = _call("base_2", "base_3", "base_1")[-1]
    assert quiet_speaker.vs_baseline("loudness_db") > 2.0 > usual.vs_baseline("loudness_db")
    assert "raised_voice" not in usual.cues
    # base_1 is brighter and less periodic than base_2 and base_3 (espeak), so v3 already reads it at ~0.77 and
    # the sigmoid leaves less room above: the louder-than-usual reading is 0.15 higher (v2: 0.27).
    assert quiet_speaker.arousal > usual.arousal + 0.1
    # Turning the whole call up or down (a louder phone) changes nothing.
    soft = _call(*BASELINE, "fine_raised", gain=0.2)[-1]
    assert soft.z == pytest.approx(_after_baseline("fine_raised").z, abs=0.02)
    assert soft.cues == _after_baseline("fine_raised").cues


def test_prosody_baseline_is_robust_to_one_outburst() -> None:
    tracker = PERCEIVER.new_call()
    for name in BASELINE:
        tracker.observe_turn(_wav(name), ANALYSIS_RATE)
    before = tracker.baseline.stats.copy()
    tracker.observe_turn(_wav("base_1") * 30.0, ANALYSIS_RATE)  # a shout (clipped), far off the usual
    loud = FEATURES.index("loudness_db")
    assert tracker.baseline.stats[1, loud] - before[1, loud] < 2.5  # mean moved by far less than ~29 dB


def test_prosody_live_stream_gives_the_batch_reading() -> None:
    rng = np.random.default_rng(0)
    batch = _call(*BASELINE, "fine_flat")
    tracker = PERCEIVER.new_call()
    live = []
    for name in (*BASELINE, "fine_flat"):
        samples = _wav(name)
        cuts = np.sort(rng.integers(0, len(samples), 12))
        for chunk in np.split(samples, cuts):
            tracker.feed(chunk)
        assert tracker.partial() is not None
        live.append(tracker.end_turn())
    for a, b in zip(batch, live, strict=True):
        assert a.cues == b.cues
        assert a.arousal == pytest.approx(b.arousal, abs=1e-4)
        assert a.features.values == pytest.approx(b.features.values, abs=1e-4, nan_ok=True)


def test_prosody_partial_reading_leaves_the_baseline_alone() -> None:
    tracker = PERCEIVER.new_call()
    tracker.observe_turn(_wav("base_1"), ANALYSIS_RATE)
    stats = tracker.baseline.stats.copy()
    tracker.feed(_wav("base_2")[:8000])
    assert tracker.partial().features.speech_s > 0.5
    np.testing.assert_array_equal(stats, tracker.baseline.stats)
    tracker.discard_turn()
    assert tracker.partial() is None
    np.testing.assert_array_equal(stats, tracker.baseline.stats)


def test_prosody_overtalk_and_shared_silence_from_a_stereo_recording(tmp_path: Path) -> None:
    customer, agent = _wav("base_1"), _wav("agent_1")
    rate, n = ANALYSIS_RATE, len(customer)
    # Turn 1 (0 .. 3.5 s): the agent starts talking 1 s into the customer's turn.
    # Turn 2 (4 .. 14 s): the customer speaks alone, stops for 3 s, speaks again.
    left, right = np.zeros(14 * rate), np.zeros(14 * rate)
    left[:n] = customer
    right[rate : rate + len(agent)] = agent
    left[4 * rate : 4 * rate + n] = customer
    left[7 * rate + n : 7 * rate + 2 * n] = customer
    path = write_wav(tmp_path / "call.wav", np.stack([left, right], axis=1), rate)
    recording = read_recording(path, {"customer": 0, "agent": 1})
    spans = [(0.0, 3.5), (4.0, 14.0)]
    tracker = PERCEIVER.new_call()
    first, second = (tracker.observe_turn(c, rate, a) for c, a in (recording.turn("customer", s, e) for s, e in spans))
    assert "overtalk" in first.cues and first.features.overtalk_s > 1.0
    assert "overtalk" not in second.cues and second.features.overtalk_s == 0.0
    assert "long_pause" in second.cues and second.features.longest_silence_s > 2.5


def test_prosody_silence_is_no_speech_and_no_signal() -> None:
    reading = _call(*BASELINE, np.zeros(ANALYSIS_RATE * 2, np.float32))[-1]
    assert not reading.speech and reading.arousal == 0.0 and reading.cues == ()
    assert voice_signals(reading, np.zeros(len(STATES)), STATES) == ()
    noise = np.random.default_rng(0).standard_normal(ANALYSIS_RATE).astype(np.float32) * 0.1
    for audio in (np.zeros(0, np.float32), noise):  # nothing, and a hiss that never comes and goes
        assert not PERCEIVER.new_call().observe_turn(audio, ANALYSIS_RATE).speech
    with pytest.raises(ValueError, match="voice audio must be mono"):
        PERCEIVER.new_call().observe_turn(np.zeros((800, 2), np.float32), ANALYSIS_RATE)


def test_prosody_call_state_is_small_and_survives_pickling() -> None:
    tracker = PERCEIVER.new_call()
    for name in BASELINE:
        tracker.observe_turn(_wav(name), ANALYSIS_RATE)
    state = pickle.dumps(tracker)
    assert len(state) < 4096
    restored: VoiceTracker = pickle.loads(state)
    a = tracker.observe_turn(_wav("fine_raised"), ANALYSIS_RATE)
    b = restored.observe_turn(_wav("fine_raised"), ANALYSIS_RATE)
    assert a == b


def test_prosody_reading_to_dict_is_the_voice_object() -> None:
    d = _after_baseline("fine_flat").to_dict()
    assert set(d) == {"arousal", "energy", "cues", "features"}
    assert 0.0 <= d["arousal"] <= 1.0 and 0.0 <= d["energy"] <= 1.0
    assert set(d["cues"]) <= {"raised_voice", "fast_speech", "flat_tone", "long_pause", "overtalk"}
    assert d["features"]["baseline_turns"] == 3.0
    assert set(d["features"]["vs_baseline"]) == set(FEATURES)
    assert 60 < d["features"]["pitch_hz"] < 500


def test_prosody_bundled_model_matches_the_features() -> None:
    model = ProsodyModel.bundled()
    assert model.features == FEATURES and len(model.weights) == len(FEATURES)
    assert ProsodyModel.from_dict(model.to_dict()) == model


def _reading(arousal: float, energy: float, cues: tuple[str, ...], turns: float = 3.0) -> VoiceReading:
    features = TurnFeatures((0.0,) * len(FEATURES), speech_s=2.0, longest_pause_s=0.0)
    return VoiceReading(arousal, energy, cues, features, (0.0,) * len(FEATURES), turns)  # type: ignore[arg-type]


def _logits(**by_state: float) -> np.ndarray:
    return np.array([by_state.get(s, -4.0) for s in STATES])


def test_voice_signals_follow_the_rules() -> None:
    raised, flat = _reading(0.9, 0.9, ("raised_voice",)), _reading(0.1, 0.1, ("flat_tone",))
    by_state = lambda signals: {s.state: s.weight for s in signals}  # noqa: E731
    # Polite or neutral words, raised voice: frustration, quoted as the cue.
    assert by_state(voice_signals(raised, _logits(neutral=2.0)))["frustration"] > 1.0
    assert {(s.source, s.quote) for s in voice_signals(raised, _logits(neutral=2.0))} == {("voice", "raised_voice")}
    # Worried words, raised voice: the worry, not frustration.
    assert set(by_state(voice_signals(raised, _logits(worry=1.0)))) == {"worry"}
    # Flat voice, accepting or neutral words: dejection; flat thanks lose some satisfaction.
    assert by_state(voice_signals(flat, _logits(neutral=1.0)))["dejection"] > 1.0
    assert by_state(voice_signals(flat, _logits(satisfaction=1.0)))["satisfaction"] < 0
    # Flat voice with urgent words is not resignation; an ordinary voice says nothing.
    assert voice_signals(flat, _logits(urgency=2.0)) == ()
    assert voice_signals(_reading(0.5, 0.5, ()), _logits(neutral=2.0)) == ()
    # Text-only turns: no signals at all.
    assert voice_signals(None, _logits(neutral=2.0)) == ()
    # The first turn of a call (no baseline yet) counts for less.
    first = by_state(voice_signals(_reading(0.9, 0.9, ("raised_voice",), 0.0), _logits(neutral=2.0)))
    assert first["frustration"] < by_state(voice_signals(raised, _logits(neutral=2.0)))["frustration"]


def test_voice_signals_move_the_fused_states_for_the_same_words(engine: Engine) -> None:
    # "I guess it's fine", said flat after bad news vs raised: the words are identical.
    text = engine.text.read("Okay. I guess it is fine.")
    fused = {}
    for rendition in ("fine_flat", "fine_raised", None):
        reading = _after_baseline(rendition) if rendition else None
        signals = voice_signals(reading, text.state_logits, STATES)
        fused[rendition] = fuse(text, signals, (), 3, None, 6, 30.0)
    flat, raised, text_only = fused["fine_flat"], fused["fine_raised"], fused[None]

    def logit(turn: CustomerTurn, state: str) -> float:
        p = float(np.clip(turn.states[state], 1e-9, 1 - 1e-9))
        return float(np.log(p / (1 - p)))

    # In log-odds, so the checks hold whatever the words alone score.
    assert logit(flat, "dejection") > logit(text_only, "dejection") + 1.0 > logit(raised, "dejection") + 1.0
    assert logit(raised, "frustration") > logit(text_only, "frustration") + 1.0
    assert logit(raised, "frustration") > logit(flat, "frustration") + 1.0
    assert ("flat_tone", "voice") in {(e.quote, e.source) for e in flat.evidence}


def test_prosody_real_time_factor_is_within_budget() -> None:
    figures = prosody_real_time_factor(seconds=20.0)
    assert 0 < figures["prosody_rtf"] < 0.05  # budget 0.02 on one pinned core; CI machines are noisy
    assert figures["prosody_batch_rtf"] < 0.05
    assert len(synthetic_speech(1.0)) == ANALYSIS_RATE
