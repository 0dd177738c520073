"""Read-only live feeds for the pages: one call (the agent cockpit) and the supervisor board.

WS /v1/calls/{call_id}/watch sends a `snapshot`, then `turn`, `provisional` and `ended`
frames; a call that has not started yet gets `waiting` and its snapshot once it starts.
WS /v1/board/watch sends the whole sorted `board` whenever it changes (throttled).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from empathy_engine.ingest.live import error, is_call_id
from empathy_engine.service import access
from empathy_engine.service.auth import Principal
from empathy_engine.service.authz import MESSAGES, CredentialWatch, denied, facts_of, refuse_ws, scope_of, ws_principal
from empathy_engine.service.live import TRANSCRIPT_KEPT, Watcher, call_view, epoch_of
from empathy_engine.service.mood import Mood
from empathy_engine.service.services import Services, services_of
from empathy_engine.store import accounts
from empathy_engine.store import calls as store

router = APIRouter()


@router.websocket("/v1/calls/{call_id}/watch")
async def watch_call(websocket: WebSocket, call_id: str) -> None:
    principal = await ws_principal(websocket, "read_call", "watch calls")
    if principal is None:
        return
    s = services_of(websocket)
    if not is_call_id(call_id):
        await websocket.accept()
        await websocket.send_json(error("invalid_call_id", "not a valid call id"))
        await websocket.close(code=1008)
        return
    tenant = principal.tenant_id  # a watcher sees its own tenant's call of that id, never another's
    if await may_watch(s, principal, call_id) is False:
        await refuse_ws(websocket, "forbidden", denied(principal, f"watch call {call_id}").detail)
        return
    await websocket.accept()
    watcher = s.live.watch_call(tenant, call_id)  # before the snapshot, so no turn falls in between
    try:
        live = s.live.get(tenant, call_id)
        gate = None
        if live is not None:
            await websocket.send_text(live.snapshot())
        else:
            stored = await stored_snapshot(s, tenant, call_id)
            await websocket.send_json(stored or {"type": "waiting", "call_id": call_id})
            if stored is None:  # whose call it is shows when it starts: checked on its first frame
                gate = lambda: may_watch(s, principal, call_id)  # noqa: E731
        await _pump(websocket, watcher, CredentialWatch(s, principal), gate)
    finally:
        s.live.unwatch_call(tenant, call_id, watcher)


async def may_watch(s: Services, principal: Principal, call_id: str) -> bool | None:
    """Whether `principal` may watch the call (None: no such call yet)."""
    live = s.live.get(principal.tenant_id, call_id)

    def check(connection: Any) -> bool | None:
        if live is not None:
            header, status = live.header, "live"
        else:
            record = store.get_call(connection, principal.tenant_id, call_id)
            if record is None:
                return None
            header, status = record.header, record.status
        return access.may(principal, "read_call", facts_of(connection, principal, header, status))

    return await s.aread(principal.tenant_id, check)


@router.websocket("/v1/board/watch")
async def watch_board(websocket: WebSocket) -> None:
    principal = await ws_principal(websocket, "board", "watch the board")
    if principal is None:
        return
    s = services_of(websocket)
    tenant = principal.tenant_id
    team: frozenset[str] | None = None
    if principal.role != "admin":  # a supervisor's board: its team's calls
        scope = await s.aread(tenant, lambda c: scope_of(c, principal))
        team = scope.agents if scope is not None else frozenset()
    teams = await s.aread(tenant, lambda c: accounts.teams_by_login(c, tenant))
    await websocket.accept()
    watcher = s.live.watch_board(tenant, TeamBoardWatcher(team, teams))
    try:
        await _pump(websocket, watcher, CredentialWatch(s, principal))
    finally:
        s.live.unwatch_board(tenant, watcher)


class TeamBoardWatcher(Watcher):
    """A board with each row's team (the agent's, from the accounts, read when the board opens);
    a supervisor's (`agents` given) has the rows of its team's agents only."""

    def __init__(self, agents: frozenset[str] | None, teams: dict[str, str]) -> None:
        super().__init__()
        self.agents, self.teams = agents, teams

    def push(self, text: str) -> None:
        if self.agents is None and not self.teams:  # an admin's board with no teams: nothing to add
            super().push(text)
            return
        frame = json.loads(text)
        rows = frame.get("calls", [])
        if self.agents is not None:
            rows = [row for row in rows if row.get("agent") in self.agents]
            frame["total"] = len(rows)
        for row in rows:
            row["team"] = self.teams.get(row.get("agent") or "")
        frame["calls"] = rows
        super().push(json.dumps(frame))


async def stored_snapshot(s: Services, tenant_id: str, call_id: str) -> dict[str, Any] | None:
    """A cockpit snapshot of a tenant's call that is not live here (ended, or unknown: None)."""

    def load(connection: Any) -> tuple[store.CallRecord | None, list[store.TurnRecord]]:
        record = store.get_call(connection, tenant_id, call_id)
        return record, store.get_turns(connection, tenant_id, call_id) if record else []

    record, turns = await s.aread(tenant_id, load)
    if record is None:
        return None
    mood = Mood()
    for turn in turns:
        mood.add(turn.speaker, turn.text, turn.result)
    transcript = [
        {
            "index": t.index,
            "speaker": t.speaker,
            "text": t.text,
            "t": t.t,
            "at": epoch_of(t.received_at) if t.received_at else None,
            "result": t.result,
        }
        for t in turns[-TRANSCRIPT_KEPT:]
    ]
    return {
        "type": "snapshot",
        "call": call_view(call_id, record.header, record.status),
        "transcript": transcript,
        "mood": mood.to_dict(),
        "summary": record.summary,
        "at": time.time(),
        **(record.extra or {}),
    }


async def _pump(
    websocket: WebSocket,
    watcher: Watcher,
    credential: CredentialWatch,
    gate: Callable[[], Awaitable[bool | None]] | None = None,
) -> None:
    """Send queued frames until the page goes away, falls hopelessly behind, or its credential
    lapses (an error frame saying so, then a 1008 close). `gate`: checked before the first frame."""

    async def drain_client() -> None:  # pages send nothing; this only notices them leave
        with contextlib.suppress(WebSocketDisconnect):
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass

    async def send() -> None:
        allowed = gate
        while (text := await watcher.next()) is not None:
            if allowed is not None:
                if not await allowed():
                    await websocket.send_json(error("forbidden", "this call is not one you may watch"))
                    await websocket.close(code=1008)
                    return
                allowed = None
            await websocket.send_text(text)
        await websocket.send_json(error("too_slow", "this page fell too far behind; reload it"))
        await websocket.close(code=1013)

    lapse = asyncio.create_task(credential.wait_until_invalid())
    tasks = [asyncio.create_task(drain_client()), asyncio.create_task(send()), lapse]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await task
    if lapse.done() and not lapse.cancelled() and lapse.exception() is None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            reason = lapse.result()
            await websocket.send_json(error(reason, MESSAGES[reason]))
            await websocket.close(code=1008)
