"""The call store on SQLite and PostgreSQL: nothing stored twice, group commit, outcomes, customers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection, Engine

from empathy_engine.store import calls, customers
from empathy_engine.store.db import open_database
from empathy_engine.store.models import DEFAULT_TENANT as T
from empathy_engine.store.tenancy import bind_tenant
from empathy_engine.store.writer import GroupCommitWriter


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


def run(db: Engine, job: Any) -> Any:
    with db.begin() as connection:
        bind_tenant(connection, T)  # row-level security on PostgreSQL: the transaction names its tenant
        return job(connection)


@contextmanager
def reading(db: Engine) -> Iterator[Connection]:
    with db.connect() as connection:
        bind_tenant(connection, T)
        yield connection


def turn(index: int, text: str = "the heat's out again", speaker: str = "customer") -> calls.TurnRecord:
    return calls.TurnRecord(index, speaker, text, 1.5 * index, {"index": index, "speaker": speaker, "note": "é ✓"})


def test_store_call_is_created_once(db: Engine) -> None:
    header = {"id": "c1", "service": "hvac", "customer": {"name": "Zoë"}}
    assert run(db, calls.create_call(T, "c1", header, "cust-1")) is True
    assert run(db, calls.create_call(T, "c1", {"id": "c1"}, None)) is False
    with reading(db) as connection:
        record = calls.get_call(connection, T, "c1")
    assert record is not None
    assert record.header == header and record.status == "live" and record.customer_id == "cust-1"
    assert record.created_at.tzinfo is not None


def test_store_turn_is_never_stored_twice(db: Engine) -> None:
    run(db, calls.create_call(T, "c1", {}, None))
    assert run(db, calls.append_turn(T, "c1", turn(0))) is True
    assert run(db, calls.append_turn(T, "c1", turn(0, "something else"))) is False
    assert run(db, calls.append_turn(T, "c1", turn(1, speaker="agent"))) is True
    with reading(db) as connection:
        stored = calls.get_turns(connection, T, "c1")
        record = calls.get_call(connection, T, "c1")
    assert [(t.index, t.text, t.t) for t in stored] == [
        (0, "the heat's out again", 0.0),
        (1, "the heat's out again", 1.5),
    ]
    assert stored[0].result["note"] == "é ✓"
    assert record is not None and record.turn_count == 2


def test_store_call_ends_once_with_its_summary(db: Engine) -> None:
    run(db, calls.create_call(T, "c1", {}, None))
    summary = {"start": "frustration", "end": "satisfaction", "empathy_score": 1.0}
    assert run(db, calls.end_call(T, "c1", summary, {"escalation": None})) is True
    assert run(db, calls.end_call(T, "c1", {"start": None})) is False
    with reading(db) as connection:
        record = calls.get_call(connection, T, "c1")
        assert calls.live_calls(connection, T) == []
    assert record is not None and record.status == "ended" and record.summary == summary
    assert record.extra == {"escalation": None} and record.ended_at is not None


def test_store_lists_calls_newest_first_and_by_status(db: Engine) -> None:
    for name in ("a", "b", "c"):
        run(db, calls.create_call(T, name, {}, None))
    run(db, calls.end_call(T, "b", {}))
    with reading(db) as connection:
        total, page = calls.list_calls(connection, T)
        live_total, live = calls.list_calls(connection, T, "live")
        _, second = calls.list_calls(connection, T, None, limit=1, offset=1)
    assert total == 3 and [c.id for c in page] == ["c", "b", "a"]
    assert live_total == 2 and {c.id for c in live} == {"a", "c"}
    assert [c.id for c in second] == ["b"]


def test_store_outcome_is_replaced_not_duplicated(db: Engine) -> None:
    run(db, calls.create_call(T, "c1", {}, None))
    run(db, lambda c: calls.put_outcome(c, T, "c1", {"csat": 2, "resolved": False}))
    stored = run(db, lambda c: calls.put_outcome(c, T, "c1", {"csat": 5, "resolved": True, "review_text": "great"}))
    assert (stored.csat, stored.resolved, stored.referral, stored.review_text) == (5, True, None, "great")


def test_writer_shares_commits_between_concurrent_calls(db: Engine) -> None:
    for i in range(20):
        run(db, calls.create_call(T, f"c{i}", {}, None))
    writer = GroupCommitWriter(db)
    writer.start()

    async def many() -> list[bool]:
        jobs = [writer.run(T, calls.append_turn(T, f"c{i}", turn(n))) for n in range(10) for i in range(20)]
        return await asyncio.gather(*jobs)

    try:
        results = asyncio.run(many())
    finally:
        writer.stop()
    assert results == [True] * 200
    assert writer.jobs == 200 and writer.commits < 200  # batched
    with reading(db) as connection:
        assert all(calls.get_call(connection, T, f"c{i}").turn_count == 10 for i in range(20))  # type: ignore[union-attr]


def test_writer_failing_job_fails_alone(db: Engine) -> None:
    run(db, calls.create_call(T, "c1", {}, None))
    writer = GroupCommitWriter(db)
    writer.start()

    def broken(connection: Connection) -> None:
        raise RuntimeError("boom")

    async def batch() -> list[Any]:
        return await asyncio.gather(
            writer.run(T, calls.append_turn(T, "c1", turn(0))),
            writer.run(T, broken),
            writer.run(T, calls.append_turn(T, "c1", turn(1))),
            return_exceptions=True,
        )

    try:
        first, failed, second = asyncio.run(batch())
    finally:
        writer.stop()
    assert first is True and second is True
    assert isinstance(failed, RuntimeError)
    with reading(db) as connection:
        assert [t.index for t in calls.get_turns(connection, T, "c1")] == [0, 1]


def test_store_customers_create_update_and_merge(db: Engine) -> None:
    no_show = customers.ContactRecord("2025-12-20T10:00:00-05:00", "no heat", "tech no-show")
    created = run(db, lambda c: customers.create_customer(c, T, "c-7", "Dana", ["elderly mother"], [no_show]))
    assert created is not None and created.prior_contacts == (no_show,)
    assert run(db, lambda c: customers.create_customer(c, T, "c-7", "Other", [], [])) is None
    updated = run(db, lambda c: customers.update_customer(c, T, "c-7", {"notes": ["baby at home"]}))
    # The name is PII: every write stores its mask (privacy/).
    assert updated.notes == ("baby at home",) and updated.name == "[NAME]" and updated.prior_contacts == (no_show,)
    assert run(db, lambda c: customers.update_customer(c, T, "nobody", {"name": "x"})) is None
    merged = run(db, lambda c: customers.merge_customer(c, T, "c-7", None, ["baby at home", "new"], [no_show]))
    assert (merged.created, merged.notes_added, merged.contacts_added) == (False, 1, 0)
    again = run(db, lambda c: customers.merge_customer(c, T, "c-7", None, ["new"], [no_show]))
    assert (again.notes_added, again.contacts_added) == (0, 0)
    with reading(db) as connection:
        total, page = customers.list_customers(connection, T)
    assert total == 1 and page[0].notes == ("baby at home", "new")
