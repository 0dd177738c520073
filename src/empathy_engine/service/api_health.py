"""REST: health, for load balancers and for people."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from empathy_engine import __version__
from empathy_engine.service.schemas import Health
from empathy_engine.service.services import ServicesDep

router = APIRouter(prefix="/v1", tags=["health"])
#: Writes waiting longer than this for the write lock make health say the database is busy.
BUSY_AFTER_S = 1.0


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(s: ServicesDep, response: Response) -> dict[str, Any]:
    """`ok` when the database answers and takes writes; `degraded` (HTTP 503) when it does not, or is busy."""
    try:
        s.read(lambda c: c.execute(text("SELECT 1")).scalar_one())
        database = "ok"
    except SQLAlchemyError as e:
        database = f"unreachable: {str(getattr(e, 'orig', None) or e).strip().splitlines()[0]}"
        response.status_code = 503
    if database == "ok" and s.writer.waiting_s() > BUSY_AFTER_S:
        # Reads still answer, but writes wait for a lock another process holds: streams get
        # database_busy refusals until it is released.
        database = f"busy: writes have waited {s.writer.waiting_s():.0f} s for the database's write lock"
        response.status_code = 503
    return {
        "status": "ok" if database == "ok" else "degraded",
        "database": database,
        "live_calls": len(s.live.calls),
        "version": __version__,
    }
