"""Live audio from telephony platforms: WS /v1/telephony/twilio and WS /v1/telephony/audiohook.

Thin glue. The wire formats stop in ingest/ (twilio.py, audiohook.py) as typed events; the
audio turn taker (perception/turns.py) cuts utterances, recognises words and reads the tone of
voice; each utterance then goes through the same `StreamHandler` a JSON client uses, so it is
stored before anything is acknowledged and pushed to the agent cockpit for that call
(/agent/{callSid or conversationId}). See docs/telephony.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from empathy_engine.events import AudioChunk, CallEnded, CallStarted, Event
from empathy_engine.ingest.audiohook import AudioHookSession
from empathy_engine.ingest.twilio import TwilioMediaSerializer
from empathy_engine.ingest.wire import WireError
from empathy_engine.perception.speech import Recogniser
from empathy_engine.perception.turns import AudioTurnTaker, HeardTurn, default_recogniser
from empathy_engine.service.protocol import EndEvent, StartEvent, UtteranceEvent
from empathy_engine.service.services import Services, services_of
from empathy_engine.service.stream import StreamHandler

log = logging.getLogger(__name__)
router = APIRouter()


def recogniser() -> Recogniser:
    """The speech recogniser for audio-only streams (tests replace it with a scripted one)."""
    return default_recogniser()


class TelephonyCall:
    """One telephony stream driving one call through the stream handler."""

    def __init__(self, services: Services, source: str) -> None:
        self.s = services
        self.source = source
        self.handler: StreamHandler | None = None
        self.taker: AudioTurnTaker | None = None
        self.ended = False

    async def on_events(self, events: Iterable[Event]) -> None:
        for event in events:
            if isinstance(event, CallStarted):
                await self._start(event)
            elif isinstance(event, AudioChunk) and self.taker is not None:
                # Recognition takes about a second an utterance: off the event loop, in order.
                await self._heard(await asyncio.to_thread(self.taker.feed, event))
            elif isinstance(event, CallEnded):
                await self.finish(end=True)

    async def _start(self, call: CallStarted) -> None:
        if self.handler is not None:  # the platform restarted the stream: keep what was heard so far
            await self.finish(end=False)
            self.handler = None
        handler = StreamHandler(self.s, call.call_id)
        reply = await handler.start(StartEvent.model_validate({"type": "start", "call": _header(call)}))
        if reply.get("code") == "already_started":  # the platform reconnected: carry on with the call
            reply = await handler.resume()
        if reply["type"] == "error" or handler.live is None or handler.live.session is None:
            log.warning("%s call %s not started: %s", self.source, call.call_id, reply.get("message"))
            return
        self.handler = handler
        self.taker = AudioTurnTaker(recogniser(), voice=handler.live.session.voice_tracker())

    async def _heard(self, turns: list[HeardTurn]) -> None:
        assert self.handler is not None
        for heard in turns:
            u = heard.utterance
            if not u.text.strip():
                continue  # sound without words: nothing for the engine to read
            event = UtteranceEvent.model_validate({"type": "utterance", "speaker": u.speaker, "text": u.text, "t": u.t})
            reply = await self.handler.utterance(event, time.perf_counter(), voice=heard.voice)
            if reply["type"] == "error":
                log.warning("%s call %s: %s", self.source, self.handler.call_id, reply["message"])

    async def finish(self, end: bool) -> None:
        """The stream is over: keep what was heard; `end` also ends the call (an orderly stop)."""
        if self.taker is not None and self.handler is not None:
            taker, self.taker = self.taker, None
            await self._heard(await asyncio.to_thread(taker.flush))
        if self.handler is not None:
            if end and not self.ended:
                self.ended = True
                await self.handler.end(EndEvent.model_validate({"type": "end"}))
            self.handler.release()


def _header(call: CallStarted) -> dict[str, Any]:
    header: dict[str, Any] = {
        "id": call.call_id,
        "channel": call.channel,
        "handled_by": call.handled_by,
        "service": call.service,
        "started_at": call.started_at.isoformat() if call.started_at else None,
        "customer": {k: v for k, v in {"id": call.customer.id, "name": call.customer.name}.items() if v},
        "agent": {"id": call.agent_id} if call.agent_id else {},
    }
    return {k: v for k, v in header.items() if v is not None}


@router.websocket("/v1/telephony/twilio")
async def twilio_media_stream(websocket: WebSocket) -> None:
    """Twilio Media Streams (<Start><Stream> or <Connect><Stream> pointing here)."""
    await websocket.accept()
    serializer = TwilioMediaSerializer()
    call = TelephonyCall(services_of(websocket), "twilio")
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                log.warning("twilio: a binary frame was ignored; Media Streams sends JSON text")
                continue
            try:
                events = serializer.parse(text)
            except WireError as e:  # logged; what was accepted stays, the stream goes on
                log.warning("twilio stream %s: %s", serializer.stream_sid, e)
                continue
            await call.on_events(events)
    except WebSocketDisconnect:
        pass
    finally:
        await call.on_events(serializer.end())  # an abrupt end still ends the call with what was heard
        await call.finish(end=False)


@router.websocket("/v1/telephony/audiohook")
async def genesys_audiohook(websocket: WebSocket) -> None:
    """Genesys Cloud AudioHook protocol v2 (an AudioHook Monitor integration pointing here)."""
    await websocket.accept()
    session = AudioHookSession(websocket.headers.get("audiohook-session-id"))
    call = TelephonyCall(services_of(websocket), "audiohook")
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            replies: list[dict[str, Any]]
            events: list[Event]
            if (text := message.get("text")) is not None:
                replies, events = session.on_text(text)
            else:
                try:
                    replies, events = [], list(session.on_binary(message.get("bytes") or b""))
                except WireError as e:
                    replies, events = session.fail(e), []
            for reply in replies:
                await websocket.send_text(json.dumps(reply))
            await call.on_events(events)
    except WebSocketDisconnect:
        pass
    finally:
        await call.on_events(session.end())
        await call.finish(end=False)
