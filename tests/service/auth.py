"""Credentials for tests: one admin key, the same in every test database, so fixtures, real
servers and the stream client (EMPATHY_API_KEY, set in tests/conftest.py) all authenticate
the way an integration would. Tests of access itself make their own keys and users."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from empathy_engine.store import accounts, tenancy
from empathy_engine.store.db import open_database
from empathy_engine.store.models import DEFAULT_TENANT

TEST_KEY_ID = "testadmin00"
TEST_ADMIN_KEY = f"{accounts.KEY_PREFIX}_{TEST_KEY_ID}_not-a-secret-only-for-tests-0123456789abcdef"
ADMIN_HEADERS = {"Authorization": f"Bearer {TEST_ADMIN_KEY}"}
#: The test admin as a browser is signed in: a user and its session cookie, the same in every test
#: database. A browser sends no Authorization header on a WebSocket upgrade (Playwright's extra
#: headers stopped reaching them too), so pages that open sockets need the cookie, as users have.
TEST_ADMIN_LOGIN = "test-admin"
TEST_SESSION_TOKEN = "not-a-secret-test-session-only-for-tests-0123456789abcdef"
#: TestClient's host, beside the loopback names real servers in tests are reached by.
TEST_HOSTS = "testserver,127.0.0.1,localhost"


def grant_test_admin(database_url: str) -> str:
    """The test admin key, stored in this database (migrated first) unless it already is."""
    db = open_database(database_url)
    try:
        with db.begin() as connection:
            if accounts.active_key(connection, TEST_KEY_ID) is None:
                random_part = TEST_ADMIN_KEY.split("_", 2)[2]
                accounts.create_key(
                    connection, DEFAULT_TENANT, "admin", name="tests", key_id=TEST_KEY_ID, secret=random_part
                )
    finally:
        db.dispose()
    return TEST_ADMIN_KEY


def grant_test_admin_session(database_url: str) -> None:
    """The test admin's user and session (TEST_SESSION_TOKEN) in this database, for browsers
    (`admin_cookies`); real servers in tests get it, TestClient apps do not (their user lists stay theirs)."""
    db = open_database(database_url)
    try:
        with db.begin() as connection:
            if accounts.session_user(connection, accounts.digest(TEST_SESSION_TOKEN)) is None:
                user = accounts.find_user(connection, DEFAULT_TENANT, TEST_ADMIN_LOGIN) or accounts.create_user(
                    connection, DEFAULT_TENANT, TEST_ADMIN_LOGIN, accounts.new_token(), "admin", None
                )
                assert user is not None
                accounts.create_session(connection, user, timedelta(days=1), token=TEST_SESSION_TOKEN)
    finally:
        db.dispose()


def admin_client(app: Any, **kwargs: Any) -> TestClient:
    """A TestClient of `app` that sends the test admin key (stored in the app's database first)."""
    grant_test_admin(app.state.settings.database_url)
    return TestClient(app, headers=ADMIN_HEADERS, **kwargs)


def make_key(database_url: str, role: str, tenant: str = DEFAULT_TENANT, **fields: Any) -> str:
    """A new key in this database: its secret."""
    db = open_database(database_url)
    try:
        with db.begin() as connection:
            tenancy.add_tenant(connection, tenant)
            return accounts.create_key(connection, tenant, role, **fields)[1]
    finally:
        db.dispose()


def make_user(
    database_url: str, login: str, password: str, role: str, team: str | None = None, explain: bool = False
) -> None:
    db = open_database(database_url)
    try:
        with db.begin() as connection:
            accounts.create_user(connection, DEFAULT_TENANT, login, password, role, team, explain=explain)
    finally:
        db.dispose()


def admin_cookies() -> list[dict[str, Any]]:
    """The test admin's session cookie for a Playwright context: for 127.0.0.1 on every port, since
    browser tests reach their servers there (cookies are per host, not per port)."""
    return [{"name": "empathy_session", "value": TEST_SESSION_TOKEN, "domain": "127.0.0.1", "path": "/",
             "httpOnly": True, "sameSite": "Lax"}]  # fmt: skip
