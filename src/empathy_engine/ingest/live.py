"""The live streaming protocol (WS /v1/calls/{call_id}/stream) -> typed requests, and its reply frames.

Like every other wire format it stops here: `parse_event` checks one JSON text frame field by
field and gives a typed request (or a `ProtocolError` naming the field and the fix); the frame
builders below are the only place the server's replies are shaped. docs/protocol.md is the
user's description of the same thing, with examples.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from empathy_engine.events import CallStarted, Utterance
from empathy_engine.ingest.conversation import MAX_TEXT_CHARS, CallHeader, call_started, describe
from empathy_engine.ingest.limits import BAD_CALL_ID as BAD_CALL_ID  # the call-id rule lives in ingest/limits.py
from empathy_engine.ingest.limits import CALL_ID as CALL_ID
from empathy_engine.ingest.limits import JsonLimitError, load_json
from empathy_engine.ingest.limits import is_call_id as is_call_id

Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS)]


class ProtocolError(ValueError):
    """A request the protocol refuses: the `code` of its error frame and a message naming the fix."""

    def __init__(self, code: str, message: str, event: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.event = code, message, event

    def frame(self) -> dict[str, Any]:
        return error(self.code, self.message, self.event)


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class StartEvent(_Event):
    type: Literal["start"]
    call: CallHeader = CallHeader()

    def call_for(self, call_id: str) -> CallStarted:
        """The typed call start for the URL's call id (a `call.id` that differs is refused)."""
        if self.call.id is not None and self.call.id != call_id:
            raise ProtocolError(
                "id_mismatch", f"call.id {self.call.id!r} differs from the URL's call id {call_id!r}", "start"
            )
        return call_started(call_id, self.call)


class ResumeEvent(_Event):
    type: Literal["resume"]


class UtteranceEvent(_Event):
    type: Literal["utterance"]
    speaker: Literal["customer", "agent"]
    text: Text
    t: float | None = Field(default=None, strict=False, ge=0)
    final: bool = True
    #: The index the client expects this turn to get; makes a resend after a crash harmless.
    turn: int | None = Field(default=None, ge=0)

    def utterance(self) -> Utterance:
        return Utterance(self.speaker, self.text, self.t, final=self.final)


class EndEvent(_Event):
    type: Literal["end"]
    t: float | None = Field(default=None, strict=False, ge=0)


ClientEvent = StartEvent | ResumeEvent | UtteranceEvent | EndEvent
EVENTS: dict[str, type[ClientEvent]] = {
    "start": StartEvent,
    "resume": ResumeEvent,
    "utterance": UtteranceEvent,
    "end": EndEvent,
}


def parse_event(text: str, max_bytes: int) -> ClientEvent:
    """One text frame as a typed request; `ProtocolError` if it is too large, not JSON or mis-shaped."""
    if len(text) > max_bytes // 4 and len(text.encode()) > max_bytes:  # most frames skip the encode
        raise ProtocolError(
            "frame_too_large", f"an event may be at most {max_bytes} bytes; this one is {len(text.encode())}"
        )
    try:
        obj = load_json(text)
    except json.JSONDecodeError as e:
        raise ProtocolError("invalid_json", f"malformed JSON at column {e.colno}: {e.msg}") from None
    except JsonLimitError as e:  # deep nesting, huge numbers, NaN, NUL: refused, never a dropped socket
        raise ProtocolError("invalid_json", str(e)) from None
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise ProtocolError("invalid_event", 'an event is a JSON object with a "type" field')
    kind = obj["type"]
    model = EVENTS.get(kind)
    if model is None:
        raise ProtocolError("unknown_event", f"unknown event type {kind[:40]!r}; expected one of: {', '.join(EVENTS)}")
    try:
        return model.model_validate(obj)
    except ValidationError as e:
        raise ProtocolError("invalid_event", describe(e), kind) from None


# --- frames (server -> client) ---------------------------------------------------------------


def error(code: str, message: str, event: str | None = None) -> dict[str, Any]:
    """An error frame: the connection and the call stay as they were."""
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if event is not None:
        frame["event"] = event
    return frame


@dataclass(frozen=True, slots=True)
class Opened:
    """A call this connection now streams: `started` or `resumed`, with the turns already stored."""

    kind: Literal["started", "resumed"]
    call_id: str
    next_turn: int
    call: dict[str, Any]  # the call as pages show it (header, customer context)

    def frame(self) -> dict[str, Any]:
        return {"type": self.kind, "call_id": self.call_id, "next_turn": self.next_turn, "call": self.call}


@dataclass(frozen=True, slots=True)
class TurnReply:
    """An utterance's answer: its turn result (stored unless provisional), or the stored one for a resend."""

    index: int
    result: dict[str, Any]
    received: float  # time.perf_counter() when the utterance arrived
    provisional: bool = False
    duplicate: bool = False

    def frame(self) -> dict[str, Any]:
        """The `insight` frame; `latency_ms` is the time from receiving the utterance to now, storage included."""
        latency = round((time.perf_counter() - self.received) * 1000, 2)
        frame = {"type": "insight", "turn": self.index, "provisional": self.provisional, **self.result}
        frame["latency_ms"] = latency
        return {**frame, "duplicate": True} if self.duplicate else frame


@dataclass(frozen=True, slots=True)
class Closed:
    """A call that ended: how many turns it had, its summary and the call-level results."""

    call_id: str
    turns: int
    summary: dict[str, Any]
    extra: dict[str, Any]

    def frame(self) -> dict[str, Any]:
        return {"type": "ended", "call_id": self.call_id, "turns": self.turns, "summary": self.summary, **self.extra}
