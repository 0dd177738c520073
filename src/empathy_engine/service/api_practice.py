"""Practice mode in the browser: the /practice page and its small JSON API (docs/practice.md).

A practice session lives in memory only, bounded (a cap in all and per person) and dropped when
idle past its expiry; what it keeps is what the engine read, PII masked. People only (agent and
above): an integration key has nobody to practise.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from empathy_engine.ingest.conversation import MAX_TEXT_CHARS
from empathy_engine.practice.report import session_report
from empathy_engine.practice.scenario import builtin_scenarios
from empathy_engine.practice.session import PracticeSession, Prompt
from empathy_engine.service import access
from empathy_engine.service.auth import Principal
from empathy_engine.service.authz import principal_of, require
from empathy_engine.service.json_body import SafeJsonRoute
from empathy_engine.service.pages import _login_first, _not_for, render
from empathy_engine.service.services import ServicesDep

#: Sessions held at once, per person, and how long an idle one is kept (seconds).
MAX_SESSIONS = 200
MAX_PER_PERSON = 3
IDLE_S = 30 * 60
SESSION_ID = r"^[A-Za-z0-9_-]{16,64}$"

MayPractise = Annotated[Principal, Depends(require("practice", "practise (agents, supervisors, QA leads)"))]
api = APIRouter(prefix="/v1/practice", tags=["practice"], route_class=SafeJsonRoute)
router = APIRouter()


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenario: str = Field(min_length=1, max_length=64)
    exam: bool = False


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)


@dataclass(slots=True)
class _Held:
    owner: str
    session: PracticeSession
    exam: bool
    seen: float = field(default_factory=time.monotonic)


class PracticeRooms:
    """The practice sessions held in memory, by id, with their owner."""

    def __init__(self) -> None:
        self.held: dict[str, _Held] = {}
        self.lock = threading.Lock()

    def _expire(self) -> None:
        now = time.monotonic()
        for sid in [sid for sid, h in self.held.items() if now - h.seen > IDLE_S]:
            del self.held[sid]

    def add(self, owner: str, session: PracticeSession, exam: bool) -> str:
        with self.lock:
            self._expire()
            mine = sorted((h.seen, sid) for sid, h in self.held.items() if h.owner == owner)
            for _, sid in mine[: max(0, len(mine) - MAX_PER_PERSON + 1)]:
                del self.held[sid]  # a person's oldest session makes room for the new one
            if len(self.held) >= MAX_SESSIONS:
                raise HTTPException(503, "too many practice sessions at once; try again in a few minutes")
            sid = secrets.token_urlsafe(18)
            self.held[sid] = _Held(owner, session, exam)
            return sid

    def get(self, owner: str, sid: str) -> _Held:
        with self.lock:
            self._expire()
            held = self.held.get(sid)
            if held is None or held.owner != owner:  # someone else's session is as good as none
                raise HTTPException(404, "no such practice session (it may have expired); start a new one")
            held.seen = time.monotonic()
            return held


def _rooms(request: Request) -> PracticeRooms:
    rooms = getattr(request.app.state, "practice_rooms", None)
    if rooms is None:
        rooms = request.app.state.practice_rooms = PracticeRooms()
    return rooms


def _owner(principal: Principal) -> str:
    return f"{principal.tenant_id}\x00{principal.credential if principal.login is None else principal.login}"


def _prompt(prompt: Prompt, exam: bool) -> dict[str, Any]:
    card = None if exam or prompt.card is None else prompt.card.to_dict()
    return {"customer": prompt.customer, "card": card, "states": list(prompt.states), "outcome": prompt.outcome}


@api.get("/scenarios")
def scenarios(_: MayPractise) -> list[dict[str, Any]]:
    """The built-in scenarios: id, title, the states each trains."""
    return [{"id": s.id, "title": s.title, "trains": s.trains} for s in builtin_scenarios().values()]


@api.post("/sessions", status_code=201)
async def start(body: StartIn, principal: MayPractise, s: ServicesDep, request: Request) -> dict[str, Any]:
    """Start a practice call: the customer's opening, and the cue card (none in an exam)."""
    scenario = builtin_scenarios().get(body.scenario)
    if scenario is None:
        raise HTTPException(422, f"scenario: no built-in scenario {body.scenario!r} (GET /v1/practice/scenarios)")
    session = await s.off_loop(lambda: PracticeSession(s.engine, scenario))  # engine work: off the event loop
    prompt = await s.off_loop(session.start)
    sid = _rooms(request).add(_owner(principal), session, body.exam)
    customer = scenario.call.customer
    about = {"title": scenario.title, "name": customer.name, "notes": customer.notes, "service": scenario.call.service}
    return {"id": sid, "scenario": about, "exam": body.exam, "prompt": _prompt(prompt, body.exam)}


@api.post("/sessions/{session_id}/replies")
async def reply(
    session_id: Annotated[str, Path(pattern=SESSION_ID)], body: ReplyIn, principal: MayPractise, s: ServicesDep,
    request: Request,
) -> dict[str, Any]:  # fmt: skip
    """The customer's reaction to the agent's reply; with the session report once the call ends."""
    held = _rooms(request).get(_owner(principal), session_id)
    if held.session.outcome is not None:
        raise HTTPException(409, "the practice call has ended; start a new one")
    if not body.text.strip():
        raise HTTPException(422, "text: an empty reply; type what you would say to the customer")
    prompt = await s.off_loop(lambda: held.session.reply(body.text))
    out: dict[str, Any] = {"prompt": _prompt(prompt, held.exam)}
    if prompt.outcome is not None:
        out["report"] = session_report(held.session, held.exam)
    return out


@router.get("/practice", response_class=HTMLResponse, include_in_schema=False)
def page(request: Request) -> Response:
    principal = principal_of(request)
    if principal is None:
        return _login_first(request)
    if not access.may(principal, "practice"):
        return _not_for(request, principal, "practise")
    return render("practice.html", request, scenarios=list(builtin_scenarios().values()))


router.include_router(api)
