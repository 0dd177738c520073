"""The telephone conditions of training/telephone.py, and the voice reading's robustness to them.

Synthetic audio only (no RAVDESS at test time): a line must keep length and rate, cut what a phone
cuts, and a call turned down as a whole must read as it did, while a louder, higher turn reads aroused.
"""

from __future__ import annotations

import numpy as np
import pytest

from empathy_engine.ingest.audio import ANALYSIS_RATE
from empathy_engine.perception.prosody import ProsodyModel, ProsodyPerceiver, VoiceReading
from empathy_engine.perception.prosody_bench import synthetic_speech
from empathy_engine.perception.prosody_features import APERIODICITY, DB, F0, FrameStream, speech_mask, turn_features
from training.calibrate_prosody import UNFITTED, failures
from training.telephone import CONDITIONS, Condition, active_power, band_limit, noise_rms_for, telephone, through

WIDE = 16000
PERCEIVER = ProsodyPerceiver()


def _tone(hz: float, seconds: float = 1.0, rate: int = WIDE) -> np.ndarray:
    return 0.3 * np.sin(2 * np.pi * hz * np.arange(int(seconds * rate)) / rate)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, np.float64)[len(x) // 4 :] ** 2)))  # past the filter's start-up


def test_telephone_keeps_the_length_at_the_analysis_rate() -> None:
    x = synthetic_speech(2.5, seed=1, rate=WIDE)
    y = telephone(x, WIDE)
    assert y.dtype == np.float32 and len(y) == len(x) * ANALYSIS_RATE // WIDE
    assert len(telephone(synthetic_speech(1.0, rate=ANALYSIS_RATE), ANALYSIS_RATE)) == ANALYSIS_RATE


def test_telephone_cuts_outside_300_to_3400_hz_and_quantises() -> None:
    assert _rms(telephone(_tone(1000.0), WIDE)) == pytest.approx(0.3 / np.sqrt(2), rel=0.05)
    assert _rms(telephone(_tone(100.0), WIDE)) < 0.1 * _rms(telephone(_tone(1000.0), WIDE))
    assert _rms(band_limit(_tone(6000.0), WIDE)) < 0.01  # and a 16 kHz clip's top octave never reaches 8 kHz
    # mu-law: the band-limited, resampled clip plus quantisation error of roughly -35 dB at this level
    x = _tone(1000.0)
    error = telephone(x, WIDE) - band_limit(x, WIDE)[::2]
    assert 0.001 < _rms(error) < 0.03


def test_telephone_noise_is_seeded_and_at_the_asked_snr() -> None:
    speech = [synthetic_speech(3.0, seed=s, rate=WIDE) for s in (1, 2)]
    rms = noise_rms_for(speech, WIDE, snr_db=10.0)
    noisy = Condition("noisy", snr_db=10.0)
    a, b = (through(noisy, speech[0], WIDE, scored=False, noise_rms=rms, seed=7) for _ in range(2))
    np.testing.assert_array_equal(a, b)
    clean = through(Condition("phone"), speech[0], WIDE, scored=False, noise_rms=0.0, seed=7)
    snr = 10 * np.log10(active_power(band_limit(speech[0], WIDE), WIDE) / np.mean((a - clean)[2000:] ** 2))
    assert snr == pytest.approx(10.0, abs=1.5)  # mu-law adds its own error on top of the noise


def test_conditions_cover_the_issue() -> None:
    names = [c.name for c in CONDITIONS]
    assert names[0].startswith("clean") and len(names) == 7
    assert {c.snr_db for c in CONDITIONS} == {None, 20.0, 10.0}
    assert {c.call_db for c in CONDITIONS} == {0.0, -12.0, 6.0} and {c.scored_db for c in CONDITIONS} == {0.0, -6.0}


def test_the_check_fails_below_the_targets() -> None:
    clean, phone = CONDITIONS[0].name, CONDITIONS[1].name
    assert failures({clean: {"auc": 0.95}, phone: {"auc": 0.86}}) == []
    assert len(failures({clean: {"auc": 0.92}, phone: {"auc": 0.86}})) == 1  # clean under 0.93
    assert len(failures({clean: {"auc": 0.95}, phone: {"auc": 0.84}})) == 1  # a condition under 0.85


def test_voice_quality_is_measured_past_the_line_noise() -> None:
    # Pink noise 15 dB under the speech doubles the raw YIN dip of the loud voiced frames; the net
    # aperiodicity takes the noise's share off, and the band tilt stays in the phone band, so a wideband,
    # a phone and a noisy phone turn measure the same voice.
    for seed in (1, 2, 3):
        x = synthetic_speech(3.0, seed=seed, rate=WIDE)
        rms = noise_rms_for([x], WIDE, snr_db=15.0)
        lines = {"clean": (Condition("clean", phone=False), 0.0), "phone": (Condition("phone"), 0.0)}
        lines["noisy"] = (Condition("noisy", snr_db=15.0), rms)
        read = {}
        for name, (line, noise) in lines.items():
            y = through(line, x, WIDE, scored=False, noise_rms=noise, seed=seed)
            stream = FrameStream(batch=1)
            stream.push(y)
            frames = stream.frames()
            speech = speech_mask(frames[:, DB])
            loud = speech & (frames[:, F0] > 0) & (frames[:, DB] > np.percentile(frames[speech, DB], 99) - 15.0)
            read[name] = (turn_features(frames), float(frames[loud, APERIODICITY].mean()))
        (phone_f, phone_raw), (noisy_f, noisy_raw), (clean_f, _) = read["phone"], read["noisy"], read["clean"]
        assert noisy_raw > phone_raw + 0.03  # what the noise does to the raw dip
        assert noisy_f.get("net_aperiodicity") == pytest.approx(phone_f.get("net_aperiodicity"), abs=0.015)
        for other in (clean_f, noisy_f):
            assert other.get("band_tilt_db") == pytest.approx(phone_f.get("band_tilt_db"), abs=1.0)


def _call(gain_db: float, raised: bool, scored_db: float = 0.0) -> VoiceReading:
    """Two ordinary turns of a quiet caller on a phone line, then a third, ordinary or raised."""
    base = [synthetic_speech(3.0, seed=s, rate=WIDE) * 0.1 for s in (1, 2)]  # about -45 dBFS: a quiet line
    third = synthetic_speech(3.0, seed=3, rate=WIDE, pitch_hz=185.0 if raised else 140.0)
    third = third * (0.1 * (2.5 if raised else 1.0))
    line = Condition("phone", call_db=gain_db, scored_db=scored_db)
    tracker = PERCEIVER.new_call()
    for turn in base:
        tracker.observe_turn(through(line, turn, WIDE, scored=False, noise_rms=0.0, seed=0), ANALYSIS_RATE)
    return tracker.observe_turn(through(line, third, WIDE, scored=True, noise_rms=0.0, seed=0), ANALYSIS_RATE)


def test_a_quiet_call_turned_down_12_db_reads_the_same() -> None:
    # At -57 dBFS the quieter speech frames sit under an absolute speech floor of -60 dBFS (v1 had one).
    for raised in (False, True):
        loud, soft = _call(0.0, raised), _call(-12.0, raised)
        assert soft.arousal == pytest.approx(loud.arousal, abs=0.05), raised
        assert soft.features.speech_s == pytest.approx(loud.features.speech_s, rel=0.2)  # mu-law eats some quiet frames


def test_a_louder_higher_turn_reads_more_aroused_than_the_baseline() -> None:
    ordinary, raised = _call(0.0, False), _call(0.0, True)
    assert raised.arousal > 0.7 and ordinary.arousal < 0.5
    assert raised.vs_baseline("loudness_db") > 2.0 and raised.vs_baseline("pitch_st") > 2.0
    # The same raised turn with the handset moved away (-6 dB) still reads more aroused than an ordinary one.
    assert _call(0.0, True, scored_db=-6.0).arousal > ordinary.arousal + 0.2


def test_the_bundled_model_is_v3_and_leaves_jitter_out() -> None:
    model = ProsodyModel.bundled()
    assert model.name == "prosody-arousal-v3"
    assert all(model.weights[model.features.index(f)] == 0.0 for f in UNFITTED)
