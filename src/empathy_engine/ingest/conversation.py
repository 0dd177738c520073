"""Conversation format v1 (JSON / JSONL files, directories, stdin) -> typed events.

Errors a user can cause come back as `InputError`s that name the file, the line and the
field, so one bad conversation never stops the others.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from empathy_engine.events import (
    CallEnded,
    CallStarted,
    CustomerProfile,
    Event,
    PriorContact,
    RecordingRef,
    Utterance,
)
from empathy_engine.ingest.limits import BAD_CALL_ID, CALL_ID, JsonLimitError, load_json
from empathy_engine.privacy import CallRedaction, Entity, mask_of, redact_text

#: A turn longer than this is not a turn: it is refused with a clear error.
MAX_TEXT_CHARS = 20_000

Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS)]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]
CallId = Annotated[str, StringConstraints(pattern=CALL_ID.pattern)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class PriorContactV1(_Model):
    at: datetime | None = Field(default=None, strict=False)
    issue: str = ""
    outcome: str = ""


class CustomerV1(_Model):
    #: The CRM's id: the same rule as a call id (REST and the CSV import hold customers to it too).
    id: CallId | None = None
    name: str | None = None
    notes: list[str] = []
    prior_contacts: list[PriorContactV1] = []


class AgentV1(_Model):
    id: str | None = None


class TurnV1(_Model):
    speaker: Literal["customer", "agent"]
    text: Text
    t: float | None = Field(default=None, strict=False, ge=0)
    end: float | None = Field(default=None, strict=False, ge=0)
    audio: str | None = None


class RecordingV1(_Model):
    path: NonEmpty
    channels: dict[Literal["customer", "agent"], Annotated[int, Field(ge=0)]]


class CallHeaderV1(_Model):
    """Who, what service, when: the conversation's header (also the live API's `start` event)."""

    channel: str | None = None
    handled_by: Literal["human", "bot"] = "human"
    service: str | None = None
    started_at: datetime | None = Field(default=None, strict=False)
    customer: CustomerV1 = CustomerV1()
    agent: AgentV1 = AgentV1()


class ConversationV1(CallHeaderV1):
    """One conversation, as documented in docs/conversation-format.md."""

    id: CallId
    recording: RecordingV1 | None = None
    turns: list[TurnV1] = Field(min_length=1)

    def events(self, base: Path | None = None) -> list[Event]:
        """The conversation as the event stream a live call would produce."""
        recording = None
        if self.recording:
            recording = RecordingRef(_resolve(self.recording.path, base) or "", tuple(self.recording.channels.items()))
        redaction = CallRedaction()  # PII masked here, before any reader of the events sees it
        turns = [
            Utterance(
                t.speaker,
                redaction.turn(t.speaker, t.text)[0],
                t.t,
                _resolve(t.audio, base),
                end=t.end or self._next_start(i),
            )
            for i, t in enumerate(self.turns)
        ]
        return [call_started(self.id, self, recording), *turns, CallEnded()]

    def _next_start(self, index: int) -> float | None:
        """A turn without `end` runs until the next turn starts (None: to the end of the recording)."""
        start = self.turns[index].t
        later = (t.t for t in self.turns[index + 1 :] if t.t is not None and (start is None or t.t > start))
        return next(later, None)


class CallHeader(CallHeaderV1):
    """The header as it travels alone: the live `start` event's `call`, and what the store keeps."""

    id: str | None = None


def call_started(call_id: str, header: CallHeaderV1, recording: RecordingRef | None = None) -> CallStarted:
    """The typed start of a call from its header: the one place a header becomes a `CallStarted`
    (conversation files, the live API, telephony parameters and stored calls all come here)."""
    customer = header.customer
    return CallStarted(
        call_id=call_id,
        channel=header.channel,
        handled_by=header.handled_by,
        service=header.service,
        started_at=header.started_at,
        customer=CustomerProfile(  # the CRM's words masked like a turn's; a name is a name
            id=customer.id,
            name=mask_of(Entity.NAME) if customer.name and customer.name.strip() else customer.name,
            notes=tuple(redact_text(n) for n in customer.notes),
            prior_contacts=tuple(
                PriorContact(redact_text(p.issue), redact_text(p.outcome), p.at) for p in customer.prior_contacts
            ),
        ),
        agent_id=header.agent.id,
        recording=recording,
    )


def call_from_header(call_id: str, header: dict[str, Any]) -> CallStarted:
    """The typed start of a stored header (JSON); the same header always gives the same event."""
    return call_started(call_id, CallHeader.model_validate(header, strict=False))


def header_of(call: CallStarted) -> dict[str, Any]:
    """The conversation v1 header (JSON) of a call start: what the store keeps, so that a restarted
    server and an audit open the engine with exactly the call the live session had."""
    customer = call.customer
    header = CallHeader(
        id=call.call_id,
        channel=call.channel,
        handled_by=call.handled_by,
        service=call.service,
        started_at=call.started_at,
        customer=CustomerV1(
            id=customer.id,
            name=customer.name,
            notes=list(customer.notes),
            prior_contacts=[PriorContactV1(at=p.at, issue=p.issue, outcome=p.outcome) for p in customer.prior_contacts],
        ),
        agent=AgentV1(id=call.agent_id),
    )
    return header.model_dump(mode="json", exclude_none=True)


def _resolve(audio: str | None, base: Path | None) -> str | None:
    if audio is None or base is None or Path(audio).is_absolute():
        return audio
    return str(base / audio)


@dataclass(frozen=True, slots=True)
class InputError:
    """A conversation that could not be read: where, which id if known, and why."""

    where: str
    message: str
    id: str | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Loaded:
    where: str
    conversation: ConversationV1
    base: Path | None

    def events(self) -> list[Event]:
        return self.conversation.events(self.base)


def describe(error: ValidationError) -> str:
    """One line per problem: `field turns[2].speaker: expected 'customer' or 'agent', got 'bot'`."""
    parts = []
    for e in error.errors():
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"]).lstrip(".") or "(top level)"
        got = e.get("input")
        msg = e["msg"]
        if e["type"] == "missing":
            msg = "is required"
        elif e["type"] == "string_too_long":
            msg = f"is {len(got)} characters; a turn may have at most {MAX_TEXT_CHARS}"
        elif e["type"] == "string_too_short":
            msg = "is empty"
        elif e["type"] == "string_pattern_mismatch" and loc == "id":
            msg = f"{json.dumps(got)[:60]} refused; {BAD_CALL_ID}"
        elif e["type"] == "too_short" and loc == "turns":
            msg = "has no turns; a conversation needs at least one"
        elif e["type"] == "literal_error":
            msg = f"{msg.lower()}, got {json.dumps(got)[:40]}"
        elif isinstance(got, str | int | float | bool) or got is None:
            msg = f"{msg.lower()}, got {json.dumps(got)[:40]}"
        parts.append(f"field {loc}: {msg}")
    return "; ".join(parts)


def parse(obj: Any, where: str, base: Path | None) -> Loaded | InputError:
    ident = obj.get("id") if isinstance(obj, dict) and isinstance(obj.get("id"), str) else None
    if not isinstance(obj, dict):
        return InputError(where, f"expected a JSON object (a conversation), got {type(obj).__name__}")
    from empathy_engine.ingest.sniff import vendor_hint  # only files that are not v1 need it

    if hint := vendor_hint(obj):  # a vendor's transcript: say which --input-format reads it
        return InputError(where, hint, ident)
    try:
        return Loaded(where, ConversationV1.model_validate(obj), base)
    except ValidationError as e:
        return InputError(where, describe(e), ident)


def _decode(data: bytes, where: str) -> str | InputError:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        return InputError(where, f"invalid UTF-8 at byte {e.start}; save the file as UTF-8")


def _json_error(e: json.JSONDecodeError) -> str:
    return f"malformed JSON at column {e.colno}: {e.msg}"


def read_bytes(data: bytes, name: str, base: Path | None, jsonl: bool) -> Iterator[Loaded | InputError]:
    """Conversations from one file's bytes: a JSON object, a JSON array, or JSON lines."""
    if not jsonl:
        text = _decode(data, name)
        if isinstance(text, InputError):
            yield text
            return
        try:
            obj = load_json(text)
        except JsonLimitError as e:
            yield InputError(name, str(e))
            return
        except json.JSONDecodeError as e:
            if text.lstrip().startswith("{") and "\n{" in text:  # JSON lines in a .json file
                yield from read_bytes(data, name, base, jsonl=True)
                return
            yield InputError(f"{name}:{e.lineno}", _json_error(e))
            return
        for i, item in enumerate(obj if isinstance(obj, list) else [obj]):
            yield parse(item, f"{name}[{i}]" if isinstance(obj, list) else name, base)
        return
    yield from read_lines(data.splitlines(), name, base)


def read_lines(lines: Iterable[bytes], name: str, base: Path | None) -> Iterator[Loaded | InputError]:
    """Conversations from JSON lines, one line at a time (a huge file never sits in memory)."""
    for lineno, raw in enumerate(lines, 1):
        where = f"{name}:{lineno}"
        if not raw.strip():
            continue
        line = _decode(raw, where)
        if isinstance(line, InputError):
            yield line
            continue
        try:
            obj = load_json(line)
        except json.JSONDecodeError as e:
            yield InputError(where, _json_error(e))
            continue
        except JsonLimitError as e:
            yield InputError(where, str(e))
            continue
        yield parse(obj, where, base)


def expand(paths: list[str]) -> list[Path | None]:
    """Files to read, in order; `None` stands for stdin. Raises FileNotFoundError for a bad path."""
    out: list[Path | None] = []
    for p in paths or ["-"]:
        if p == "-":
            out.append(None)
            continue
        path = Path(p)
        if path.is_dir():
            out.extend(sorted(f for f in path.rglob("*") if f.suffix in {".json", ".jsonl"} and f.is_file()))
        elif path.is_file():
            out.append(path)
        else:
            raise FileNotFoundError(p)
    return out


def read_inputs(files: list[Path | None]) -> Iterator[Loaded | InputError]:
    """Every conversation in the given files (see `expand`), one at a time: memory stays flat."""
    for file in files:
        if file is None:  # one JSON document, or JSON lines when it does not parse as one
            yield from read_bytes(sys.stdin.buffer.read(), "<stdin>", Path.cwd(), jsonl=False)
            continue
        try:
            if file.suffix == ".jsonl":
                with file.open("rb") as lines:
                    yield from read_lines(lines, str(file), file.parent)
            else:
                yield from read_bytes(file.read_bytes(), str(file), file.parent, jsonl=False)
        except OSError as e:  # unreadable (permissions, vanished): that file fails, the others go on
            yield InputError(str(file), f"cannot read the file: {e.strerror}")
