"""Database fixtures: every store test runs on SQLite and on a real PostgreSQL server.

PostgreSQL comes from EMPATHY_TEST_POSTGRES_URL (a role allowed to create databases; .ci/run
starts a server on loopback and sets it). Each test gets a database of its own, dropped after.
Without the variable the PostgreSQL half is skipped locally, and fails in CI.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

POSTGRES_ENV = "EMPATHY_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgresql"]


def postgres_admin_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        message = f"{POSTGRES_ENV} is not set: no PostgreSQL server to test against (.ci/run starts one)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return url


def _sa_url(url: str) -> str:
    from empathy_engine.store.db import normalize_url

    return normalize_url(url)


def fresh_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empathy.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = postgres_admin_url()
    name = f"empathy_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_sa_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(_sa_url(admin_url)).set(database=name).render_as_string(hide_password=False)
        _drop(admin, name)
    finally:
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database, once per backend."""
    yield from fresh_database_url(request.param, tmp_path)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'empathy.db'}"


#: A PostgreSQL role that owns nothing and may not bypass row-level security (.ci/run creates it).
POSTGRES_APP_ENV = "EMPATHY_TEST_POSTGRES_APP_URL"


def postgres_app_url(owner_url: str) -> str:
    """The database of `owner_url`, reached as the row-only application role of POSTGRES_APP_ENV."""
    from sqlalchemy.engine import make_url

    url = os.environ.get(POSTGRES_APP_ENV)
    if not url:
        message = f"{POSTGRES_APP_ENV} is not set: no application role to test row-level security with (.ci/run)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    database = make_url(owner_url).database
    return make_url(_sa_url(url)).set(database=database).render_as_string(hide_password=False)


def _drop(admin: Any, name: str) -> None:
    """DROP ... WITH (FORCE), tried again for a few seconds: it cannot end an autovacuum worker
    (a superuser's process) that happens to be in the test database, and fails instead (seen in CI)."""
    from sqlalchemy import text
    from sqlalchemy.exc import ProgrammingError

    for attempt in range(10):
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except ProgrammingError:
            if attempt == 9:
                raise
            time.sleep(0.5)
