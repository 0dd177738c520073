"""What every transcript reader (CSV, WebVTT, Contact Lens, Transcribe, Genesys) shares.

Each reader turns one file into conversation v1 objects (the JSON reader's own shape, see
docs/conversation-format.md) and hands them to `conversation.parse`, so every format gives exactly
the events, the validation and the call-id rule a `.json` file gives. Errors name the file, the
line or the vendor's own field (`calls.csv:7`, `call.json: Transcript[3].ParticipantId`) and the fix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from empathy_engine.events import Speaker
from empathy_engine.ingest.conversation import MAX_TEXT_CHARS, InputError, Loaded, parse
from empathy_engine.ingest.limits import JsonLimitError, load_json

#: A transcript file larger than this is refused before it is read (a day of calls in one CSV is
#: far smaller); JSON lines (`.jsonl`) are read a line at a time and have no such cap.
MAX_FILE_BYTES = 64 * 1024 * 1024
#: The speaker names every reader knows without being told (any case); `--speaker NAME=ROLE` adds more.
KNOWN_SPEAKERS: Mapping[str, Speaker] = {"customer": "customer", "agent": "agent"}


class FormatError(ValueError):
    """A file (or one call in it) that cannot be read: where (file:line or file: field) and why."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


@dataclass(frozen=True, slots=True)
class Segment:
    """One piece of a transcript as its vendor cut it: who, what, when (seconds from the call start)."""

    speaker: Speaker
    text: str
    t: float | None = None
    end: float | None = None


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How to read transcripts: CSV column names (`role -> header`, see csv_transcript.COLUMNS) and
    extra speaker names (`name -> customer|agent`, matched in any case)."""

    columns: Mapping[str, str] = field(default_factory=dict)
    speakers: Mapping[str, Speaker] = field(default_factory=dict)

    def speaker_names(self, defaults: Mapping[str, Speaker | None] = KNOWN_SPEAKERS) -> dict[str, Speaker | None]:
        """The format's own speaker names, then the user's (which win)."""
        return {**defaults, **{k.strip().lower(): v for k, v in self.speakers.items()}}


def decode(data: bytes, name: str) -> str:
    """UTF-8 text (a byte-order mark is dropped), or a FormatError that says so."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise FormatError(f"{name}:{line}", f"invalid UTF-8 at byte {e.start}; save the file as UTF-8") from None


def load_json_object(data: bytes, name: str, what: str) -> dict[str, Any]:
    """A vendor's JSON document as a dict; malformed, too deep or not an object is a FormatError."""
    text = decode(data, name)
    try:
        obj = load_json(text)  # depth, number and character limits, as every JSON we read from outside
    except json.JSONDecodeError as e:
        raise FormatError(f"{name}:{e.lineno}", f"malformed JSON at column {e.colno}: {e.msg}") from None
    except JsonLimitError as e:
        raise FormatError(name, str(e)) from None
    if not isinstance(obj, dict):
        raise FormatError(name, f"expected a JSON object ({what}), got {type(obj).__name__}")
    return obj


def speaker_of(value: object, speakers: Mapping[str, Speaker | None], where: str, fix: str) -> Speaker | None:
    """The role a vendor's speaker name maps to (case does not matter); None: a party we skip."""
    if not isinstance(value, str) or not value.strip():
        raise FormatError(where, f"no speaker given; {fix}")
    key = value.strip().lower()
    if key in speakers:
        return speakers[key]
    raise FormatError(where, f"speaker {value.strip()!r} is not customer or agent; {fix}")


def text_of(value: object, where: str) -> str:
    """A turn's text: a non-empty string of at most MAX_TEXT_CHARS characters."""
    if not isinstance(value, str) or not value.strip():
        raise FormatError(where, "the text is missing or empty")
    if len(value) > MAX_TEXT_CHARS:
        raise FormatError(where, f"the text is {len(value)} characters; a turn may have at most {MAX_TEXT_CHARS}")
    return value.strip()


def millis(obj: Mapping[str, Any], key: str, where: str) -> float | None:
    """A vendor's `...Millis` field in seconds (None when absent); anything but a number >= 0 is refused."""
    value = obj.get(key)
    if value is None:
        return None
    # Up to 1e14: epoch times in milliseconds (~1.7e12) are read through here too; NaN fails the range.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e14:
        raise FormatError(f"{where}.{key}", f"expected milliseconds (a number >= 0), got {json.dumps(value)[:40]}")
    return round(value / 1000.0, 3)


def merge_runs(segments: Iterable[Segment]) -> list[Segment]:
    """Consecutive segments by one speaker become one turn: vendors cut at pauses and caption
    lengths, the engine reads turns (what one party says before the other answers)."""
    out: list[Segment] = []
    for s in segments:
        last = out[-1] if out else None
        if last is not None and last.speaker == s.speaker and len(last.text) + 1 + len(s.text) <= MAX_TEXT_CHARS:
            out[-1] = replace(last, text=f"{last.text} {s.text}", end=s.end if s.end is not None else last.end)
        else:
            out.append(s)
    return out


def conversation_of(call_id: str, segments: list[Segment], header: Mapping[str, Any]) -> dict[str, Any]:
    """The conversation v1 object (docs/conversation-format.md) of one call's segments."""
    turns = []
    for s in segments:
        turn: dict[str, Any] = {"speaker": s.speaker, "text": s.text}
        if s.t is not None:
            turn["t"] = s.t
        if s.end is not None and (s.t is None or s.end >= s.t):
            turn["end"] = s.end
        turns.append(turn)
    return {**{k: v for k, v in header.items() if v is not None}, "id": call_id, "turns": turns}


def loaded(obj: dict[str, Any], where: str, base: Path | None) -> Loaded | InputError:
    """One converted call through the JSON reader's own validation (the same rules, the same events)."""
    if not obj["turns"]:
        return InputError(where, "no customer or agent turns in the transcript", obj["id"])
    return parse(obj, where, base)


def one_call(where: str, base: Path | None, convert: Any, *args: Any) -> Iterator[Loaded | InputError]:
    """Run a whole-file reader (`convert(*args)` -> a conversation object), its FormatError as an InputError."""
    try:
        obj = convert(*args)
    except FormatError as e:
        yield InputError(e.where, e.message)
        return
    yield loaded(obj, where, base)


_STEM_UNSAFE = re.compile(r"[^A-Za-z0-9._:@-]+")


def call_id_from(path_name: str) -> str:
    """A call id from a file name, for formats that carry none (WebVTT; CSV without a call-id column)."""
    stem = Path(path_name).stem if path_name != "<stdin>" else "stdin"
    return _STEM_UNSAFE.sub("-", stem).strip("-._:@") or "call"
