"""Group commit: many calls' writes share one transaction, and each caller waits for its commit.

Live calls must store every utterance before acknowledging it. One commit per utterance
would make the database the bottleneck (PostgreSQL fsyncs every commit; SQLite allows one
writer at a time), so the writer takes whatever jobs are waiting, runs them in one
transaction, commits once, and then wakes every caller. Under light load a batch is one job;
under heavy load the commit cost is shared.

Where the batch runs depends on the database. PostgreSQL is a network round trip and an
fsync away, so its batches run in a writer thread while the event loop goes on. SQLite is a
library call that takes a fraction of a millisecond (WAL, no fsync per commit), so its
batches run on the event loop itself, once per loop iteration: handing them to a thread cost
more than the write (each hand-over waits for the GIL, up to its 5 ms switch interval, and
the thread slows the engine down meanwhile).

One batch may hold several tenants' writes. Each job runs under its own tenant: on PostgreSQL
the transaction's tenant setting (store/tenancy.py), which row-level security checks every row
against, is switched before a job of another tenant runs.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from empathy_engine.store.tenancy import bind_tenant

T = TypeVar("T")
Job = Callable[[Connection], Any]
log = logging.getLogger(__name__)

#: The most jobs one transaction takes; keeps a burst from holding the write lock for long.
MAX_BATCH = 500


@dataclass(slots=True)
class _Pending:
    tenant_id: str
    job: Job
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


class WriterClosed(RuntimeError):
    """The writer has been stopped: the server is shutting down."""


class GroupCommitWriter:
    """Runs write jobs `(Connection) -> result`, batched per commit (see the module's docstring)."""

    def __init__(self, engine: Engine, inline: bool | None = None) -> None:
        self.engine = engine
        #: True: batches run on the event loop (SQLite); False: in a writer thread.
        self.inline = engine.dialect.name == "sqlite" if inline is None else inline
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="empathy-db-writer", daemon=True)
        self._waiting: list[_Pending] = []  # inline mode: jobs of this loop iteration
        self._closed = False
        self.commits = 0
        self.jobs = 0

    def start(self) -> None:
        if not self.inline:
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the jobs already queued, then stop."""
        if self._closed:
            return
        self._closed = True
        if self.inline:
            self._flush()
        else:
            self._queue.put(None)
            self._thread.join(timeout)

    async def run(self, tenant_id: str, job: Callable[[Connection], T]) -> T:
        """Queue `job` (a write of `tenant_id`), and return its result once the transaction holding it has committed."""
        if self._closed:
            raise WriterClosed("the server is shutting down")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        pending = _Pending(tenant_id, job, future, loop)
        if not self.inline:
            self._queue.put(pending)
        else:
            self._waiting.append(pending)
            if len(self._waiting) == 1:  # the first job of this iteration schedules the commit
                loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        batch, self._waiting = self._waiting, []
        for start in range(0, len(batch), MAX_BATCH):
            self._apply(batch[start : start + MAX_BATCH])

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._apply(batch)

    def _apply(self, batch: list[_Pending]) -> None:
        try:
            with self.engine.begin() as connection:
                results = [_as_tenant(connection, p, batch[i - 1] if i else None) for i, p in enumerate(batch)]
        except Exception as error:
            if len(batch) == 1:
                self._settle(batch[0], error=error)
                return
            # One job spoiled the transaction: run each alone so only that one fails.
            for pending in batch:
                self._apply([pending])
            return
        self.commits += 1
        self.jobs += len(batch)
        for pending, result in zip(batch, results, strict=True):
            self._settle(pending, result=result)

    def _settle(self, pending: _Pending, result: Any = None, error: BaseException | None = None) -> None:
        def settle() -> None:
            if pending.future.done():  # the caller gave up (its connection closed)
                return
            if error is not None:
                pending.future.set_exception(error)
            else:
                pending.future.set_result(result)

        if self.inline:
            settle()
            return
        try:
            pending.loop.call_soon_threadsafe(settle)
        except RuntimeError:  # the event loop is already closed: nobody is waiting any more
            log.debug("dropped a write result: its event loop is closed")


def _as_tenant(connection: Connection, pending: _Pending, before: _Pending | None) -> Any:
    """Run one job of a batch under its own tenant (bound again only when the tenant changes)."""
    if before is None or before.tenant_id != pending.tenant_id:
        bind_tenant(connection, pending.tenant_id)
    return pending.job(connection)
