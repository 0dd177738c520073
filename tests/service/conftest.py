from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from empathy_engine.pipeline import Engine
from empathy_engine.service.app import create_app
from empathy_engine.service.settings import Settings
from tests.service.auth import ADMIN_HEADERS, grant_test_admin
from tests.store.databases import database_url, sqlite_url  # noqa: F401  (fixtures)

ClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(engine: Engine) -> Iterator[ClientFactory]:
    """Apps on a given database, sharing the session's loaded engine; closed after the test."""
    opened: list[TestClient] = []

    def make(url: str, engine_: Engine | None = None, **settings: Any) -> TestClient:
        """The client sends the test admin key on every request and socket (tests of access
        itself pass their own Authorization header, or none)."""
        app = create_app(Settings(database_url=url, **settings), engine=engine_ or engine)
        grant_test_admin(url)
        client = TestClient(app, headers=ADMIN_HEADERS)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in reversed(opened):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: ClientFactory, sqlite_url: str) -> TestClient:  # noqa: F811
    return make_client(sqlite_url)


@pytest.fixture
def any_client(make_client: ClientFactory, database_url: str) -> TestClient:  # noqa: F811
    """The app on SQLite, then on PostgreSQL."""
    return make_client(database_url)
