"""Energy-based voice activity for one channel of live telephony audio: where utterances start and end.

Audio is cut into 20 ms frames. A frame is speech when its level is above both a fixed floor and
the channel's noise floor plus a margin. The noise floor is the quietest frame of the last
`noise_window_s` (speech always has pauses between words; steady line noise has none), so hiss or
a hum stops counting as speech once it has filled the window. An utterance
starts at two speech frames in a row (a click is one), keeps a short pre-roll so the first
syllable is whole, and ends after `silence_s` without speech or at `max_turn_s`; one with less
than `min_speech_s` of speech is dropped (a cough, a bump). Cheap on purpose: it decides where
turns are, the prosody and recognition that follow do the listening.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from empathy_engine.ingest.audio import ANALYSIS_RATE

FRAME = ANALYSIS_RATE // 50  # 20 ms
ONSET_FRAMES = 2
NOISE_BLOCK = 25  # frames (0.5 s) per block of the noise floor's sliding minimum
TAIL_S = 0.2  # audio kept after the last speech frame for the recogniser (word endings fade)


@dataclass(frozen=True, slots=True)
class TurnSettings:
    """How utterances are cut (seconds and dB full scale)."""

    silence_s: float = 0.7  # an utterance ends after this much silence following speech
    max_turn_s: float = 15.0  # ... or when it has gone on this long
    min_speech_s: float = 0.15  # less speech than this is not an utterance
    preroll_s: float = 0.2  # audio kept from before the first speech frame
    floor_db: float = -50.0  # never speech below this level
    margin_db: float = 12.0  # speech is this far above the channel's noise floor
    noise_window_s: float = 5.0  # the noise floor is the quietest frame heard in this long
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


class SpeechSegmenter:
    """One channel: `push` samples as they arrive (any size), get the utterance boundaries they decide."""

    def __init__(self, settings: TurnSettings | None = None, start: int = 0) -> None:
        self.settings = settings or TurnSettings()
        self.position = start  # absolute sample index of the next whole frame (where the pending samples begin)
        # Sliding minimum of frame levels, by blocks; seeded quiet, so the first words of a call count.
        seed = self.settings.floor_db - self.settings.margin_db
        blocks = max(1, round(self.settings.noise_window_s * 50 / NOISE_BLOCK))
        self._minima: deque[float] = deque([seed] * blocks, maxlen=blocks)
        self._block_min, self._block_frames = float("inf"), 0
        self._pending = np.zeros(0, np.float32)
        self._preroll: deque[np.ndarray] = deque(maxlen=max(1, round(self.settings.preroll_s * 50)) + ONSET_FRAMES)
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
    def noise_db(self) -> float:
        """The channel's noise floor now (dB full scale)."""
        return min(min(self._minima), self._block_min)

    @property
    def utterance_start(self) -> int | None:
        """First speech sample of the open utterance, if one is open."""
        return self._speech_start if self._audio is not None else None

    def push(self, samples: np.ndarray) -> list[SegmentEvent]:
        events: list[SegmentEvent] = []
        x = np.concatenate([self._pending, np.asarray(samples, np.float32).ravel()])
        whole = len(x) - len(x) % FRAME
        for i in range(0, whole, FRAME):
            self._frame(x[i : i + FRAME], events)
        self._pending = x[whole:]
        return events

    def skip(self, samples: int) -> list[SegmentEvent]:
        """A gap in the stream (nothing arrived for `samples`): it is silence, and time moves on."""
        events = self.push(np.zeros(min(samples, self._enough_silence()), np.float32))
        self.position += max(0, samples - self._enough_silence())
        return events

    def close(self) -> list[SegmentEvent]:
        """The stream ended: close the open utterance, if any."""
        events: list[SegmentEvent] = []
        if self._audio is not None:
            self._end(events)
        return events

    def _enough_silence(self) -> int:
        return int((self.settings.silence_s + 0.1) * ANALYSIS_RATE)

    def _frame(self, frame: np.ndarray, events: list[SegmentEvent]) -> None:
        s = self.settings
        level = 10.0 * float(np.log10(np.mean(np.square(frame, dtype=np.float64)) + 1e-12))
        speech = level > max(s.floor_db, self.noise_db + s.margin_db)
        self._block_min, self._block_frames = min(self._block_min, level), self._block_frames + 1
        if self._block_frames == NOISE_BLOCK:
            self._minima.append(self._block_min)
            self._block_min, self._block_frames = float("inf"), 0
        start = self.position
        self.position += FRAME
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
            self._silent += FRAME
        too_long = self.position - self._speech_start >= s.max_turn_s * ANALYSIS_RATE
        if self._silent >= s.silence_s * ANALYSIS_RATE or too_long:
            self._end(events)

    def _open(self, start: int, events: list[SegmentEvent]) -> None:
        frames = list(self._preroll)
        self._preroll.clear()
        self._audio = frames
        self._audio_start = self.position - FRAME * len(frames)
        self._speech_start = start - FRAME * (ONSET_FRAMES - 1)
        self._speech_end = self.position
        self._speech_frames, self._silent, self._run = ONSET_FRAMES, 0, 0
        events.append(Opened(self._audio_start))
        events.append(Heard(np.concatenate(frames)))

    def _end(self, events: list[SegmentEvent]) -> None:
        assert self._audio is not None
        speech_s = self._speech_frames * FRAME / ANALYSIS_RATE
        if speech_s < self.settings.min_speech_s:
            events.append(Dropped())
        else:
            audio = np.concatenate(self._audio)
            keep = self._speech_end - self._audio_start + int(TAIL_S * ANALYSIS_RATE)
            events.append(Closed(self._speech_start, self._speech_end, speech_s, audio[:keep]))
        self._audio = None
        self._run = 0
