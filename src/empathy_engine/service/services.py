"""What every route needs, built once per app in its lifespan (never at import time)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import Depends, Request, WebSocket
from sqlalchemy import Connection
from sqlalchemy import Engine as Database

from empathy_engine.pipeline import Engine
from empathy_engine.service.live import LiveRegistry
from empathy_engine.service.metrics import Metrics
from empathy_engine.service.settings import Settings
from empathy_engine.store.replay import EngineRecord
from empathy_engine.store.tenancy import bind_tenant
from empathy_engine.store.writer import GroupCommitWriter

if TYPE_CHECKING:
    from empathy_engine.service.webhook import Webhook

T = TypeVar("T")


@dataclass(slots=True)
class Services:
    settings: Settings
    db: Database
    writer: GroupCommitWriter
    engine: Engine
    live: LiveRegistry
    #: The engine's settings as stored with every call it opens (for exact replay).
    engine_record: EngineRecord
    #: Engines for calls that ran with other settings (a server restarted with a new playbook).
    other_engines: dict[EngineRecord, Engine] = field(default_factory=dict)
    #: Open sockets' credentials as last read from the database (service/authz.py CredentialWatch):
    #: credential -> the check in flight or done, and when it started. A thousand streams on one
    #: key share one read per recheck interval instead of making a thousand.
    credential_checks: dict[str, tuple[float, asyncio.Future[Any]]] = field(default_factory=dict)
    #: credential -> when its last read finished, and the principal it found (None: no longer valid).
    credential_known: dict[str, tuple[float, Any]] = field(default_factory=dict)
    #: One thread for engine work too long for the event loop (long texts, call openings,
    #: replays): long jobs queue behind each other there, not in front of every other call.
    #: Counts for GET /metrics (service/metrics.py): plain integers, bumped on the loop.
    metrics: Metrics = field(default_factory=Metrics)
    #: The signed outbound webhook (EMPATHY_WEBHOOK_URL), or None when none is configured.
    webhook: Webhook | None = None
    engine_thread: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="empathy-engine")
    )

    async def off_loop(self, work: Callable[[], T]) -> T:
        """Run engine work in `engine_thread` and wait for it without holding up the loop."""
        return await asyncio.get_running_loop().run_in_executor(self.engine_thread, work)

    def read(self, tenant_id: str, query: Callable[[Connection], T]) -> T:
        """Run a read of one tenant's rows in the calling thread (sync routes run in FastAPI's thread pool).
        The transaction is bound to the tenant: on PostgreSQL row-level security admits only its rows."""
        with self.db.connect() as connection:
            bind_tenant(connection, tenant_id)
            return query(connection)

    def write(self, tenant_id: str, change: Callable[[Connection], T]) -> T:
        """Run a small write of one tenant in its own transaction (REST routes; streams use `writer`)."""
        with self.db.begin() as connection:
            bind_tenant(connection, tenant_id)
            return change(connection)

    async def aread(self, tenant_id: str, query: Callable[[Connection], T]) -> T:
        """A read of one tenant's rows from the event loop, off its thread."""
        return await asyncio.to_thread(self.read, tenant_id, query)

    def engine_for(self, record: EngineRecord) -> Engine:
        """The engine a stored call ran with: this server's, or one loaded (once) from the call's settings.
        Raises `ReplayError` when a file those settings name has changed or gone."""
        if record == self.engine_record:
            return self.engine
        if record not in self.other_engines:
            self.other_engines[record] = Engine(record.settings())
        return self.other_engines[record]


def _services(request: Request) -> Services:
    return request.app.state.services


def services_of(websocket: WebSocket) -> Services:
    return websocket.app.state.services


ServicesDep = Annotated[Services, Depends(_services)]
