"""Silero VAD (snakers4/silero-vad, MIT), streamed: a speech probability for each 32 ms of one channel.

The model is the ONNX export of Silero VAD v6 that faster-whisper (MIT) ships as
`faster_whisper/assets/silero_vad_v6.onnx`, so the `speech` extra already installs it and nothing
is downloaded; it runs on onnxruntime, never on torch. That export takes 16 kHz only: a batch of
windows of 512 new samples (32 ms), each preceded by the last 64 samples of the window before it
(576 in all), and the LSTM state `h`, `c` (1 x 1 x 128 each). The batch is a sequence, the state
runs through it, and `speech_probs` holds one probability per window; feeding windows one by one
with the state carried gives the same numbers. Phone audio (8 kHz) is upsampled 2x first: fed as
if it were 16 kHz, Silero called 3.6-7.1% of the non-speech windows speech on espeak-ng phone
calls (clean, 10 dB SNR white, pink and hum) against 0-1.8% upsampled (docs/telephony.md).

Streamed on without end, Silero's state drifts where nobody speaks: after a minute of line noise
it missed the next sentence altogether (snakers4/silero-vad#725 reports the same). So the state
is started again after each RESET_S without speech, and primed on the last REPLAY windows, so
that it knows the line's background at once (a bare zero state took steady hum for two windows
of speech). Both were measured on espeak-ng phone calls (docs/telephony.md, benchmarks/vad.py).

One onnxruntime session per process, loaded at first use and shared by every channel: `run` may
be called from many threads at once. Each `SileroStream` holds its channel's state, so channels
never mix. The session runs on the calling thread only (one intra-op, one inter-op thread,
sequential execution): a live service runs many streams on few cores, and one stream's 32 ms
window is far too small to gain from more threads.
"""

from __future__ import annotations

import threading
from collections import deque
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Final

import numpy as np

from empathy_engine.ingest.audio import ANALYSIS_RATE

MODEL_RATE: Final[int] = 16_000  # the v6 export's only rate
UP: Final[int] = MODEL_RATE // ANALYSIS_RATE  # phone audio is upsampled by this
WINDOW: Final[int] = 512  # new samples per window at MODEL_RATE (32 ms)
CONTEXT: Final[int] = 64  # samples of the window before, put in front of each window
STATE: Final[tuple[int, int, int]] = (1, 1, 128)  # the LSTM's h and c
FRAME: Final[int] = WINDOW // UP  # one window is this many samples at ANALYSIS_RATE (256: 32 ms)
#: At most this many windows (4 s) per `run`: a long push is cut into bounded batches, so memory
#: stays small whatever the input's size.
MAX_BATCH: Final[int] = 125
#: Hysteresis, as Silero's own `get_speech_timestamps` (and faster-whisper's VadOptions): a window
#: opens speech at probability 0.5 ("lazy 0.5 is pretty good for most datasets", its docs), and
#: speech goes on until one falls under 0.35 (threshold - 0.15, its default neg_threshold), so a
#: word that dips for a window does not end it.
THRESHOLD: Final[float] = 0.5
NEG_THRESHOLD: Final[float] = 0.35
#: The state is reset after this long without speech. Streamed on without resets, Silero drifts:
#: after 60 s of -35 dBFS white noise the next sentence was found 860 ms late and its mean speech
#: probability fell from 0.88 to 0.43 (after 300 s of digital silence: 250 ms late, 0.90 -> 0.73).
#: The same drift is reported upstream (snakers4/silero-vad#725). Between turns the reset costs
#: nothing: an utterance has ended by then (with the default silence_s, 0.7 s, shorter).
RESET_S: Final[float] = 1.0
REPLAY: Final[int] = 8  # windows (0.26 s) a reset state hears again (SileroStream.reset)
_ASSET: Final[tuple[str, str]] = ("assets", "silero_vad_v6.onnx")
_LOADING = threading.Lock()


def model_path() -> Path | None:
    """Where faster-whisper's Silero model lies, found without importing faster-whisper (which
    would load CTranslate2 into the service); None when it is not installed."""
    try:
        spec = find_spec("faster_whisper")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*_ASSET)
    return path if path.is_file() else None


def available() -> bool:
    """Can Silero run here: the `speech` extra (faster-whisper, onnxruntime) and its model file?"""
    from empathy_engine.extras import has

    return has("speech") and model_path() is not None


@cache
def _load() -> Any:
    import onnxruntime as ort  # imported here: without the speech extra the energy rule needs none of it

    path = model_path()
    if path is None:
        from empathy_engine.extras import MissingExtra

        raise MissingExtra("speech", "Silero voice activity")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only: its warnings are about graph optimisations
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def session() -> Any:
    """The process's one Silero session (loaded once, however many channels ask at the same time)."""
    with _LOADING:
        return _load()


def _lowpass(taps: int = 41, beta: float = 5.0) -> np.ndarray:
    """The anti-imaging filter of 2x upsampling, as scipy's resample_poly designs it (a Kaiser-windowed
    sinc cut at the old Nyquist, 10 zero crossings a side), with the gain of 2 zero-stuffing needs."""
    n = np.arange(taps) - (taps - 1) / 2
    h = np.sinc(n / UP) * np.kaiser(taps, beta)
    return (h * (UP / h.sum())).astype(np.float64)


_TAPS: Final[np.ndarray] = _lowpass()
_EVEN: Final[np.ndarray] = _TAPS[0::2]  # output samples at the input's instants
_ODD: Final[np.ndarray] = _TAPS[1::2]  # ... and half way between them
_HISTORY: Final[int] = len(_EVEN) - 1


class Upsampler:
    """2x polyphase upsampling of a stream, chunk by chunk, with the filter's history carried: the
    same samples as resampling the whole stream at once, delayed by half the filter (1.25 ms)."""

    def __init__(self) -> None:
        self._history = np.zeros(_HISTORY, np.float64)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        buffer = np.concatenate([self._history, np.asarray(x, np.float64).ravel()])
        n = len(buffer) - _HISTORY
        out = np.empty(2 * n, np.float32)
        out[0::2] = np.convolve(buffer, _EVEN, "valid")
        out[1::2] = np.convolve(buffer, _ODD, "valid")[1:]
        self._history = buffer[len(buffer) - _HISTORY :]
        return out


class SileroStream:
    """One channel's Silero: `probabilities(samples)` for a whole number of FRAMEs at ANALYSIS_RATE
    (any count), one probability of speech per FRAME, the model's state carried between calls."""

    def __init__(self) -> None:
        self._session = session()
        self._upsample = Upsampler()
        self._h = np.zeros(STATE, np.float32)
        self._c = np.zeros(STATE, np.float32)
        self._context = np.zeros(CONTEXT, np.float32)
        self._recent: deque[np.ndarray] = deque(maxlen=REPLAY)  # the last windows, as the model took them

    def reset(self) -> None:
        """Start the LSTM state again, as if the stream had begun REPLAY windows ago: the state is
        zeroed and the last REPLAY windows are run through the model once more (their answers are
        not used), so it knows the line's background and does not take it for an onset."""
        self._h = np.zeros(STATE, np.float32)
        self._c = np.zeros(STATE, np.float32)
        if self._recent:
            recent = np.vstack(self._recent)
            _, self._h, self._c = self._session.run(None, {"input": recent, "h": self._h, "c": self._c})

    def probabilities(self, samples: np.ndarray) -> np.ndarray:
        x = np.asarray(samples, np.float32).ravel()
        if len(x) % FRAME:
            raise ValueError(f"Silero takes whole {FRAME}-sample frames at {ANALYSIS_RATE} Hz, not {len(x)} samples")
        out = [self._batch(x[i : i + MAX_BATCH * FRAME]) for i in range(0, len(x), MAX_BATCH * FRAME)]
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    def _batch(self, x: np.ndarray) -> np.ndarray:
        windows = self._upsample(x).reshape(-1, WINDOW)
        before = np.vstack([self._context[None, :], windows[:-1, -CONTEXT:]])  # each window's context
        inputs = np.ascontiguousarray(np.hstack([before, windows]), dtype=np.float32)
        probs, self._h, self._c = self._session.run(None, {"input": inputs, "h": self._h, "c": self._c})
        self._context = windows[-1, -CONTEXT:].copy()
        self._recent.extend(inputs[-REPLAY:].copy())  # a copy: a long push's whole batch is not kept
        return np.asarray(probs, np.float32).ravel()


class SileroSpeech:
    """Speech or not per FRAME from Silero's probabilities, with Silero's own hysteresis, and the
    model's state reset after each `reset_s` without speech (see RESET_S)."""

    frame: Final[int] = FRAME

    def __init__(
        self, threshold: float = THRESHOLD, neg_threshold: float = NEG_THRESHOLD, reset_s: float = RESET_S
    ) -> None:
        self.threshold = threshold
        self.neg_threshold = neg_threshold
        self.reset_frames = max(1, round(reset_s * ANALYSIS_RATE / FRAME))
        self._stream = SileroStream()
        self._speaking = False
        self._quiet = 0  # frames without speech since the last speech frame or reset

    def decide(self, frames: np.ndarray) -> np.ndarray:
        """`frames`: (n, FRAME) samples; whether each is speech."""
        out = np.zeros(len(frames), bool)
        done = 0
        while done < len(frames):
            # A reset can only fall on the last frame of this batch: the same frames are decided, with
            # the same resets, however the stream was cut into pushes.
            n = min(len(frames) - done, self.reset_frames - self._quiet)
            for i, p in enumerate(self._stream.probabilities(frames[done : done + n])):
                self._speaking = p >= self.threshold or (self._speaking and p >= self.neg_threshold)
                self._quiet = 0 if self._speaking else self._quiet + 1
                out[done + i] = self._speaking
            if self._quiet >= self.reset_frames:
                self._stream.reset()
                self._quiet = 0
            done += n
        return out
