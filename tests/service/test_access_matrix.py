"""Every REST route and WebSocket, for every role and for no credential: allowed or refused as
docs/security.md ("Roles") says. The routes come from the app itself, so a new route without
an entry here fails the test until someone decides who may use it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route
from starlette.websockets import WebSocketDisconnect

from tests.service.auth import make_key, make_user
from tests.service.helpers import utterance

PEOPLE = ("agent", "supervisor", "qa_lead", "admin")
INTEGRATIONS = ("int:stream", "int:telephony", "int:customers", "int:outcomes", "int:metrics", "int:feedback")
ROLES = ("none", *PEOPLE, *INTEGRATIONS)
EVERYONE = frozenset(ROLES) - {"none"}
PUBLIC = frozenset(ROLES)
READERS = frozenset(PEOPLE)  # of the call used below: agent a-1's, in team east, ended

#: (method, path) -> the roles that may use it. WS marks a WebSocket.
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/v1/calls"): READERS,
    ("GET", "/v1/calls/{call_id}"): READERS,
    ("PUT", "/v1/calls/{call_id}/outcome"): frozenset({"admin", "int:outcomes"}),
    ("GET", "/v1/calls/{call_id}/outcome"): READERS | {"int:outcomes"},
    ("POST", "/v1/calls/{call_id}/turns/{turn_index}/feedback"): frozenset({"agent", "admin", "int:feedback"}),
    ("POST", "/v1/customers"): frozenset({"admin", "int:customers"}),
    ("GET", "/v1/customers"): frozenset({"admin", "int:customers"}),
    ("GET", "/v1/customers/{customer_id}"): frozenset({"admin", "int:customers"}),
    ("PATCH", "/v1/customers/{customer_id}"): frozenset({"admin", "int:customers"}),
    ("POST", "/v1/customers/import"): frozenset({"admin", "int:customers"}),
    ("GET", "/v1/health"): PUBLIC,
    ("GET", "/v1/whoami"): EVERYONE,
    ("POST", "/v1/tickets"): EVERYONE,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/"): EVERYONE,
    ("GET", "/agent/{call_id}"): EVERYONE,  # the shell; its watch socket checks the call
    ("GET", "/supervisor"): frozenset({"supervisor", "admin"}),
    ("GET", "/audit"): frozenset({"qa_lead", "admin"}),
    ("GET", "/practice"): frozenset(PEOPLE),
    ("GET", "/v1/practice/scenarios"): frozenset(PEOPLE),
    ("POST", "/v1/practice/sessions"): frozenset(PEOPLE),
    ("POST", "/v1/practice/sessions/{session_id}/replies"): frozenset(PEOPLE),  # 404: not theirs
    ("GET", "/docs"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/docs-assets"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/metrics"): frozenset({"admin", "int:metrics"}),
    ("GET", "/static"): PUBLIC,
    ("WS", "/v1/calls/{call_id}/stream"): frozenset({"admin", "int:stream"}),
    ("WS", "/v1/calls/{call_id}/watch"): READERS,
    ("WS", "/v1/board/watch"): frozenset({"supervisor", "admin"}),
    ("WS", "/v1/telephony/{vendor}"): frozenset({"admin", "int:telephony"}),
}


def routes_of(app: Any) -> set[tuple[str, str]]:
    """Every (method, path) the app serves, included routers flattened."""
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIWebSocketRoute):
            found.add(("WS", context.path))
        elif isinstance(route, APIRoute | Route):
            found.update((m, context.path) for m in context.methods or () if m != "HEAD")
        elif isinstance(route, Mount):
            found.add(("GET", context.path))
        else:  # pragma: no cover - a new kind of route needs a decision here too
            raise AssertionError(f"unknown route kind {route!r}")
    return found


@dataclass
class World:
    client: TestClient  # the fixture's, with the test admin key
    headers: dict[str, dict[str, str]]  # role -> Authorization header ({} for none)


PASSWORD = "correct horse battery"


@pytest.fixture
def world(make_client: Any, database_url: str) -> World:
    """Calls of two agents in two teams, keys for every role, on SQLite and on PostgreSQL."""
    client = make_client(database_url)
    keys = {
        "agent": make_key(database_url, "agent", login="a-1"),
        "supervisor": make_key(database_url, "supervisor", team="east"),
        "qa_lead": make_key(database_url, "qa_lead"),
        "admin": make_key(database_url, "admin"),
        **{
            f"int:{s}": make_key(database_url, "integration", scopes=(s,))
            for s in ("stream", "telephony", "customers", "outcomes", "metrics", "feedback")
        },
    }
    make_user(database_url, "a-1", PASSWORD, "agent", team="east")
    make_user(database_url, "a-2", PASSWORD, "agent", team="west")
    for call_id, agent, end in (("own-ended", "a-1", True), ("own-live", "a-1", False), ("west-ended", "a-2", True)):
        with client.websocket_connect(f"/v1/calls/{call_id}/stream") as ws:
            ws.send_json({"type": "start", "call": {"agent": {"id": agent}, "customer": {"id": "c-1"}}})
            ws.receive_json()
            ws.send_json(utterance("customer", "The heating is out again."))
            ws.receive_json()
            if end:
                ws.send_json({"type": "end"})
                ws.receive_json()
    assert client.post("/v1/customers", json={"id": "c-1", "name": "Dana"}).status_code == 201
    headers = {role: {"Authorization": f"Bearer {key}"} for role, key in keys.items()}
    return World(client, {"none": {}, **headers})


def _request(world: World, role: str, method: str, path: str) -> int:
    """One request as `role`; its status."""
    raw = TestClient(world.client.app, headers=world.headers[role])
    same_site = {"Origin": "http://testserver"}
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("PUT", "/v1/calls/{call_id}/outcome"): {"json": {"csat": 4}},
        ("POST", "/v1/calls/{call_id}/turns/{turn_index}/feedback"): {"json": {"kind": "helpful"}},
        ("POST", "/v1/customers"): {"json": {"id": f"new-{role.replace(':', '-')}"}},
        ("PATCH", "/v1/customers/{customer_id}"): {"json": {"name": "Dana R"}},
        ("POST", "/v1/customers/import"): {
            "content": "customer_id,note\nc-1,x\n",
            "headers": {"Content-Type": "text/csv"},
        },
        ("POST", "/v1/tickets"): {"json": {}},
        ("POST", "/v1/practice/sessions"): {"json": {"scenario": "routine_tuneup"}},
        ("POST", "/v1/practice/sessions/{session_id}/replies"): {"json": {"text": "Sure."}},
        ("POST", "/login"): {"data": {"login": "a-1", "password": PASSWORD}, "headers": same_site},
        ("POST", "/logout"): {"data": {}, "headers": same_site},
    }
    url = path.replace("{call_id}", "own-ended").replace("{customer_id}", "c-1").replace("{turn_index}", "0")
    url = url.replace("{session_id}", "s" * 24)
    url = {"/static": "/static/style.css", "/docs-assets": "/docs-assets/swagger-ui.css"}.get(url, url)
    response = raw.request(method, url, follow_redirects=False, **bodies.get((method, path), {}))
    assert response.status_code < 500, f"{method} {path} as {role}: {response.status_code} {response.text[:300]}"
    if path.endswith("/feedback"):  # let in means stored (or given already), not a 4xx past the access check
        assert response.status_code in (200, 201, 401, 403), f"{method} {path} as {role}: {response.text[:300]}"
    return response.status_code


def _allowed_http(world: World, role: str, method: str, path: str) -> bool:
    status = _request(world, role, method, path)
    if status in (401, 403):
        assert status == (401 if role == "none" else 403), f"{method} {path} as {role}: {status}"
        return False
    if status == 303 and role == "none" and method == "GET":  # a page sends the browser to log in
        return False
    return True


def _allowed_ws(world: World, role: str, path: str) -> bool:
    raw = TestClient(world.client.app, headers=world.headers[role])
    url = path.replace("{call_id}", "own-ended").replace("{vendor}", "nobody")
    try:
        with raw.websocket_connect(url) as ws:
            if path.endswith("/stream"):
                ws.send_json({"type": "resume"})
            frame = ws.receive_json()
            if frame.get("code") in ("unauthorized", "forbidden"):
                with pytest.raises(WebSocketDisconnect) as closed:
                    ws.receive_json()
                assert closed.value.code == 1008
                assert frame["code"] == ("unauthorized" if role == "none" else "forbidden"), frame
                return False
            return True
    except WebSocketDisconnect as closed:  # the unknown vendor: past the access check
        assert "vendor" in (closed.reason or ""), (role, path, closed.code, closed.reason)
        return True


def test_access_matrix_every_route_and_socket_for_every_role(world: World) -> None:
    assert routes_of(world.client.app) == set(EXPECTED), "a route without an access entry (or an entry without a route)"
    wrong = []
    for (method, path), allowed in sorted(EXPECTED.items()):
        for role in ROLES:
            got = _allowed_ws(world, role, path) if method == "WS" else _allowed_http(world, role, method, path)
            if got != (role in allowed):
                wrong.append(f"{method} {path} as {role}: {'allowed' if got else 'refused'}")
    assert wrong == []


def _as(world: World, role: str) -> TestClient:
    return TestClient(world.client.app, headers=world.headers[role])


def test_access_each_role_sees_only_its_calls(world: World) -> None:
    listed = {role: {c["id"] for c in _as(world, role).get("/v1/calls").json()["calls"]} for role in PEOPLE}
    assert listed["agent"] == {"own-ended", "own-live"}
    assert listed["supervisor"] == {"own-ended", "own-live"}  # team east: a-1's calls, not a-2's
    assert listed["qa_lead"] == {"own-ended", "west-ended"}  # ended calls only
    assert listed["admin"] == {"own-ended", "own-live", "west-ended"}
    assert _as(world, "agent").get("/v1/calls/west-ended").status_code == 403
    assert _as(world, "supervisor").get("/v1/calls/west-ended").status_code == 403
    assert _as(world, "qa_lead").get("/v1/calls/own-live").status_code == 403
    assert _as(world, "qa_lead").get("/v1/calls?status=live").status_code == 403
    assert _as(world, "int:outcomes").get("/v1/calls/own-ended").status_code == 403  # outcomes, not transcripts


@pytest.mark.parametrize(
    ("role", "call_id"), [("agent", "west-ended"), ("supervisor", "west-ended"), ("qa_lead", "own-live")]
)
def test_access_watch_of_a_call_not_yours_is_closed_with_1008(world: World, role: str, call_id: str) -> None:
    with _as(world, role).websocket_connect(f"/v1/calls/{call_id}/watch") as ws:
        assert ws.receive_json()["code"] == "forbidden"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 1008


def test_access_watch_of_a_call_not_started_yet_is_checked_when_it_starts(world: World) -> None:
    with _as(world, "agent").websocket_connect("/v1/calls/later-1/watch") as watch:
        assert watch.receive_json()["type"] == "waiting"
        with world.client.websocket_connect("/v1/calls/later-1/stream") as ws:
            ws.send_json({"type": "start", "call": {"agent": {"id": "a-2"}}})  # another agent's call
            ws.receive_json()
            assert watch.receive_json()["code"] == "forbidden"


def test_access_supervisor_board_shows_its_team_only(world: World) -> None:
    with world.client.websocket_connect("/v1/calls/west-live/stream") as ws:
        ws.send_json({"type": "start", "call": {"agent": {"id": "a-2"}}})
        ws.receive_json()
        with _as(world, "supervisor").websocket_connect("/v1/board/watch") as board:
            team = board.receive_json()
        with _as(world, "admin").websocket_connect("/v1/board/watch") as board:
            everyone = board.receive_json()
    assert [row["call_id"] for row in team["calls"]] == ["own-live"] and team["total"] == 1
    assert {row["call_id"] for row in everyone["calls"]} == {"own-live", "west-live"}
