"""REST: health, for load balancers and for people.

It tells the truth and gives nothing away: the database must answer, a SQLite file must still
be on disk (a deleted file keeps answering from its open handle while nothing written will
survive), and the folder it lives in must have at least `health_min_free_mb` free. Any of these
failing is HTTP 503 with a generic word (`unreachable`, `missing`, `low`); the details (host
names, driver errors) go to the server log only.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from empathy_engine import __version__
from empathy_engine.service.json_body import SafeJsonRoute
from empathy_engine.service.schemas import Health
from empathy_engine.service.services import Services, ServicesDep
from empathy_engine.store.models import DEFAULT_TENANT

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["health"], route_class=SafeJsonRoute)
#: Writes waiting longer than this for the write lock make health say the database is busy.
BUSY_AFTER_S = 1.0


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(s: ServicesDep, response: Response) -> dict[str, Any]:
    """`ok` when the database answers and has room; `degraded` (HTTP 503) with a generic reason when not."""
    file = _sqlite_file(s)
    database = _database(s, file)
    disk = _disk(s, file)
    healthy = database == "ok" and disk in ("ok", "not checked")
    if not healthy:
        response.status_code = 503
    if database == "ok" and s.writer.waiting_s() > BUSY_AFTER_S:
        # Reads still answer, but writes wait for a lock another process holds: streams get
        # database_busy refusals until it is released.
        log.warning("health: writes have waited %.0f s for the database's write lock", s.writer.waiting_s())
        database = "busy"
        healthy = False
        response.status_code = 503
    return {
        "status": "ok" if healthy else "degraded",
        "database": database,
        "disk": disk,
        "live_calls": len(s.live.calls),
        "version": __version__,
        "replica": s.settings.replica_id,
    }


def _sqlite_file(s: Services) -> Path | None:
    """The SQLite database file (None for PostgreSQL or an in-memory database)."""
    url = s.db.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser()


def _database(s: Services, file: Path | None) -> str:
    if file is not None and not file.is_file():
        log.error("health: the SQLite database file %s is gone; restart the server to recreate it", file)
        return "missing"
    try:
        s.read(DEFAULT_TENANT, lambda c: c.execute(text("SELECT 1")).scalar_one())  # no tenant's rows
    except SQLAlchemyError as e:
        log.error("health: the database does not answer: %s", str(getattr(e, "orig", None) or e).strip())
        return "unreachable"
    return "ok"


def _disk(s: Services, file: Path | None) -> str:
    """Free space where the SQLite file lives (a PostgreSQL server's disk is not ours to see)."""
    if file is None:
        return "not checked"
    try:
        free = shutil.disk_usage(file.parent).free
    except OSError as e:
        log.error("health: cannot see the free space of %s: %s", file.parent, e)
        return "unknown"
    if free < s.settings.health_min_free_mb * 1024 * 1024:
        log.error("health: %d MiB free under %s; below %d MiB", free >> 20, file.parent, s.settings.health_min_free_mb)
        return "low"
    return "ok"
