"""Group commit: many calls' writes share one transaction, and each caller waits for its commit.

Live calls must store every utterance before acknowledging it. One commit per utterance
would make the database the bottleneck (PostgreSQL fsyncs every commit; SQLite allows one
writer at a time), so the writer takes whatever jobs are waiting, runs them in one
transaction, commits once, and then wakes every caller. Under light load a batch is one job;
under heavy load the commit cost is shared.

Batches run in a writer thread, never on the event loop: a SQLite write can wait for the
database's write lock (another process holding it for seconds would otherwise stop every
stream and health with it). On SQLite the writer takes the lock first (`BEGIN IMMEDIATE`),
and only then decides which jobs to run, so a caller that gave up waiting (`run(timeout=)`)
is told `WriteTimeout` only when its job is certain never to be written: nothing a caller was
told is lost is written later, and nothing acknowledged is lost.

One batch may hold several tenants' writes. Each job runs under its own tenant: on PostgreSQL
the transaction's tenant setting (store/tenancy.py), which row-level security checks every row
against, is switched before a job of another tenant runs.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from empathy_engine.store.tenancy import bind_tenant

T = TypeVar("T")
Job = Callable[[Connection], Any]
log = logging.getLogger(__name__)

#: The most jobs one transaction takes; keeps a burst from holding the write lock for long.
MAX_BATCH = 500
_QUEUED, _RUNNING, _ABANDONED = 0, 1, 2


@dataclass(slots=True)
class _Pending:
    tenant_id: str
    job: Job
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    state: int = _QUEUED


class WriterClosed(RuntimeError):
    """The writer has been stopped: the server is shutting down."""


class DatabaseGone(RuntimeError):
    """The SQLite file was deleted under the running server: nothing written now would survive."""


class WriteTimeout(RuntimeError):
    """The database did not take the write in time (its write lock is held elsewhere); nothing was written."""


def is_lock_error(error: BaseException) -> bool:
    """SQLite's "database is locked" / "database is busy": another connection holds the write lock."""
    text = str(getattr(error, "orig", None) or error).lower()
    return isinstance(error, OperationalError) and ("locked" in text or "busy" in text)


class GroupCommitWriter:
    """Runs write jobs `(Connection) -> result`, batched per commit (see the module's docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        database = engine.url.database if self._sqlite else None
        #: The SQLite file: a write after it was deleted would be acknowledged and then lost (the
        #: process still holds the unlinked file), so the writer refuses every write instead.
        self._file = Path(database).expanduser() if database and database != ":memory:" else None
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="empathy-db-writer", daemon=True)
        self._claims = threading.Lock()  # a job is either claimed by the writer or abandoned by its caller
        self._closed = False
        self._waiting_since: float | None = None  # when the current batch began waiting for the write lock
        self.commits = 0
        self.jobs = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the jobs already queued, then stop."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def waiting_s(self) -> float:
        """How long the writer has been waiting for the database's write lock (0 when it is not)."""
        since = self._waiting_since
        return 0.0 if since is None else time.monotonic() - since

    async def run(self, tenant_id: str, job: Callable[[Connection], T], timeout: float | None = None) -> T:
        """Queue `job` (a write of `tenant_id`), and return its result once the transaction holding it has committed.

        With `timeout`: `WriteTimeout` if the database has not taken the job by then (it never will)."""
        if self._closed:
            raise WriterClosed("the server is shutting down")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        pending = _Pending(tenant_id, job, future, loop)
        self._queue.put(pending)
        if timeout is None:
            return await future
        # A timer, not wait_for(shield(...)): those add three trips round the event loop to every
        # write's answer, and under load each trip waits for a whole busy loop iteration.
        timer = loop.call_later(timeout, self._give_up, pending, timeout)
        try:
            return await future
        finally:
            timer.cancel()

    def _give_up(self, pending: _Pending, timeout: float) -> None:
        """The caller's time is up: abandoned if the writer has not taken the job (so it is never
        written); if the writer holds the lock and runs it, its answer is moments away."""
        with self._claims:
            if pending.state != _QUEUED:
                return
            pending.state = _ABANDONED
        if not pending.future.done():
            pending.future.set_exception(WriteTimeout(f"the database took no write for {timeout:g} s"))

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

    def _claim(self, batch: list[_Pending]) -> list[_Pending]:
        with self._claims:
            for pending in batch:
                if pending.state == _QUEUED:
                    pending.state = _RUNNING
            return [p for p in batch if p.state == _RUNNING]

    def _begin(self, connection: Connection) -> None:
        """Take SQLite's write lock before any job runs, waiting (and retrying) while another holds it."""
        if not self._sqlite:
            return
        if self._file is not None and not self._file.is_file():
            raise DatabaseGone(f"the database file {self._file} is gone; restart the server to recreate it")
        self._waiting_since = time.monotonic()
        try:
            while True:
                try:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                    return
                except OperationalError as error:
                    if not is_lock_error(error):
                        raise
                    connection.rollback()
                    if self._closed:  # shutting down: the jobs fail rather than keep the process waiting
                        raise WriterClosed("the server shut down while the database was locked") from None
                    log.warning("the database's write lock is held elsewhere; writes wait for it")
        finally:
            self._waiting_since = None

    def _apply(self, batch: list[_Pending]) -> None:
        try:
            with self.engine.connect() as connection:
                self._begin(connection)
                live = self._claim(batch)
                results = [_as_tenant(connection, p, live[i - 1] if i else None) for i, p in enumerate(live)]
                connection.commit()
        except Exception as error:
            if len(batch) == 1:
                if batch[0].state != _ABANDONED:  # a caller told "not written" waits for nothing
                    _settle([(batch[0], None, error)])
                return
            # One job spoiled the transaction: run each alone so only that one fails.
            for pending in batch:
                self._apply([pending])
            return
        self.commits += 1
        self.jobs += len(live)
        _settle([(p, result, None) for p, result in zip(live, results, strict=True)])


Settled = list[tuple[_Pending, Any, BaseException | None]]


def _settle(settled: Settled) -> None:
    """Hand results (or errors) to their callers' event loops: one wake-up per loop for a whole batch."""
    by_loop: dict[asyncio.AbstractEventLoop, Settled] = {}
    for item in settled:
        by_loop.setdefault(item[0].loop, []).append(item)
    for loop, answers in by_loop.items():
        _call_soon(loop, answers)


def _call_soon(loop: asyncio.AbstractEventLoop, settled: Settled) -> None:

    def settle() -> None:
        for pending, result, error in settled:
            if pending.future.done():  # the caller gave up (timed out, or its connection closed)
                continue
            if error is not None:
                pending.future.set_exception(error)
            else:
                pending.future.set_result(result)

    try:
        loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the event loop is already closed: nobody is waiting any more
        log.debug("dropped %d write result(s): their event loop is closed", len(settled))


def _as_tenant(connection: Connection, pending: _Pending, before: _Pending | None) -> Any:
    """Run one job of a batch under its own tenant (bound again only when the tenant changes)."""
    if before is None or before.tenant_id != pending.tenant_id:
        bind_tenant(connection, pending.tenant_id)
    return pending.job(connection)
