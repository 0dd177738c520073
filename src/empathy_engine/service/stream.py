"""WS /v1/calls/{call_id}/stream: one call's utterances in, one reply per event out.

Every event gets exactly one reply, in order. A final utterance is fed to the call's engine
session, stored (utterance and insight in one transaction), and only then acknowledged with
its insight: a reply means it is on disk. Bad input gets an error frame and changes nothing.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from empathy_engine.events import Utterance
from empathy_engine.ingest.conversation import describe
from empathy_engine.perception.prosody import VoiceReading
from empathy_engine.pipeline import CallSession
from empathy_engine.service.live import LiveCall, call_view
from empathy_engine.service.protocol import (
    CALL_ID,
    EVENTS,
    EndEvent,
    ResumeEvent,
    StartEvent,
    UtteranceEvent,
    error,
    merge_customer,
    to_call_started,
)
from empathy_engine.service.services import Services, services_of
from empathy_engine.store import calls as store
from empathy_engine.store.customers import get_customer

log = logging.getLogger(__name__)
router = APIRouter()


@router.websocket("/v1/calls/{call_id}/stream")
async def stream(websocket: WebSocket, call_id: str) -> None:
    await websocket.accept()
    if not CALL_ID.match(call_id):
        await websocket.send_json(error("invalid_call_id", _BAD_ID))
        await websocket.close(code=1008)
        return
    handler = StreamHandler(services_of(websocket), call_id)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            received = time.perf_counter()
            text = message.get("text")
            if text is None:
                reply = error("binary_not_supported", "events are JSON text frames, not binary frames")
            else:
                reply = await handler.handle(text, received)
            await websocket.send_text(json.dumps(reply))
    except WebSocketDisconnect:
        pass
    finally:
        handler.release()


_BAD_ID = "a call id is 1-200 letters, digits and . _ : @ - characters, starting with a letter or digit"


class StreamHandler:
    """The protocol state of one stream connection."""

    def __init__(self, services: Services, call_id: str) -> None:
        self.s = services
        self.call_id = call_id
        self.live: LiveCall | None = None  # set by start or resume

    def release(self) -> None:
        """The connection is gone: the call stays live (it may resume) but nobody streams it."""
        if self.live is not None and self.live.producer is self:
            self.live.producer = None
            self.s.live.board_changed()

    async def handle(self, text: str, received: float) -> dict[str, Any]:
        limit = self.s.settings.max_event_bytes
        if len(text) > limit // 4 and len(text.encode()) > limit:
            return error("frame_too_large", f"an event may be at most {limit} bytes; this one is {len(text.encode())}")
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            return error("invalid_json", f"malformed JSON at column {e.colno}: {e.msg}")
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            return error("invalid_event", 'an event is a JSON object with a "type" field')
        kind = obj["type"]
        model = EVENTS.get(kind)
        if model is None:
            return error("unknown_event", f"unknown event type {kind[:40]!r}; expected one of: {', '.join(EVENTS)}")
        try:
            event = model.model_validate(obj)
        except ValidationError as e:
            return error("invalid_event", describe(e), kind)
        try:
            if isinstance(event, StartEvent):
                return await self.start(event)
            if isinstance(event, ResumeEvent):
                return await self.resume()
            if isinstance(event, UtteranceEvent):
                return await self.utterance(event, received)
            return await self.end(event)
        except Exception:  # a bug or a database outage must not take the connection down
            log.exception("call %s: %s event failed", self.call_id, kind)
            if self.live is not None:
                self.live.session = None  # rebuilt from what was stored before the next turn
            return error(
                "internal", "the server failed on this event and stored nothing from it; see the server log", kind
            )

    # --- start / resume -------------------------------------------------------------------

    async def start(self, event: StartEvent) -> dict[str, Any]:
        if self.live is not None:
            return error("already_started", f"this connection already streams call {self.call_id}", "start")
        if event.call.id is not None and event.call.id != self.call_id:
            return error(
                "id_mismatch", f"call.id {event.call.id!r} differs from the URL's call id {self.call_id!r}", "start"
            )
        known = self.s.live.calls.get(self.call_id) or await self.s.aread(lambda c: store.get_call(c, self.call_id))
        if known is not None:
            return self._already(known, "start")
        header = event.call.model_dump(mode="json", exclude_none=True)
        header["id"] = self.call_id
        customer_id = event.call.customer.id
        if customer_id:
            stored = await self.s.aread(lambda c: get_customer(c, customer_id))
            header = merge_customer(header, stored.to_dict() if stored else None)
        call = to_call_started(self.call_id, header)
        session = self.s.engine.open(call)
        if not await self.s.writer.run(store.create_call(self.call_id, header, customer_id)):
            return error("already_started", f"call {self.call_id} was started by another connection", "start")
        live = LiveCall(self.call_id, header, call, session=session, producer=self)
        self.live = live
        self.s.live.add(live)
        return {
            "type": "started",
            "call_id": self.call_id,
            "next_turn": 0,
            "call": call_view(self.call_id, header, "live"),
        }

    def _already(self, known: LiveCall | store.CallRecord, event: str) -> dict[str, Any]:
        ended = known.ended if isinstance(known, LiveCall) else known.status == "ended"
        if ended:
            return error("call_ended", f"call {self.call_id} has ended; use a new call id", event)
        return error(
            "already_started",
            f'call {self.call_id} was already started; send {{"type": "resume"}} to continue it',
            event,
        )

    async def resume(self) -> dict[str, Any]:
        live = await self._find_live("resume")
        if isinstance(live, dict):
            return live
        async with live.lock:  # waits for an utterance the previous connection is still storing
            if live.ended:
                return error("call_ended", f"call {self.call_id} has ended; use a new call id", "resume")
            if live.session is None:
                await self._rebuild(live)
            live.producer = self  # a reconnecting client takes the call over from its dead connection
            self.live = live
        self.s.live.board_changed()
        return {
            "type": "resumed",
            "call_id": self.call_id,
            "next_turn": live.next_turn,
            "call": call_view(self.call_id, live.header, "live"),
        }

    async def _find_live(self, event: str) -> LiveCall | dict[str, Any]:
        live = self.s.live.calls.get(self.call_id)
        if live is not None:
            return live
        record = await self.s.aread(lambda c: store.get_call(c, self.call_id))
        if record is None:
            return error("unknown_call", f'no call {self.call_id}; send {{"type": "start"}} first', event)
        if record.status == "ended":
            return error("call_ended", f"call {self.call_id} has ended; use a new call id", event)
        # Live in the database but not here: started through another server process.
        turns = await self.s.aread(lambda c: store.get_turns(c, self.call_id))
        live = LiveCall.restore(self.call_id, record.header, to_call_started(self.call_id, record.header), turns)
        self.s.live.add(live)
        return live

    async def _rebuild(self, live: LiveCall) -> None:
        """Replay the stored utterances through a fresh session: the engine is deterministic, so
        the rebuilt session is the one that was lost (a restart, or a failed turn)."""
        turns = await self.s.aread(lambda c: store.get_turns(c, self.call_id))
        session = self.s.engine.open(live.call)
        for turn in turns:
            session.feed(Utterance(turn.speaker, turn.text, turn.t))  # type: ignore[arg-type]
        live.session = session
        live.next_turn = len(turns)

    # --- utterances -----------------------------------------------------------------------

    async def _held(self, event: str) -> LiveCall | dict[str, Any]:
        """The call this connection streams, or the error that says why it has none."""
        if self.live is None:
            found = await self._find_live(event)
            if isinstance(found, dict):
                return found
            return error("not_started", f'send {{"type": "resume"}} first to continue call {self.call_id}', event)
        if self.live.producer is not self:
            return error("taken_over", f"call {self.call_id} was resumed on another connection", event)
        if self.live.ended:
            return error("call_ended", f"call {self.call_id} has ended; use a new call id", event)
        return self.live

    async def utterance(
        self, event: UtteranceEvent, received: float, voice: VoiceReading | None = None
    ) -> dict[str, Any]:
        """A turn. `voice`: its tone of voice, when a telephony stream heard it (service/telephony.py)."""
        live = await self._held("utterance")
        if isinstance(live, dict):
            return live
        if not event.final:
            return self._provisional(live, event, received)
        async with live.lock:
            if live.ended:
                return error("call_ended", f"call {self.call_id} has ended; use a new call id", "utterance")
            if event.turn is not None and event.turn != live.next_turn:
                return await self._out_of_order(live, event, received)
            if live.session is None:
                await self._rebuild(live)
            assert live.session is not None
            utterance = Utterance(event.speaker, event.text, event.t)
            try:
                result = live.session.feed(utterance, voice).to_dict()
            except Exception:
                live.session = None
                raise
            computed = (time.perf_counter() - received) * 1000
            turn = store.TurnRecord(live.next_turn, event.speaker, event.text, event.t, result, computed)
            try:
                stored = await self.s.writer.run(store.append_turn(self.call_id, turn))
            except Exception:
                live.session = None  # the session saw a turn the database does not have
                log.exception("call %s: storing turn %d failed", self.call_id, turn.index)
                return error(
                    "storage_failed",
                    f"turn {turn.index} could not be stored, so it was not accepted; send it again",
                    "utterance",
                )
            if not stored:  # cannot happen while one server owns the call; never store twice
                live.session = None
                return error("duplicate", f"turn {turn.index} of call {self.call_id} is already stored", "utterance")
            entry = live.record(turn)
        self.s.live.publish(self.call_id, live.turn_frame(entry))
        if escalation := result.get("escalation"):  # a bot call hands over: tell whoever picks it up
            self.s.live.publish(self.call_id, {"type": "escalate", "turn": turn.index, **escalation})
        self.s.live.board_changed()
        return self._insight(turn.index, result, received)

    async def _out_of_order(self, live: LiveCall, event: UtteranceEvent, received: float) -> dict[str, Any]:
        wanted = event.turn
        assert wanted is not None
        if wanted > live.next_turn:
            return error(
                "turn_gap",
                f"turn {wanted} would leave a gap: the next turn of call {self.call_id} is {live.next_turn}",
                "utterance",
            )
        stored = await self.s.aread(lambda c: store.get_turns(c, self.call_id, since=wanted))
        first = stored[0] if stored else None
        if first is None or first.index != wanted or (first.speaker, first.text) != (event.speaker, event.text):
            return error(
                "turn_conflict",
                f"turn {wanted} of call {self.call_id} is already stored with a different speaker or text",
                "utterance",
            )
        return {**self._insight(wanted, first.result, received), "duplicate": True}

    def _provisional(self, live: LiveCall, event: UtteranceEvent, received: float) -> dict[str, Any]:
        """An insight for words still being spoken: computed on a throwaway copy of the session,
        so it never changes the call and is never stored."""
        if live.session is None:
            return error("not_ready", "the call is being restored; send the final utterance", "utterance")
        # Copy every per-call part of the session but share the (read-only, large) engine.
        scratch: CallSession = copy.deepcopy(live.session, {id(live.session.engine): live.session.engine})
        result = scratch.feed(Utterance(event.speaker, event.text, event.t)).to_dict()
        frame = {"type": "provisional", "speaker": event.speaker, "text": event.text, "result": result}
        self.s.live.publish(self.call_id, frame)
        return {**self._insight(live.next_turn, result, received), "provisional": True}

    @staticmethod
    def _insight(index: int, result: dict[str, Any], received: float) -> dict[str, Any]:
        latency = round((time.perf_counter() - received) * 1000, 2)
        return {"type": "insight", "turn": index, "provisional": False, **result, "latency_ms": latency}

    # --- end ------------------------------------------------------------------------------

    async def end(self, event: EndEvent) -> dict[str, Any]:
        live = await self._held("end")
        if isinstance(live, dict):
            return live
        async with live.lock:
            if live.ended:
                return error("call_ended", f"call {self.call_id} has ended; use a new call id", "end")
            if live.session is None:
                await self._rebuild(live)
            assert live.session is not None
            summary = live.session.memory.summary().to_dict()
            extra = _extra(live.session)
            if not await self.s.writer.run(store.end_call(self.call_id, summary, extra)):
                return error("call_ended", f"call {self.call_id} has ended; use a new call id", "end")
            live.ended = True
        self.s.live.remove(live)
        self.s.live.publish(self.call_id, {"type": "ended", "summary": summary, **extra})
        return {"type": "ended", "call_id": self.call_id, "turns": live.next_turn, "summary": summary, **extra}


def _extra(session: CallSession) -> dict[str, Any]:
    """Call-level results beyond the summary (as `empathy analyze` adds them), if the engine has any."""
    extra = getattr(session, "extra", None)
    return dict(extra()) if callable(extra) else {}
