"""Migration 0005 and the store's tenants: old rows become the default tenant's, keys include the
tenant, PostgreSQL's row-level security admits only the bound tenant's rows, and one group commit
holding several tenants' writes runs each under its own tenant."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from empathy_engine.store import calls, customers, tenancy
from empathy_engine.store.db import MIGRATIONS, make_engine, open_database
from empathy_engine.store.models import DEFAULT_TENANT
from empathy_engine.store.roles import weaknesses
from empathy_engine.store.writer import GroupCommitWriter
from tests.store.databases import fresh_database_url, postgres_app_url

WHEN = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

# The tables as 0002 left them (frozen here, as the migrations are): what an old database holds.
_old_customers = sa.table(
    "customers",
    sa.column("id"),
    sa.column("name"),
    sa.column("notes", sa.JSON),
    *map(sa.column, ("created_at", "updated_at")),
)
_old_contacts = sa.table("prior_contacts", *map(sa.column, ("customer_id", "at", "issue", "outcome")))
_old_calls = sa.table(
    "calls",
    *map(sa.column, ("id", "customer_id", "status", "turn_count", "created_at", "updated_at", "ended_at")),
    sa.column("header", sa.JSON),
    sa.column("summary", sa.JSON),
    sa.column("extra", sa.JSON),
    sa.column("engine", sa.JSON),
)
_old_turns = sa.table(
    "turns",
    *map(sa.column, ("call_id", "turn_index", "speaker", "text", "t", "end_t", "latency_ms", "received_at")),
    sa.column("result", sa.JSON),
    sa.column("voice", sa.JSON),
)
_old_outcomes = sa.table(
    "outcomes", *map(sa.column, ("call_id", "csat", "resolved", "referral", "review_text", "recorded_at"))
)


def _upgrade(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _fill_0002(engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(
            sa.insert(_old_customers).values(
                id="cust-1", name="Dana", notes=["elderly mother"], created_at=WHEN, updated_at=WHEN
            )
        )
        c.execute(
            sa.insert(_old_contacts).values(
                customer_id="cust-1", at="2025-12-20T10:00:00-05:00", issue="no heat", outcome="no-show"
            )
        )
        for call_id, status in (("c1", "ended"), ("c2", "live")):
            c.execute(
                sa.insert(_old_calls).values(
                    id=call_id,
                    header={"id": call_id, "service": "hvac"},
                    customer_id="cust-1",
                    status=status,
                    turn_count=1,
                    summary={"empathy_score": 0.5} if status == "ended" else None,
                    extra=None,
                    engine={"model": "text-emotion-v3"},
                    created_at=WHEN,
                    updated_at=WHEN,
                    ended_at=None,
                )
            )
            c.execute(
                sa.insert(_old_turns).values(
                    call_id=call_id,
                    turn_index=0,
                    speaker="customer",
                    text=f"heat's out ({call_id})",
                    t=0.0,
                    end_t=2.0,
                    result={"index": 0},
                    voice=None,
                    latency_ms=1.0,
                    received_at=WHEN,
                )
            )
        c.execute(
            sa.insert(_old_outcomes).values(
                call_id="c1", csat=4, resolved=True, referral=None, review_text="ok", recorded_at=WHEN
            )
        )


@contextmanager
def as_tenant(engine: Engine, tenant_id: str) -> Iterator[Connection]:
    with engine.begin() as connection:
        tenancy.bind_tenant(connection, tenant_id)
        yield connection


def test_tenant_rows_old_rows_become_the_default_tenants_and_ids_may_repeat_across_tenants(database_url: str) -> None:
    old = make_engine(database_url)
    _upgrade(old, "0002")
    _fill_0002(old)
    old.dispose()
    engine = open_database(database_url)  # 0003 and 0005, as a server start does
    try:
        with as_tenant(engine, DEFAULT_TENANT) as c:
            ended = calls.get_call(c, DEFAULT_TENANT, "c1")
            assert ended is not None and ended.status == "ended" and ended.summary == {"empathy_score": 0.5}
            assert [t.text for t in calls.get_turns(c, DEFAULT_TENANT, "c1")] == ["heat's out (c1)"]
            assert [r.id for r in calls.live_calls(c, DEFAULT_TENANT)] == ["c2"]
            outcome = calls.get_outcome(c, DEFAULT_TENANT, "c1")
            assert outcome is not None and (outcome.csat, outcome.review_text) == (4, "ok")
            dana = customers.get_customer(c, DEFAULT_TENANT, "cust-1")
            assert dana is not None and dana.notes == ("elderly mother",) and dana.prior_contacts[0].issue == "no heat"
            assert tenancy.add_tenant(c, "acme") is True and tenancy.add_tenant(c, "acme") is False
        with as_tenant(engine, "acme") as c:  # the same ids, another tenant: keys include the tenant
            assert calls.get_call(c, "acme", "c1") is None
            assert calls.create_call("acme", "c1", {"id": "c1"}, "cust-1")(c) is True
            assert calls.append_turn("acme", "c1", calls.TurnRecord(0, "customer", "acme's words", 0.0, {}))(c)
            assert customers.create_customer(c, "acme", "cust-1", "Other Dana", [], []) is not None
            assert calls.list_calls(c, "acme")[0] == 1
        with as_tenant(engine, DEFAULT_TENANT) as c:  # the default tenant's rows are untouched
            assert [t.text for t in calls.get_turns(c, DEFAULT_TENANT, "c1")] == ["heat's out (c1)"]
            assert customers.get_customer(c, DEFAULT_TENANT, "cust-1").name == "Dana"  # type: ignore[union-attr]
            assert calls.list_calls(c, DEFAULT_TENANT)[0] == 2
        with pytest.raises(IntegrityError), as_tenant(engine, "acme") as c:  # no row points at another tenant's
            calls.append_turn("acme", "c2", calls.TurnRecord(0, "customer", "not acme's call", 0.0, {}))(c)
    finally:
        engine.dispose()


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    """A fresh PostgreSQL database (row-level security has no SQLite half)."""
    yield from fresh_database_url("postgresql", tmp_path)


def test_tenant_rows_postgresql_admits_only_the_bound_tenants_rows(postgres_url: str) -> None:
    database_url = postgres_url
    owner = open_database(database_url)
    app = open_database(postgres_app_url(database_url), owner_url=database_url)
    try:
        with owner.begin() as c:
            tenancy.add_tenant(c, "acme")
        for tenant in (DEFAULT_TENANT, "acme"):
            with as_tenant(app, tenant) as c:
                calls.create_call(tenant, "c1", {"tenant": tenant}, None)(c)
        monkey = pytest.MonkeyPatch()
        monkey.setattr(tenancy, "FILTER_ON", False)  # the app's own filter off: the database alone decides
        try:
            for role in (app, owner):  # nothing bound: nothing visible, to the owner too (FORCE)
                with role.connect() as c:
                    assert c.execute(text("SELECT count(*) FROM calls")).scalar_one() == 0
            with as_tenant(app, "acme") as c:
                assert [r.header for r in calls.list_calls(c, "acme")[1]] == [{"tenant": "acme"}]
                with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
                    calls.create_call(DEFAULT_TENANT, "c9", {}, None)(c)  # writing as another tenant is refused
            with as_tenant(app, "acme") as c:  # nor can an update reach another tenant's row
                assert calls.end_call("acme", "c1", {})(c) is True
            with as_tenant(app, DEFAULT_TENANT) as c:
                assert calls.get_call(c, DEFAULT_TENANT, "c1").status == "live"  # type: ignore[union-attr]
                with pytest.raises(sa.exc.ProgrammingError):  # and the service's role cannot take the wall down
                    c.execute(text("ALTER TABLE calls DISABLE ROW LEVEL SECURITY"))
        finally:
            monkey.undo()
        assert weaknesses(app) == []
        assert any("owns the tables" in w for w in weaknesses(owner))
    finally:
        app.dispose()
        owner.dispose()


def test_tenant_rows_one_group_commit_runs_each_tenants_writes_as_that_tenant(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if database_url.startswith("postgresql"):
        owner = open_database(database_url)
        engine = open_database(postgres_app_url(database_url), owner_url=database_url)
        owner.dispose()
        monkeypatch.setattr(tenancy, "FILTER_ON", False)  # row-level security alone keeps the tenants apart
    else:
        engine = open_database(database_url)
    try:
        _interleave_two_tenants(engine)
    finally:
        engine.dispose()


def _interleave_two_tenants(engine: Engine) -> None:
    with engine.begin() as c:
        tenancy.add_tenant(c, "acme")
    writer = GroupCommitWriter(engine)
    writer.start()
    tenants = (DEFAULT_TENANT, "acme")

    async def interleaved(make: object) -> list[bool]:
        jobs = [writer.run(t, make(t, i)) for i in range(20) for t in tenants]  # type: ignore[operator]
        return await asyncio.gather(*jobs)

    try:
        assert asyncio.run(interleaved(lambda t, i: calls.create_call(t, f"c{i}", {"tenant": t}, None))) == [True] * 40
        said = asyncio.run(
            interleaved(
                lambda t, i: calls.append_turn(t, f"c{i}", calls.TurnRecord(0, "customer", f"{t} {i}", 0.0, {}))
            )
        )
        assert said == [True] * 40
    finally:
        writer.stop()
    assert writer.commits < writer.jobs  # the tenants' writes did share transactions
    for tenant in tenants:
        with as_tenant(engine, tenant) as c:
            assert calls.list_calls(c, tenant)[0] == 20
            assert [t.text for t in calls.get_turns(c, tenant, "c7")] == [f"{tenant} 7"]
            assert calls.get_call(c, tenant, "c7").header == {"tenant": tenant}  # type: ignore[union-attr]


def _downgrade(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_tenant_rows_downgrade_is_refused_while_other_tenants_have_rows(database_url: str) -> None:
    engine = open_database(database_url)
    try:
        with as_tenant(engine, DEFAULT_TENANT) as c:
            calls.create_call(DEFAULT_TENANT, "c1", {}, None)(c)
            tenancy.add_tenant(c, "acme")
        with as_tenant(engine, "acme") as c:
            calls.create_call("acme", "c1", {}, None)(c)
        with pytest.raises(RuntimeError, match="tenants other than 'default'"):
            _downgrade(engine, "0003")
        with as_tenant(engine, "acme") as c:
            c.execute(sa.delete(sa.table("calls", sa.column("tenant_id"))).where(sa.column("tenant_id") == "acme"))
        _downgrade(engine, "0003")  # one tenant again: back to the old keys, rows kept
        with engine.connect() as c:
            assert c.execute(text("SELECT id FROM calls")).scalars().all() == ["c1"]
    finally:
        engine.dispose()
    open_database(database_url).dispose()  # and up again


def test_tenant_rows_audit_reads_one_tenants_ended_calls(database_url: str) -> None:
    from empathy_engine.audit.sources import StoredCall, count_store, from_store

    engine = open_database(database_url)
    try:
        for tenant in (DEFAULT_TENANT, "acme"):
            with as_tenant(engine, tenant) as c:
                tenancy.add_tenant(c, "acme")
                calls.create_call(tenant, "c1", {}, None)(c)
                calls.append_turn(tenant, "c1", calls.TurnRecord(0, "customer", f"{tenant}'s words", 0.0, {}))(c)
                calls.end_call(tenant, "c1", {})(c)
    finally:
        engine.dispose()
    for tenant in (DEFAULT_TENANT, "acme"):
        assert count_store(database_url, tenant) == 1
        (stored,) = from_store(database_url, tenant)
        assert isinstance(stored, StoredCall)
        assert [e.text for e in stored.events() if hasattr(e, "text")] == [f"{tenant}'s words"]
    assert count_store(database_url, "nobody") == 0
