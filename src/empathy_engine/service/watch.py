"""Read-only live feeds for the pages: one call (the agent cockpit) and the supervisor board.

WS /v1/calls/{call_id}/watch sends a `snapshot`, then `turn`, `provisional` and `ended`
frames; a call that has not started yet gets `waiting` and its snapshot once it starts.
WS /v1/board/watch sends the whole sorted `board` whenever it changes (throttled).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from empathy_engine.ingest.live import error, is_call_id
from empathy_engine.service.live import TRANSCRIPT_KEPT, Watcher, call_view
from empathy_engine.service.mood import Mood
from empathy_engine.service.services import Services, services_of
from empathy_engine.store import calls as store

router = APIRouter()


@router.websocket("/v1/calls/{call_id}/watch")
async def watch_call(websocket: WebSocket, call_id: str) -> None:
    await websocket.accept()
    if not is_call_id(call_id):
        await websocket.send_json(error("invalid_call_id", "not a valid call id"))
        await websocket.close(code=1008)
        return
    s = services_of(websocket)
    watcher = s.live.watch_call(call_id)  # before the snapshot, so no turn falls in between
    try:
        live = s.live.calls.get(call_id)
        if live is not None:
            await websocket.send_text(live.snapshot())
        else:
            stored = await stored_snapshot(s, call_id)
            await websocket.send_json(stored or {"type": "waiting", "call_id": call_id})
        await _pump(websocket, watcher)
    finally:
        s.live.unwatch_call(call_id, watcher)


@router.websocket("/v1/board/watch")
async def watch_board(websocket: WebSocket) -> None:
    await websocket.accept()
    s = services_of(websocket)
    watcher = s.live.watch_board()
    try:
        await _pump(websocket, watcher)
    finally:
        s.live.unwatch_board(watcher)


async def stored_snapshot(s: Services, call_id: str) -> dict[str, Any] | None:
    """A cockpit snapshot of a call that is not live here (ended, or unknown: None)."""

    def load(connection: Any) -> tuple[store.CallRecord | None, list[store.TurnRecord]]:
        record = store.get_call(connection, call_id)
        return record, store.get_turns(connection, call_id) if record else []

    record, turns = await s.aread(load)
    if record is None:
        return None
    mood = Mood()
    for turn in turns:
        mood.add(turn.speaker, turn.text, turn.result)
    transcript = [
        {"index": t.index, "speaker": t.speaker, "text": t.text, "t": t.t, "result": t.result}
        for t in turns[-TRANSCRIPT_KEPT:]
    ]
    return {
        "type": "snapshot",
        "call": call_view(call_id, record.header, record.status),
        "transcript": transcript,
        "mood": mood.to_dict(),
        "summary": record.summary,
        **(record.extra or {}),
    }


async def _pump(websocket: WebSocket, watcher: Watcher) -> None:
    """Send queued frames until the page goes away (or falls hopelessly behind)."""

    async def drain_client() -> None:  # pages send nothing; this only notices them leave
        with contextlib.suppress(WebSocketDisconnect):
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass

    async def send() -> None:
        while (text := await watcher.next()) is not None:
            await websocket.send_text(text)
        await websocket.send_json(error("too_slow", "this page fell too far behind; reload it"))
        await websocket.close(code=1013)

    tasks = [asyncio.create_task(drain_client()), asyncio.create_task(send())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await task
