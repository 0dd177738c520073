"""Cross-tenant suite: two tenants with the same call and customer ids, over REST and WebSockets.

Tenant bravo can read, list and change none of tenant alpha's calls, turns, customers, outcomes,
board or watch feeds. On PostgreSQL the app's own tenant filter is switched OFF and the service
connects as a role that owns no table: row-level security alone holds. On SQLite (no row-level
security) the app's filter holds. A last test shows the switch really does switch the filter off.

The tenant comes from the credential: each side sends its own tenant's admin key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from empathy_engine.pipeline import Engine
from empathy_engine.service.app import create_app
from empathy_engine.service.settings import Settings
from empathy_engine.store import accounts, tenancy
from empathy_engine.store.db import open_database
from tests.service.helpers import utterance
from tests.store.databases import fresh_database_url, postgres_app_url

ALPHA, BRAVO = "alpha", "bravo"


@dataclass
class As:
    """One tenant's side of the same server."""

    client: TestClient
    tenant: str
    key: str

    def _headers(self, more: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", **(more or {})}

    def get(self, url: str) -> Any:
        return self.client.get(url, headers=self._headers())

    def send(self, method: str, url: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.request(method, url, headers=self._headers(headers), **kw)

    def ws(self, url: str) -> Any:
        return self.client.websocket_connect(url, headers=self._headers())


@dataclass
class World:
    url: str
    owner_url: str | None
    engine: Engine
    clients: list[TestClient]
    keys: dict[str, str]

    def serve(self) -> tuple[As, As]:
        """A server on the database (again, after a restart): alpha's side and bravo's."""
        settings = Settings(database_url=self.url, migration_database_url=self.owner_url)
        client = TestClient(create_app(settings, engine=self.engine))
        client.__enter__()
        self.clients.append(client)
        return As(client, ALPHA, self.keys[ALPHA]), As(client, BRAVO, self.keys[BRAVO])

    def stop(self) -> None:
        while self.clients:
            self.clients.pop().__exit__(None, None, None)


@pytest.fixture(params=["sqlite-app-filter", "postgresql-row-security-only"])
def world(
    request: pytest.FixtureRequest, tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    backend = request.param.split("-")[0]
    for owner_url in fresh_database_url(backend, tmp_path):
        url, migrator = owner_url, None
        if backend == "postgresql":
            url, migrator = postgres_app_url(owner_url), owner_url
            monkeypatch.setattr(tenancy, "FILTER_ON", False)  # the database alone keeps the tenants apart
        w = World(url, migrator, engine, [], add_tenants(owner_url))
        try:
            yield w
        finally:
            w.stop()


def add_tenants(owner_url: str) -> dict[str, str]:
    """Tenants alpha and bravo, each with an admin key: the secrets, by tenant."""
    owner = open_database(owner_url)
    keys = {}
    with owner.begin() as connection:
        for tenant in (ALPHA, BRAVO):
            tenancy.add_tenant(connection, tenant)
            keys[tenant] = accounts.create_key(connection, tenant, "admin", name=f"{tenant} tests")[1]
    owner.dispose()
    return keys


def ask(ws: Any, event: dict[str, Any]) -> dict[str, Any]:
    ws.send_text(json.dumps(event))
    return ws.receive_json()  # type: ignore[no-any-return]


def start(name: str, customer_id: str | None = None) -> dict[str, Any]:
    # The agent id tells the tenants' calls apart on the board (customers' names are masked as PII).
    customer = {"name": name, **({"id": customer_id} if customer_id else {})}
    return {"type": "start", "call": {"agent": {"id": agent_of(name)}, "customer": customer}}


def agent_of(name: str) -> str:
    return name.replace(" ", "-")


def stream(side: As, call_id: str, texts: list[str], end: bool) -> None:
    with side.ws(f"/v1/calls/{call_id}/stream") as ws:
        assert ask(ws, start(f"{side.tenant} customer"))["type"] == "started"
        for text in texts:
            assert ask(ws, utterance("customer", text))["type"] == "insight"
        if end:
            assert ask(ws, {"type": "end"})["type"] == "ended"


def texts_of(side: As, call_id: str) -> list[str]:
    return [t["text"] for t in side.get(f"/v1/calls/{call_id}").json()["turns"]]


def test_tenants_calls_turns_and_outcomes_stay_apart(world: World) -> None:
    alpha, bravo = world.serve()
    stream(alpha, "c1", ["The heat's out and my mother is freezing."], end=True)
    assert alpha.send("PUT", "/v1/calls/c1/outcome", json={"csat": 2, "resolved": False}).status_code == 200

    assert bravo.get("/v1/calls").json() == {"total": 0, "calls": []}
    assert bravo.get("/v1/calls/c1").status_code == 404
    assert bravo.get("/v1/calls/c1/outcome").status_code == 404
    assert bravo.send("PUT", "/v1/calls/c1/outcome", json={"csat": 5}).status_code == 404

    stream(bravo, "c1", ["Bravo here, the boiler is making a noise."], end=False)  # the same id is bravo's own
    assert bravo.send("PUT", "/v1/calls/c1/outcome", json={"csat": 5}).status_code == 200
    assert texts_of(bravo, "c1") == ["Bravo here, the boiler is making a noise."]
    assert texts_of(alpha, "c1") == ["The heat's out and my mother is freezing."]
    assert alpha.get("/v1/calls/c1/outcome").json()["csat"] == 2
    assert (
        bravo.get("/v1/calls/c1").json()["status"] == "live" and alpha.get("/v1/calls/c1").json()["status"] == "ended"
    )
    assert [c["total"] for c in (alpha.get("/v1/calls").json(), bravo.get("/v1/calls").json())] == [1, 1]


def test_tenants_customers_stay_apart(world: World) -> None:
    alpha, bravo = world.serve()
    created = alpha.send("POST", "/v1/customers", json={"id": "cust-1", "name": "Dana", "notes": ["alpha's note"]})
    assert created.status_code == 201

    assert bravo.get("/v1/customers/cust-1").status_code == 404
    assert bravo.get("/v1/customers").json()["total"] == 0
    assert bravo.send("PATCH", "/v1/customers/cust-1", json={"notes": ["bravo was here"]}).status_code == 404
    imported = bravo.send(
        "POST",
        "/v1/customers/import",
        headers={"content-type": "text/csv"},
        content="customer_id,note\ncust-1,bravo's note\n",
    )
    assert imported.json()["customers_created"] == 1  # bravo's own cust-1, not a note on alpha's

    assert alpha.get("/v1/customers/cust-1").json()["notes"] == ["alpha's note"]
    assert alpha.get("/v1/customers/cust-1").json()["notes"] == ["alpha's note"]  # the name is masked (PII)
    assert bravo.get("/v1/customers/cust-1").json()["notes"] == ["bravo's note"]
    with bravo.ws("/v1/calls/c2/stream") as ws:  # a call's CRM context is its own tenant's customer
        started = ask(ws, start("Bravo caller", customer_id="cust-1"))
    assert started["call"]["customer"]["notes"] == ["bravo's note"]


def test_tenants_board_and_watch_feeds_stay_apart(world: World) -> None:
    alpha, bravo = world.serve()
    stream(alpha, "c9", ["Alpha's ended call, with a secret."], end=True)
    with bravo.ws("/v1/calls/c9/watch") as watch:  # an ended call is read from the database
        assert watch.receive_json() == {"type": "waiting", "call_id": "c9"}
    with alpha.ws("/v1/calls/c1/stream") as stream_a:
        ask(stream_a, start("alpha customer"))
        ask(stream_a, utterance("customer", "Alpha's live words."))
        with bravo.ws("/v1/board/watch") as board_b, bravo.ws("/v1/calls/c1/watch") as watch_b:
            assert board_b.receive_json()["total"] == 0
            assert watch_b.receive_json() == {"type": "waiting", "call_id": "c1"}
            with bravo.ws("/v1/calls/c1/stream") as stream_b:
                assert ask(stream_b, {"type": "resume"})["code"] == "unknown_call"  # no taking alpha's call over
                assert ask(stream_b, start("bravo customer"))["type"] == "started"
                snapshot = watch_b.receive_json()
                assert snapshot["type"] == "snapshot" and snapshot["call"]["agent"] == agent_of("bravo customer")
                ask(stream_a, utterance("customer", "Alpha's second words."))
                ask(stream_b, utterance("customer", "Bravo's words."))
                turn = watch_b.receive_json()  # alpha's turn came first, and never reached bravo's watcher
                assert turn["type"] == "turn" and turn["entry"]["text"] == "Bravo's words."
                rows = _board_until(board_b, turns=1)
            assert [(r["call_id"], r["agent"]) for r in rows] == [("c1", agent_of("bravo customer"))]
    with alpha.ws("/v1/board/watch") as board_a:  # both c1 calls are live; alpha's board shows its own
        assert [(r["call_id"], r["agent"]) for r in board_a.receive_json()["calls"]] == [
            ("c1", agent_of("alpha customer"))
        ]


def _board_until(board: Any, turns: int) -> list[dict[str, Any]]:
    """Board frames until the only call shows `turns` turns; every frame must hold bravo's calls only."""
    while True:
        frame = board.receive_json()
        assert all(r["agent"] == agent_of("bravo customer") for r in frame["calls"]), frame
        if frame["calls"] and frame["calls"][0]["turns"] == turns:
            return frame["calls"]  # type: ignore[no-any-return]


def test_tenants_restart_restores_each_tenants_live_calls_as_theirs(world: World) -> None:
    alpha, bravo = world.serve()
    stream(alpha, "c1", ["Alpha's only turn."], end=False)
    stream(bravo, "c1", ["Bravo's first turn.", "Bravo's second turn."], end=False)
    world.stop()
    alpha, bravo = world.serve()  # the restarted server rebuilds the live calls from the database
    assert alpha.get("/v1/health").json()["live_calls"] == 2
    for side, said in ((alpha, ["Alpha's only turn."]), (bravo, ["Bravo's first turn.", "Bravo's second turn."])):
        with side.ws("/v1/calls/c1/watch") as watch:
            assert [t["text"] for t in watch.receive_json()["transcript"]] == said
        with side.ws("/v1/calls/c1/stream") as ws:
            assert ask(ws, {"type": "resume"})["next_turn"] == len(said)
            assert ask(ws, {"type": "end"})["type"] == "ended"
    assert alpha.get("/v1/calls/c1").json()["turn_count"] == 1 and bravo.get("/v1/calls/c1").json()["turn_count"] == 2


def test_tenants_the_switch_turns_the_apps_own_filter_off(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without row-level security (SQLite) and with the filter off, bravo does see alpha's call: so on
    PostgreSQL, where it does not, it is row-level security that holds."""
    url = f"sqlite:///{tmp_path / 'empathy.db'}"
    w = World(url, None, engine, [], add_tenants(url))
    alpha, bravo = w.serve()
    try:
        stream(alpha, "c1", ["Alpha's words."], end=True)
        assert bravo.get("/v1/calls").json()["total"] == 0
        monkeypatch.setattr(tenancy, "FILTER_ON", False)
        assert bravo.get("/v1/calls").json()["total"] == 1
    finally:
        w.stop()


def test_tenants_board_teams_come_from_the_boards_own_tenant(world: World) -> None:
    # The same login in both tenants, in different teams: a row's team is its own tenant's.
    owner = open_database(world.owner_url or world.url)
    with owner.begin() as connection:
        for tenant in (ALPHA, BRAVO):
            accounts.create_user(
                connection, tenant, agent_of("alpha customer"), "pw-long-enough", "agent", f"{tenant}-team"
            )
    owner.dispose()
    alpha, _ = world.serve()
    with alpha.ws("/v1/calls/c1/stream") as stream_a:
        ask(stream_a, start("alpha customer"))
        with alpha.ws("/v1/board/watch") as board_a:
            assert [(r["agent"], r["team"]) for r in board_a.receive_json()["calls"]] == [
                (agent_of("alpha customer"), f"{ALPHA}-team")
            ]
