"""Logging in and out (the pages' session cookie), whoami, and WebSocket tickets.

The session cookie is HttpOnly (no script reads it), SameSite=Lax (no other site's form or
socket carries it) and Secure when the login came over https (EMPATHY_COOKIE_SECURE).
Only its SHA-256 is stored. The form posts need this site's Origin (service/guard.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from empathy_engine.service import auth
from empathy_engine.service.authz import CurrentDep, principal_of
from empathy_engine.service.json_body import SafeJsonRoute
from empathy_engine.service.login_throttle import LoginThrottle
from empathy_engine.service.pages import render
from empathy_engine.service.schemas import Ticket, WhoAmI
from empathy_engine.service.services import Services, ServicesDep
from empathy_engine.store import accounts
from empathy_engine.store.models import DEFAULT_TENANT

router = APIRouter(route_class=SafeJsonRoute)  # bodies read under the JSON limits
T = TypeVar("T")
MAX_FORM_BYTES = 16 * 1024


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (never //evil.example or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: Annotated[str | None, Query()] = None) -> HTMLResponse:  # noqa: A002
    return render("login.html", request=request, next=safe_next(next), error=None, login="", tenant=DEFAULT_TENANT)


@router.post("/login", include_in_schema=False)
async def login(s: ServicesDep, request: Request) -> Response:
    """The login form: a session cookie and a redirect on success; the form again, 401, on failure."""
    body = await request.body()
    form = {k: v[0] for k, v in parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace")).items()}
    user, password = form.get("login", "").strip(), form.get("password", "")
    tenant = form.get("tenant", "").strip() or DEFAULT_TENANT
    target = safe_next(form.get("next"))
    ttl = timedelta(hours=s.settings.session_hours)
    throttle: LoginThrottle = request.app.state.login_throttle
    if (wait := throttle.wait_s(tenant, user)) > 0:
        page = render(
            "login.html",
            request=request,
            next=target,
            login=user,
            tenant=tenant,
            error=f"Too many failed logins: try again in {wait:.0f} seconds.",
        )
        page.status_code = 429
        page.headers["Retry-After"] = str(int(wait) + 1)
        return page
    opened = None
    if user and password:
        opened = await _in_thread(s, tenant, lambda c: auth.login(c, tenant, user, password, ttl))
    if opened is None:
        if user:
            throttle.failed(tenant, user)
        page = render(
            "login.html", request=request, next=target, error="Wrong login or password.", login=user, tenant=tenant
        )
        page.status_code = 401
        return page
    token, principal = opened
    throttle.succeeded(tenant, user)
    response = RedirectResponse(target, status_code=303)
    secure = s.settings.cookie_secure if s.settings.cookie_secure is not None else request.url.scheme == "https"
    response.set_cookie(
        auth.COOKIE,
        token,
        max_age=int(ttl.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    return response


@router.post("/logout", include_in_schema=False)
async def logout(s: ServicesDep, request: Request) -> Response:
    """End the session (its row is deleted: the cookie is worthless even if kept) and forget the cookie."""
    principal = principal_of(request)
    if principal is not None and principal.via == "session":
        token_hash = principal.credential.partition(":")[2]
        await _in_thread(s, principal.tenant_id, lambda c: accounts.end_session(c, token_hash))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.get("/v1/whoami", response_model=WhoAmI, tags=["accounts"])
def whoami(principal: CurrentDep) -> dict[str, Any]:
    """Who this credential is: tenant, role, login, team, scopes, and when it expires."""
    return principal.to_dict()


@router.post("/v1/tickets", response_model=Ticket, status_code=201, tags=["accounts"])
def create_ticket(s: ServicesDep, principal: CurrentDep, request: Request) -> dict[str, Any]:
    """A single-use ticket that opens one WebSocket as this credential, for platforms that cannot
    set headers: `wss://host/v1/...?ticket=<ticket>`. It expires after EMPATHY_TICKET_SECONDS."""
    ttl = timedelta(seconds=s.settings.ticket_seconds)
    token, expires = s.write(principal.tenant_id, lambda c: auth.issue_ticket(c, principal, ttl))
    return {"ticket": token, "expires_at": expires.isoformat(), "query": f"ticket={quote(token)}"}


async def _in_thread(s: Services, tenant_id: str, change: Callable[[Connection], T]) -> T:
    return await run_in_threadpool(s.write, tenant_id, change)
