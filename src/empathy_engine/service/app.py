"""`create_app(settings)`: the FastAPI app - streaming API, REST API, pages.

Nothing is built at import time: the database, the engine and the writer thread are made
in the app's lifespan, so importing this module (or `empathy --help`) stays cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError

from empathy_engine import __version__
from empathy_engine.ingest.conversation import call_from_header
from empathy_engine.pipeline import Engine, EngineSettings
from empathy_engine.privacy import logs as privacy_logs
from empathy_engine.service.body_limit import BodyLimit
from empathy_engine.service.expiry import run_expiry
from empathy_engine.service.live import LiveCall, LiveRegistry
from empathy_engine.service.login_throttle import LoginThrottle
from empathy_engine.service.metrics import Metrics, MetricsMiddleware, registry_of
from empathy_engine.service.replica_header import ReplicaHeader
from empathy_engine.service.services import Services
from empathy_engine.service.settings import Settings
from empathy_engine.service.webhook import Webhook
from empathy_engine.store import calls as store
from empathy_engine.store.db import open_database
from empathy_engine.store.models import DEFAULT_TENANT, utcnow
from empathy_engine.store.replay import EngineRecord
from empathy_engine.store.roles import weaknesses
from empathy_engine.store.tenancy import tenant_ids
from empathy_engine.store.writer import GroupCommitWriter, is_lock_error

log = logging.getLogger(__name__)

DESCRIPTION = """Real-time empathy coaching for contact centres.

Stream a call over `WS /v1/calls/{call_id}/stream` (see docs/protocol.md) and get, for every
customer utterance, what the customer feels and why; read calls, customers and outcomes here.
"""


def create_app(settings: Settings | None = None, *, engine: Engine | None = None, open_demo: bool = False) -> FastAPI:
    """The app. `engine` lets tests (and embedders) share one loaded engine between apps.
    Every route but health, the login page and the API docs (/docs, /redoc) needs a credential; `open_demo`
    (only `empathy serve --demo` on a loopback host sets it) lets requests without one in as
    the demo admin, and every page says so."""
    settings = settings or Settings()
    privacy_logs.install()  # every log line masked like a turn, whichever handler writes it
    metrics = Metrics()  # counted on the loop from the first request; read at GET /metrics

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await _start(settings, engine, metrics)
        app.state.services = services
        if services.webhook is not None:
            services.webhook.start()
        board = asyncio.create_task(services.live.run_board(settings.board_interval_s))
        expiry = asyncio.create_task(run_expiry(services, settings.idle_call_minutes))
        bus = services.live.bus
        tasks = [board, expiry] + ([asyncio.create_task(bus.run())] if bus is not None else [])
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if services.webhook is not None:
                await services.webhook.stop()
            services.writer.stop()
            services.engine_thread.shutdown(wait=False, cancel_futures=True)
            services.db.dispose()

    app = FastAPI(
        title="empathy-engine",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by service/api_docs.py with their assets from the package, no CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.metrics_registry = registry_of(metrics, lambda: _live_counts(app))
    app.state.open_demo = open_demo
    app.state.login_throttle = LoginThrottle()  # failed logins lock a login for a while
    _wire(app, settings, metrics, open_demo)
    return app


def _wire(app: FastAPI, settings: Settings, metrics: Metrics, open_demo: bool) -> None:
    """The middleware (outermost last), the error handlers, the routes and the static files."""
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.exception_handler(OperationalError)(_database_error)
    app.exception_handler(Exception)(_internal_error)

    from empathy_engine.service import (
        api_accounts,
        api_calls,
        api_customers,
        api_docs,
        api_feedback,
        api_health,
        api_metrics,
        pages,
        stream,
        telephony,
        watch,
    )
    from empathy_engine.service.guard import Guard

    app.add_middleware(Guard, settings=settings, open_demo=open_demo)
    app.add_middleware(ReplicaHeader, replica_id=settings.replica_id)  # refusals say who refused too
    app.add_middleware(MetricsMiddleware, metrics=metrics)  # outermost: it sees every refusal
    for module in (api_calls, api_customers, api_health, api_accounts, api_metrics, stream, telephony, watch, pages):
        app.include_router(module.router)
    app.include_router(api_feedback.router)  # issue 16: agents' feedback on cards
    from empathy_engine.service import api_practice  # practice mode (docs/practice.md)

    app.include_router(api_practice.router)
    api_docs.mount(app)
    app.mount("/static", StaticFiles(packages=[("empathy_engine.service", "static")]), name="static")


def _live_counts(app: FastAPI) -> Counter[str]:
    """Live calls per tenant, counted when /metrics is scraped (nothing is kept per turn for it)."""
    services: Services | None = getattr(app.state, "services", None)
    return Counter(tenant for tenant, _ in services.live.calls) if services is not None else Counter()


async def _start(settings: Settings, engine: Engine | None, metrics: Metrics) -> Services:
    db = await asyncio.to_thread(open_database, settings.database_url, settings.migration_database_url)
    for weakness in await asyncio.to_thread(weaknesses, db):
        log.warning("row-level security: %s", weakness)
    if engine is None:
        from empathy_engine.perception.context import ContextSettings

        context = ContextSettings(settings.holiday_country, settings.holiday_subdivision)
        chosen = EngineSettings(
            context=context,
            playbook=settings.playbook,
            exemplars=settings.exemplars,
            lexicon=settings.lexicon,
            policy=settings.policy,
        )
        engine = await asyncio.to_thread(Engine, chosen)
    writer = GroupCommitWriter(db)
    writer.start()
    live = LiveRegistry(settings.board_dropped_s)
    if settings.redis_url is not None:  # several replicas: one board (service/cluster_bus.py)
        from empathy_engine.extras import require
        from empathy_engine.service.cluster_bus import ClusterBus

        require("cluster", "EMPATHY_REDIS_URL")
        url, replica = settings.redis_url.get_secret_value(), settings.replica_id
        live.bus = ClusterBus(url, replica, live, metrics, settings.redis_queue, settings.board_interval_s)
    webhook = Webhook(settings, metrics) if settings.webhook_url else None
    services = Services(
        settings, db, writer, engine, live, EngineRecord.of(engine.settings), metrics=metrics, webhook=webhook
    )
    now = utcnow()
    for tenant in await asyncio.to_thread(services.read, DEFAULT_TENANT, tenant_ids):
        # Each tenant's calls are read under its own tenant, and come back as that tenant's.
        # Sessions are rebuilt lazily, when a stream resumes the call: most may never come back
        # (those end as abandoned once idle, counted from their last stored event).
        for record, turns in await services.aread(tenant, partial(_open_calls, tenant_id=tenant)):
            idle_s = (now - _aware(record.updated_at)).total_seconds()
            call = call_from_header(record.id, record.header)
            restored = LiveCall.restore(
                tenant, record.id, record.header, call, turns, idle_s=idle_s, created_at=record.created_at
            )
            live.put(restored)
    if live.calls:
        log.info("restored %d live call(s) from the database; their streams can resume", len(live.calls))
    return services


def _open_calls(connection: Any, tenant_id: str) -> list[tuple[store.CallRecord, list[store.TurnRecord]]]:
    from empathy_engine.service.live import TRANSCRIPT_KEPT

    out = []
    for record in store.live_calls(connection, tenant_id):
        since = max(0, record.turn_count - TRANSCRIPT_KEPT)
        out.append((record, store.get_turns(connection, tenant_id, record.id, since=since)))
    return out


def _aware(when: datetime) -> datetime:
    """SQLite gives back naive datetimes; they were stored in UTC."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """Another process holding SQLite's write lock past the busy timeout: retryable, not a bug."""
    if not is_lock_error(exc):
        return await _internal_error(request, exc)
    return JSONResponse(
        {"detail": "the database is busy (another process holds its write lock); nothing was stored - try again"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal server error; the server log has the details"}, status_code=500)
