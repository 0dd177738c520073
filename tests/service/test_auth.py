"""Credentials and the outer wall: sessions and their cookie, Origin, Host, content types,
revocation, expiry mid-call, tickets, the CLI, and `empathy serve` refusing to run open."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from starlette.websockets import WebSocketDisconnect
from typer.testing import CliRunner

from empathy_engine.cli import app as cli
from empathy_engine.service.app import create_app
from empathy_engine.service.settings import Settings
from empathy_engine.store import accounts
from empathy_engine.store.db import open_database
from empathy_engine.store.models import SessionRow, utcnow
from tests.service.auth import make_key, make_user
from tests.service.helpers import utterance
from tests.service.servers import ThreadedServer, free_port

PASSWORD = "correct horse battery"
SITE = {"Origin": "http://testserver"}
EVIL = {"Origin": "https://evil.example"}


def _logged_in(client: TestClient, login: str = "boss", role: str = "admin", **settings: Any) -> TestClient:
    """A browser-like client (no key) holding the session cookie of a fresh user."""
    url = client.app.state.settings.database_url
    make_user(url, login, PASSWORD, role, team="east" if role == "supervisor" else None)
    browser = TestClient(client.app, **settings)
    response = browser.post("/login", data={"login": login, "password": PASSWORD}, headers=SITE, follow_redirects=False)
    assert response.status_code == 303, response.text
    return browser


def _closed(ws: Any) -> tuple[dict[str, Any], int]:
    """The error frame a refused socket gets, and its close code."""
    frame = ws.receive_json()
    with pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    return frame, closed.value.code


# --- sessions and the login page -------------------------------------------------------------


def test_login_sets_an_httponly_samesite_cookie_and_stores_only_its_hash(client: TestClient) -> None:
    url = client.app.state.settings.database_url
    make_user(url, "boss", PASSWORD, "admin")
    browser = TestClient(client.app)
    page = browser.get("/login")
    assert page.status_code == 200 and 'name="password"' in page.text
    wrong = browser.post("/login", data={"login": "boss", "password": "nope"}, headers=SITE, follow_redirects=False)
    assert wrong.status_code == 401 and "Wrong login or password" in wrong.text and "set-cookie" not in wrong.headers
    response = browser.post(
        "/login",
        data={"login": "boss", "password": PASSWORD, "next": "//evil.example/x"},
        headers=SITE,
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/"  # no open redirect
    cookie = response.headers["set-cookie"]
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert "secure" not in flags  # plain http: a Secure cookie would never come back
    token = cookie.split(";")[0].split("=", 1)[1]
    db = open_database(url)
    with db.connect() as c:
        stored = [r.token_hash for r in c.execute(select(SessionRow.__table__))]
        dump = "\n".join(str(tuple(r)) for r in c.execute(text("SELECT * FROM sessions")))
    db.dispose()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()] and token not in dump
    assert browser.get("/v1/whoami").json()["login"] == "boss"
    assert browser.post("/logout", headers=SITE, follow_redirects=False).status_code == 303
    assert browser.get("/v1/whoami").status_code == 401  # the session row is gone


def test_login_over_https_sets_a_secure_cookie(client: TestClient) -> None:
    make_user(client.app.state.settings.database_url, "boss", PASSWORD, "admin")
    browser = TestClient(client.app, base_url="https://testserver")
    response = browser.post(
        "/login",
        data={"login": "boss", "password": PASSWORD},
        headers={"Origin": "https://testserver"},
        follow_redirects=False,
    )
    assert "secure" in {p.strip().lower() for p in response.headers["set-cookie"].split(";")}


def test_pages_send_a_browser_without_a_session_to_the_login_page(client: TestClient) -> None:
    anonymous = TestClient(client.app)
    response = anonymous.get("/supervisor", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/supervisor"
    browser = _logged_in(client, "sup", "supervisor")
    page = browser.get("/supervisor")
    assert page.status_code == 200 and "sup · supervisor" in page.text and "Open demo" not in page.text
    assert browser.get("/audit").status_code == 403


# --- Origin, CSRF and content types ------------------------------------------------------------


def test_evil_origin_with_a_valid_cookie_is_closed_with_1008(client: TestClient) -> None:
    browser = _logged_in(client)
    for path in ("/v1/board/watch", "/v1/calls/c1/watch", "/v1/calls/c1/stream", "/v1/telephony/twilio"):
        with browser.websocket_connect(path, headers=EVIL) as ws:
            frame, code = _closed(ws)
        assert (frame["code"], code) == ("bad_origin", 1008), path
    with browser.websocket_connect("/v1/board/watch", headers=SITE) as ws:  # this site's own page
        assert ws.receive_json()["type"] == "board"


def test_text_plain_no_cors_post_to_the_csv_import_is_refused(client: TestClient) -> None:
    """What a page on another site can send without asking first: text/plain, with the cookie."""
    browser = _logged_in(client)
    csv = "customer_id,note\nc-evil,call me back\n"
    plain = {"Content-Type": "text/plain"}
    assert browser.post("/v1/customers/import", content=csv, headers={**plain, **EVIL}).status_code == 403
    no_origin = browser.post("/v1/customers/import", content=csv, headers=plain)
    assert no_origin.status_code == 403 and "session cookie" in no_origin.json()["detail"]
    same_site = browser.post("/v1/customers/import", content=csv, headers={**plain, **SITE})
    assert same_site.status_code == 415 and "text/csv" in same_site.json()["detail"]
    assert client.post("/v1/customers/import", content=csv, headers=plain).status_code == 415  # even with a key
    assert client.get("/v1/customers/c-evil").status_code == 404  # nothing was written
    ok = browser.post("/v1/customers/import", content=csv, headers={"Content-Type": "text/csv", **SITE})
    assert ok.status_code == 200 and ok.json()["customers_created"] == 1


def test_json_routes_refuse_other_content_types_and_cookie_changes_need_this_origin(client: TestClient) -> None:
    browser = _logged_in(client)
    body = '{"id": "c-9"}'
    form = browser.post(
        "/v1/customers", content=body, headers={"Content-Type": "application/x-www-form-urlencoded", **SITE}
    )
    assert form.status_code == 415
    assert browser.post("/v1/customers", content=body, headers={"Content-Type": "application/json"}).status_code == 403
    assert browser.post("/v1/customers", json={"id": "c-9"}, headers=SITE).status_code == 201
    assert TestClient(client.app).post("/v1/customers", json={"id": "c-8"}).status_code == 401  # no credential


# --- Host --------------------------------------------------------------------------------------


def test_host_header_must_name_this_server(make_client: Any, sqlite_url: str, engine: Any) -> None:
    client = make_client(sqlite_url)
    refused = client.get("/v1/health", headers={"Host": "rebound.evil.example"})
    assert refused.status_code == 400 and "EMPATHY_ALLOWED_HOSTS" in refused.json()["detail"]
    app = create_app(Settings(database_url=sqlite_url, allowed_hosts=""), engine=engine)  # the default list
    with ThreadedServer(app) as server:
        assert httpx.get(f"{server.base_url}/v1/health").status_code == 200  # 127.0.0.1
        assert httpx.get(f"http://localhost:{server.port}/v1/health").status_code == 200
        evil = httpx.get(f"{server.base_url}/v1/health", headers={"Host": f"evil.example:{server.port}"})
        assert evil.status_code == 400


# --- revocation and expiry -----------------------------------------------------------------------


def test_revoked_key_stops_working_at_once(make_client: Any, sqlite_url: str) -> None:
    client = make_client(sqlite_url, auth_recheck_s=0.2)
    secret = make_key(sqlite_url, "admin", name="soon revoked")
    mine = TestClient(client.app, headers={"Authorization": f"Bearer {secret}"})
    assert mine.get("/v1/whoami").status_code == 200
    with mine.websocket_connect("/v1/board/watch") as board:
        assert board.receive_json()["type"] == "board"
        result = CliRunner().invoke(cli, ["keys", "revoke", secret, "--database", sqlite_url])
        assert result.exit_code == 0, result.output
        revoked_at = time.monotonic()
        assert mine.get("/v1/whoami").status_code == 401  # the very next request
        frame, code = _closed(board)  # the open socket: within EMPATHY_AUTH_RECHECK_S
        assert (frame["code"], code) == ("credential_revoked", 1008)
        assert time.monotonic() - revoked_at < 5
    with mine.websocket_connect("/v1/calls/c1/stream") as ws:
        frame, code = _closed(ws)
    assert (frame["code"], code) == ("unauthorized", 1008) and "revoked" in frame["message"]


def test_session_expiring_mid_call_closes_the_watch_with_a_clear_frame(make_client: Any, sqlite_url: str) -> None:
    client = make_client(sqlite_url, auth_recheck_s=0.2)
    browser = _logged_in(client, "sup", "supervisor")
    make_user(sqlite_url, "a-1", PASSWORD, "agent", team="east")
    with client.websocket_connect("/v1/calls/c1/stream") as ws:
        ws.send_json({"type": "start", "call": {"agent": {"id": "a-1"}}})
        ws.receive_json()
        with browser.websocket_connect("/v1/calls/c1/watch", headers=SITE) as watch:
            assert watch.receive_json()["type"] == "snapshot"
            db = open_database(sqlite_url)
            with db.begin() as c:
                for row in c.execute(select(SessionRow.__table__)):
                    accounts.expire_session(c, row.token_hash, utcnow() + timedelta(milliseconds=300))
            db.dispose()
            ws.send_json(utterance("customer", "Still no heat."))
            ws.receive_json()
            assert watch.receive_json()["type"] == "turn"  # the session still held
            frame, code = _closed(watch)
        assert (frame["code"], code) == ("session_expired", 1008) and "/login" in frame["message"]
        ws.send_json(utterance("customer", "Hello?"))  # the call itself goes on: its stream has a key
        assert ws.receive_json()["type"] == "insight"


def test_stream_whose_key_is_revoked_is_closed_before_its_next_event_and_the_call_resumes(
    make_client: Any, sqlite_url: str
) -> None:
    client = make_client(sqlite_url, auth_recheck_s=0.2)
    secret = make_key(sqlite_url, "integration", scopes=("stream",))
    dialler = TestClient(client.app, headers={"Authorization": f"Bearer {secret}"})
    with dialler.websocket_connect("/v1/calls/c1/stream") as ws:
        ws.send_json({"type": "start"})
        assert ws.receive_json()["type"] == "started"
        ws.send_json(utterance("customer", "The furnace is out."))
        assert ws.receive_json()["type"] == "insight"
        assert CliRunner().invoke(cli, ["keys", "revoke", secret, "--database", sqlite_url]).exit_code == 0
        time.sleep(0.3)
        ws.send_json(utterance("customer", "Are you there?"))
        frame, code = _closed(ws)
    assert (frame["code"], code) == ("credential_revoked", 1008)
    with client.websocket_connect("/v1/calls/c1/stream") as ws:  # another valid credential carries on
        ws.send_json({"type": "resume"})
        assert ws.receive_json()["next_turn"] == 1  # what was accepted is kept; the refused event was not taken


# --- tickets -----------------------------------------------------------------------------------


def test_ticket_opens_one_socket_once(client: TestClient) -> None:
    issued = client.post("/v1/tickets", json={})
    assert issued.status_code == 201
    ticket = issued.json()["ticket"]
    anonymous = TestClient(client.app)
    with anonymous.websocket_connect(f"/v1/board/watch?ticket={ticket}") as board:
        assert board.receive_json()["type"] == "board"
    with anonymous.websocket_connect(f"/v1/board/watch?ticket={ticket}") as board:
        frame, code = _closed(board)
    assert (frame["code"], code) == ("unauthorized", 1008) and "already used" in frame["message"]


# --- keys and users from the command line --------------------------------------------------------


def test_cli_keys_and_users_work_on_the_configured_database(make_client: Any, sqlite_url: str) -> None:
    runner = CliRunner()
    env = {"EMPATHY_DATABASE_URL": sqlite_url}
    made = runner.invoke(cli, ["keys", "create", "--scope", "customers", "--name", "crm sync"], env=env)
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("ee_")
    listed = runner.invoke(cli, ["keys", "list"], env=env)
    assert "crm sync" in listed.stdout and "customers" in listed.stdout and secret not in listed.stdout
    assert secret.split("_", 2)[2] not in listed.stdout  # nor its random part
    bad = runner.invoke(cli, ["keys", "create", "--role", "integration"], env=env)
    assert bad.exit_code == 2 and "at least one --scope" in bad.output
    user = runner.invoke(
        cli, ["users", "create", "a-1", "--team", "east", "--password-stdin"], env=env, input=f"{PASSWORD}\n"
    )
    assert user.exit_code == 0, user.output
    assert "a-1\tagent\teast" in runner.invoke(cli, ["users", "list"], env=env).stdout
    client = make_client(sqlite_url)
    crm = TestClient(client.app, headers={"Authorization": f"Bearer {secret}"})
    assert crm.get("/v1/customers").status_code == 200 and crm.get("/v1/calls").status_code == 403
    assert runner.invoke(cli, ["keys", "--help"]).exit_code == 0


# --- secure by default ---------------------------------------------------------------------------


def test_serve_refuses_to_start_without_any_credential(sqlite_url: str) -> None:
    result = CliRunner().invoke(cli, ["serve", "--port", str(free_port())], env={"EMPATHY_DATABASE_URL": sqlite_url})
    assert result.exit_code == 1 and "empathy keys create --role admin" in result.output
    assert "Traceback" not in result.output


def test_serve_demo_runs_open_only_on_loopback(sqlite_url: str) -> None:
    env = {"EMPATHY_DATABASE_URL": sqlite_url}
    result = CliRunner().invoke(cli, ["serve", "--demo", "--host", "0.0.0.0", "--port", str(free_port())], env=env)
    assert result.exit_code == 1 and "only on a loopback host" in result.output


def test_open_demo_says_so_on_every_page(engine: Any, sqlite_url: str) -> None:
    app = create_app(Settings(database_url=sqlite_url), engine=engine, open_demo=True)
    with TestClient(app) as anonymous:
        for page in ("/", "/supervisor", "/agent/c1", "/audit", "/login"):
            response = anonymous.get(page)
            assert response.status_code == 200 and 'id="open-demo"' in response.text, page
        assert anonymous.get("/v1/whoami").json()["via"] == "demo"


def test_the_tenant_comes_from_the_credential_only(make_client: Any, sqlite_url: str) -> None:
    client = make_client(sqlite_url)
    made = CliRunner().invoke(cli, ["keys", "create", "--role", "admin", "--tenant", "acme", "--database", sqlite_url])
    assert made.exit_code == 0 and "created tenant 'acme'" in made.output
    acme = TestClient(client.app, headers={"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"})
    me = acme.get("/v1/whoami", headers={"X-Tenant": "default"}, params={"tenant": "default"}).json()
    assert me["tenant_id"] == "acme" and me["role"] == "admin" and me["via"] == "key"
    assert client.get("/v1/whoami").json()["tenant_id"] == "default"


def test_login_failures_lock_the_login_for_a_while(client: TestClient) -> None:
    """Guessing a password is slowed down: after a few wrong ones the login is locked (429), even
    for the right password, while other logins are not."""
    from tests.service.auth import make_user

    make_user(client.app.state.settings.database_url, "guessed", "right-password", "admin")  # type: ignore[attr-defined]
    make_user(client.app.state.settings.database_url, "other", "right-password", "admin")  # type: ignore[attr-defined]
    form = {"content-type": "application/x-www-form-urlencoded", "origin": "http://testserver"}
    statuses = [
        client.post("/login", content="login=guessed&password=wrong-password", headers=form).status_code
        for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    locked = client.post("/login", content="login=guessed&password=right-password", headers=form)
    assert locked.status_code == 429 and "Too many failed logins" in locked.text and locked.headers["retry-after"]
    other = client.post("/login", content="login=other&password=right-password", headers=form, follow_redirects=False)
    assert other.status_code == 303


def test_host_header_must_name_this_server_on_websockets_too(sqlite_url: str, engine: Any) -> None:
    """A WebSocket upgrade naming another host is refused like a REST request (a raw upgrade with
    one Host header: client libraries add their own beside a custom one)."""
    import base64
    import contextlib
    import socket

    from tests.service.auth import ADMIN_HEADERS, grant_test_admin

    grant_test_admin(sqlite_url)
    app = create_app(Settings(database_url=sqlite_url, allowed_hosts=""), engine=engine)
    key = base64.b64encode(b"0123456789abcdef").decode()

    def upgrade(host: str) -> bytes:
        with ThreadedServer(app) as server, socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(
                f"GET /v1/board/watch HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Authorization: {ADMIN_HEADERS['Authorization']}\r\n\r\n".encode()
            )
            answer = b""
            while b"\r\n\r\n" not in answer and (more := s.recv(4096)):
                answer += more
            s.settimeout(2)
            with contextlib.suppress(TimeoutError):
                answer += s.recv(4096)  # the first frame after the upgrade, if it came separately
            return answer

    good = upgrade("127.0.0.1")
    assert good.startswith(b"HTTP/1.1 101") and b"bad_host" not in good
    evil = upgrade("evil.example")
    assert b"bad_host" in evil or not evil.startswith(b"HTTP/1.1 101"), evil[:300]
