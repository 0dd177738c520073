"""REST: an agent's feedback on a card - "helpful" or "wrong read" (the engine read the customer wrong).

The cockpit's buttons post here with the agent's session; integrations (a desktop that relays the
agent's clicks) with a key of the `feedback` scope. Feedback is a weak signal: capped per agent
(EMPATHY_FEEDBACK_PER_CALL, EMPATHY_FEEDBACK_PER_HOUR), never a reward. "wrong_read" rows are the
review queue `empathy feedback export` writes for annotation (docs/learning.md, "Agents' feedback").
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from empathy_engine.ingest.live import CALL_ID
from empathy_engine.privacy import redact_text
from empathy_engine.service import access
from empathy_engine.service.auth import Principal
from empathy_engine.service.authz import CurrentDep, denied, facts_of
from empathy_engine.service.json_body import SafeJsonRoute
from empathy_engine.service.services import ServicesDep
from empathy_engine.store import calls as calls_store
from empathy_engine.store import feedback as store
from empathy_engine.store.models import utcnow

router = APIRouter(prefix="/v1/calls", tags=["feedback"], route_class=SafeJsonRoute)
CallId = Annotated[str, Path(pattern=CALL_ID.pattern, description="the call id used on the stream")]
#: Far past any real call's turns, far below an SQL integer's overflow.
MAX_TURN = 1_000_000


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["helpful", "wrong_read"] = Field(
        description="helpful: the card helped; wrong_read: the engine read the customer wrong"
    )
    note: str | None = Field(
        default=None, max_length=store.MAX_NOTE_CHARS, description="optional, short; redacted before it is stored"
    )
    card_id: str | None = Field(
        default=None, max_length=200, description="which card of the turn (default: its first, the one shown)"
    )


class FeedbackOut(BaseModel):
    call_id: str
    turn_index: int
    card_id: str
    kind: str
    given_by: str
    agent_id: str
    note: str | None
    created_at: str
    duplicate: bool = Field(description="true when this (turn, who, kind) was given already: nothing new stored")


def given_by(principal: Principal) -> str:
    """Who gave it, stably: a person by login (whatever session), a program by its key."""
    if principal.key_id is not None and principal.user_id is None:
        return f"key:{principal.key_id}"
    return f"user:{principal.login or 'unknown'}"


@router.post(
    "/{call_id}/turns/{turn_index}/feedback",
    response_model=FeedbackOut,
    status_code=201,
    responses={200: {"description": "given already (idempotent)"}, 429: {"description": "over the agent's cap"}},
)
def post_feedback(
    s: ServicesDep,
    principal: CurrentDep,
    call_id: CallId,
    turn_index: Annotated[int, Path(ge=0, le=MAX_TURN, description="the customer turn the card was shown on")],
    body: FeedbackIn,
    response: Response,
) -> dict[str, Any]:
    """Say whether a card helped or the engine read the customer wrong. Giving the same kind on the
    same turn again changes nothing (200, `duplicate`)."""
    settings = s.settings

    def change(connection: Connection) -> tuple[store.FeedbackRecord, bool]:
        record = _checked(connection, principal, call_id, turn_index, body)
        known = store.get_feedback(connection, principal.tenant_id, call_id, turn_index, record.given_by, body.kind)
        if known is not None:
            return known, True
        _check_caps(connection, principal.tenant_id, record, settings.feedback_per_call, settings.feedback_per_hour)
        if not store.add_feedback(connection, principal.tenant_id, record):  # the same press, at the same moment
            again = store.get_feedback(connection, principal.tenant_id, call_id, turn_index, record.given_by, body.kind)
            return (again or record), True
        return record, False

    stored, duplicate = s.write(principal.tenant_id, change)  # a refusal raised in it rolls it back
    if duplicate:
        response.status_code = 200
    return {**stored.to_dict(), "duplicate": duplicate}


def _checked(
    connection: Connection, principal: Principal, call_id: str, turn_index: int, body: FeedbackIn
) -> store.FeedbackRecord:
    """The row to store, once the call, the principal's right to it, the turn and its card check out."""
    call = calls_store.get_call(connection, principal.tenant_id, call_id)
    if call is None:
        raise HTTPException(404, f"no call {call_id!r}")
    facts = facts_of(connection, principal, call.header, call.status)
    if not access.may(principal, "feedback", facts):
        raise denied(principal, "give feedback on this call's cards")
    turn = store.stored_turn(connection, principal.tenant_id, call_id, turn_index)
    if turn is None:
        raise HTTPException(404, f"call {call_id!r} has no turn {turn_index} (turns count from 0)")
    cards = [str(c.get("id", "")) for c in turn[1].get("cues") or [] if isinstance(c, dict)]
    if not cards:
        raise HTTPException(422, f"turn {turn_index} of call {call_id!r} showed no card: feedback is on a card")
    card = body.card_id or cards[0]
    if card not in cards:
        raise HTTPException(422, f"card_id {card[:80]!r} was not shown on turn {turn_index}; it showed {cards}")
    note = redact_text(" ".join(body.note.split()))[: store.MAX_NOTE_CHARS] if body.note and body.note.strip() else None
    agent = facts.agent_id or "unknown"
    return store.new_record(call_id, turn_index, card, body.kind, given_by(principal), agent, note)


def _check_caps(
    connection: Connection, tenant_id: str, record: store.FeedbackRecord, per_call: int, per_hour: int
) -> None:
    """429 when the agent has given its share: feedback is a weak signal, and one agent must not drown the rest."""
    on_call = store.count_for_call(connection, tenant_id, record.call_id, record.agent_id)
    if on_call >= per_call:
        raise HTTPException(
            429,
            f"agent {record.agent_id!r} has given {on_call} feedback on call {record.call_id!r}, the most one call "
            f"takes (EMPATHY_FEEDBACK_PER_CALL={per_call})",
        )
    hour_ago = utcnow() - timedelta(hours=1)
    in_hour = store.count_since(connection, tenant_id, record.agent_id, hour_ago)
    if in_hour >= per_hour:
        raise HTTPException(
            429,
            f"agent {record.agent_id!r} has given {in_hour} feedback in the last hour, the most an hour takes "
            f"(EMPATHY_FEEDBACK_PER_HOUR={per_hour}); try again later",
            headers={"Retry-After": "600"},
        )
