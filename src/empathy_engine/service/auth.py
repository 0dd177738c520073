"""Who is asking: the `Principal` a request or a WebSocket carries, from its credential.

A credential is one of: `Authorization: Bearer <API key>`, the browser's session cookie (set
by the login page), or `?ticket=` on a WebSocket (single-use, short-lived, for platforms that
cannot set headers). The tenant always comes from the credential, never from the request.
service/guard.py resolves it once per request and puts it on `request.state.principal` /
`websocket.state.principal`; service/access.py decides what it may do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Connection

from empathy_engine.store import accounts
from empathy_engine.store.models import DEFAULT_TENANT

Role = Literal["agent", "supervisor", "qa_lead", "admin", "integration"]
ROLES: tuple[str, ...] = ("agent", "supervisor", "qa_lead", "admin", "integration")
#: People's roles (users log in); integration is for programs, with API keys only.
USER_ROLES: tuple[str, ...] = ("agent", "supervisor", "qa_lead", "admin")
#: What an integration key may be allowed to do.
SCOPES: tuple[str, ...] = ("stream", "telephony", "customers", "outcomes", "metrics", "feedback")
COOKIE = "empathy_session"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as. `credential` names what proved it (`key:<id>`, `session:<hash>`)."""

    tenant_id: str
    role: str
    credential: str
    login: str | None = None
    user_id: int | None = None
    key_id: str | None = None
    team: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    #: When the credential stops working (a session); None for keys, which last until revoked.
    expires_at: datetime | None = None
    via: Literal["key", "session", "ticket", "demo"] = "key"

    def to_dict(self) -> dict[str, object]:
        return {
            "tenant_id": self.tenant_id,
            "role": self.role,
            "login": self.login,
            "team": self.team,
            "key_id": self.key_id,
            "scopes": sorted(self.scopes),
            "via": self.via,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }


#: `empathy serve --demo` on loopback: every request is this admin, and every page says so.
DEMO = Principal(DEFAULT_TENANT, "admin", "demo", login="demo", via="demo")


class Refused(Exception):
    """A credential was presented and is no good: the message says why and what to do."""


def of_key(key: accounts.KeyRecord, via: Literal["key", "ticket"] = "key") -> Principal:
    return Principal(
        key.tenant_id,
        key.role,
        f"key:{key.id}",
        login=key.login,
        key_id=key.id,
        team=key.team,
        scopes=frozenset(key.scopes),
        via=via,
    )


def of_user(
    user: accounts.UserRecord, token_hash: str, expires: datetime, via: Literal["session", "ticket"] = "session"
) -> Principal:
    return Principal(
        user.tenant_id,
        user.role,
        f"session:{token_hash}",
        login=user.login,
        user_id=user.id,
        team=user.team,
        expires_at=expires,
        via=via,
    )


def bearer_of(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization")
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused("the Authorization header must be 'Bearer <API key>' (create a key: empathy keys create)")
    return token.strip()


def resolve(connection: Connection, bearer: str | None, cookie: str | None, ticket: str | None) -> Principal | None:
    """The principal of the first credential given (Bearer, then ticket, then cookie); None when
    none is; `Refused` when the one given is unknown, revoked, expired or used. Reads the
    database every time (a revoked key stops at once); spending a ticket writes, so run it in a
    write transaction."""
    if bearer is not None:
        key = accounts.check_key(connection, bearer)
        if key is None:
            raise Refused("this API key is unknown or revoked; create one with: empathy keys create")
        return of_key(key)
    if ticket is not None:
        issued_to = accounts.use_ticket(connection, ticket)
        found = recheck(connection, issued_to) if issued_to else None
        if found is None:
            raise Refused("this ticket is unknown, expired or already used; get a new one from POST /v1/tickets")
        return _as_ticket(found)
    if cookie:
        found = recheck(connection, f"session:{accounts.digest(cookie)}")
        if found is None:
            raise Refused("your session has expired; log in again at /login")
        return found
    return None


def _as_ticket(principal: Principal) -> Principal:
    return Principal(
        principal.tenant_id,
        principal.role,
        principal.credential,
        principal.login,
        principal.user_id,
        principal.key_id,
        principal.team,
        principal.scopes,
        principal.expires_at,
        via="ticket",
    )


def recheck(connection: Connection, credential: str) -> Principal | None:
    """The principal a credential gives now, or None once it is revoked or expired (for open sockets)."""
    kind, _, ident = credential.partition(":")
    if kind == "key":
        key = accounts.active_key(connection, ident)
        return of_key(key) if key else None
    if kind == "session":
        found = accounts.session_user(connection, ident)
        return of_user(found[0], ident, found[1]) if found else None
    return DEMO if credential == DEMO.credential else None


def login(
    connection: Connection, tenant_id: str, user_login: str, password: str, ttl: timedelta
) -> tuple[str, Principal] | None:
    """Check a password and open a session: the cookie value and the principal, or None."""
    user = accounts.check_password(connection, tenant_id, user_login, password)
    if user is None:
        return None
    token, expires = accounts.create_session(connection, user, ttl)
    return token, of_user(user, accounts.digest(token), expires)


def issue_ticket(connection: Connection, principal: Principal, ttl: timedelta) -> tuple[str, datetime]:
    """A single-use ticket that opens one WebSocket as this principal (while its credential holds)."""
    return accounts.create_ticket(connection, principal.tenant_id, principal.credential, ttl)
