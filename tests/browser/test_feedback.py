"""The cockpit's feedback buttons in a real browser, over a real server, as the call's agent logged in
with the session cookie: "helpful" by a click and "wrong read" by its key, each shown as taken, both
in the database, and still shown as taken after a reload."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from empathy_engine.client import SyncCallStream
from empathy_engine.pipeline import Engine
from empathy_engine.service.app import create_app
from empathy_engine.service.settings import Settings
from empathy_engine.store import feedback as feedback_store
from empathy_engine.store.db import open_database
from empathy_engine.store.models import DEFAULT_TENANT
from tests.service.auth import make_user
from tests.service.servers import ThreadedServer

PASSWORD = "correct horse battery"


@pytest.fixture
def agent_page(browser: Any) -> Iterator[Any]:
    """A browser with no credential but the login it makes (the shared `page` sends the admin key)."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _stored(url: str) -> list[tuple[int, str, str, str]]:
    db = open_database(url)
    try:
        with db.connect() as connection:
            rows = feedback_store.list_feedback(connection, DEFAULT_TENANT)
    finally:
        db.dispose()
    return sorted((r.turn_index, r.kind, r.given_by, r.card_id) for r in rows)


def test_cockpit_feedback_buttons_store_it_and_show_it_was_taken(
    agent_page: Any, engine: Engine, sqlite_url: str
) -> None:
    page = agent_page
    make_user(sqlite_url, "a-1", PASSWORD, "agent", team="east")
    app = create_app(Settings(database_url=sqlite_url), engine=engine)
    with ThreadedServer(app) as server, SyncCallStream.connect(server.base_url, "fb-live") as call:
        call.start({"agent": {"id": "a-1"}, "service": "hvac"})
        call.say("agent", "Thanks for calling, how can I help?")
        insight = call.say("customer", "The heating is out again and it is freezing in here.")
        card = insight["cues"][0]["id"]
        page.goto(f"{server.base_url}/agent/fb-live")
        page.wait_for_url(f"{server.base_url}/login?next=/agent/fb-live")
        page.fill('input[name="login"]', "a-1")
        page.fill('input[name="password"]', PASSWORD)
        page.click('#login-form button[type="submit"]')
        page.wait_for_selector(f'#card[data-card-id="{card}"]')
        assert not page.locator("#card-feedback").is_hidden()
        assert "(key h)" in (page.get_attribute("#fb-helpful", "title") or "")

        page.click("#fb-helpful")
        page.wait_for_selector('#fb-helpful[aria-pressed="true"]')
        assert page.inner_text("#fb-status") == "thanks — noted"
        assert page.is_disabled("#fb-helpful") and not page.is_disabled("#fb-wrong_read")

        page.keyboard.press("w")
        page.wait_for_selector('#fb-wrong_read[aria-pressed="true"]')
        assert page.is_disabled("#fb-wrong_read")
        assert _stored(sqlite_url) == [(1, "helpful", "user:a-1", card), (1, "wrong_read", "user:a-1", card)]

        page.reload()  # a reconnect (or a reload) still shows what was given
        page.wait_for_selector(f'#card[data-card-id="{card}"]')
        page.wait_for_selector('#fb-helpful[aria-pressed="true"]')
        assert page.get_attribute("#fb-wrong_read", "aria-pressed") == "true"
        page.keyboard.press("h")  # given already: nothing new is sent or stored
        assert len(_stored(sqlite_url)) == 2
