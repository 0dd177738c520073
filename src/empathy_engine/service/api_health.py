"""REST: health, for load balancers and for people."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from empathy_engine import __version__
from empathy_engine.service.schemas import Health
from empathy_engine.service.services import ServicesDep
from empathy_engine.store.models import DEFAULT_TENANT

router = APIRouter(prefix="/v1", tags=["health"])


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(s: ServicesDep, response: Response) -> dict[str, Any]:
    """`ok` when the database answers; `degraded` (HTTP 503) when it does not."""
    try:
        s.read(DEFAULT_TENANT, lambda c: c.execute(text("SELECT 1")).scalar_one())  # no tenant's rows
        database = "ok"
    except SQLAlchemyError as e:
        database = f"unreachable: {str(getattr(e, 'orig', None) or e).strip().splitlines()[0]}"
        response.status_code = 503
    return {
        "status": "ok" if database == "ok" else "degraded",
        "database": database,
        "live_calls": len(s.live.calls),
        "version": __version__,
    }
