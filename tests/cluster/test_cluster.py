"""A real cluster (issue 15): `empathy cluster up --replicas 3` (PostgreSQL, Redis, HAProxy and three
`empathy serve` processes), calls streamed through HAProxy, one replica killed with SIGKILL mid-call,
then `empathy cluster down`, after which none of its processes may be left.

The database is the CI PostgreSQL (EMPATHY_TEST_POSTGRES_URL owns the tables, the app role serves),
a fresh database for this module; without it the module is skipped locally and fails in CI.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

from empathy_engine.cluster.processes import Process, alive
from empathy_engine.pipeline import Engine
from tests.service.helpers import batch_result, comparable, demo_conversation, header, turn_result, utterance
from tests.store.databases import fresh_database_url, postgres_admin_url

pytestmark = pytest.mark.cluster
REPLICAS = 3
CALLS = 300
APP_ENV = "EMPATHY_TEST_POSTGRES_APP_URL"


def _empathy(*args: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "empathy_engine", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    for binary in ("haproxy", "redis-server"):
        if not shutil.which(binary):
            pytest.skip(f"{binary} is not installed (apt-get install {binary}; .ci/run does)")
    postgres_admin_url()  # skips (locally) or fails (CI) without a server
    if not os.environ.get(APP_ENV):
        pytest.skip(f"{APP_ENV} is not set: no service role to run the replicas as (.ci/run sets it)")
    folder = tmp_path_factory.mktemp("cluster")
    urls = fresh_database_url("postgresql", folder)
    owner_url = next(urls)
    database = owner_url.rsplit("/", 1)[1]
    app_url = os.environ[APP_ENV].rsplit("/", 1)[0] + "/" + database
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMPATHY_")}
    env |= {"EMPATHY_DATABASE_URL": app_url, "EMPATHY_MIGRATION_DATABASE_URL": owner_url}
    env["EMPATHY_BOARD_INTERVAL_S"] = "0.2"
    up = _empathy("cluster", "up", "--replicas", str(REPLICAS), "--dir", str(folder / "c"), env=env, timeout=240)
    assert up.returncode == 0, up.stderr
    state = json.loads((folder / "c" / "cluster.json").read_text())
    try:
        yield state | {"dir": folder / "c", "env": env}
    finally:
        processes = [Process(**p) for p in state["processes"]]
        down = _empathy("cluster", "down", "--dir", str(folder / "c"), env=env, timeout=120)
        assert down.returncode == 0, down.stderr
        assert [p.name for p in processes if alive(p)] == []  # every process it started is gone
        assert not (folder / "c" / "cluster.json").exists()
        next(urls, None)  # drop the database


def _ws(base: str) -> str:
    return base.replace("http://", "ws://")


def _auth(state: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {state['admin_key']}"}


async def _ask(ws: Any, event: dict[str, Any]) -> dict[str, Any]:
    await ws.send(json.dumps(event))
    return json.loads(await ws.recv())  # type: ignore[no-any-return]


async def _affinity_of(state: dict[str, Any], call_id: str, gate: asyncio.Semaphore) -> tuple[str, str]:
    """Which replica the call's stream and a watcher of it reached (both through HAProxy)."""
    front = _ws(state["front"])
    async with gate:
        async with websockets.connect(f"{front}/v1/calls/{call_id}/stream", additional_headers=_auth(state)) as ws:
            assert (await _ask(ws, {"type": "start"}))["type"] == "started"
            async with websockets.connect(f"{front}/v1/calls/{call_id}/watch", additional_headers=_auth(state)) as w:
                watched = w.response.headers["x-empathy-replica"]
                assert json.loads(await w.recv())["type"] == "snapshot"
                said = await _ask(ws, utterance("customer", "The heating is broken again.", turn=0))
                assert said["turn"] == 0
                while (frame := json.loads(await asyncio.wait_for(w.recv(), 5.0)))["type"] != "turn":
                    assert frame["type"] == "snapshot", frame  # the watcher sees the stream's turn
            assert (await _ask(ws, {"type": "end"}))["type"] == "ended"
            return ws.response.headers["x-empathy-replica"], watched


def test_300_calls_keep_affinity_stream_and_watcher_on_one_replica(cluster: dict[str, Any]) -> None:
    async def run() -> list[tuple[str, str]]:
        gate = asyncio.Semaphore(50)
        return await asyncio.gather(*(_affinity_of(cluster, f"aff-{i}", gate) for i in range(CALLS)))

    landed = asyncio.run(run())
    assert all(stream == watcher for stream, watcher in landed)
    spread = Counter(stream for stream, _ in landed)
    assert set(spread) == {r["id"] for r in cluster["replicas"]}, spread  # every replica took calls
    print(f"{CALLS} calls, stream and watcher on the same replica each: {dict(sorted(spread.items()))}")


async def _start_on(state: dict[str, Any], prefix: str, wanted: set[str]) -> dict[str, tuple[Any, str]]:
    """Open streams through HAProxy until each wanted replica holds a started call: id -> (ws, replica)."""
    held: dict[str, tuple[Any, str]] = {}
    for i in range(200):
        ws = await websockets.connect(
            f"{_ws(state['front'])}/v1/calls/{prefix}-{i}/stream", additional_headers=_auth(state)
        )
        replica = ws.response.headers["x-empathy-replica"]
        if replica in wanted and replica not in {r for _, r in held.values()}:
            assert (await _ask(ws, {"type": "start", "call": {"service": "hvac"}}))["type"] == "started"
            held[f"{prefix}-{i}"] = (ws, replica)
            if len(held) == len(wanted):
                return held
        else:
            await ws.close()
    raise AssertionError(f"no call id hashed to {wanted}")


def test_a_board_on_one_replica_shows_the_calls_of_the_others_within_a_second(cluster: dict[str, Any]) -> None:
    first, *others = cluster["replicas"]

    async def run() -> float:
        board_url = f"{_ws(first['url'])}/v1/board/watch"
        async with websockets.connect(board_url, additional_headers=_auth(cluster)) as board:
            await board.recv()
            started = time.monotonic()
            held = await _start_on(cluster, "board", {r["id"] for r in others})
            try:
                while True:
                    rows = json.loads(await asyncio.wait_for(board.recv(), 2.0))["calls"]
                    if set(held) <= {row["call_id"] for row in rows}:
                        return time.monotonic() - started
            finally:
                for ws, _ in held.values():
                    await ws.close()

    took = asyncio.run(run())
    print(f"board on {first['id']} showed calls held by the other replicas after {took * 1000:.0f} ms")
    assert took < 1.0


def test_a_forced_second_owner_gets_the_call_and_the_first_gets_taken_over(cluster: dict[str, Any]) -> None:
    one, two = cluster["replicas"][0], cluster["replicas"][1]

    async def run() -> None:
        stream = "/v1/calls/forced-1/stream"
        async with websockets.connect(_ws(one["url"]) + stream, additional_headers=_auth(cluster)) as first:
            await _ask(first, {"type": "start"})
            assert (await _ask(first, utterance("customer", "hello?", turn=0)))["turn"] == 0
            async with websockets.connect(_ws(two["url"]) + stream, additional_headers=_auth(cluster)) as second:
                assert (await _ask(second, {"type": "resume"}))["next_turn"] == 1
                refused = await _ask(first, utterance("customer", "still there?", turn=1))
                assert refused["type"] == "error" and refused["code"] == "taken_over"
                assert (await _ask(second, utterance("agent", "yes, I am here", turn=1)))["turn"] == 1

    asyncio.run(run())


class Streamed:
    """One call streamed through HAProxy: the turns acknowledged so far, and each answer."""

    def __init__(self, call_id: str, conversation: dict[str, Any]) -> None:
        self.call_id = call_id
        self.conversation = conversation
        self.answers: list[dict[str, Any]] = []
        self.summary: dict[str, Any] | None = None
        self.replicas: list[str] = []

    @property
    def turns(self) -> list[dict[str, Any]]:
        return self.conversation["turns"]  # type: ignore[no-any-return]

    async def connect(self, state: dict[str, Any], within_s: float = 30.0) -> Any:
        """(Re)connect through the front until a replica answers: HAProxy moves a dead one's calls."""
        deadline = time.monotonic() + within_s
        while True:
            try:
                ws = await websockets.connect(
                    f"{_ws(state['front'])}/v1/calls/{self.call_id}/stream", additional_headers=_auth(state)
                )
                self.replicas.append(ws.response.headers["x-empathy-replica"])
                return ws
            except (OSError, websockets.exceptions.InvalidStatus):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)

    async def feed(self, ws: Any, upto: int) -> None:
        for i in range(len(self.answers), upto):
            turn = self.turns[i]
            frame = await _ask(ws, utterance(turn["speaker"], turn["text"], t=turn["t"], turn=i))
            assert frame["type"] == "insight" and frame["turn"] == i, frame
            self.answers.append(turn_result(frame))  # acknowledged: stored before it was answered


def test_kill_9_of_a_replica_loses_no_acknowledged_turn_and_resumed_calls_match_analyze(
    cluster: dict[str, Any], engine: Engine
) -> None:
    names = ["holiday_furnace", "flooded_basement", "cost_worry", "resigned_customer"]
    calls = [Streamed(f"kill-{i}", demo_conversation(names[i % len(names)])) for i in range(24)]
    victim = cluster["replicas"][-1]["id"]
    victim_pid = next(p["pid"] for p in cluster["processes"] if p["name"] == victim)

    async def first_half(call: Streamed) -> Any:
        ws = await call.connect(cluster)
        await _ask(ws, {"type": "start", "call": header(call.conversation)})
        await call.feed(ws, len(call.turns) // 2)
        return ws

    async def second_half(call: Streamed, ws: Any) -> None:
        if call.replicas[-1] == victim:
            ws = await call.connect(cluster)  # the dead replica's calls come back through the front
            resumed = await _ask(ws, {"type": "resume"})
            assert resumed["type"] == "resumed" and resumed["next_turn"] == len(call.answers), resumed
        await call.feed(ws, len(call.turns))
        ended = await _ask(ws, {"type": "end"})
        call.summary = ended["summary"]
        await ws.close()

    async def run() -> None:
        sockets = await asyncio.gather(*(first_half(c) for c in calls))
        assert any(c.replicas[-1] == victim for c in calls), "no call landed on the replica to kill"
        os.kill(victim_pid, signal.SIGKILL)  # mid-call: every call is half way
        await asyncio.gather(*(second_half(c, ws) for c, ws in zip(calls, sockets, strict=True)))

    asyncio.run(run())
    moved = [c for c in calls if c.replicas[0] == victim]
    assert moved and all(c.replicas[-1] != victim for c in moved)
    print(
        f"kill -9 of {victim}: {len(moved)} of {len(calls)} calls resumed on {sorted({c.replicas[-1] for c in moved})}"
    )
    for call in calls:
        batch = batch_result(engine, call.conversation, call.call_id)
        assert [comparable(a) for a in call.answers] == [comparable(t) for t in batch["turns"]], call.call_id
        assert call.summary == batch["summary"], call.call_id
