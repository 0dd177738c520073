"""Speech recognition for audio-only streams, behind a small interface.

The default recogniser is pocketsphinx (BSD; its wheel ships an English model, so nothing is
downloaded). Its accuracy on phone audio is rough, so a platform's own real-time transcription,
sent as utterance events beside the audio, always wins over it; any other engine can be plugged
in by implementing `Recogniser`.
"""

from __future__ import annotations

import threading
from typing import Protocol

import numpy as np

from empathy_engine.ingest.audio import resample

SILENCE_RMS = 10 ** (-55 / 20)  # below -55 dBFS there is no speech to decode
MODEL_RATE = 16_000  # the bundled en-us acoustic model is wideband: phone audio is upsampled to it


class Recogniser(Protocol):
    def transcribe(self, samples: np.ndarray, sample_rate: int) -> str:
        """The words in one utterance of mono float audio ("" when nothing was recognised)."""
        ...


class PocketsphinxRecogniser:
    """Offline recognition with pocketsphinx's bundled US English model."""

    def __init__(self) -> None:
        from empathy_engine.extras import require

        require("voice", "speech recognition (audio without transcripts)")
        from pocketsphinx import Decoder  # imported here: only audio-only streams need it

        self._decoder = Decoder(loglevel="ERROR")
        self._lock = threading.Lock()  # one decoder, one utterance at a time

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> str:
        if samples.size == 0 or float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) < SILENCE_RMS:
            return ""  # the decoder "hears" words in silence; there are none to hear
        audio = resample(np.asarray(samples, dtype=np.float32), sample_rate, MODEL_RATE)
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
        with self._lock:
            self._decoder.start_utt()
            self._decoder.process_raw(pcm, full_utt=True)
            self._decoder.end_utt()
            hyp = self._decoder.hyp()
        return hyp.hypstr.strip() if hyp is not None else ""
