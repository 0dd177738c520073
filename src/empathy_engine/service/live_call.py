"""The live-call service: one connection's hold on one call, over typed events, with no transport.

`start`, `resume`, `feed`, `end`: each checks the call's state, runs the engine, stores what it
accepted (utterance and result in one transaction, through the group-commit writer) and only
then answers and publishes to the call's watchers. A refusal is a `ProtocolError` and changes
nothing. The JSON stream (service/stream.py) and the telephony streams (service/telephony.py)
are thin adapters over this class, so every call is stored, rebuilt and published the same way.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DataError

from empathy_engine.coaching.playbook import PlaybookError
from empathy_engine.events import CallStarted, Utterance
from empathy_engine.ingest.conversation import call_from_header, header_of
from empathy_engine.ingest.live import Closed, Opened, ProtocolError, TurnReply
from empathy_engine.perception.prosody import VoiceReading
from empathy_engine.pipeline import CallSession, Engine
from empathy_engine.privacy import Entity, redact_turn
from empathy_engine.privacy.entities import unmasked_shape
from empathy_engine.service.live import LiveCall, call_view
from empathy_engine.service.services import Services
from empathy_engine.service.webhook import after_turn
from empathy_engine.store import accounts
from empathy_engine.store import calls as store
from empathy_engine.store.customers import get_customer, trim_for_call
from empathy_engine.store.replay import (
    EngineRecord,
    ReplayError,
    baseline_from_json,
    reading_from_json,
    voice_to_json,
)
from empathy_engine.store.writer import WriteTimeout

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Texts longer than this are read in the engine thread: on the loop they would hold up every
#: other call for several milliseconds (about 3 ms at 500 characters, 13 ms at 5,000).
OFF_LOOP_CHARS = 500
#: Refusals that say the database did not take an event (counted in /metrics).
STORAGE_REFUSALS = frozenset({"database_busy", "storage_refused", "storage_failed"})


class LiveCallService:
    """What one connection does to one live call (the call itself lives in `services.live`)."""

    def __init__(self, services: Services, tenant_id: str, call_id: str) -> None:
        self.s = services
        #: The tenant the connection acts for (service/tenancy.py): every read, write and watcher is its.
        self.tenant_id = tenant_id
        self.call_id = call_id
        self.live: LiveCall | None = None  # set by start or resume
        #: How long a write may wait for the database before `database_busy`; None: as long as it
        #: takes (telephony, whose platform never sends a turn again).
        self.write_timeout: float | None = services.settings.write_timeout_s

    @property
    def _where(self) -> dict[str, str]:
        """Named on this call's log lines also where the context does not say (the expiry task)."""
        return {"call_id": self.call_id, "tenant_id": self.tenant_id}

    async def _write(self, job: Callable[[Any], T], event: str, what: str) -> T:
        """A write through the group-commit writer, or a retryable `database_busy` refusal in time."""
        try:
            return await self.s.writer.run(self.tenant_id, job, timeout=self.write_timeout)
        except WriteTimeout:
            raise ProtocolError(
                "database_busy",
                f"the database is busy (another process holds its write lock): {what} was not stored; "
                "send it again in a moment",
                event,
            ) from None

    def release(self) -> None:
        """The connection is gone: the call stays live (it may resume) but nobody streams it."""
        if self.live is not None and self.live.producer is self:
            self.live.producer = None
            self.s.live.dropped(self.live)

    async def guarded(self, event: str, step: Callable[[], Awaitable[T]]) -> T:
        """Run one step; a bug or a database outage becomes an `internal` refusal, never a dropped connection."""
        try:
            return await step()
        except ProtocolError as refusal:
            if refusal.code in STORAGE_REFUSALS:
                self.s.metrics.storage_failures[refusal.code] += 1
            raise
        except Exception:
            log.exception("call %s: %s event failed", self.call_id, event)
            if self.live is not None:
                self.live.session = None  # rebuilt from what was stored before the next turn
            raise ProtocolError(
                "internal", "the server failed on this event and stored nothing from it; see the server log", event
            ) from None

    # --- start / resume ---------------------------------------------------------------------

    async def start(self, call: CallStarted) -> Opened:
        """A new call. The header is stored as the engine sees it (CRM context merged in), and the
        engine is opened with the call parsed back from that header: a restart rebuilds the same one."""
        if self.live is not None:
            raise ProtocolError("already_started", f"this connection already streams call {self.call_id}", "start")
        cap = self.s.settings.max_live_calls
        if not self.s.live.reserve(self.tenant_id, cap):
            raise ProtocolError(
                "too_many_calls",
                f"{cap} calls are live already, the most EMPATHY_MAX_LIVE_CALLS allows; end calls that are over "
                "(idle ones end by themselves) or raise the limit, then start again",
                "start",
            )
        try:
            return await self._start(call)
        finally:
            self.s.live.unreserve(self.tenant_id)

    async def _start(self, call: CallStarted) -> Opened:
        known: LiveCall | store.CallRecord | None = self.s.live.get(self.tenant_id, self.call_id)
        if known is None:
            known = await self.s.aread(self.tenant_id, lambda c: store.get_call(c, self.tenant_id, self.call_id))
        if known is not None:
            raise self._already(known, "start")
        header = header_of(call)
        customer_id = call.customer.id
        if customer_id:
            stored = await self.s.aread(self.tenant_id, lambda c: get_customer(c, self.tenant_id, customer_id))
            header = merge_customer(header, stored.to_dict() if stored else None)
        header = trim_for_call(header)  # the notes the engine reads and the frames carry stay small
        call = call_from_header(self.call_id, header)
        header = header_of(call)  # masked (privacy/): CRM text stored before redaction never reaches the store
        explain = await self._explains(call)
        session = await self.s.off_loop(lambda: self.s.engine.open(call, explain))  # reading the notes takes a while
        job = store.create_call(self.tenant_id, self.call_id, header, customer_id, self.s.engine_record.to_json())
        if not await self._write(job, "start", "the call"):
            raise ProtocolError("already_started", f"call {self.call_id} was started by another connection", "start")
        live = LiveCall(self.tenant_id, self.call_id, header, call, session=session, producer=self)
        self.live = live
        self.s.live.add(live)
        self.s.metrics.calls_started[self.tenant_id] += 1
        log.info("call started", extra=self._where)
        return Opened("started", self.call_id, 0, call_view(self.call_id, header, "live"))

    def _already(self, known: LiveCall | store.CallRecord, event: str) -> ProtocolError:
        ended = known.ended if isinstance(known, LiveCall) else known.status == "ended"
        if ended:
            return self._ended(event)
        return ProtocolError(
            "already_started",
            f'call {self.call_id} was already started; send {{"type": "resume"}} to continue it',
            event,
        )

    def _ended(self, event: str) -> ProtocolError:
        return ProtocolError("call_ended", f"call {self.call_id} has ended; use a new call id", event)

    async def resume(self) -> Opened:
        """Take over a live call (after a dropped connection or a restart), rebuilding its session if needed."""
        live = await self._find_live("resume")
        async with live.lock:  # waits for an utterance the previous connection is still storing
            if live.ended:
                raise self._ended("resume")
            if live.session is None:
                await self._rebuild(live)
            live.producer = self  # a reconnecting client takes the call over from its dead connection
            live.dropped_at = None
            live.touch()
            self.live = live
        self.s.live.board_changed(self.tenant_id)
        return Opened("resumed", self.call_id, live.next_turn, call_view(self.call_id, live.header, "live"))

    async def _find_live(self, event: str) -> LiveCall:
        live = self.s.live.get(self.tenant_id, self.call_id)
        if live is not None:
            return live
        record = await self.s.aread(self.tenant_id, lambda c: store.get_call(c, self.tenant_id, self.call_id))
        if record is None:
            raise ProtocolError("unknown_call", f'no call {self.call_id}; send {{"type": "start"}} first', event)
        if record.status == "ended":
            raise self._ended(event)
        # Live in the database but not here: started through another server process.
        turns = await self.s.aread(self.tenant_id, lambda c: store.get_turns(c, self.tenant_id, self.call_id))
        call = call_from_header(self.call_id, record.header)
        live = LiveCall.restore(self.tenant_id, self.call_id, record.header, call, turns, created_at=record.created_at)
        self.s.live.add(live)
        return live

    async def _rebuild(self, live: LiveCall) -> None:
        """Replay the stored utterances through a fresh session: the engine is deterministic, so
        the rebuilt session is the one that was lost (a restart, or a failed turn). Each turn gets
        the voice reading the live engine had, and the call's voice baseline is put back, so a
        telephony stream that resumes reads the customer's next turns as it would have."""
        engine = await self._engine_of_call()
        turns = await self.s.aread(self.tenant_id, lambda c: store.get_turns(c, self.tenant_id, self.call_id))
        explain = await self._explains(live.call)
        live.session = await self.s.off_loop(lambda: replay_session(engine, live.call, turns, explain))  # seconds
        live.next_turn = len(turns)

    async def _explains(self, call: CallStarted) -> bool | None:
        """True for a call whose agent is marked for the idiom explainer (`empathy users set`);
        None otherwise: then the server's own setting holds."""
        agent, tenant = call.agent_id, self.tenant_id
        marked = await self.s.aread(tenant, lambda c: accounts.explains_for(c, tenant, agent)) if agent else False
        return True if marked else None

    async def _engine_of_call(self) -> Engine:
        """The engine with the settings stored with the call (calls stored before they were kept,
        and calls whose playbook has changed since, continue with this server's)."""
        record = await self.s.aread(self.tenant_id, lambda c: store.get_call(c, self.tenant_id, self.call_id))
        if record is None or not record.engine:
            return self.s.engine
        stored = EngineRecord.from_json(record.engine)
        try:
            return await asyncio.to_thread(self.s.engine_for, stored)
        except (ReplayError, PlaybookError, OSError, ValueError) as e:
            log.warning(
                "call %s cannot get its own engine settings back (%s); it continues with this server's", self.call_id, e
            )
            return self.s.engine

    # --- utterances -------------------------------------------------------------------------

    async def _held(self, event: str) -> LiveCall:
        """The call this connection streams, or the refusal that says why it has none."""
        if self.live is None:
            await self._find_live(event)
            raise ProtocolError(
                "not_started", f'send {{"type": "resume"}} first to continue call {self.call_id}', event
            )
        if self.live.producer is not self:
            raise ProtocolError("taken_over", f"call {self.call_id} was resumed on another connection", event)
        if self.live.ended:
            raise self._ended(event)
        return self.live

    async def feed(
        self, utterance: Utterance, received: float, turn: int | None = None, voice: VoiceReading | None = None
    ) -> TurnReply:
        """One utterance. `turn`: the index the client expects it to get (a resend is answered from the
        database); `voice`: its tone of voice, when a telephony stream heard it."""
        live = await self._held("utterance")
        most = self.s.settings.max_utterance_chars
        if len(utterance.text) > most:
            raise ProtocolError(
                "utterance_too_long",
                f"text has {len(utterance.text)} characters; an utterance may have at most {most} "
                "(EMPATHY_MAX_UTTERANCE_CHARS): send it as several utterances",
                "utterance",
            )
        live.touch()
        if wait := live.engine_wait_s():  # this call has used more than its share of the engine lately
            await asyncio.sleep(wait)
        if not utterance.final:
            return await self._provisional(live, utterance, received)
        async with live.lock:
            if live.ended:
                raise self._ended("utterance")
            if turn is not None and turn != live.next_turn:
                return await self._resent(live, utterance, turn, received)
            stored = await self._store_turn(live, utterance, voice, received)
            entry = live.record(stored)  # under the lock: it takes the call's next turn index
        result = stored.result
        self.s.live.publish(self.tenant_id, self.call_id, live.turn_frame(entry))
        if escalation := result.get("escalation"):  # a bot call hands over: tell whoever picks it up
            self.s.live.publish(self.tenant_id, self.call_id, {"type": "escalate", "turn": stored.index, **escalation})
        self.s.live.board_changed(self.tenant_id)
        self.s.metrics.turn(self.tenant_id, received)
        if escalation or result.get("cues"):  # hand-overs and safety cards: counted, and sent by webhook
            after_turn(self.s.webhook, self.s.metrics, live, stored.index, result)
        return TurnReply(stored.index, result, received)

    async def _store_turn(
        self, live: LiveCall, utterance: Utterance, voice: VoiceReading | None, received: float
    ) -> store.TurnRecord:
        """Feed the session and store the turn; the session is dropped (to be rebuilt) if either fails."""
        if live.session is None:
            await self._rebuild(live)
        session = live.session
        assert session is not None
        try:
            reading = time.perf_counter()
            heard = utterance
            if len(heard.text) > OFF_LOOP_CHARS:
                insight, utterance = await self.s.off_loop(lambda: session.hear(heard, voice))
            else:
                insight, utterance = session.hear(heard, voice)  # PII masked: the text stored is the one read
            result = insight.to_dict()
            live.charge(time.perf_counter() - reading)
        except Exception:
            live.session = None
            raise
        computed = (time.perf_counter() - received) * 1000
        tracker = session.voice  # the baseline after this turn: what a resumed stream reads against
        stored_voice = voice_to_json(voice, tracker.baseline.stats if tracker is not None else None)
        turn = store.TurnRecord(
            live.next_turn,
            utterance.speaker,
            utterance.text,
            utterance.t,
            result,
            computed,
            end=utterance.end,
            voice=stored_voice,
        )
        try:
            job = store.append_turn(self.tenant_id, self.call_id, turn)
            accepted = await self._write(job, "utterance", f"turn {turn.index}")
        except ProtocolError:
            live.session = None  # the session saw a turn the database does not have
            raise
        except DataError:  # the database refuses this content: resending it can never succeed
            live.session = None
            log.exception("call %s: the database refused turn %d", self.call_id, turn.index)
            raise ProtocolError(
                "storage_refused",
                f"turn {turn.index} was refused by the database (its content cannot be stored); it was not "
                "accepted - do not send it again unchanged",
                "utterance",
            ) from None
        except Exception:
            live.session = None  # the session saw a turn the database does not have
            log.exception("call %s: storing turn %d failed", self.call_id, turn.index)
            raise ProtocolError(
                "storage_failed",
                f"turn {turn.index} could not be stored, so it was not accepted; send it again",
                "utterance",
            ) from None
        if not accepted:  # cannot happen while one server owns the call; never store twice
            live.session = None
            raise ProtocolError("duplicate", f"turn {turn.index} of call {self.call_id} is already stored", "utterance")
        return turn

    async def _resent(self, live: LiveCall, utterance: Utterance, wanted: int, received: float) -> TurnReply:
        """An utterance for a turn already stored (a resend after a crash): its stored answer, or a refusal."""
        if wanted > live.next_turn:
            raise ProtocolError(
                "turn_gap",
                f"turn {wanted} would leave a gap: the next turn of call {self.call_id} is {live.next_turn}",
                "utterance",
            )
        stored = await self.s.aread(
            self.tenant_id, lambda c: store.get_turns(c, self.tenant_id, self.call_id, since=wanted)
        )
        first = stored[0] if stored else None
        if first is None or first.index != wanted or not same_turn(first, utterance):
            raise ProtocolError(
                "turn_conflict",
                f"turn {wanted} of call {self.call_id} is already stored with a different speaker or text",
                "utterance",
            )
        return TurnReply(wanted, first.result, received, duplicate=True)

    async def _provisional(self, live: LiveCall, utterance: Utterance, received: float) -> TurnReply:
        """A result for words still being spoken: computed on a throwaway copy of the session,
        so it never changes the call and is never stored."""
        async with live.lock:  # the engine thread may be feeding the session a final utterance
            session = live.session
            if session is None:
                raise ProtocolError("not_ready", "the call is being restored; send the final utterance", "utterance")

            def read() -> tuple[dict[str, Any], Utterance]:
                # Copy every per-call part of the session but share the (read-only, large) engine.
                scratch: CallSession = copy.deepcopy(session, {id(session.engine): session.engine})
                insight, masked = scratch.hear(utterance)
                return insight.to_dict(), masked

            reading = time.perf_counter()
            result, utterance = await self.s.off_loop(read) if len(utterance.text) > OFF_LOOP_CHARS else read()
            live.charge(time.perf_counter() - reading)
        frame = {"type": "provisional", "speaker": utterance.speaker, "text": utterance.text, "result": result}
        self.s.live.publish(self.tenant_id, self.call_id, frame)
        return TurnReply(live.next_turn, result, received, provisional=True)

    # --- end --------------------------------------------------------------------------------

    async def end(self) -> Closed:
        """End the call: its summary (and call-level results) stored, watchers told, the call off the board."""
        live = await self._held("end")
        closed = await self.finish(live, {})
        if closed is None:
            raise self._ended("end")
        return closed

    async def finish(self, live: LiveCall, note: dict[str, Any]) -> Closed | None:
        """Store the call's summary and end it (`note`: added to its extra results, e.g. why it ended);
        None when it had already ended."""
        async with live.lock:
            if live.ended:
                return None
            if live.session is None:
                await self._rebuild(live)
            session = live.session
            assert session is not None
            # Exactly what `empathy analyze` says about the call, less the turns (already sent).
            done = await self.s.off_loop(lambda: session.result().to_dict())
            summary = done.pop("summary")
            extra = {k: v for k, v in done.items() if k not in ("id", "turns")} | note
            job = store.end_call(self.tenant_id, self.call_id, summary, extra)
            if not await self._write(job, "end", "the end of the call"):
                return None
            live.ended = True
        self.s.live.remove(live)
        how = "abandoned" if "abandoned" in extra else "ended"  # the expiry task ends idle calls as abandoned
        log.info("call %s after %d turns", how, live.next_turn, extra=self._where)
        self.s.live.publish(self.tenant_id, self.call_id, {"type": "ended", "summary": summary, **extra})
        return Closed(self.call_id, live.next_turn, summary, extra)


def replay_session(
    engine: Engine, call: CallStarted, turns: list[store.TurnRecord], explain: bool | None = None
) -> CallSession:
    """A session fed the stored turns again, each with the voice reading the live engine had, and
    the call's voice baseline put back (a telephony stream that resumes reads on as it would have)."""
    session = engine.open(call, explain)
    baseline = None
    for turn in turns:
        utterance = Utterance(turn.speaker, turn.text, turn.t, end=turn.end)  # type: ignore[arg-type]
        session.feed(utterance, reading_from_json(turn.voice))
        baseline = baseline_from_json(turn.voice) if turn.voice else baseline
    if baseline is not None:
        session.voice_tracker().baseline.stats = baseline
    return session


def same_turn(stored: store.TurnRecord, resent: Utterance) -> bool:
    """A resend of a stored turn: the same speaker and the same words once both are masked (the
    stored text was masked with the call's state at that turn, so masks count as equal)."""
    if stored.speaker != resent.speaker:
        return False
    if stored.text == resent.text:
        return True
    return unmasked_shape(stored.text) == unmasked_shape(redact_turn(resent.text, Entity.CARD_NUMBER)[0])


def merge_customer(header: dict[str, Any], stored: dict[str, Any] | None) -> dict[str, Any]:
    """The header with what the CRM knows about the customer added (the header wins on conflicts)."""
    if not stored:
        return header
    customer = dict(header.get("customer") or {})
    customer["name"] = customer.get("name") or stored.get("name")
    customer["notes"] = list(dict.fromkeys([*customer.get("notes", []), *stored.get("notes", [])]))
    contacts = list(customer.get("prior_contacts", []))
    known = {(c.get("at"), c.get("issue"), c.get("outcome")) for c in contacts}
    for c in stored.get("prior_contacts", []):
        if (c.get("at"), c.get("issue"), c.get("outcome")) not in known:
            contacts.append(c)
    customer["prior_contacts"] = contacts
    return {**header, "customer": customer}
