"""The one place that decides what a principal may do, to the service and to one call.

    agent        its own calls (the call's `agent.id` is the agent's login): read and watch
    supervisor   the calls of its team's agents: read and watch, and its team's board
    qa_lead      ended calls (read, watch the stored record, outcomes) and the audit report
    admin        everything in its tenant
    integration  what its key's scopes allow: stream, telephony, customers, outcomes, metrics, feedback

    Feedback on a call's cards: its agent, an admin, an integration with the feedback scope.

Everything is within the principal's tenant (the store filters by it); this module only
answers yes or no. docs/security.md ("Roles") is the same table in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from empathy_engine.service.auth import Principal

#: What a principal may ask for. Call actions take the call's facts; the others take none.
Action = Literal[
    "read_call",  # GET a call, its transcript, its outcome; the cockpit's watch socket
    "write_outcome",  # PUT a call's outcome
    "stream",  # the JSON stream of a call
    "telephony",  # a telephony media stream
    "board",  # the supervisor board
    "customers",  # the CRM: customers, notes, CSV import
    "audit",  # the QA audit report page
    "metrics",  # GET /metrics (server-wide: the route also wants the default tenant)
    "feedback",  # POST an agent's feedback on a card of a call (service/api_feedback.py)
    "practice",  # practice mode: a simulated customer (people only, not integrations)
]
#: The scope an integration key needs for each action it may be given.
SCOPE_FOR: dict[str, str] = {
    "stream": "stream",
    "telephony": "telephony",
    "customers": "customers",
    "write_outcome": "outcomes",
    "read_call": "outcomes",  # only to read outcomes back: see `may`
    "metrics": "metrics",
    "feedback": "feedback",
}


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What access depends on about one call."""

    agent_id: str | None
    team: str | None  # the team of the call's agent, when the agent has an account
    status: str  # live or ended


@dataclass(frozen=True, slots=True)
class CallScope:
    """Which calls a principal may list: None in a field means no limit on it."""

    agents: frozenset[str] | None = None
    status: str | None = None


def agent_of(header: dict[str, Any]) -> str | None:
    """The agent a call names in its header (`agent.id`, docs/protocol.md)."""
    agent = header.get("agent") or {}
    found = agent.get("id") if isinstance(agent, dict) else None
    return str(found) if found else None


def may(principal: Principal, action: Action, call: CallFacts | None = None, *, outcome_only: bool = False) -> bool:
    """Whether `principal` may do `action` (to `call`, for call actions). `outcome_only`: the
    read is of the call's outcome alone (an integration with the outcomes scope may do that)."""
    role = principal.role
    if role == "admin":
        return True
    if role == "integration":
        scope = SCOPE_FOR.get(action)
        if action == "read_call" and not outcome_only:
            return False
        return scope is not None and scope in principal.scopes
    if action == "practice":
        return role in ("agent", "supervisor", "qa_lead")
    if action == "board":
        return role == "supervisor"
    if action == "audit":
        return role == "qa_lead"
    if action == "feedback":  # the agent's own word on the cards it was shown
        return role == "agent" and call is not None and principal.login is not None and call.agent_id == principal.login
    if action != "read_call" or call is None:
        return False
    if role == "agent":
        return principal.login is not None and call.agent_id == principal.login
    if role == "supervisor":
        return principal.team is not None and call.team == principal.team
    return role == "qa_lead" and call.status == "ended"


def call_scope(principal: Principal, team_logins: frozenset[str] = frozenset()) -> CallScope | None:
    """The calls `principal` may list (None: it may list none). `team_logins`: the logins of the
    supervisor's team (the caller reads them from the store)."""
    role = principal.role
    if role == "admin":
        return CallScope()
    if role == "agent" and principal.login:
        return CallScope(agents=frozenset({principal.login}))
    if role == "supervisor" and principal.team:
        return CallScope(agents=team_logins)
    if role == "qa_lead":
        return CallScope(status="ended")
    return None
