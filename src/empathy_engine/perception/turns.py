"""AudioTurnTaker: one call's live audio (AudioChunk events) -> the engine's utterances, with the voice.

Each speaker's channel is cut into utterances by voice activity (perception/vad.py: Silero VAD with
the speech extra, else the energy rule; EMPATHY_VAD chooses). The customer's audio
goes to the call's `VoiceTracker` while they speak (the agent's, over the same samples, as the
other channel for overtalk and shared silence), so each customer utterance comes with its
`VoiceReading`. The words come from the platform's own transcript when it sends one
(`offer_transcript`), else from a `Recogniser` (Whisper, or pocketsphinx without the speech extra).

    taker = AudioTurnTaker(recogniser=my_recogniser, voice=engine.voice.new_call())
    for chunk in chunks:                       # AudioChunk events from ingest/twilio.py or audiohook.py
        for utterance, voice in taker.feed(chunk):
            ...                                # session.feed(utterance) (voice: see docs/telephony.md)
    taker.flush()                              # at CallEnded: the last utterances

Platform transcripts. `offer_transcript(speaker, text, t, end)` (seconds from the call start, like
the audio) gives an utterance its words instead of recognition. A transcript belongs to the first
finished utterance of that speaker that it overlaps by at least a quarter of its length (one
without `end` is a point: it must fall within the utterance, 0.3 s of slack before). Once a
speaker's transcripts have been seen (or with `expect_transcripts=True`), each finished utterance
waits up to `transcript_wait_s` of stream time for its transcript, then falls back to recognition.
A later utterance whose middle lies inside an already used transcript gets no words (they were in
that transcript) and is dropped. A transcript that no utterance takes becomes an utterance of its
own (no voice); one that comes after its utterance was already released is dropped and counted in
`late_transcripts`. Utterances are released in the order they ended.

Recognition runs when an utterance is released, inside `feed`: it costs CPU (pocketsphinx: a few
tenths of a second per utterance), so a server calls `feed` off its event loop.

Partial transcripts. While the customer speaks, `partial_due()` hands out their open utterance's
audio so far each time it has grown by PARTIAL_EVERY_S, when the recogniser has one to spare and no
platform sends transcripts; `partial_words(due)` recognises it (off the loop) and `still_open(due)`
says whether that utterance is still being spoken, so a late partial is never shown after the
final words. A server sends these as provisional utterances (docs/telephony.md).
"""

from __future__ import annotations

import bisect
import threading
from collections import deque
from dataclasses import dataclass, field
from functools import cache
from typing import NamedTuple

import numpy as np

from empathy_engine.events import AudioChunk, Speaker, Utterance
from empathy_engine.ingest.audio import ANALYSIS_RATE
from empathy_engine.perception.prosody import ProsodyPerceiver, VoiceReading, VoiceTracker
from empathy_engine.perception.speech import Recogniser, chosen_recogniser
from empathy_engine.perception.vad import (
    Closed,
    Dropped,
    Heard,
    Opened,
    SegmentEvent,
    SpeechSegmenter,
    TurnSettings,
)

GAP_TOLERANCE_S = 0.1  # a chunk later than this after the previous one: the gap between is silence
HISTORY_S = 5.0  # the agent's recent audio kept to line up with the customer's turns
POINT_SLACK_S = 0.3  # a transcript with no end may start this much before the utterance
MIN_SHARE = 0.25  # a transcript must overlap an utterance by this share of its length
#: A partial transcript each time the customer's open utterance has grown by this much: long turns
#: get a provisional card while they are spoken, short ones (most) only their final one.
PARTIAL_EVERY_S = 1.5

__all__ = ["AudioTurnTaker", "HeardTurn", "PartialAudio", "SilentRecogniser", "TurnSettings", "default_recogniser"]


class HeardTurn(NamedTuple):
    """A finished utterance and, for the customer, how their voice sounded in it."""

    utterance: Utterance
    voice: VoiceReading | None


@dataclass(frozen=True, slots=True)
class PartialAudio:
    """The customer's open utterance so far, to be recognised as a partial transcript."""

    utterance: int  # which of the customer's utterances (counted from 1)
    t: float  # where its speech starts, seconds from the call start
    audio: np.ndarray


class SilentRecogniser:
    """Hears no words: for platforms that send every transcript themselves (untranscribed audio is dropped)."""

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> str:
        return ""


_LOADING = threading.Lock()


@cache
def _the_recogniser() -> Recogniser:
    return chosen_recogniser()


def default_recogniser() -> Recogniser:
    """The process's one recogniser, as EMPATHY_RECOGNISER chooses (perception/speech.py); loaded
    once, however many streams ask for it at the same time (Whisper takes a second to load)."""
    with _LOADING:
        return _the_recogniser()


@dataclass(slots=True)
class _Transcript:
    speaker: Speaker
    text: str
    t: float
    end: float | None

    @property
    def span(self) -> tuple[float, float]:
        return self.t, self.t if self.end is None else max(self.t, self.end)

    def fits(self, t: float, end: float) -> bool:
        """Does this transcript belong to an utterance from `t` to `end`?"""
        a, b = self.span
        if b - a <= 0:
            return t - POINT_SLACK_S <= a <= end
        return min(b, end) - max(a, t) >= MIN_SHARE * (b - a)


@dataclass(slots=True)
class _Finished:
    """An utterance waiting to be released: from audio (text None until known) or a lone transcript."""

    speaker: Speaker
    t: float
    end: float
    audio: np.ndarray | None = None
    voice: VoiceReading | None = None
    text: str | None = None


@dataclass(slots=True)
class _Channel:
    segmenter: SpeechSegmenter
    history: deque[tuple[int, np.ndarray]] = field(default_factory=deque)  # (first sample, samples)


class AudioTurnTaker:
    """One call: AudioChunks in, finished utterances (with the customer's voice reading) out."""

    def __init__(
        self,
        recogniser: Recogniser | None = None,
        voice: VoiceTracker | None = None,
        settings: TurnSettings | None = None,
        *,
        expect_transcripts: bool = False,
    ) -> None:
        self.recogniser = recogniser
        self.voice = voice if voice is not None else ProsodyPerceiver().new_call()
        self.settings = settings or TurnSettings()
        self.expect_transcripts = expect_transcripts
        self.late_transcripts = 0  # transcripts that came after their utterance was released
        self._channels: dict[Speaker, _Channel] = {}
        self._queue: list[_Finished] = []  # ordered by end
        self._transcripts: list[_Transcript] = []  # not yet used
        self._used: dict[Speaker, list[tuple[float, float]]] = {"customer": [], "agent": []}
        self._released: dict[Speaker, list[tuple[float, float]]] = {"customer": [], "agent": []}
        self._transcribed: set[Speaker] = set()
        self._fed_to = 0  # the customer's open turn: absolute sample its tracker audio reaches
        self._opened = 0  # customer utterances opened so far
        self._open_audio: list[np.ndarray] | None = None  # the customer's open utterance (when partials may come)
        self._partial_at = 0  # ... its samples when the last partial was handed out
        self._other_to: int | None = None  # ... and the agent's audio fed beside it (None: no turn open)

    # -- audio ------------------------------------------------------------------------------------

    def feed(self, chunk: AudioChunk) -> list[HeardTurn]:
        """Take one chunk of one speaker's audio; the utterances that are now finished, in order."""
        at = round(chunk.t * ANALYSIS_RATE)
        channel = self._channels.get(chunk.speaker)
        if channel is None:
            channel = self._channels[chunk.speaker] = _Channel(SpeechSegmenter(self.settings, start=at))
        events: list[SegmentEvent] = []
        gap = at - channel.segmenter.received
        if gap > GAP_TOLERANCE_S * ANALYSIS_RATE:
            events += channel.segmenter.skip(gap)
        start = channel.segmenter.received
        events += channel.segmenter.push(chunk.samples)
        if chunk.speaker == "agent":
            self._remember(channel, start, chunk.samples)
        for event in events:
            self._on(chunk.speaker, event)
        self._feed_other()
        return self._release(force=False)

    def partial(self) -> VoiceReading | None:
        """The customer's voice in the utterance they are speaking now, if any (the baseline is not touched)."""
        return self.voice.partial() if self._other_to is not None else None

    def partial_due(self) -> PartialAudio | None:
        """The customer's open utterance so far, if a partial transcript of it is due (see above)."""
        audio = self._open_audio
        if audio is None or self.expect_transcripts or "customer" in self._transcribed:
            return None
        heard = sum(len(a) for a in audio)
        recogniser = self._recogniser()
        if heard - self._partial_at < PARTIAL_EVERY_S * ANALYSIS_RATE or not getattr(recogniser, "spare", False):
            return None
        self._partial_at = heard
        start = self._channels["customer"].segmenter.utterance_start or 0
        return PartialAudio(self._opened, start / ANALYSIS_RATE, np.concatenate(audio))

    def partial_words(self, due: PartialAudio) -> str:
        """Recognise a partial (CPU: call it off the event loop, as `feed`)."""
        return self._recogniser().transcribe(due.audio, ANALYSIS_RATE).strip()

    def still_open(self, due: PartialAudio) -> bool:
        """Is the utterance `due` was taken from still being spoken?"""
        return self._open_audio is not None and self._opened == due.utterance

    def flush(self) -> list[HeardTurn]:
        """The call ended: close open utterances and release everything still waiting."""
        for speaker, channel in self._channels.items():
            for event in channel.segmenter.close():
                self._on(speaker, event)
        return self._release(force=True)

    def _on(self, speaker: Speaker, event: SegmentEvent) -> None:
        customer = speaker == "customer"
        if isinstance(event, Opened) and customer:
            self._fed_to = self._other_to = event.start
            self._opened, self._open_audio, self._partial_at = self._opened + 1, [], 0
        elif isinstance(event, Heard) and customer:
            self.voice.feed(event.samples)
            self._fed_to += len(event.samples)
            if self._open_audio is not None:
                self._open_audio.append(event.samples)
        elif isinstance(event, Closed):
            voice = None
            if customer:
                self._feed_other()
                voice = self.voice.end_turn()
                self._other_to, self._open_audio = None, None
            t, end = event.speech_start / ANALYSIS_RATE, event.speech_end / ANALYSIS_RATE
            bisect.insort(self._queue, _Finished(speaker, t, end, event.audio, voice), key=lambda f: f.end)
        elif isinstance(event, Dropped) and customer:
            self.voice.discard_turn()
            self._other_to, self._open_audio = None, None

    def _remember(self, channel: _Channel, start: int, samples: np.ndarray) -> None:
        channel.history.append((start, np.asarray(samples, np.float32)))
        horizon = start + len(samples) - int(HISTORY_S * ANALYSIS_RATE)
        while channel.history and channel.history[0][0] + len(channel.history[0][1]) < horizon:
            channel.history.popleft()

    def _feed_other(self) -> None:
        """Give the tracker the agent's audio over the samples of the customer's turn heard so far."""
        agent = self._channels.get("agent")
        if self._other_to is None or agent is None:
            return
        stop = min(self._fed_to, agent.segmenter.received)
        if stop <= self._other_to:
            return
        out = np.zeros(stop - self._other_to, np.float32)  # a hole in the agent's audio is silence
        for first, samples in reversed(agent.history):
            if first + len(samples) <= self._other_to:
                break
            a, b = max(first, self._other_to), min(first + len(samples), stop)
            if a < b:
                out[a - self._other_to : b - self._other_to] = samples[a - first : b - first]
        self.voice.feed_other(out)
        self._other_to = stop

    # -- transcripts ------------------------------------------------------------------------------

    def offer_transcript(self, speaker: Speaker, text: str, t: float, end: float | None = None) -> list[HeardTurn]:
        """The platform's words for `speaker` from `t` (to `end`), seconds from the call start."""
        if speaker not in ("customer", "agent"):
            raise ValueError(f"transcript speaker {speaker!r}; use 'customer' or 'agent'")
        self._transcribed.add(speaker)
        if text.strip():
            transcript = _Transcript(speaker, text.strip(), float(t), None if end is None else float(end))
            if any(transcript.fits(a, b) for a, b in self._released[speaker]):
                self.late_transcripts += 1  # its utterance already went out with recognised words
            else:
                self._transcripts.append(transcript)
        return self._release(force=False)

    def _claim(self, item: _Finished) -> str | None:
        mine = [tr for tr in self._transcripts if tr.speaker == item.speaker and tr.fits(item.t, item.end)]
        if not mine:
            return None
        for tr in mine:
            self._transcripts.remove(tr)
            self._used[item.speaker].append(tr.span)
        return " ".join(tr.text for tr in sorted(mine, key=lambda tr: tr.t))

    def _covered(self, item: _Finished) -> bool:
        middle = (item.t + item.end) / 2
        return any(a <= middle <= b for a, b in self._used[item.speaker])

    def _orphans(self, force: bool) -> None:
        """Transcripts no utterance will take become utterances of their own."""
        now = self._now()
        for tr in list(self._transcripts):
            a, b = tr.span
            if not force and now < b + self.settings.transcript_wait_s:
                continue
            open_start = self._open_start(tr.speaker)
            if not force and open_start is not None and open_start <= b:
                continue  # the utterance being spoken may still take it
            if any(f.speaker == tr.speaker and f.text is None and tr.fits(f.t, f.end) for f in self._queue):
                continue
            self._transcripts.remove(tr)
            self._used[tr.speaker].append(tr.span)
            bisect.insort(self._queue, _Finished(tr.speaker, a, b, text=tr.text), key=lambda f: f.end)

    # -- release ----------------------------------------------------------------------------------

    def _release(self, force: bool) -> list[HeardTurn]:
        self._orphans(force)
        out: list[HeardTurn] = []
        now = self._now()
        while self._queue:
            item = self._queue[0]
            if item.text is None:
                item.text = self._claim(item)
            if item.text is None:
                waits = self.expect_transcripts or item.speaker in self._transcribed
                if self._covered(item):
                    item.text = ""
                elif force or now >= item.end + (self.settings.transcript_wait_s if waits else 0.0):
                    item.text = self._recognise(item)
                else:
                    break  # waiting for its transcript; later utterances wait behind it
            self._queue.pop(0)
            self._released[item.speaker].append((item.t, item.end))
            if item.text.strip():
                utterance = Utterance(item.speaker, item.text.strip(), round(item.t, 3), end=round(item.end, 3))
                out.append(HeardTurn(utterance, item.voice))
        return out

    def _recognise(self, item: _Finished) -> str:
        if item.audio is None:
            return ""
        return self._recogniser().transcribe(item.audio, ANALYSIS_RATE)

    def _recogniser(self) -> Recogniser:
        """The one given, else the process's own, loaded only when an utterance first needs it."""
        return self.recogniser if self.recogniser is not None else default_recogniser()

    def _now(self) -> float:
        """Stream time: the latest audio heard on any channel, in seconds."""
        return max((c.segmenter.received for c in self._channels.values()), default=0) / ANALYSIS_RATE

    def _open_start(self, speaker: Speaker) -> float | None:
        channel = self._channels.get(speaker)
        start = channel.segmenter.utterance_start if channel else None
        return None if start is None else start / ANALYSIS_RATE
