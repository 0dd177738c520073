"""Migrations ship in the package, build the schema the models describe, and rerun harmlessly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from empathy_engine.store.db import DatabaseError, default_url, make_engine, normalize_url, open_database
from empathy_engine.store.models import Base


def test_migrations_schema_matches_models(database_url: str) -> None:
    engine = open_database(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            assert context.get_current_revision() == "0008"
    finally:
        engine.dispose()


def test_migrations_rerun_is_a_no_op(database_url: str) -> None:
    open_database(database_url).dispose()
    engine = open_database(database_url)  # what every restart does
    try:
        tables = set(inspect(engine).get_table_names())
        accounts = {"users", "teams", "api_keys", "sessions", "tickets"}
        assert {"calls", "turns", "customers", "prior_contacts", "outcomes", "tenants", "alembic_version"} <= tables
        assert accounts <= tables
    finally:
        engine.dispose()


def test_db_default_url_is_sqlite_in_user_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    url = default_url()
    assert url == f"sqlite:///{tmp_path / 'empathy-engine' / 'empathy.db'}"


def test_db_postgres_urls_use_psycopg3() -> None:
    assert normalize_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_db_bad_urls_get_clear_errors() -> None:
    with pytest.raises(DatabaseError, match="is not a database URL"):
        make_engine("not a url")
    with pytest.raises(DatabaseError, match="unsupported database 'mysql'"):
        make_engine("mysql://u@h/db")


def test_db_unreachable_server_is_a_clear_error_without_the_password() -> None:
    with pytest.raises(DatabaseError) as caught:
        open_database("postgresql://someone:secret@127.0.0.1:1/nothing")
    message = str(caught.value)
    assert message.startswith("cannot open the database postgresql+psycopg://someone:***@127.0.0.1:1/nothing")
    assert "secret" not in message


def test_replicas_opening_a_new_postgres_database_together_all_start(tmp_path) -> None:
    # `empathy cluster up` starts its replicas at once: each migrates as the owner and grants the
    # app role its rows. Unserialised, two of them ran the same GRANT and one died with "tuple
    # concurrently updated" (seen in CI). Six at once, each in its own thread and connection.
    from concurrent.futures import ThreadPoolExecutor

    from tests.store.databases import fresh_database_url, postgres_app_url

    owners = fresh_database_url("postgresql", tmp_path)
    owner_url = next(owners)
    try:
        app_url = postgres_app_url(owner_url)
        with ThreadPoolExecutor(6) as pool:
            engines = list(pool.map(lambda _: open_database(app_url, owner_url), range(6)))
        for engine in engines:
            engine.dispose()
    finally:
        next(owners, None)  # drops the database
