"""Accounts: teams, users, API keys, browser sessions and WebSocket tickets (migration 0004).

No secret is ever stored. Keys, session cookies and tickets are random 256-bit values kept as
their SHA-256 (a hash of that much randomness cannot be brute-forced, and checking it costs
nothing per request); passwords, which people choose, get a salted scrypt hash.
Every lookup reads the database: a revoked key or an ended session stops at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import cast

from sqlalchemy import Connection, Row, Table, delete, insert, select, update

from empathy_engine.store.models import (
    ApiKeyRow,
    SessionRow,
    TeamRow,
    TicketRow,
    UserRow,
    utcnow,
)

_teams = cast(Table, TeamRow.__table__)
_users = cast(Table, UserRow.__table__)
_keys = cast(Table, ApiKeyRow.__table__)
_sessions = cast(Table, SessionRow.__table__)
_tickets = cast(Table, TicketRow.__table__)

KEY_PREFIX = "ee"
#: scrypt cost: 16 MiB and ~50 ms a login on one core; the parameters are stored with each hash.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def new_token() -> str:
    """A random 256-bit token, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    derived = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${derived.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, expected = stored.split("$")
        derived = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected) // 2
        )
    except (ValueError, MemoryError):
        return False
    return kind == "scrypt" and hmac.compare_digest(derived.hex(), expected)


# --- records ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    tenant_id: str
    login: str
    role: str
    team: str | None
    created_at: datetime
    disabled: bool = False
    explain: bool = False  # the idiom explainer on this agent's calls


@dataclass(frozen=True, slots=True)
class KeyRecord:
    id: str
    tenant_id: str
    name: str
    role: str
    scopes: tuple[str, ...]
    team: str | None
    login: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _user(row: Row[object]) -> UserRecord:
    disabled = row.disabled_at is not None
    return UserRecord(row.id, row.tenant_id, row.login, row.role, row.team, row.created_at, disabled, bool(row.explain))


def _key(row: Row[object]) -> KeyRecord:
    scopes = tuple(s for s in row.scopes.split() if s)
    return KeyRecord(
        row.id,
        row.tenant_id,
        row.name,
        row.role,
        scopes,
        row.team,
        row.login,
        row.created_at,
        row.last_used_at,
        row.revoked_at,
    )


# --- tenants and teams ------------------------------------------------------------------------


def ensure_team(connection: Connection, tenant_id: str, team: str) -> None:
    found = connection.execute(select(_teams.c.name).where(_teams.c.tenant_id == tenant_id, _teams.c.name == team))
    if found.first() is None:
        connection.execute(insert(_teams).values(tenant_id=tenant_id, name=team, created_at=utcnow()))


def team_logins(connection: Connection, tenant_id: str, team: str) -> frozenset[str]:
    """The logins (agent ids) of a team's members."""
    rows = connection.execute(select(_users.c.login).where(_users.c.tenant_id == tenant_id, _users.c.team == team))
    return frozenset(r.login for r in rows)


def teams_by_login(connection: Connection, tenant_id: str) -> dict[str, str]:
    """Every user's team by login (an agent id), for the users that have one."""
    rows = connection.execute(
        select(_users.c.login, _users.c.team).where(_users.c.tenant_id == tenant_id, _users.c.team.is_not(None))
    )
    return {row.login: row.team for row in rows}


def team_of(connection: Connection, tenant_id: str, login: str) -> str | None:
    """The team of the user whose login is `login` (an agent id), if there is one."""
    row = connection.execute(
        select(_users.c.team).where(_users.c.tenant_id == tenant_id, _users.c.login == login)
    ).first()
    return row.team if row else None


# --- users ------------------------------------------------------------------------------------


def create_user(
    connection: Connection,
    tenant_id: str,
    login: str,
    password: str,
    role: str,
    team: str | None,
    explain: bool = False,
) -> UserRecord | None:
    """A new user, or None when the login is taken in that tenant."""
    if find_user(connection, tenant_id, login) is not None:
        return None
    if team:
        ensure_team(connection, tenant_id, team)
    values = {
        "tenant_id": tenant_id,
        "login": login,
        "password_hash": hash_password(password),
        "role": role,
        "team": team,
        "created_at": utcnow(),
        "explain": explain,
    }
    connection.execute(insert(_users).values(**values))
    found = find_user(connection, tenant_id, login)
    assert found is not None
    return found


def find_user(connection: Connection, tenant_id: str, login: str) -> UserRecord | None:
    row = connection.execute(select(_users).where(_users.c.tenant_id == tenant_id, _users.c.login == login)).first()
    return _user(row) if row else None


def check_password(connection: Connection, tenant_id: str, login: str, password: str) -> UserRecord | None:
    """The user when the password is right (and the user enabled); None otherwise, in the same time."""
    row = connection.execute(select(_users).where(_users.c.tenant_id == tenant_id, _users.c.login == login)).first()
    stored = row.password_hash if row else _dummy_hash()  # no timing hint of which logins exist
    if not verify_password(password, stored) or row is None or row.disabled_at is not None:
        return None
    return _user(row)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(new_token())


def set_explain(connection: Connection, tenant_id: str, login: str, on: bool) -> UserRecord | None:
    """Switch the idiom explainer on or off for a user's calls; None when there is no such user."""
    where = (_users.c.tenant_id == tenant_id, _users.c.login == login)
    if connection.execute(update(_users).where(*where).values(explain=on)).rowcount == 0:
        return None
    return find_user(connection, tenant_id, login)


def explains_for(connection: Connection, tenant_id: str, login: str | None) -> bool:
    """Whether calls taken by agent `login` (in that tenant) get the idiom explainer."""
    if not login:
        return False
    row = connection.execute(
        select(_users.c.explain).where(_users.c.tenant_id == tenant_id, _users.c.login == login)
    ).first()
    return bool(row and row.explain)


def list_users(connection: Connection, tenant_id: str) -> list[UserRecord]:
    rows = connection.execute(select(_users).where(_users.c.tenant_id == tenant_id).order_by(_users.c.login))
    return [_user(r) for r in rows]


# --- API keys ---------------------------------------------------------------------------------


def create_key(
    connection: Connection,
    tenant_id: str,
    role: str,
    *,
    scopes: tuple[str, ...] = (),
    name: str = "",
    team: str | None = None,
    login: str | None = None,
    key_id: str | None = None,
    secret: str | None = None,
) -> tuple[KeyRecord, str]:
    """A new key and its full secret `ee_<id>_<random>`, which is never stored and never shown again.
    `key_id`, `secret`: given parts (tests reuse one key across databases); normally fresh random ones."""
    key_id = key_id or secrets.token_hex(6)
    random_part = secret or new_token()
    full = f"{KEY_PREFIX}_{key_id}_{random_part}"
    connection.execute(
        insert(_keys).values(
            id=key_id,
            tenant_id=tenant_id,
            secret_hash=digest(full),
            name=name,
            role=role,
            scopes=" ".join(scopes),
            team=team,
            login=login,
            created_at=utcnow(),
        )
    )
    row = connection.execute(select(_keys).where(_keys.c.id == key_id)).one()
    return _key(row), full


def key_id_of(secret: str) -> str | None:
    """The id part of `ee_<id>_<random>`, or None when it is not shaped like a key."""
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1]


def check_key(connection: Connection, secret: str) -> KeyRecord | None:
    """The key this secret is, when it exists and is not revoked. Only reads: a request is never held
    up by a write (another process may hold SQLite's write lock); `note_key_use` records the use."""
    key_id = key_id_of(secret)
    if key_id is None:
        return None
    row = connection.execute(select(_keys).where(_keys.c.id == key_id)).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.secret_hash, digest(secret)):
        return None
    return _key(row)


def note_key_use(key_id: str) -> Callable[[Connection], None]:
    """Job: record that the key was just used (`empathy keys list` shows it)."""

    def job(connection: Connection) -> None:
        connection.execute(update(_keys).where(_keys.c.id == key_id).values(last_used_at=utcnow()))

    return job


def active_key(connection: Connection, key_id: str) -> KeyRecord | None:
    """The key by id, when it exists and is not revoked (an open socket rechecking its credential)."""
    row = connection.execute(select(_keys).where(_keys.c.id == key_id, _keys.c.revoked_at.is_(None))).first()
    return _key(row) if row else None


def list_keys(connection: Connection, tenant_id: str | None = None) -> list[KeyRecord]:
    query = select(_keys).order_by(_keys.c.created_at, _keys.c.id)
    if tenant_id is not None:
        query = query.where(_keys.c.tenant_id == tenant_id)
    return [_key(r) for r in connection.execute(query)]


def revoke_key(connection: Connection, key_id: str) -> KeyRecord | None:
    """Revoke a key (from now on it is refused everywhere); None when there is no such key."""
    connection.execute(
        update(_keys).where(_keys.c.id == key_id, _keys.c.revoked_at.is_(None)).values(revoked_at=utcnow())
    )
    row = connection.execute(select(_keys).where(_keys.c.id == key_id)).first()
    return _key(row) if row else None


def has_credentials(connection: Connection) -> bool:
    """Whether anyone at all could log in or call the API (an unrevoked key or an enabled user)."""
    key = connection.execute(select(_keys.c.id).where(_keys.c.revoked_at.is_(None)).limit(1)).first()
    user = connection.execute(select(_users.c.id).where(_users.c.disabled_at.is_(None)).limit(1)).first()
    return key is not None or user is not None


# --- sessions ---------------------------------------------------------------------------------


def create_session(
    connection: Connection, user: UserRecord, ttl: timedelta, token: str | None = None
) -> tuple[str, datetime]:
    """A new session for the user: the cookie value (never stored) and when it expires. `token`:
    the cookie value to use (tests sign a browser in with a known one); a new random one by default."""
    token = token or new_token()
    now = utcnow()
    expires = now + ttl
    connection.execute(delete(_sessions).where(_sessions.c.expires_at < now))  # expired ones, in passing
    connection.execute(
        insert(_sessions).values(
            token_hash=digest(token), tenant_id=user.tenant_id, user_id=user.id, created_at=now, expires_at=expires
        )
    )
    return token, expires


def session_user(connection: Connection, token_hash: str) -> tuple[UserRecord, datetime] | None:
    """The user of an unexpired session (and when it expires), by the cookie's hash."""
    row = connection.execute(
        select(_users, _sessions.c.expires_at)
        .join(_sessions, _sessions.c.user_id == _users.c.id)
        .where(_sessions.c.token_hash == token_hash, _sessions.c.expires_at > utcnow())
    ).first()
    if row is None or row.disabled_at is not None:
        return None
    return _user(row), row.expires_at


def end_session(connection: Connection, token_hash: str) -> None:
    connection.execute(delete(_sessions).where(_sessions.c.token_hash == token_hash))


def expire_session(connection: Connection, token_hash: str, at: datetime) -> None:
    """Move a session's expiry (tests, and an admin cutting a session short)."""
    connection.execute(update(_sessions).where(_sessions.c.token_hash == token_hash).values(expires_at=at))


# --- tickets ----------------------------------------------------------------------------------


def create_ticket(connection: Connection, tenant_id: str, issued_to: str, ttl: timedelta) -> tuple[str, datetime]:
    token = new_token()
    now = utcnow()
    expires = now + ttl
    connection.execute(
        delete(_tickets).where(_tickets.c.expires_at < now - timedelta(hours=1))  # old ones, in passing
    )
    connection.execute(
        insert(_tickets).values(
            token_hash=digest(token), tenant_id=tenant_id, issued_to=issued_to, created_at=now, expires_at=expires
        )
    )
    return token, expires


def use_ticket(connection: Connection, token: str) -> str | None:
    """Spend a ticket: the credential it was issued to, once; None when unknown, used or expired.
    One conditional UPDATE, so two sockets racing for the same ticket cannot both win."""
    now = utcnow()
    spent = connection.execute(
        update(_tickets)
        .where(_tickets.c.token_hash == digest(token), _tickets.c.used_at.is_(None), _tickets.c.expires_at > now)
        .values(used_at=now)
    )
    if spent.rowcount != 1:
        return None
    row = connection.execute(select(_tickets.c.issued_to).where(_tickets.c.token_hash == digest(token))).one()
    return str(row.issued_to)
