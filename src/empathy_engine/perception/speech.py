"""Speech recognition for audio-only streams, behind a small interface.

Two offline recognisers: Whisper (perception/whisper.py, the `speech` extra), the default when it
is installed, and pocketsphinx (BSD, the `voice` extra; its wheel ships an English model), light
but rough on phone audio. `EMPATHY_RECOGNISER` chooses (`chosen_recogniser`). A platform's own
real-time transcription, sent as utterance events beside the audio, always wins over both; any
other engine can be plugged in by implementing `Recogniser`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Protocol

import numpy as np

from empathy_engine.ingest.audio import resample

SILENCE_RMS = 10 ** (-55 / 20)  # below -55 dBFS there is no speech to decode
MODEL_RATE = 16_000  # the bundled en-us acoustic model is wideband: phone audio is upsampled to it
#: EMPATHY_RECOGNISER's values; "auto" is Whisper when the `speech` extra is installed.
RECOGNISERS = ("auto", "whisper-base", "whisper-tiny.en", "pocketsphinx")
#: The Whisper model "auto" uses (README, "Speech recognition on telephone audio": why base).
AUTO_WHISPER = "base"


class Recogniser(Protocol):
    """Turns an utterance's audio into words. One may also have a `spare` property, true while it
    could take one more utterance and still take the next at once: only then is it asked for a
    partial transcript (perception/turns.py), so that partials never delay a final one."""

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> str:
        """The words in one utterance of mono float audio ("" when nothing was recognised)."""
        ...


def silent(samples: np.ndarray) -> bool:
    """Nothing to decode: no samples, or all below SILENCE_RMS (recognisers "hear" words in silence)."""
    return samples.size == 0 or float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) < SILENCE_RMS


class RecogniserError(ValueError):
    """A recogniser setting that cannot be used; the message names the variable and the fix."""


def recogniser_setting(environ: Mapping[str, str] | None = None) -> tuple[str, int]:
    """The recogniser EMPATHY_RECOGNISER names ("auto" resolved: whisper-base with the `speech`
    extra, else pocketsphinx) and EMPATHY_RECOGNISER_WORKERS, Whisper's worker processes, each
    decoding one utterance at a time (default: one per core but one, at least 1, at most 4).
    Nothing is loaded; a bad value is a RecogniserError."""
    env = os.environ if environ is None else environ
    name = env.get("EMPATHY_RECOGNISER", "auto").strip() or "auto"
    if name not in RECOGNISERS:
        raise RecogniserError(f"EMPATHY_RECOGNISER={name!r}: use one of {', '.join(RECOGNISERS)}")
    raw = env.get("EMPATHY_RECOGNISER_WORKERS", "").strip()
    if raw and not (raw.isdigit() and 1 <= int(raw) <= 64):
        raise RecogniserError(f"EMPATHY_RECOGNISER_WORKERS={raw!r}: a whole number from 1 to 64")
    if name == "auto":
        from empathy_engine.extras import has

        name = f"whisper-{AUTO_WHISPER}" if has("speech") else "pocketsphinx"
    # By default one core is left to the service's event loop: on 2 cores one worker kept text calls'
    # p99 at 283 ms beside eight audio streams and 1,000 calls, two workers at 500-613 ms (README).
    return name, int(raw) if raw else max(1, min(4, (os.cpu_count() or 1) - 1))


def chosen_recogniser(environ: Mapping[str, str] | None = None) -> Recogniser:
    """The recogniser `recogniser_setting` names, loaded."""
    name, workers = recogniser_setting(environ)
    if name == "pocketsphinx":
        return PocketsphinxRecogniser()
    from empathy_engine.perception.whisper import WhisperRecogniser

    return WhisperRecogniser(name.removeprefix("whisper-"), workers=workers)


class PocketsphinxRecogniser:
    """Offline recognition with pocketsphinx's bundled US English model."""

    def __init__(self) -> None:
        from empathy_engine.extras import require

        require("voice", "speech recognition (audio without transcripts)")
        from pocketsphinx import Decoder  # imported here: only audio-only streams need it

        self._decoder = Decoder(loglevel="ERROR")
        self._lock = threading.Lock()  # one decoder, one utterance at a time

    def __repr__(self) -> str:
        return "pocketsphinx (en-us, one decoder)"

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> str:
        if silent(samples):
            return ""
        audio = resample(np.asarray(samples, dtype=np.float32), sample_rate, MODEL_RATE)
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
        with self._lock:
            self._decoder.start_utt()
            self._decoder.process_raw(pcm, full_utt=True)
            self._decoder.end_utt()
            hyp = self._decoder.hyp()
        return hyp.hypstr.strip() if hyp is not None else ""
