"""Headless Chromium from Debian's packages, driven by Playwright (no browser download), against
a real uvicorn server on a loopback port. Screenshots go to EMPATHY_SCREENSHOTS, or a temp dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.service.auth import ADMIN_HEADERS, admin_cookies
from tests.store.databases import sqlite_url  # noqa: F401  (fixture)

CHROMIUM = os.environ.get("EMPATHY_TEST_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling Google's hosts, which this
# offline machine refuses; --no-sandbox because CI runs as root.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (it is in the dev extra)")
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    # A common laptop screen: the card must be readable without scrolling on it.
    # Signed in as the test admin (tests/service/auth.py): its key on requests, its session cookie
    # on WebSockets. The login flow has its own tests.
    context = browser.new_context(viewport={"width": 1366, "height": 768}, extra_http_headers=ADMIN_HEADERS)
    context.add_cookies(admin_cookies())  # the pages' WebSockets carry the cookie, never a header
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("EMPATHY_SCREENSHOTS")
    path = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
