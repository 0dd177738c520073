"""Voice activity on telephone audio made here: sentences espeak-ng speaks (8 kHz, G.711 mu-law) with
pauses between them, alone and under white noise, pink noise and mains hum at 10 dB SNR, and sounds
that are not speech (steady noise, a noise burst, a door slam, tones). Silero (perception/silero.py,
the `speech` extra) must cut the sentences where they are and never open on the rest; the energy
rule, its fallback, is run beside it on the same audio to show what it gets wrong. End-of-turn
timing is checked for both: an utterance closes `silence_s` after its last speech frame."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from empathy_engine.extras import has
from empathy_engine.ingest.audio import ANALYSIS_RATE, decode_mulaw, encode_mulaw, read_wav, resample
from empathy_engine.perception import silero
from empathy_engine.perception.vad import (
    TAIL_S,
    Closed,
    EnergyRule,
    Opened,
    SegmentEvent,
    SileroRule,
    SpeechSegmenter,
    TurnSettings,
    VadError,
    vad_setting,
)
from tests.perception.espeak import espeak_ng
from tests.perception.vads import NEEDS_SILERO, RULES

pytestmark = pytest.mark.skipif(not has("voice"), reason="needs the voice extra (resampling espeak-ng's audio)")

RATE = ANALYSIS_RATE
CHUNK = RATE // 50  # 20 ms, as Twilio and AudioHook send
SENTENCES = (
    "Hi, I am calling about the furnace in my basement.",
    "It started making a strange noise last night.",
    "Can you send somebody out today? I have two little kids at home.",
)
GAP_S = 1.5  # between sentences: longer than silence_s, so each is its own utterance
SNR_DB = 10.0
NOISES = ("white", "pink", "hum")


@cache
def _said(text: str) -> np.ndarray:
    """`text` as a caller on a phone line, its leading and trailing silence cut: 8 kHz, mu-law and back."""
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "say.wav"
        subprocess.run([espeak_ng(), "-v", "en-us", "-s", "160", "-w", str(wav), text], check=True, timeout=60)
        audio = read_wav(wav, rate=None)
    x = resample(audio.channel(0), audio.sample_rate, RATE)
    sounding = np.flatnonzero(np.abs(x) > 0.01)
    x = x[sounding[0] : sounding[-1] + 1]
    return decode_mulaw(encode_mulaw(0.25 * x / np.max(np.abs(x))))  # peaks at -12 dBFS


def _line(gap_s: float = GAP_S) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """The three sentences with `gap_s` between them (a second of silence first): audio, (start, end) each."""
    parts, spans, at = [np.zeros(RATE, np.float32)], [], RATE
    for text in SENTENCES:
        x = _said(text)
        parts += [x, np.zeros(int(gap_s * RATE), np.float32)]
        spans.append((at / RATE, (at + len(x)) / RATE))
        at += len(x) + int(gap_s * RATE)
    return np.concatenate(parts), spans


def _noise(kind: str, n: int, rms: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "white":
        x = rng.standard_normal(n)
    elif kind == "pink":  # 1/f power: white noise shaped in the frequency domain
        spectrum = np.fft.rfft(rng.standard_normal(n))
        spectrum /= np.sqrt(np.maximum(np.fft.rfftfreq(n, 1 / RATE), 20.0))
        x = np.fft.irfft(spectrum, n)
    else:  # mains hum: 60 Hz and its odd harmonics
        t = np.arange(n) / RATE
        x = sum(a * np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f, a in ((60, 1.0), (180, 0.5), (300, 0.3)))
    return (np.asarray(x) / np.std(x) * rms).astype(np.float32)


def _speech_rms() -> float:
    line, spans = _line()
    return float(np.sqrt(np.mean(np.square(np.concatenate([line[int(a * RATE) : int(b * RATE)] for a, b in spans])))))


def _noisy(kind: str) -> tuple[np.ndarray, list[tuple[float, float]]]:
    line, spans = _line()
    return line + _noise(kind, len(line), _speech_rms() / 10 ** (SNR_DB / 20)), spans


def _stream(vad: str, x: np.ndarray, settings: TurnSettings | None = None) -> list[tuple[float, SegmentEvent]]:
    """Each event, with the stream time (seconds) of the 20 ms chunk that brought it."""
    segmenter = SpeechSegmenter(settings, vad=vad)
    out = [((i + CHUNK) / RATE, e) for i in range(0, len(x), CHUNK) for e in segmenter.push(x[i : i + CHUNK])]
    return out + [(len(x) / RATE, e) for e in segmenter.close()]


def _cuts(events: list[tuple[float, SegmentEvent]]) -> list[tuple[float, float]]:
    return [(e.speech_start / RATE, e.speech_end / RATE) for _, e in events if isinstance(e, Closed)]


def _right(cuts: list[tuple[float, float]], spans: list[tuple[float, float]], slack: float = 0.15) -> bool:
    """One utterance per sentence, each starting and ending within `slack` of it."""
    return len(cuts) == len(spans) and all(
        abs(a - t) <= slack and abs(b - end) <= slack for (a, b), (t, end) in zip(cuts, spans, strict=True)
    )


# -- speech, clean and under noise ------------------------------------------------------------------


@pytest.mark.parametrize("vad", RULES)
def test_each_sentence_of_a_clean_line_is_one_utterance(vad: str) -> None:
    line, spans = _line()
    assert _right(_cuts(_stream(vad, line)), spans), _cuts(_stream(vad, line))


@NEEDS_SILERO
@pytest.mark.parametrize("noise", NOISES)
def test_silero_cuts_the_sentences_right_under_noise_where_the_energy_rule_does_not(noise: str) -> None:
    line, spans = _noisy(noise)
    assert _right(_cuts(_stream("silero", line)), spans), _cuts(_stream("silero", line))
    # The energy rule, on the same audio: its noise floor starts quiet, so it opens on the noise at
    # once and runs the first sentences together (or cuts them elsewhere).
    assert not _right(_cuts(_stream("energy", line)), spans)


@pytest.mark.parametrize("vad", RULES)
def test_a_pause_shorter_than_silence_s_stays_inside_the_utterance(vad: str) -> None:
    line, spans = _line(gap_s=0.4)
    cuts = _cuts(_stream(vad, line))
    assert len(cuts) == 1, cuts
    assert abs(cuts[0][0] - spans[0][0]) <= 0.15 and abs(cuts[0][1] - spans[-1][1]) <= 0.15


# -- what is not speech -----------------------------------------------------------------------------


@pytest.mark.parametrize("noise", NOISES)
def test_steady_noise_opens_nothing_for_silero_and_an_utterance_for_the_energy_rule(noise: str) -> None:
    x = _noise(noise, 10 * RATE, _speech_rms() / 10 ** (SNR_DB / 20))
    assert _cuts(_stream("energy", x)) != []  # heard as speech until the noise floor has learned it
    if silero.available():
        assert not any(isinstance(e, Opened) for _, e in _stream("silero", x))


def _burst(kind: str) -> np.ndarray:
    """Two seconds of silence, then a loud sound that is not speech, then silence."""
    rng = np.random.default_rng(1)
    x = np.zeros(6 * RATE, np.float32)
    if kind == "noise burst":  # half a second of pink noise at -10 dBFS
        sound = _noise("pink", RATE // 2, 10 ** (-10 / 20))
    elif kind == "door slam":  # a bang decaying in 50 ms
        k = np.arange(int(0.4 * RATE))
        sound = 0.8 * rng.standard_normal(len(k)) * np.exp(-k / (0.05 * RATE))
    elif kind == "beep":  # 1 kHz for half a second
        sound = 0.3 * np.sin(2 * np.pi * 1000 * np.arange(RATE // 2) / RATE)
    elif kind == "dtmf":  # the "1" key, 200 ms
        k = np.arange(int(0.2 * RATE)) / RATE
        sound = 0.2 * (np.sin(2 * np.pi * 697 * k) + np.sin(2 * np.pi * 1209 * k))
    else:  # US ringback, 2 s
        k = np.arange(2 * RATE) / RATE
        sound = 0.2 * (np.sin(2 * np.pi * 440 * k) + np.sin(2 * np.pi * 480 * k))
    x[2 * RATE : 2 * RATE + len(sound)] = sound
    return decode_mulaw(encode_mulaw(x))


@pytest.mark.parametrize("kind", ["noise burst", "door slam", "beep", "dtmf", "ringback"])
def test_a_loud_sound_that_is_not_speech_is_an_utterance_only_for_the_energy_rule(kind: str) -> None:
    x = _burst(kind)
    assert len(_cuts(_stream("energy", x))) == 1  # loud, long enough: the energy rule keeps it (for Whisper)
    if silero.available():
        assert not any(isinstance(e, Opened) for _, e in _stream("silero", x))


# -- end of turn ------------------------------------------------------------------------------------


@pytest.mark.parametrize("silence_s", [0.7, 1.2])
@pytest.mark.parametrize("vad", RULES)
def test_an_utterance_closes_silence_s_after_the_last_word(vad: str, silence_s: float) -> None:
    x = np.concatenate([np.zeros(RATE, np.float32), _said(SENTENCES[1]), np.zeros(2 * RATE, np.float32)])
    last_word = (RATE + len(_said(SENTENCES[1]))) / RATE
    events = _stream(vad, x, TurnSettings(silence_s=silence_s))
    [(closed_at, closed)] = [(t, e) for t, e in events if isinstance(e, Closed)]
    assert isinstance(closed, Closed)
    speech_end = closed.speech_end / RATE
    # The last speech frame ends within 50 ms of the last sound (Silero holds on a little longer:
    # its probability falls under 0.35 one or two frames after the word), and the utterance closes
    # when silence_s has passed since it: at most a frame and a chunk later.
    assert -0.03 <= speech_end - last_word <= 0.05
    assert silence_s <= closed_at - speech_end <= silence_s + 0.032 + CHUNK / RATE
    [opened] = [e for _, e in events if isinstance(e, Opened)]
    assert closed.speech_start - opened.start >= 0.2 * RATE  # the pre-roll: at least preroll_s
    assert len(closed.audio) == closed.speech_end - opened.start + int(TAIL_S * RATE)  # and the tail


# -- the choice of rule, and the fallback -----------------------------------------------------------


def test_the_setting_chooses_the_rule_and_auto_is_silero_where_it_can_run(monkeypatch: pytest.MonkeyPatch) -> None:
    assert vad_setting({"EMPATHY_VAD": "energy"}) == "energy"
    assert vad_setting({}) == vad_setting({"EMPATHY_VAD": "auto"}) == ("silero" if silero.available() else "energy")
    monkeypatch.setenv("EMPATHY_VAD", "energy")
    assert isinstance(SpeechSegmenter().rule, EnergyRule)
    monkeypatch.setattr(silero, "available", lambda: False)  # as without the speech extra
    monkeypatch.setenv("EMPATHY_VAD", "auto")
    segmenter = SpeechSegmenter()
    assert isinstance(segmenter.rule, EnergyRule) and segmenter.frame == CHUNK
    line, spans = _line()
    assert _right(_cuts(_stream("auto", line)), spans)  # the fallback still cuts speech
    with pytest.raises(VadError, match=r"^EMPATHY_VAD='silero' needs the 'speech' extra: pip install"):
        vad_setting({"EMPATHY_VAD": "silero"})
    with pytest.raises(VadError, match=r"^EMPATHY_VAD='webrtc': use one of auto, silero, energy$"):
        vad_setting({"EMPATHY_VAD": "webrtc"})


BLOCKER = """
import sys
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("faster_whisper", "onnxruntime"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Refuse())
"""


def test_without_the_speech_extra_auto_falls_back_to_the_energy_rule(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)  # faster-whisper and onnxruntime cannot be imported
    script = (
        "import sys, numpy as np\n"
        "from empathy_engine.perception.vad import Closed, SpeechSegmenter\n"
        "s = SpeechSegmenter()\n"
        "x = np.zeros(16000, np.float32); x[4000:8000] = 0.3 * np.sin(np.arange(4000) / 3)\n"
        "closed = [e for e in s.push(x) + s.close() if isinstance(e, Closed)]\n"
        "print(type(s.rule).__name__, len(closed), 'onnxruntime' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path]), "EMPATHY_VAD": "auto"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["EnergyRule", "1", "False"]


# -- Silero's stream: chunking, threads, bounds -----------------------------------------------------


@NEEDS_SILERO
def test_silero_gives_the_same_utterances_whatever_the_chunk_size() -> None:
    line, _ = _noisy("pink")
    found = []
    for size in (1, 7, 160, 1234, len(line)):
        segmenter = SpeechSegmenter(vad="silero")
        events = [e for i in range(0, len(line), size) for e in segmenter.push(line[i : i + size])]
        found.append(_cuts([(0.0, e) for e in events + segmenter.close()]))
    assert all(cuts == found[0] for cuts in found) and len(found[0]) == len(SENTENCES)


@NEEDS_SILERO
def test_silero_channels_share_one_session_and_keep_their_own_state_across_threads() -> None:
    a, b = _noisy("white")[0], _noisy("hum")[0]
    alone = {name: silero.SileroStream().probabilities(x[: len(x) // 256 * 256]) for name, x in (("a", a), ("b", b))}
    together: dict[str, list[np.ndarray]] = {"a": [], "b": []}

    def run(name: str, x: np.ndarray) -> None:
        stream = silero.SileroStream()
        for i in range(0, len(x) // 256 * 256, 256):  # one 32 ms frame at a time, as a live stream
            together[name].append(stream.probabilities(x[i : i + 256]))

    threads = [threading.Thread(target=run, args=(name, x)) for name, x in (("a", a), ("b", b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert silero.session() is silero.session()
    for name in ("a", "b"):
        np.testing.assert_allclose(np.concatenate(together[name]), alone[name], atol=1e-5)
    assert not np.allclose(alone["a"], alone["b"][: len(alone["a"])], atol=0.05)  # two channels, two answers


@NEEDS_SILERO
def test_silero_stream_takes_whole_frames_and_any_length_of_them() -> None:
    stream = silero.SileroStream()
    with pytest.raises(ValueError, match="whole 256-sample frames"):
        stream.probabilities(np.zeros(100, np.float32))
    assert stream.probabilities(np.zeros(0, np.float32)).shape == (0,)
    minute = _noise("white", 60 * RATE, 0.01)
    assert silero.SileroStream().probabilities(minute).shape == (60 * RATE // 256,)  # cut into bounded batches
    assert isinstance(SpeechSegmenter(vad="silero").rule, SileroRule)


@NEEDS_SILERO
def test_the_upsampler_streams_what_resampling_the_whole_signal_gives() -> None:
    x = _noise("white", RATE, 0.1)
    upsample = silero.Upsampler()
    streamed = np.concatenate([upsample(x[i : i + 123]) for i in range(0, len(x), 123)])
    delay = 20  # half the 41-tap filter, at 16 kHz
    np.testing.assert_allclose(streamed[delay:], resample(x, RATE, silero.MODEL_RATE)[:-delay], atol=1e-5)


def _resumed(vad: str, line: np.ndarray, resume: int) -> list[tuple[float, float]]:
    """The cuts of a stream that starts at sample `resume` of `line`, in 20 ms chunks on the call's clock."""
    segmenter = SpeechSegmenter(start=resume, vad=vad)
    events = [e for i in range(resume, len(line), CHUNK) for e in segmenter.push(line[i : min(i + CHUNK, len(line))])]
    return _cuts([(0.0, e) for e in events + segmenter.close()])


@pytest.mark.parametrize("vad", RULES)
def test_a_stream_resumed_mid_call_cuts_what_the_uninterrupted_one_does(vad: str) -> None:
    # Its frames lie on the call's clock, as the first stream's; the energy rule's noise floor starts
    # again, so only a quiet line is the same for both rules; Silero's state is new after each
    # second without speech anyway (RESET_S), so a noisy line is the same too.
    lines = [_line()] + ([_noisy("pink")] if vad == "silero" else [])
    for line, spans in lines:
        resume = int((spans[1][0] - 0.6) * RATE) + 37  # in the pause before the second sentence, off any frame
        whole = _cuts(_stream(vad, line))[1:]
        assert _resumed(vad, line, resume) == whole and len(whole) == 2


@NEEDS_SILERO
def test_silero_hears_the_first_words_after_a_minute_of_line_noise() -> None:
    # Streamed on without resets, Silero's state drifts in a long stretch without speech and the
    # next words are found late, or not at all (snakers4/silero-vad#725); RESET_S stops it.
    noise = _noise("white", 60 * RATE, 10 ** (-35 / 20))
    sentence = _said(SENTENCES[0])
    x = np.concatenate([noise, sentence + _noise("white", len(sentence), 10 ** (-35 / 20), seed=1)])
    x = x[: len(x) // 256 * 256].reshape(-1, 256)
    onset = len(noise) // 256
    for reset_s, heard in ((silero.RESET_S, True), (1e9, False)):
        found = silero.SileroSpeech(reset_s=reset_s).decide(x)
        assert not found[: onset - 1].any()  # never speech in the noise
        after = found[onset:]
        first = int(np.argmax(after)) if after.any() else len(after)  # without resets: maybe never
        assert (first * 256 / RATE <= 0.15) == heard, first  # 0.15 s: as _right allows under noise


@NEEDS_SILERO
def test_silero_started_again_knows_the_line_background(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each reset primes the new state on the last windows heard; a bare zero state took steady
    # hum for a moment of speech after some resets (at -30 dBFS: 74 frames in 8 lines of 30 s).
    lines = [decode_mulaw(encode_mulaw(_noise("hum", 30 * RATE, 10 ** (-30 / 20), seed=seed))) for seed in range(4)]
    frames = [x[: len(x) // 256 * 256].reshape(-1, 256) for x in lines]
    settled = slice(silero.REPLAY, None)  # a stream's very first windows have nothing to be primed on
    assert not any(silero.SileroSpeech().decide(f)[settled].any() for f in frames)
    monkeypatch.setattr(silero, "REPLAY", 0)
    assert any(silero.SileroSpeech().decide(f)[settled].any() for f in frames)
