"""Voice activity for one channel of live telephony audio: where utterances start and end.

Each frame of the channel is speech or not, by one of two rules (`EMPATHY_VAD`, `vad_setting`):

- Silero VAD (perception/silero.py, the `speech` extra; the default there): a neural detector's
  probability per 32 ms frame (the model's window), speech from 0.5 until it falls under 0.35.
  It tells speech from steady noise, hum, tones and bangs, which the energy rule cannot.
- The energy rule (the fallback, and `EMPATHY_VAD=energy`): 20 ms frames; a frame is speech when
  its level is above both a fixed floor and the channel's noise floor plus a margin. The noise
  floor is the quietest frame of the last `noise_window_s` (speech always has pauses between
  words; steady line noise has none), so hiss or a hum stops counting as speech once it has
  filled the window. Cheap, and deaf to what a sound is.

Whatever the rule, a frame under `floor_db` is never speech, and utterances are cut the same way:
one starts at two speech frames in a row (a click is one), keeps a short pre-roll so the first
syllable is whole, and ends after `silence_s` without speech or at `max_turn_s`; one with less
than `min_speech_s` of speech is dropped (a cough, a bump). Frames lie on the call's clock, so a
stream resumed mid-call cuts where the first one would have. It decides where turns are; the
prosody and recognition that follow do the listening.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from empathy_engine.ingest.audio import ANALYSIS_RATE

FRAME = ANALYSIS_RATE // 50  # the energy rule's frame: 20 ms
ONSET_FRAMES = 2
NOISE_BLOCK = 25  # frames (0.5 s) per block of the noise floor's sliding minimum
TAIL_S = 0.2  # audio kept after the last speech frame for the recogniser (word endings fade)
#: EMPATHY_VAD's values; "auto" is Silero when the `speech` extra is installed, else the energy rule.
VADS = ("auto", "silero", "energy")


@dataclass(frozen=True, slots=True)
class TurnSettings:
    """How utterances are cut (seconds and dB full scale)."""

    silence_s: float = 0.7  # an utterance ends after this much silence following speech
    max_turn_s: float = 15.0  # ... or when it has gone on this long
    min_speech_s: float = 0.15  # less speech than this is not an utterance
    preroll_s: float = 0.2  # audio kept from before the first speech frame
    floor_db: float = -50.0  # never speech below this level
    margin_db: float = 12.0  # energy rule: speech is this far above the channel's noise floor
    noise_window_s: float = 5.0  # energy rule: the noise floor is the quietest frame heard in this long
    transcript_wait_s: float = 2.0  # how long a finished utterance waits for the platform's transcript


@dataclass(frozen=True, slots=True)
class Opened:
    """An utterance began; its audio (pre-roll included) starts at sample `start`."""

    start: int


@dataclass(frozen=True, slots=True)
class Heard:
    """Samples of the open utterance, in order (the pre-roll first)."""

    samples: np.ndarray


@dataclass(frozen=True, slots=True)
class Closed:
    """The open utterance ended: speech from `speech_start` to `speech_end` (samples), its audio for recognition."""

    speech_start: int
    speech_end: int
    speech_s: float
    audio: np.ndarray  # from the pre-roll to shortly after the last speech


@dataclass(frozen=True, slots=True)
class Dropped:
    """The open utterance had too little speech to count."""


SegmentEvent = Opened | Heard | Closed | Dropped


class SpeechRule(Protocol):
    """Decides, frame by frame, which of one channel's frames are speech (state carried between calls)."""

    @property
    def frame(self) -> int:
        """Samples per frame at ANALYSIS_RATE."""
        ...

    def decide(self, frames: np.ndarray) -> np.ndarray:
        """`frames`: (n, frame) samples, in order; a bool per frame, true for speech."""
        ...


class EnergyRule:
    """Speech is louder than the channel's noise floor by a margin (and than a fixed floor)."""

    frame = FRAME

    def __init__(self, settings: TurnSettings) -> None:
        self.settings = settings
        # Sliding minimum of frame levels, by blocks; seeded quiet, so the first words of a call count.
        seed = settings.floor_db - settings.margin_db
        blocks = max(1, round(settings.noise_window_s * 50 / NOISE_BLOCK))
        self._minima: deque[float] = deque([seed] * blocks, maxlen=blocks)
        self._block_min, self._block_frames = float("inf"), 0

    @property
    def noise_db(self) -> float:
        """The channel's noise floor now (dB full scale)."""
        return min(min(self._minima), self._block_min)

    def decide(self, frames: np.ndarray) -> np.ndarray:
        out = np.zeros(len(frames), bool)
        s = self.settings
        for i, level in enumerate(levels_db(frames)):
            out[i] = level > max(s.floor_db, self.noise_db + s.margin_db)
            self._block_min, self._block_frames = min(self._block_min, level), self._block_frames + 1
            if self._block_frames == NOISE_BLOCK:
                self._minima.append(self._block_min)
                self._block_min, self._block_frames = float("inf"), 0
        return out


class SileroRule:
    """Silero's decision (perception/silero.py), except under the fixed floor, where nothing is speech."""

    def __init__(self, settings: TurnSettings) -> None:
        from empathy_engine.perception.silero import SileroSpeech

        self.settings = settings
        self._silero = SileroSpeech()
        self.frame = self._silero.frame

    def decide(self, frames: np.ndarray) -> np.ndarray:
        # Silero runs on every frame, quiet or not, so its state follows the whole stream.
        return self._silero.decide(frames) & (levels_db(frames) > self.settings.floor_db)


def levels_db(frames: np.ndarray) -> np.ndarray:
    """Each frame's level (dB full scale): (n, frame) samples -> n levels."""
    power = np.mean(np.square(frames, dtype=np.float64), axis=1)
    return 10.0 * np.log10(power + 1e-12)


class VadError(ValueError):
    """An EMPATHY_VAD that cannot be used; the message names the variable and the fix."""


def vad_setting(environ: Mapping[str, str] | None = None) -> str:
    """The rule EMPATHY_VAD names, "auto" resolved: "silero" where it can run (the `speech` extra
    installed), else "energy". "silero" where it cannot run, or an unknown value, is a VadError."""
    from empathy_engine.perception import silero

    env = os.environ if environ is None else environ
    name = env.get("EMPATHY_VAD", "auto").strip() or "auto"
    if name not in VADS:
        raise VadError(f"EMPATHY_VAD={name!r}: use one of {', '.join(VADS)}")
    if name == "auto":
        return "silero" if silero.available() else "energy"
    if name == "silero" and not silero.available():
        raise VadError("EMPATHY_VAD='silero' needs the 'speech' extra: pip install 'empathy-engine[speech]'")
    return name


def speech_rule(settings: TurnSettings, vad: str | None = None) -> SpeechRule:
    """A new channel's rule: `vad` ("silero" or "energy"), else the one EMPATHY_VAD chooses."""
    name = vad_setting() if vad is None else vad_setting({"EMPATHY_VAD": vad})
    return SileroRule(settings) if name == "silero" else EnergyRule(settings)


class SpeechSegmenter:
    """One channel: `push` samples as they arrive (any size), get the utterance boundaries they decide.
    `vad` picks the rule ("silero", "energy", "auto"); by default EMPATHY_VAD does."""

    def __init__(self, settings: TurnSettings | None = None, start: int = 0, *, vad: str | None = None) -> None:
        self.settings = settings or TurnSettings()
        self.rule = speech_rule(self.settings, vad)
        self.frame = self.rule.frame
        # Frames lie on the call's clock (multiples of the frame from its start), so a stream resumed
        # mid-call cuts the same frames as an uninterrupted one; the samples before `start` are silence.
        self.position = start - start % self.frame  # absolute sample index where the pending samples begin
        self._pending = np.zeros(start % self.frame, np.float32)
        # At least preroll_s, in whole frames (Silero's 32 ms do not divide 0.2 s).
        preroll = max(1, math.ceil(round(self.settings.preroll_s * ANALYSIS_RATE / self.frame, 6)))
        self._preroll: deque[np.ndarray] = deque(maxlen=preroll + ONSET_FRAMES)
        self._run = 0  # speech frames in a row while idle
        self._audio: list[np.ndarray] | None = None  # the open utterance's frames
        self._audio_start = 0
        self._speech_start = 0
        self._speech_end = 0
        self._speech_frames = 0
        self._silent = 0  # samples of silence since the last speech frame

    @property
    def received(self) -> int:
        """Absolute sample index of the next sample to arrive."""
        return self.position + len(self._pending)

    @property
    def utterance_start(self) -> int | None:
        """First speech sample of the open utterance, if one is open."""
        return self._speech_start if self._audio is not None else None

    def push(self, samples: np.ndarray) -> list[SegmentEvent]:
        events: list[SegmentEvent] = []
        x = np.concatenate([self._pending, np.asarray(samples, np.float32).ravel()])
        whole = len(x) - len(x) % self.frame
        if whole:  # a 20 ms chunk often completes no 32 ms frame: nothing to decide yet
            frames = x[:whole].reshape(-1, self.frame)
            for frame, speech in zip(frames, self.rule.decide(frames), strict=True):
                self._frame(frame, bool(speech), events)
        self._pending = x[whole:]
        return events

    def skip(self, samples: int) -> list[SegmentEvent]:
        """A gap in the stream (nothing arrived for `samples`): it is silence, and time moves on."""
        heard = min(samples, self._enough_silence())
        events = self.push(np.zeros(heard, np.float32))
        # Enough silence was heard to close any utterance: jump the rest in whole frames (only silence
        # is pending, so it may move), to stay on the call's clock.
        jump = (samples - heard) // self.frame * self.frame
        self.position += jump
        return events + self.push(np.zeros(samples - heard - jump, np.float32))

    def close(self) -> list[SegmentEvent]:
        """The stream ended: close the open utterance, if any."""
        events: list[SegmentEvent] = []
        if self._audio is not None:
            self._end(events)
        return events

    def _enough_silence(self) -> int:
        return int((self.settings.silence_s + 0.1) * ANALYSIS_RATE)

    def _frame(self, frame: np.ndarray, speech: bool, events: list[SegmentEvent]) -> None:
        s = self.settings
        start = self.position
        self.position += self.frame
        if self._audio is None:
            self._preroll.append(frame)
            self._run = self._run + 1 if speech else 0
            if self._run >= ONSET_FRAMES:
                self._open(start, events)
            return
        self._audio.append(frame)
        events.append(Heard(frame))
        if speech:
            self._speech_frames += 1
            self._speech_end, self._silent = self.position, 0
        else:
            self._silent += self.frame
        # Cut before the next frame would take the turn past max_turn_s (frames need not divide it).
        too_long = self.position + self.frame - self._speech_start > s.max_turn_s * ANALYSIS_RATE
        if self._silent >= s.silence_s * ANALYSIS_RATE or too_long:
            self._end(events)

    def _open(self, start: int, events: list[SegmentEvent]) -> None:
        frames = list(self._preroll)
        self._preroll.clear()
        self._audio = frames
        self._audio_start = self.position - self.frame * len(frames)
        self._speech_start = start - self.frame * (ONSET_FRAMES - 1)
        self._speech_end = self.position
        self._speech_frames, self._silent, self._run = ONSET_FRAMES, 0, 0
        events.append(Opened(self._audio_start))
        events.append(Heard(np.concatenate(frames)))

    def _end(self, events: list[SegmentEvent]) -> None:
        assert self._audio is not None
        speech_s = self._speech_frames * self.frame / ANALYSIS_RATE
        if speech_s < self.settings.min_speech_s:
            events.append(Dropped())
        else:
            audio = np.concatenate(self._audio)
            keep = self._speech_end - self._audio_start + int(TAIL_S * ANALYSIS_RATE)
            events.append(Closed(self._speech_start, self._speech_end, speech_s, audio[:keep]))
        self._audio = None
        self._run = 0
