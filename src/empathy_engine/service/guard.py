"""The app's outer wall, one ASGI middleware in front of every route and WebSocket:

1. Host: the Host header must name this server (EMPATHY_ALLOWED_HOSTS): DNS rebinding fails here.
2. Credential: Bearer key, `?ticket=` (WebSockets) or session cookie, resolved to a `Principal`
   on `scope["state"]["principal"]` (None without one) - what `request.state.principal` reads.
3. WebSockets: a browser's Origin must be allowed (EMPATHY_ALLOWED_ORIGINS, default the server's
   own), else the socket gets an error frame and is closed with 1008. Browsers always send
   Origin on a WebSocket; programs send none and need a credential of their own.
4. State-changing requests: the body's Content-Type must be the route's (JSON, or CSV for the
   import), and one authenticated by the cookie must come from an allowed Origin (CSRF).

What a principal may then do is each route's business (service/access.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from empathy_engine.service import auth, log_format
from empathy_engine.service.settings import Settings
from empathy_engine.store import accounts
from empathy_engine.store.writer import GroupCommitWriter

log = logging.getLogger(__name__)

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
FORM = "application/x-www-form-urlencoded"
#: The body types of routes that take something other than JSON.
BODY_TYPES: dict[str, tuple[str, ...]] = {
    "/v1/customers/import": ("text/csv",),
    "/login": (FORM,),
    "/logout": (FORM, "application/json"),
}
#: Routes that take the cookie's place (they make or end it): their form posts need an allowed Origin too.
COOKIE_ROUTES = ("/login", "/logout")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def host_name(host: str) -> str:
    """The name part of a Host header ("[::1]:8000" -> "::1", "Example.com:80" -> "example.com")."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def allowed_hosts(settings: Settings) -> frozenset[str]:
    listed = [h.strip().lower() for h in settings.allowed_hosts.split(",") if h.strip()]
    if listed:
        return frozenset(listed)
    own = () if settings.host in ("0.0.0.0", "::", "") else (settings.host.lower(),)
    return frozenset((*LOOPBACK_HOSTS, *own))


#: A key's "last used" is recorded at most this often (seconds).
KEY_USE_EVERY_S = 60.0
#: Why a credential was not taken while the database is down (public routes still answer).
UNCHECKABLE = "credentials cannot be checked now (the database does not answer); retry shortly"


class Guard:
    """See the module docstring. `open_demo`: `empathy serve --demo` on loopback - no credential
    needed (every request without one acts as the demo admin), and every page says so."""

    def __init__(self, app: ASGIApp, settings: Settings, open_demo: bool = False) -> None:
        self.app = app
        self.hosts = allowed_hosts(settings)
        self.origins = frozenset(
            o.strip().lower().rstrip("/") for o in settings.allowed_origins.split(",") if o.strip()
        )
        self.open_demo = open_demo
        self._noted: dict[str, float] = {}  # key id -> when its use was last recorded (monotonic)
        self._tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if "*" not in self.hosts and host_name(host) not in self.hosts:
            log.warning("refused a request for host %r (allowed: %s)", host, ", ".join(sorted(self.hosts)))
            await _refuse(
                scope,
                receive,
                send,
                400,
                "bad_host",
                f"host {host!r} is not served here; the server's operator can allow it with EMPATHY_ALLOWED_HOSTS",
            )
            return
        state = scope.setdefault("state", {})
        try:
            principal = await self._principal(scope, headers)
            state["auth_problem"] = None
        except auth.Refused as refused:
            principal, state["auth_problem"] = None, str(refused)
        except SQLAlchemyError:  # public routes (health above all) must still answer; the rest get 401
            log.error("credentials could not be checked: the database does not answer")
            principal, state["auth_problem"] = None, UNCHECKABLE
        state["principal"] = principal
        if principal is not None:
            log_format.bind(tenant_id=principal.tenant_id)  # the request's log lines name its tenant
        if principal is not None and principal.via == "key" and principal.key_id:
            self._note_use(scope, principal.tenant_id, principal.key_id)
        problem = self._problem(scope, headers, principal)
        if problem is not None:
            await _refuse(scope, receive, send, *problem)
            return
        await self.app(scope, receive, send)

    async def _principal(self, scope: Scope, headers: Headers) -> auth.Principal | None:
        bearer = auth.bearer_of(headers)
        ticket = None
        if scope["type"] == "websocket":
            ticket = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("ticket") or [None])[0]
        cookie = _cookie(headers, auth.COOKIE)
        if bearer is None and ticket is None and not cookie:
            return auth.DEMO if self.open_demo else None
        services = scope["app"].state.services

        def resolve() -> auth.Principal | None:
            with services.db.begin() as connection:
                return auth.resolve(connection, bearer, cookie, ticket)

        return await asyncio.to_thread(resolve)

    def _note_use(self, scope: Scope, tenant_id: str, key_id: str) -> None:
        """Record a key's use (at most once a minute per key) through the writer, in the background:
        the request never waits for a write, so a database whose write lock is held elsewhere
        delays no authenticated request (it only delays `empathy keys list`'s "last used")."""
        now = time.monotonic()
        if now - self._noted.get(key_id, -KEY_USE_EVERY_S) < KEY_USE_EVERY_S:
            return
        if len(self._noted) > 10_000:  # bounded: forget the oldest-known keys' times
            self._noted.clear()
        self._noted[key_id] = now
        writer = scope["app"].state.services.writer
        task = asyncio.create_task(_record_use(writer, tenant_id, key_id))
        self._tasks.add(task)  # held: the loop keeps only weak references to tasks
        task.add_done_callback(self._tasks.discard)

    def origin_allowed(self, origin: str, host: str) -> bool:
        origin = origin.strip().lower().rstrip("/")
        if self.origins:
            return origin in self.origins
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc == host.strip().lower()

    def _problem(self, scope: Scope, headers: Headers, principal: auth.Principal | None) -> tuple[int, str, str] | None:
        """Why this request is refused before any route sees it, or None."""
        origin = headers.get("origin")
        host = headers.get("host", "")
        if scope["type"] == "websocket":
            if origin is not None and not self.origin_allowed(origin, host):
                return 403, "bad_origin", f"pages from {origin} may not open this socket"
            return None
        if scope["method"] not in UNSAFE:
            return None
        path: str = scope["path"]
        if origin is not None and not self.origin_allowed(origin, host):
            return 403, "bad_origin", f"pages from {origin} may not change anything here"
        cookie_based = principal is not None and principal.via == "session"
        if origin is None and (cookie_based or path in COOKIE_ROUTES):
            return 403, "origin_required", "a change made with the session cookie must come from this site's pages"
        wanted = BODY_TYPES.get(path, ("application/json",))
        given = headers.get("content-type", "").partition(";")[0].strip().lower()
        if not given and principal is not None and principal.via == "key":
            return None  # a program with a key (no browser can send one cross-site without asking first)
        if not given and headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers:
            return None  # no body, nothing to type (a logout button, a ticket request)
        if given not in wanted:
            shown = given or "none"
            return 415, "unsupported_media_type", f"send the body as {' or '.join(wanted)} (Content-Type was {shown})"
        return None


def _cookie(headers: Headers, name: str) -> str | None:
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


async def _record_use(writer: GroupCommitWriter, tenant_id: str, key_id: str) -> None:
    try:
        await writer.run(tenant_id, accounts.note_key_use(key_id), timeout=KEY_USE_EVERY_S)
    except Exception:  # best effort: the next use a minute later tries again
        log.debug("could not record the use of key %s", key_id, exc_info=True)


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str) -> None:
    """An HTTP error body; on a WebSocket, the protocol's error frame and a 1008 close."""
    if scope["type"] == "websocket":
        await ws_refuse(receive, send, code, message)
        return
    body = json.dumps({"detail": message, "code": code}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def ws_refuse(receive: Receive, send: Send, code: str, message: str) -> None:
    """Accept the socket only to say why it is refused (a browser cannot read a refused handshake)."""
    connect: dict[str, Any] = dict(await receive())
    if connect.get("type") != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    frame = {"type": "error", "code": code, "message": message}
    await send({"type": "websocket.send", "text": json.dumps(frame)})
    await send({"type": "websocket.close", "code": 1008, "reason": code})
