"""Logging in in a real browser, and a page on another origin trying the attacks of issue 12
with that browser's session cookie: its WebSocket is closed with 1008 and its no-cors
text/plain POST to the CSV import writes nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from empathy_engine.client import SyncCallStream
from empathy_engine.pipeline import Engine
from empathy_engine.service.app import create_app
from empathy_engine.service.settings import Settings
from tests.service.auth import ADMIN_HEADERS, make_user
from tests.service.servers import ThreadedServer, free_port

PASSWORD = "correct horse battery"


@pytest.fixture
def fresh_page(browser: Any) -> Iterator[Any]:
    """A browser with no credential of its own (the shared `page` sends the test key)."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _log_in(page: Any, base_url: str, login: str, target: str) -> None:
    page.goto(f"{base_url}{target}")
    page.wait_for_url(f"{base_url}/login?next={target}")
    page.fill('input[name="login"]', login)
    page.fill('input[name="password"]', PASSWORD)
    page.click('#login-form button[type="submit"]')
    page.wait_for_url(f"{base_url}{target}")


def test_supervisor_logs_in_and_the_board_follows_its_team_with_the_cookie(
    fresh_page: Any, engine: Engine, sqlite_url: str
) -> None:
    make_user(sqlite_url, "sup-east", PASSWORD, "supervisor", team="east")
    make_user(sqlite_url, "a-1", PASSWORD, "agent", team="east")
    app = create_app(Settings(database_url=sqlite_url, board_interval_s=0.1), engine=engine)
    with ThreadedServer(app) as server:
        _log_in(fresh_page, server.base_url, "sup-east", "/supervisor")
        assert "sup-east · supervisor" in fresh_page.inner_text("#who")
        cookie = next(c for c in fresh_page.context.cookies() if c["name"] == "empathy_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert fresh_page.evaluate("document.cookie") == ""  # no script can read it
        with (
            SyncCallStream.connect(server.base_url, "east-1") as east,
            SyncCallStream.connect(server.base_url, "west-1") as west,
        ):
            east.start({"agent": {"id": "a-1"}})
            west.start({"agent": {"id": "a-9"}})
            fresh_page.wait_for_selector('tr[data-call-id="east-1"]')
            assert fresh_page.locator('tr[data-call-id="west-1"]').count() == 0
        fresh_page.click("form.logout button")
        fresh_page.wait_for_url(f"{server.base_url}/login")
        fresh_page.goto(f"{server.base_url}/supervisor")
        fresh_page.wait_for_url(f"{server.base_url}/login?next=/supervisor")


EVIL_PAGE = """<!doctype html><html><body><script>
const target = "127.0.0.1:%(port)d";
window.socket = new Promise((resolve) => {
  const ws = new WebSocket(`ws://${target}/v1/board/watch`);
  const frames = [];
  ws.onmessage = (e) => frames.push(JSON.parse(e.data));
  ws.onclose = (e) => resolve({code: e.code, frames});
});
window.post = fetch(`http://${target}/v1/customers/import`, {
  method: "POST", mode: "no-cors", credentials: "include",
  headers: {"Content-Type": "text/plain"}, body: "customer_id,note\\nc-evil,SSN 078-05-1120\\n",
}).then(() => "sent", (e) => String(e));
</script></body></html>"""


def _evil_site(target_port: int) -> tuple[ThreadingHTTPServer, str]:
    """Another origin on the same host (so the browser sends the Lax cookie along)."""
    body = (EVIL_PAGE % {"port": target_port}).encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def test_a_page_on_another_origin_gets_nothing_with_the_users_cookie(
    fresh_page: Any, engine: Engine, sqlite_url: str
) -> None:
    make_user(sqlite_url, "boss", PASSWORD, "admin")
    app = create_app(Settings(database_url=sqlite_url), engine=engine)
    with ThreadedServer(app) as server:
        _log_in(fresh_page, server.base_url, "boss", "/supervisor")
        evil, evil_url = _evil_site(server.port)
        try:
            fresh_page.goto(evil_url)
            socket = fresh_page.evaluate("window.socket")
            fresh_page.evaluate("window.post")
        finally:
            evil.shutdown()
        assert socket["code"] == 1008 and [f["code"] for f in socket["frames"]] == ["bad_origin"]
        assert not any(f.get("type") == "board" for f in socket["frames"])
        customer = httpx.get(f"{server.base_url}/v1/customers/c-evil", headers=ADMIN_HEADERS)
        assert customer.status_code == 404  # the import was refused: no CRM note written
