"""Live audio from telephony platforms: WS /v1/telephony/{vendor} (twilio, audiohook).

One socket loop for every vendor: the vendor's serializer (ingest/, a `TelephonySerializer`)
turns frames into typed events and protocol replies; the audio turn taker (perception/turns.py)
cuts utterances, recognises words and reads the tone of voice; each utterance, with its voice,
then goes to the same `LiveCallService` a JSON client uses, so it is stored before anything is
acknowledged and pushed to the agent cockpit for that call (/agent/{callSid or conversationId}).
A new vendor is one serializer file in ingest/ and one line in `VENDORS`. See docs/telephony.md.
Before anything is accepted, the platform proves its origin (service/telephony_auth.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from empathy_engine.events import AudioChunk, CallEnded, CallStarted, Event, Utterance
from empathy_engine.extras import MissingExtra, has
from empathy_engine.ingest.audiohook import AudioHookSession
from empathy_engine.ingest.live import ProtocolError
from empathy_engine.ingest.twilio import TwilioMediaSerializer
from empathy_engine.ingest.wire import TelephonySerializer
from empathy_engine.perception.speech import Recogniser
from empathy_engine.perception.turns import AudioTurnTaker, HeardTurn, PartialAudio, default_recogniser
from empathy_engine.service import log_format
from empathy_engine.service.authz import principal_of, ws_principal
from empathy_engine.service.live_call import LiveCallService
from empathy_engine.service.services import Services, services_of
from empathy_engine.service.telephony_auth import admit

T = TypeVar("T")
log = logging.getLogger(__name__)
router = APIRouter()

#: Each vendor's serializer, made per connection from the upgrade request's headers.
VENDORS: dict[str, Callable[[Mapping[str, str]], TelephonySerializer]] = {
    # Twilio Media Streams: a <Start><Stream> or <Connect><Stream> pointing here.
    "twilio": lambda headers: TwilioMediaSerializer(),
    # Genesys Cloud AudioHook v2 (an AudioHook Monitor integration); every message must carry the session id.
    # Its session id and organization id come from the (signed) upgrade headers.
    "audiohook": lambda headers: AudioHookSession(
        headers.get("audiohook-session-id"), headers.get("audiohook-organization-id")
    ),
}


async def _admitted(websocket: WebSocket, vendor: str) -> str | None:
    """The tenant whose credential opened this stream, or None once the upgrade has been refused.

    A platform proves itself with its own documented signature (service/telephony_auth.py); our own
    integrations may instead send an API key with the telephony scope or a `?ticket=`."""
    if principal_of(websocket) is not None or vendor not in VENDORS:
        principal = await ws_principal(websocket, "telephony", "stream telephony audio")
        return None if principal is None else principal.tenant_id
    verified = await admit(websocket, vendor)
    return None if verified is None else verified.tenant_id


#: Threads for audio streams' turn taking and recognition: each stream waits in one while Whisper
#: decodes its utterance, so they are many (decoding itself is bounded by its own workers) and
#: apart from the loop's default pool, which database reads and logins share.
AUDIO_THREADS = 32
_AUDIO_POOL = ThreadPoolExecutor(AUDIO_THREADS, thread_name_prefix="audio")  # starts threads only when used


async def _off_the_loop(work: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(_AUDIO_POOL, work, *args)


#: Event batches a stream may have waiting to be heard: a minute of 20 ms frames on two tracks.
BACKLOG = 6000


def recogniser() -> Recogniser:
    """The speech recogniser for audio-only streams (tests replace it with a scripted one)."""
    return default_recogniser()


@router.websocket("/v1/telephony/{vendor}")
async def telephony_stream(websocket: WebSocket, vendor: str) -> None:
    """The socket loop of every vendor: frames in, replies out, typed events to the call."""
    tenant_id = await _admitted(websocket, vendor)  # refused upgrades get their HTTP status here, never a socket
    if tenant_id is None:
        return
    make = VENDORS.get(vendor)
    if make is None:
        await websocket.accept()
        log.warning("telephony: no vendor %r (there are %s)", vendor, ", ".join(VENDORS))
        await websocket.close(code=1008, reason=f"unknown telephony vendor; use one of {', '.join(VENDORS)}")
        return
    await websocket.accept()
    if not has("voice"):  # the audio path needs scipy and pocketsphinx: refuse now, not mid-call
        log.warning("telephony: %s", MissingExtra("voice", "telephony audio"))
        reason = "telephony audio needs the server's 'voice' extra (empathy-engine[voice])"
        await websocket.close(code=1011, reason=reason)
        return
    serializer = make(websocket.headers)
    call = TelephonyCall(services_of(websocket), tenant_id, serializer.vendor)
    # The socket is read on while the call hears what came before: a stream whose utterance is
    # being recognised still answers the platform's pings and never backs up in the socket. The
    # backlog is bounded: past it, reading waits (nothing accepted is dropped).
    backlog: asyncio.Queue[Iterable[Event] | None] = asyncio.Queue(BACKLOG)
    hearing = asyncio.create_task(call.hear_in_order(backlog))
    try:
        while not hearing.done():
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is not None:
                received = serializer.receive_text(text)
            else:
                received = serializer.receive_binary(message.get("bytes") or b"")
            if received.problem is not None:  # logged; what was accepted stays, the stream goes on
                log.warning("%s call %s: %s", serializer.vendor, call.call_id, received.problem)
            for reply in received.replies:
                await websocket.send_text(json.dumps(reply))
            if received.events:
                await backlog.put(received.events)
    except WebSocketDisconnect:
        pass
    finally:
        if not hearing.done():
            await backlog.put(None)
        try:
            await hearing  # all that was received is heard (an error in it is raised here)
        finally:
            await call.on_events(serializer.end())  # an abrupt end still ends the call with what was heard
            await call.finish(end=False)


class TelephonyCall:
    """One telephony stream driving one call: typed events in, utterances (with voice) to the call service."""

    def __init__(self, services: Services, tenant_id: str, vendor: str) -> None:
        self.s = services
        self.tenant_id = tenant_id  # the platform's credential's tenant: its calls are stored as that tenant's
        self.vendor = vendor
        self.service: LiveCallService | None = None
        self.taker: AudioTurnTaker | None = None
        self.ended = False
        self._partial: asyncio.Task[None] | None = None  # at most one partial transcript at a time

    @property
    def call_id(self) -> str | None:
        return self.service.call_id if self.service else None

    async def hear_in_order(self, backlog: asyncio.Queue[Iterable[Event] | None]) -> None:
        """The stream's events, in the order received, until None."""
        while (events := await backlog.get()) is not None:
            await self.on_events(events)

    async def on_events(self, events: Iterable[Event]) -> None:
        for event in events:
            if isinstance(event, CallStarted):
                await self._start(event)
            elif isinstance(event, AudioChunk) and self.taker is not None:
                # Recognition takes a good part of a second an utterance: off the event loop, in
                # order, in the audio threads (never the loop's default pool, which others share).
                await self._heard(await _off_the_loop(self.taker.feed, event))
                self._partial_if_due()
            elif isinstance(event, CallEnded):
                await self.finish(end=True)

    async def _start(self, call: CallStarted) -> None:
        if self.service is not None:  # the platform restarted the stream: keep what was heard so far
            await self.finish(end=False)
            self.service = None
        service = LiveCallService(self.s, self.tenant_id, call.call_id)
        log_format.bind(tenant_id=self.tenant_id, call_id=call.call_id)  # the socket's log lines name the call
        service.write_timeout = None  # a busy database delays a heard turn; refused, it would be lost
        try:
            try:
                await service.guarded("start", lambda: service.start(call))
            except ProtocolError as refusal:
                if refusal.code != "already_started":
                    raise
                await service.guarded("resume", service.resume)  # the platform reconnected: carry on
        except ProtocolError as refusal:
            log.warning("%s call %s not started: %s", self.vendor, call.call_id, refusal.message)
            return
        if service.live is None or service.live.session is None:
            return
        self.service = service
        heard_by = await _off_the_loop(recogniser)  # the first stream loads the model: not on the loop
        self.taker = AudioTurnTaker(heard_by, voice=service.live.session.voice_tracker())

    def _partial_if_due(self) -> None:
        """Recognise the customer's open utterance so far, beside the stream (never holding it up)."""
        taker, service = self.taker, self.service
        if taker is None or service is None or self._partial is not None and not self._partial.done():
            return
        due = taker.partial_due()
        if due is not None:
            self._partial = asyncio.create_task(self._provisional(service, taker, due))

    async def _provisional(self, service: LiveCallService, taker: AudioTurnTaker, due: PartialAudio) -> None:
        text = await _off_the_loop(taker.partial_words, due)
        if not text or not taker.still_open(due):  # its final words are already on their way
            return
        partial = Utterance("customer", text, round(due.t, 3), final=False)
        await self._feed(service, HeardTurn(partial, None))

    async def _heard(self, turns: list[HeardTurn]) -> None:
        service = self.service
        assert service is not None
        for heard in turns:
            if not heard.utterance.text.strip():
                continue  # sound without words: nothing for the engine to read
            await self._feed(service, heard)

    async def _feed(self, service: LiveCallService, heard: HeardTurn) -> None:
        try:
            received = time.perf_counter()
            await service.guarded("utterance", lambda: service.feed(heard.utterance, received, voice=heard.voice))
        except ProtocolError as refusal:
            log.warning("%s call %s: %s", self.vendor, service.call_id, refusal.message)

    async def finish(self, end: bool) -> None:
        """The stream is over: keep what was heard; `end` also ends the call (an orderly stop)."""
        if self._partial is not None:
            self._partial.cancel()  # the final words come now
        if self.taker is not None and self.service is not None:
            taker, self.taker = self.taker, None
            await self._heard(await _off_the_loop(taker.flush))
        if self.service is None:
            return
        if end and not self.ended:
            self.ended = True
            try:
                await self.service.guarded("end", self.service.end)
            except ProtocolError as refusal:
                log.warning("%s call %s not ended: %s", self.vendor, self.service.call_id, refusal.message)
        self.service.release()
