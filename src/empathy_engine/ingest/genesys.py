"""Genesys Cloud conversation transcripts (Speech and Text Analytics' transcript JSON): one per file.

The fields read: `conversationId` (the call id), `mediaType`, `conversationStartTime` (epoch ms) and
`transcripts[].phrases[]` with `participantPurpose` (external or customer: the customer; internal,
agent or user: the agent; acd, ivr, voicemail and the like are skipped), `decoratedText` (or
`text`), and the phrase's time: `offset.milliseconds` from the start of the communication, else
`startTimeMs` (epoch ms) against the conversation start; `duration.milliseconds` gives its end.
Phrases from all `transcripts` are put in time order; consecutive phrases of one party are one turn.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from empathy_engine.events import Speaker
from empathy_engine.ingest.conversation import InputError, Loaded
from empathy_engine.ingest.transcripts import (
    FormatError,
    ReadOptions,
    Segment,
    call_id_from,
    conversation_of,
    load_json_object,
    merge_runs,
    millis,
    one_call,
    speaker_of,
    text_of,
)

PURPOSES: Mapping[str, Speaker | None] = {
    "external": "customer",
    "customer": "customer",
    "internal": "agent",
    "agent": "agent",
    "user": "agent",
    **{other: None for other in ("acd", "ivr", "voicemail", "fax", "workflow", "outbound", "station", "unknown")},
}
PURPOSE_FIX = "expected external (the customer) or internal (the agent); map others with --speaker PURPOSE=agent"


def _ms_field(obj: Mapping[str, Any], key: str, where: str) -> float | None:
    """`{"milliseconds": n}` (or a bare number) in seconds; None when absent."""
    value = obj.get(key)
    if isinstance(value, dict):
        return millis(value, "milliseconds", f"{where}.{key}")
    return millis(obj, key, where)


def _phrase(phrase: Any, where: str, origin: float | None, speakers: Mapping[str, Speaker | None]) -> Segment | None:
    if not isinstance(phrase, dict):
        raise FormatError(where, f"expected an object, got {type(phrase).__name__}")
    speaker = speaker_of(phrase.get("participantPurpose"), speakers, f"{where}.participantPurpose", PURPOSE_FIX)
    if speaker is None:
        return None
    text = text_of(phrase.get("decoratedText") or phrase.get("text"), f"{where}.text")
    t = _ms_field(phrase, "offset", where)
    if t is None and (start := millis(phrase, "startTimeMs", where)) is not None and origin is not None:
        t = round(max(0.0, start - origin), 3)
    length = _ms_field(phrase, "duration", where)
    return Segment(speaker, text, t, None if t is None or length is None else round(t + length, 3))


def _origin(obj: Mapping[str, Any], name: str) -> float | None:
    """The conversation's start in epoch seconds: what phrase `startTimeMs` values count from."""
    for key in ("conversationStartTime", "startTime"):
        if (value := millis(obj, key, name)) is not None:
            return value
    return None


def convert(data: bytes, name: str, options: ReadOptions) -> dict[str, Any]:
    """The conversation v1 object of one Genesys Cloud transcript file."""
    obj = load_json_object(data, name, "a Genesys Cloud transcript")
    transcripts = obj.get("transcripts")
    if not isinstance(transcripts, list):
        raise FormatError(f"{name}: transcripts", "is missing or not a list; is this a Genesys Cloud transcript?")
    origin, speakers = _origin(obj, name), options.speaker_names(PURPOSES)
    found: list[Segment] = []
    for i, transcript in enumerate(transcripts):
        phrases = transcript.get("phrases") if isinstance(transcript, dict) else None
        if not isinstance(phrases, list):
            raise FormatError(f"{name}: transcripts[{i}].phrases", "is missing or not a list")
        for j, phrase in enumerate(phrases):
            if segment := _phrase(phrase, f"{name}: transcripts[{i}].phrases[{j}]", origin, speakers):
                found.append(segment)
    found.sort(key=lambda s: float("inf") if s.t is None else s.t)  # stable: untimed phrases keep their order
    conversation = obj.get("conversationId")
    media = obj.get("mediaType")
    # No `started_at`: the file's epoch times carry no local time zone, and night, weekend and
    # holiday context (perception/context.py) must read the customer's local clock, not UTC.
    header = {"channel": media.lower() if isinstance(media, str) else None}
    call_id = conversation if isinstance(conversation, str) and conversation else call_id_from(name)
    return conversation_of(call_id, merge_runs(found), header)


def read_genesys(data: bytes, name: str, base: Path | None, options: ReadOptions) -> Iterator[Loaded | InputError]:
    """The conversation in one Genesys Cloud transcript file's bytes, as the JSON reader would give it."""
    return one_call(name, base, convert, data, name, options)
