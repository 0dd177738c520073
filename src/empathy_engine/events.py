"""Typed events: what every wire format is turned into at the edge (see ingest/)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np

Speaker = Literal["customer", "agent"]
SPEAKERS: tuple[Speaker, ...] = ("customer", "agent")


def check_speaker(speaker: object, what: str) -> None:
    """Refuse anything but "customer" or "agent": a typo must not quietly become an agent turn."""
    if speaker not in SPEAKERS:
        hint = (
            f" (did you mean {speaker.strip().lower()!r}?)"
            if isinstance(speaker, str) and speaker.strip().lower() in SPEAKERS
            else ""
        )
        raise ValueError(f"{what} speaker {speaker!r}: use 'customer' or 'agent'{hint}")


@dataclass(frozen=True, slots=True)
class PriorContact:
    issue: str = ""
    outcome: str = ""
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    id: str | None = None
    name: str | None = None
    notes: tuple[str, ...] = ()
    prior_contacts: tuple[PriorContact, ...] = ()


@dataclass(frozen=True, slots=True)
class RecordingRef:
    """A call recording with one channel per speaker: {"customer": 0, "agent": 1}."""

    path: str
    channels: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class CallStarted:
    """The conversation header: who, what service, when."""

    call_id: str
    channel: str | None = None
    handled_by: Literal["human", "bot"] = "human"
    service: str | None = None
    started_at: datetime | None = None
    customer: CustomerProfile = field(default_factory=CustomerProfile)
    agent_id: str | None = None
    recording: RecordingRef | None = None


@dataclass(frozen=True, slots=True)
class Utterance:
    """One turn of speech or chat. `t` is seconds from the start of the call."""

    speaker: Speaker
    text: str
    t: float | None = None
    audio: str | None = None
    final: bool = True
    end: float | None = None  # when the turn ended (seconds from the call start), if known

    def __post_init__(self) -> None:
        check_speaker(self.speaker, "Utterance")


@dataclass(frozen=True, slots=True)
class CallEnded:
    t: float | None = None


@dataclass(frozen=True, slots=True, eq=False)
class AudioChunk:
    """A piece of one speaker's live audio: mono float32 samples in [-1, 1] at 8 kHz (ANALYSIS_RATE).

    `t` is when its first sample was heard, in seconds from the start of the call (or stream).
    Telephony serializers (ingest/twilio.py, ingest/audiohook.py) make these; perception/turns.py
    cuts them into utterances. Compared by identity: the samples are an array.
    """

    speaker: Speaker
    samples: np.ndarray = field(repr=False)
    t: float

    def __post_init__(self) -> None:
        check_speaker(self.speaker, "AudioChunk")

    @property
    def end(self) -> float:
        """When its last sample ends (seconds from the start of the call)."""
        return self.t + len(self.samples) / 8000


Event = CallStarted | Utterance | CallEnded | AudioChunk
