"""WS /v1/calls/{call_id}/stream: the live JSON protocol over a WebSocket, one reply per event.

A thin adapter: frames are parsed in ingest/live.py, the call is run by `LiveCallService`
(service/live_call.py), which stores a final utterance before it is acknowledged. Bad input gets
an error frame and changes nothing. docs/protocol.md describes the protocol.
"""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from empathy_engine.ingest.live import (
    BAD_CALL_ID,
    ClientEvent,
    ProtocolError,
    ResumeEvent,
    StartEvent,
    UtteranceEvent,
    error,
    is_call_id,
    parse_event,
)
from empathy_engine.service import log_format
from empathy_engine.service.authz import MESSAGES, CredentialWatch, ws_principal
from empathy_engine.service.live_call import LiveCallService
from empathy_engine.service.services import services_of

router = APIRouter()


@router.websocket("/v1/calls/{call_id}/stream")
async def stream(websocket: WebSocket, call_id: str) -> None:
    principal = await ws_principal(websocket, "stream", "stream calls")
    if principal is None:
        return
    await websocket.accept()
    if not is_call_id(call_id):
        await websocket.send_json(error("invalid_call_id", BAD_CALL_ID))
        await websocket.close(code=1008)
        return
    services = services_of(websocket)
    call = LiveCallService(services, principal.tenant_id, call_id)
    log_format.bind(tenant_id=principal.tenant_id, call_id=call_id)  # this socket's log lines name the call
    credential = CredentialWatch(services, principal)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            received = time.perf_counter()
            if (lapsed := await credential.reason()) is not None:
                # Checked before the event is taken: nothing is half-done, and the call stays
                # live for a stream that reconnects (and resumes) with a valid credential.
                await websocket.send_json(error(lapsed, MESSAGES[lapsed]))
                await websocket.close(code=1008)
                break
            text = message.get("text")
            if text is None:
                reply = error("binary_not_supported", "events are JSON text frames, not binary frames")
            else:
                reply = await answer(call, text, received, services.settings.max_event_bytes)
            await websocket.send_text(json.dumps(reply))
    except WebSocketDisconnect:
        pass
    finally:
        call.release()


async def answer(call: LiveCallService, text: str, received: float, max_bytes: int) -> dict[str, Any]:
    """The one reply frame to one text frame: what the call service did, or why it refused."""
    try:
        event = parse_event(text, max_bytes)
        return await call.guarded(event.type, lambda: _dispatch(call, event, received))
    except ProtocolError as refusal:
        return refusal.frame()


async def _dispatch(call: LiveCallService, event: ClientEvent, received: float) -> dict[str, Any]:
    if isinstance(event, StartEvent):
        return (await call.start(event.call_for(call.call_id))).frame()
    if isinstance(event, ResumeEvent):
        return (await call.resume()).frame()
    if isinstance(event, UtteranceEvent):
        return (await call.feed(event.utterance(), received, turn=event.turn)).frame()
    return (await call.end()).frame()
