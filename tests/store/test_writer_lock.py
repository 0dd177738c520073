"""The group-commit writer while another process holds SQLite's write lock: callers with a
deadline are refused in time and their jobs are never written later; callers without one wait
and are written once the lock is free; the event loop is never the thread that waits."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from empathy_engine.store import calls
from empathy_engine.store.db import open_database
from empathy_engine.store.writer import GroupCommitWriter, WriteTimeout

T = "default"  # the tenant of these writes


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(f"sqlite:///{tmp_path / 'empathy.db'}")
    yield engine
    engine.dispose()


def hold_write_lock(path: str, seconds: float, taken: threading.Event) -> threading.Thread:
    """Another connection (as another process would) takes the write lock and keeps it."""

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        taken.set()
        time.sleep(seconds)
        other.execute("ROLLBACK")
        other.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    return thread


def test_writer_refuses_in_time_under_an_external_lock_and_never_writes_what_it_refused(db: Engine) -> None:
    path = db.url.database
    assert path is not None
    writer = GroupCommitWriter(db)
    writer.start()
    taken = threading.Event()
    holder = hold_write_lock(path, 2.5, taken)
    assert taken.wait(5)

    async def scenario() -> tuple[float, float, BaseException | bool, bool]:
        loop_lag = 0.0

        async def tick() -> None:  # the loop keeps running while the writer waits
            nonlocal loop_lag
            for _ in range(40):
                before = time.perf_counter()
                await asyncio.sleep(0.02)
                loop_lag = max(loop_lag, time.perf_counter() - before - 0.02)

        ticking = asyncio.create_task(tick())
        t0 = time.perf_counter()
        refused: BaseException | bool
        try:
            refused = await writer.run(T, calls.create_call(T, "refused", {}, None), timeout=0.5)
        except WriteTimeout as e:
            refused = e
        took = time.perf_counter() - t0
        waited = await writer.run(T, calls.create_call(T, "waited", {}, None))  # no deadline: written after the lock
        await ticking
        return took, loop_lag, refused, waited

    try:
        took, loop_lag, refused, waited = asyncio.run(scenario())
    finally:
        holder.join(10)
        writer.stop()
    assert isinstance(refused, WriteTimeout)
    assert 0.45 < took < 1.5  # refused at its deadline, not after the 2.5 s lock
    assert loop_lag < 0.25  # the waiting happened in the writer thread
    assert waited is True
    with db.connect() as connection:
        assert calls.get_call(connection, T, "waited") is not None
        assert calls.get_call(connection, T, "refused") is None  # refused means never written
