"""The pages: agent cockpit, supervisor board and a start page. Server-rendered shells whose
small scripts (static/) follow the live WebSocket feeds; no front-end build step."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from empathy_engine import __version__
from empathy_engine.ingest.live import CALL_ID
from empathy_engine.service.services import ServicesDep
from empathy_engine.service.tenancy import TenantDep
from empathy_engine.store import calls as store

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("empathy_engine.service", "templates"), autoescape=select_autoescape(), auto_reload=False
    )


def render(name: str, **context: Any) -> HTMLResponse:
    return HTMLResponse(_templates().get_template(name).render(version=__version__, **context))


@router.get("/", response_class=HTMLResponse)
def index(s: ServicesDep, tenant: TenantDep, request: Request) -> HTMLResponse:
    _, recent = s.read(tenant, lambda c: store.list_calls(c, tenant, None, 20, 0))
    return render("index.html", calls=recent, demo=getattr(request.app.state, "demo", False))


@router.get("/agent/{call_id}", response_class=HTMLResponse)
def cockpit(call_id: Annotated[str, Path(pattern=CALL_ID.pattern)]) -> HTMLResponse:
    return render("agent.html", call_id=call_id)


@router.get("/audit", response_class=HTMLResponse)
def audit_report(request: Request) -> Response:
    """The latest QA audit report (`empathy audit --report`), or how to make one."""
    report = request.app.state.settings.audit_report
    if report is not None and report.is_file():
        return FileResponse(report, media_type="text/html")
    return render("audit.html", report=report)


@router.get("/supervisor", response_class=HTMLResponse)
def supervisor() -> HTMLResponse:
    return render("supervisor.html")
