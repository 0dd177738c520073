"""The streaming protocol's events (client -> server) and frames (server -> client).

docs/protocol.md is the user's description of the same thing, with examples.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from empathy_engine.events import CallStarted, CustomerProfile, PriorContact
from empathy_engine.ingest.conversation import MAX_TEXT_CHARS, CallHeaderV1

#: Call ids go into URLs, logs and the database: keep them plain.
CALL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$")

Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class CallHeader(CallHeaderV1):
    """The conversation v1 header (docs/conversation-format.md) without its turns."""

    id: str | None = None


class StartEvent(_Event):
    type: Literal["start"]
    call: CallHeader = CallHeader()


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


def error(code: str, message: str, event: str | None = None) -> dict[str, Any]:
    """An error frame: the connection and the call stay as they were."""
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if event is not None:
        frame["event"] = event
    return frame


# --- the header the engine is opened with ------------------------------------------------


def merge_customer(header: dict[str, Any], stored: dict[str, Any] | None) -> dict[str, Any]:
    """The header with what the CRM knows about the customer added (the header wins on conflicts)."""
    if not stored:
        return header
    customer = dict(header.get("customer") or {})
    customer["name"] = customer.get("name") or stored.get("name")
    customer["notes"] = list(dict.fromkeys([*customer.get("notes", []), *stored.get("notes", [])]))
    contacts = list(customer.get("prior_contacts", []))
    known = {(c.get("at"), c.get("issue"), c.get("outcome")) for c in contacts}
    for c in stored.get("prior_contacts", []):
        if (c.get("at"), c.get("issue"), c.get("outcome")) not in known:
            contacts.append(c)
    customer["prior_contacts"] = contacts
    return {**header, "customer": customer}


def to_call_started(call_id: str, header: dict[str, Any]) -> CallStarted:
    """The typed event for a stored header; the same header always gives the same event."""
    parsed = CallHeader.model_validate(header, strict=False)
    started = parsed.started_at
    contacts = tuple(PriorContact(p.issue, p.outcome, p.at) for p in parsed.customer.prior_contacts)
    return CallStarted(
        call_id=call_id,
        channel=parsed.channel,
        handled_by=parsed.handled_by,
        service=parsed.service,
        started_at=started,
        customer=CustomerProfile(
            id=parsed.customer.id,
            name=parsed.customer.name,
            notes=tuple(parsed.customer.notes),
            prior_contacts=contacts,
        ),
        agent_id=parsed.agent.id,
    )
