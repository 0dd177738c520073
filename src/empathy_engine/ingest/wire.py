"""What the telephony serializers share: the `TelephonySerializer` protocol, `WireError` and small
readers for JSON message fields.

Every vendor's serializer (ingest/twilio.py, ingest/audiohook.py) implements `TelephonySerializer`,
so one socket loop (service/telephony.py) serves them all: a new vendor is one file here and one
line in that module's `VENDORS`.
A wire message that cannot be used raises `WireError` with a message naming the message, the
field and the fix. The serializer that raised it keeps everything it accepted before and stays
usable, so one bad frame never ends a call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, cast

from empathy_engine.events import CallStarted, Event
from empathy_engine.ingest.conversation import AgentV1, CallHeaderV1, CustomerV1, call_started
from empathy_engine.ingest.limits import BAD_CALL_ID, JsonLimitError, is_call_id, load_json

_HANDLERS = ("human", "bot")


class WireError(ValueError):
    """A telephony message that cannot be used: the message names the field and the fix."""


@dataclass(frozen=True, slots=True)
class Received:
    """What one WebSocket frame gave: replies to send back (JSON objects), typed events, and the
    problem with the frame, if any (already answered in `replies` where the protocol says how)."""

    replies: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    problem: WireError | None = None


class TelephonySerializer(Protocol):
    """One telephony WebSocket, as the service sees it: frames in, replies and typed events out."""

    #: The vendor's name in logs ("twilio", "audiohook").
    vendor: str

    def receive_text(self, text: str) -> Received: ...

    def receive_binary(self, data: bytes) -> Received: ...

    def end(self) -> list[Event]:
        """The socket closed: a CallEnded if a call started and the platform did not end it."""
        ...


def parse_object(text: str | bytes, protocol: str) -> dict[str, Any]:
    """One text frame as a JSON object, or a WireError saying what the protocol expects."""
    try:
        value = load_json(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise WireError(f"not JSON ({err}); {protocol} sends one JSON object per text frame") from None
    except JsonLimitError as err:  # deep nesting, huge numbers, NaN, NUL: refused, never a dropped socket
        raise WireError(f"{err}; {protocol} sends small, flat JSON objects") from None
    if not isinstance(value, dict):
        raise WireError(f"a JSON {type(value).__name__} where {protocol} sends a JSON object per text frame")
    return value


def field_of(message: Mapping[str, Any], path: str, kind: type | tuple[type, ...], where: str) -> Any:
    """The value at a dotted `path` ("start.callSid"), which must be present and of `kind`."""
    value: Any = message
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value or value[key] is None:
            raise WireError(f"{where}: missing field '{path}'")
        value = value[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _kinds(kind)):
        raise WireError(f"{where}: field '{path}' must be {_kind_name(kind)}, got {json.dumps(value)[:60]}")
    if isinstance(value, str) and not value.strip() and str in _kinds(kind):
        raise WireError(f"{where}: field '{path}' is empty")
    return value


def optional_field(message: Mapping[str, Any], path: str, kind: type | tuple[type, ...], where: str) -> Any:
    """Like `field_of`, but None when the field (or an object above it) is absent or null."""
    value: Any = message
    for key in path.split("."):
        if not isinstance(value, Mapping) or value.get(key) is None:
            return None
        value = value[key]
    return field_of(message, path, kind, where)


def number_field(message: Mapping[str, Any], path: str, where: str) -> float:
    """A number that some vendors send as a string ("20"), as a float; a WireError otherwise."""
    value = field_of(message, path, (int, float, str), where)
    try:
        number = float(value)
    except ValueError:
        raise WireError(f"{where}: field '{path}' must be a number, got {json.dumps(value)[:60]}") from None
    if number != number or number in (float("inf"), float("-inf")) or number < 0:
        raise WireError(f"{where}: field '{path}' must be a non-negative number, got {json.dumps(value)[:60]}")
    return number


def call_from_parameters(call_id: str, parameters: Mapping[str, Any], where: str) -> CallStarted:
    """The call header from the platform's custom parameters (Twilio customParameters, AudioHook customConfig).

    Understood keys: `customer_id`, `customer_name`, `service`, `handled_by` ("human" or "bot"),
    `agent_id`, `started_at` (ISO 8601). Others are ignored. The platform's call id obeys the
    same rule as every other call id (a callSid of `../../etc/passwd` is refused).
    """
    if not is_call_id(call_id):
        raise WireError(f"{where}: call id {call_id[:60]!r} refused; {BAD_CALL_ID}")

    def text(key: str) -> str | None:
        value = parameters.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str | int):
            raise WireError(f"{where}: parameter '{key}' must be a string, got {type(value).__name__}")
        return str(value)

    handled_by = text("handled_by") or "human"
    if handled_by not in _HANDLERS:
        raise WireError(f"{where}: parameter 'handled_by' is {handled_by!r}; use 'human' or 'bot'")
    started_at = None
    if raw := text("started_at"):
        try:
            started_at = datetime.fromisoformat(raw)
        except ValueError:
            raise WireError(f"{where}: parameter 'started_at' {raw!r} is not an ISO 8601 time") from None
    header = CallHeaderV1(
        channel="voice",
        handled_by=cast(Literal["human", "bot"], handled_by),
        service=text("service"),
        started_at=started_at,
        customer=CustomerV1(id=text("customer_id"), name=text("customer_name")),
        agent=AgentV1(id=text("agent_id")),
    )
    return call_started(call_id, header)


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", dict: "an object", list: "an array"}
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in _kinds(kind)))
