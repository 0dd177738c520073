"""The pages: agent cockpit, supervisor board and a start page. Server-rendered shells whose
small scripts (static/) follow the live WebSocket feeds; no front-end build step."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from empathy_engine import __version__
from empathy_engine.ingest.live import CALL_ID
from empathy_engine.service import access
from empathy_engine.service.auth import Principal
from empathy_engine.service.authz import principal_of, scope_of
from empathy_engine.service.services import ServicesDep
from empathy_engine.store import calls as store

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("empathy_engine.service", "templates"), autoescape=select_autoescape(), auto_reload=False
    )


def render(name: str, request: Request | None = None, **context: Any) -> HTMLResponse:
    """A page; with the request, it also shows who is logged in, and the open-demo banner."""
    principal = getattr(request.state, "principal", None) if request is not None else None
    open_demo = bool(request is not None and getattr(request.app.state, "open_demo", False))
    html = (
        _templates().get_template(name).render(version=__version__, principal=principal, open_demo=open_demo, **context)
    )
    return HTMLResponse(html)


def _login_first(request: Request) -> Response:
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


def _not_for(request: Request, principal: Principal, what: str) -> HTMLResponse:
    page = render("denied.html", request, role=principal.role, what=what)
    page.status_code = 403
    return page


@router.get("/", response_class=HTMLResponse)
def index(s: ServicesDep, request: Request) -> Response:
    principal = principal_of(request)
    if principal is None:
        return _login_first(request)

    def recent(connection: Any) -> list[store.CallRecord]:
        scope = scope_of(connection, principal)
        if scope is None:
            return []
        return store.list_calls(connection, principal.tenant_id, scope.status, 20, 0, agents=scope.agents)[1]

    calls = s.read(principal.tenant_id, recent)
    return render("index.html", request, calls=calls, demo=getattr(request.app.state, "demo", False))


@router.get("/agent/{call_id}", response_class=HTMLResponse)
def cockpit(request: Request, call_id: Annotated[str, Path(pattern=CALL_ID.pattern)]) -> Response:
    if principal_of(request) is None:
        return _login_first(request)
    return render("agent.html", request, call_id=call_id)  # the call's own socket checks who may watch it


@router.get("/audit", response_class=HTMLResponse)
def audit_report(request: Request) -> Response:
    """The latest QA audit report (`empathy audit --report`), or how to make one."""
    principal = principal_of(request)
    if principal is None:
        return _login_first(request)
    if not access.may(principal, "audit"):
        return _not_for(request, principal, "read the audit report")
    report = request.app.state.settings.audit_report
    if report is not None and report.is_file():
        return FileResponse(report, media_type="text/html")
    return render("audit.html", request, report=report)


@router.get("/supervisor", response_class=HTMLResponse)
def supervisor(request: Request) -> Response:
    principal = principal_of(request)
    if principal is None:
        return _login_first(request)
    if not access.may(principal, "board"):
        return _not_for(request, principal, "watch the supervisor board")
    return render("supervisor.html", request)
