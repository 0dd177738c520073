"""REST: calls (list, one with its transcript and every turn result) and their outcomes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from empathy_engine.ingest.live import CALL_ID
from empathy_engine.service.auth import Principal
from empathy_engine.service.authz import CurrentDep, check_call, denied, require, scope_of
from empathy_engine.service.json_body import SafeJsonRoute
from empathy_engine.service.schemas import MAX_OFFSET, CallDetail, CallPage, OutcomeIn, OutcomeOut
from empathy_engine.service.services import ServicesDep
from empathy_engine.store import calls as store

router = APIRouter(prefix="/v1/calls", tags=["calls"], route_class=SafeJsonRoute)
CallId = Annotated[str, Path(pattern=CALL_ID.pattern, description="the call id used on the stream")]


def _missing(call_id: str) -> HTTPException:
    return HTTPException(404, f"no call {call_id!r}")


@router.get("", response_model=CallPage)
def list_calls(
    s: ServicesDep,
    principal: CurrentDep,
    status: Annotated[Literal["live", "ended"] | None, Query(description="only live or only ended calls")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """Calls, newest first: those the credential may read (an agent's own, a supervisor's team's,
    ended ones for a QA lead, all for an admin)."""

    def load(connection: Any) -> tuple[int, list[store.CallRecord]]:
        scope = scope_of(connection, principal)
        if scope is None:
            raise denied(principal, "list calls")
        if scope.status is not None and status not in (None, scope.status):
            raise denied(principal, f"list {status} calls (only {scope.status} ones)")
        wanted = scope.status or status
        return store.list_calls(connection, principal.tenant_id, wanted, limit, offset, agents=scope.agents)

    total, calls = s.read(principal.tenant_id, load)
    return {"total": total, "calls": [call.to_dict() for call in calls]}


@router.get("/{call_id}", response_model=CallDetail)
def get_call(s: ServicesDep, principal: CurrentDep, call_id: CallId) -> dict[str, Any]:
    """One call: its header, transcript and every turn result, summary and outcome."""

    def load(connection: Any) -> dict[str, Any] | None:
        record = store.get_call(connection, principal.tenant_id, call_id)
        if record is None:
            return None
        check_call(connection, principal, record.header, record.status)
        outcome = store.get_outcome(connection, principal.tenant_id, call_id)
        return {
            **record.to_dict(),
            "turns": [t.to_dict() for t in store.get_turns(connection, principal.tenant_id, call_id)],
            "outcome": outcome.to_dict() if outcome else None,
        }

    found = s.read(principal.tenant_id, load)
    if found is None:
        raise _missing(call_id)
    return found


@router.put("/{call_id}/outcome", response_model=OutcomeOut)
def put_outcome(
    s: ServicesDep,
    principal: Annotated[Principal, Depends(require("write_outcome", "record outcomes"))],
    call_id: CallId,
    outcome: OutcomeIn,
) -> dict[str, Any]:
    """Record (or replace) how the call turned out: CSAT, resolved, referral, review text."""

    def change(connection: Any) -> dict[str, Any] | None:
        if store.get_call(connection, principal.tenant_id, call_id) is None:
            return None
        return store.put_outcome(connection, principal.tenant_id, call_id, outcome.model_dump()).to_dict()

    stored = s.write(principal.tenant_id, change)
    if stored is None:
        raise _missing(call_id)
    return stored


@router.get("/{call_id}/outcome", response_model=OutcomeOut)
def get_outcome(s: ServicesDep, principal: CurrentDep, call_id: CallId) -> dict[str, Any]:
    def load(connection: Any) -> store.OutcomeRecord | None:
        record = store.get_call(connection, principal.tenant_id, call_id)
        if record is None:
            return None
        check_call(connection, principal, record.header, record.status, outcome_only=True)
        return store.get_outcome(connection, principal.tenant_id, call_id)

    found = s.read(principal.tenant_id, load)
    if found is None:
        raise HTTPException(404, f"no outcome recorded for call {call_id!r}")
    return found.to_dict()
