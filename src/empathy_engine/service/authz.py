"""Access checks where routes and sockets meet them: 401 without a credential, 403 when the
principal's role may not (service/access.py decides), and the recheck of an open socket's
credential (a revoked key or an ended session closes it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, WebSocket
from fastapi.security import HTTPBearer
from sqlalchemy import Connection

from empathy_engine.service import access
from empathy_engine.service.access import Action, CallFacts
from empathy_engine.service.auth import Principal, recheck
from empathy_engine.service.guard import ws_refuse
from empathy_engine.service.services import Services
from empathy_engine.store import accounts

NEEDS_CREDENTIAL = (
    "this needs a credential: 'Authorization: Bearer <API key>' (empathy keys create) or log in at /login"
)


def principal_of(connection: Request | WebSocket) -> Principal | None:
    return getattr(connection.state, "principal", None)


#: Only so that /docs offers an "Authorize" box for a key: service/guard.py has already read it.
_bearer = HTTPBearer(auto_error=False, description="an API key: empathy keys create")


def current(request: Request, _: Annotated[object, Depends(_bearer)] = None) -> Principal:
    """The request's principal, or 401 saying how to get one."""
    principal = principal_of(request)
    if principal is None:
        problem = getattr(request.state, "auth_problem", None)
        raise HTTPException(401, problem or NEEDS_CREDENTIAL, headers={"WWW-Authenticate": "Bearer"})
    return principal


CurrentDep = Annotated[Principal, Depends(current)]


def denied(principal: Principal, what: str) -> HTTPException:
    scopes = f" with scopes [{' '.join(sorted(principal.scopes))}]" if principal.role == "integration" else ""
    return HTTPException(403, f"a {principal.role} credential{scopes} may not {what}")


def require(action: Action, what: str) -> Callable[[Principal], Principal]:
    """A dependency: the principal, when its role may do `action` (not tied to one call)."""

    def check(principal: CurrentDep) -> Principal:
        if not access.may(principal, action):
            raise denied(principal, what)
        return principal

    return check


def facts_of(connection: Connection, principal: Principal, header: dict[str, Any], status: str) -> CallFacts:
    """What access needs to know about a call: its agent, that agent's team (from the accounts), its status."""
    agent = access.agent_of(header)
    team = accounts.team_of(connection, principal.tenant_id, agent) if agent else None
    return CallFacts(agent, team, status)


def check_call(
    connection: Connection, principal: Principal, header: dict[str, Any], status: str, *, outcome_only: bool = False
) -> None:
    """403 unless `principal` may read this call (`outcome_only`: only its outcome)."""
    facts = facts_of(connection, principal, header, status)
    if not access.may(principal, "read_call", facts, outcome_only=outcome_only):
        raise denied(principal, "read this call")


def scope_of(connection: Connection, principal: Principal) -> access.CallScope | None:
    team = accounts.team_logins(connection, principal.tenant_id, principal.team) if principal.team else frozenset()
    return access.call_scope(principal, team)


# --- WebSockets ---------------------------------------------------------------------------------


async def refuse_ws(websocket: WebSocket, code: str, message: str) -> None:
    await ws_refuse(websocket.receive, websocket.send, code, message)


async def ws_principal(websocket: WebSocket, action: Action, what: str) -> Principal | None:
    """The socket's principal when it may do `action`; otherwise the socket is refused (error
    frame, close 1008) and None comes back."""
    principal = principal_of(websocket)
    if principal is None:
        problem = getattr(websocket.state, "auth_problem", None)
        await refuse_ws(websocket, "unauthorized", problem or NEEDS_CREDENTIAL)
        return None
    if action not in ("read_call",) and not access.may(principal, action):
        await refuse_ws(websocket, "forbidden", denied(principal, what).detail)
        return None
    return principal


class CredentialWatch:
    """Keeps an open socket's credential honest: rechecked from the database every
    EMPATHY_AUTH_RECHECK_S (a revoked key, a logged-out session), and due at once when a
    session's expiry passes. `reason()` says why it no longer holds (None while it does)."""

    def __init__(self, services: Services, principal: Principal) -> None:
        self.s = services
        self.principal = principal
        self.every = services.settings.auth_recheck_s
        self.checked = time.monotonic()

    def due(self) -> bool:
        expires = self.principal.expires_at
        if expires is not None and datetime.now(UTC) >= expires:
            return True
        return time.monotonic() - self.checked >= self.every / 2

    async def reason(self, force: bool = False) -> str | None:
        """Why the credential no longer holds, or None (rechecked only when due, or `force`d).

        A periodic recheck never holds up the socket's event: it starts the shared read and goes on
        with the last answer, when that is under one interval old. A passed session expiry, a
        `force`d check, or a last answer that old waits for the database."""
        if self.principal.via == "demo" or not (force or self.due()):
            return None
        self.checked = time.monotonic()
        expires = self.principal.expires_at
        if force or (expires is not None and datetime.now(UTC) >= expires):
            now = await self._shared_recheck()
        else:
            read_at, now = self._latest()
            if time.monotonic() - read_at >= self.every:
                now = await self._shared_recheck()
        if now is not None:
            self.principal = now  # a session's expiry may have moved
            return None
        if self.principal.expires_at is not None:
            return "session_expired"
        return "credential_revoked"

    def _latest(self) -> tuple[float, Principal | None]:
        """When the last finished read of this credential finished, and what it found (a read is
        started meanwhile if the last one is due); (-inf, None) before any has finished."""
        self._shared_read()
        return self.s.credential_known.get(self.principal.credential, (float("-inf"), None))

    async def _shared_recheck(self) -> Principal | None:
        """The credential read again from the database, or the result of a read of the same credential
        that started less than half a recheck interval ago (or is still running)."""
        found: Principal | None = await asyncio.shield(self._shared_read())
        return found

    def _shared_read(self) -> asyncio.Future[Any]:
        """The read of this credential every socket of it shares: a new one when the last started half
        an interval ago or more. Sockets recheck every half interval too, so a revoked key or an ended
        session is seen by each of them within one interval."""
        checks, known = self.s.credential_checks, self.s.credential_known
        credential, started = self.principal.credential, time.monotonic()
        check = checks.get(credential)
        if check is None or started - check[0] >= self.every / 2:
            if len(checks) > 10_000:  # bounded: credentials nobody uses any more are forgotten
                checks.clear()
                known.clear()
            tenant = self.principal.tenant_id
            future = asyncio.ensure_future(self.s.aread(tenant, lambda c: recheck(c, credential)))

            def remember(done: asyncio.Future[Any]) -> None:
                if not done.cancelled() and done.exception() is None:
                    known[credential] = (time.monotonic(), done.result())

            future.add_done_callback(remember)
            checks[credential] = check = (started, future)
        return check[1]

    async def wait_until_invalid(self) -> str:
        """Sleep until the credential stops holding; its reason."""
        while True:
            wait = self.every / 2
            if self.principal.expires_at is not None:
                left = (self.principal.expires_at - datetime.now(UTC)).total_seconds()
                wait = max(0.0, min(wait, left))
            await asyncio.sleep(wait)
            reason = await self.reason(force=True)
            if reason is not None:
                return reason


MESSAGES = {
    "session_expired": "your session has expired; log in again at /login and reopen the page",
    "credential_revoked": "the credential this socket was opened with was revoked; reconnect with a valid one",
}
