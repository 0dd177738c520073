from __future__ import annotations

from pathlib import Path

import numpy as np

from empathy_engine.ingest.audio import read_wav
from empathy_engine.perception.speech import PocketsphinxRecogniser, Recogniser

VOICE = Path(__file__).resolve().parents[1] / "fixtures" / "voice"


def test_speech_pocketsphinx_recognises_words_offline() -> None:
    recogniser: Recogniser = PocketsphinxRecogniser()
    audio = read_wav(VOICE / "base_1.wav")
    words = recogniser.transcribe(audio.channel(0), audio.sample_rate)
    assert words and all(w.isalpha() or "'" in w for w in words.split())  # rough, but real words


def test_speech_silence_gives_no_words() -> None:
    assert PocketsphinxRecogniser().transcribe(np.zeros(8000, np.float32), 8000) == ""
