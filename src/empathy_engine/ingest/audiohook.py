"""Genesys Cloud AudioHook (protocol version 2), server side -> typed events and protocol replies.

Genesys (the client) opens one WebSocket per session and sends JSON text messages, each with
`version` "2", the session `id`, its own increasing `seq`, the last server `serverseq` it saw,
its audio `position` (an ISO 8601 duration such as "PT12.34S") and `parameters`; audio comes as
binary frames of PCMU (mu-law) samples at 8 kHz, interleaved by the negotiated channels. The
server answers with its own messages, each with its own increasing `seq` and `clientseq` = the
last client `seq` it saw. A client mistake is answered with `disconnect` (reason "error", and an
`info` text that names the problem), as the protocol prescribes. Docs: docs/telephony.md.

    session = AudioHookSession()
    replies, events = session.on_text(text)     # send each reply as JSON text
    events = session.on_binary(frame)           # AudioChunks; WireError -> send session.fail(err)
    session.end()                               # the socket closed: CallEnded, if no close came
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from empathy_engine.events import AudioChunk, CallEnded, CallStarted, Event, Speaker
from empathy_engine.ingest.audio import ANALYSIS_RATE, decode_mulaw
from empathy_engine.ingest.wire import (
    Received,
    WireError,
    call_from_parameters,
    field_of,
    optional_field,
    parse_object,
)

PROTOCOL = "AudioHook"
VERSION = "2"
CLIENT_MESSAGES = ("open", "ping", "close", "update", "paused", "resumed", "discarded", "error")
#: The external channel is the customer's side of the conversation; internal is the agent's.
CHANNEL_SPEAKERS: dict[str, Speaker] = {"external": "customer", "internal": "agent"}
#: What we accept, best first: PCMU at 8 kHz, both channels, or the customer's alone.
ACCEPTED_CHANNELS = (["external", "internal"], ["external"])
NULL_UUID = "00000000-0000-0000-0000-000000000000"  # the conversation id of a connection probe
_DURATION = re.compile(r"^PT(\d*\.?\d+)S$")


def duration_s(value: str, path: str, where: str) -> float:
    """An AudioHook duration ("PT1.5S") in seconds."""
    match = _DURATION.match(value)
    if match is None:
        raise WireError(f"{where}: field '{path}' is {value!r}; AudioHook durations look like 'PT1.25S'")
    return float(match.group(1))


class AudioHookSession:
    """One AudioHook WebSocket: `on_text` for text frames, `on_binary` for audio, `end` when it closes.

    States: "preparing" (before `open`), "active", "paused", "closed". Once a `disconnect` was sent
    for an error, further errors are not answered again (the client is closing); everything
    accepted before stays, and a later `close` is still answered with `closed`.
    """

    vendor = "audiohook"

    def __init__(self, session_id: str | None = None, organization_id: str | None = None) -> None:
        self.id = session_id  # from the Audiohook-Session-Id header, if the glue has it; else from `open`
        # From the Audiohook-Organization-Id header (which the upgrade's signature covers): `open` must agree.
        self.organization_id = organization_id
        self.seq = 0  # the last seq we sent
        self.clientseq = 0  # the last client seq we accepted
        self.state = "preparing"
        self.failed: str | None = None  # the info of the disconnect we sent, if any
        self.call: CallStarted | None = None
        self.probe = False  # a connection probe (null conversation id): opened, then closed, no call
        self.media: dict[str, Any] | None = None  # the media we chose
        self.language: str | None = None
        self.close_reason: str | None = None
        self.client_errors: list[str] = []  # `error` messages from the client ("code: message")
        self.ended = False
        self._samples = 0  # audio samples per channel received so far
        self._skipped_s = 0.0  # audio the client paused or discarded (it never arrives)

    # -- text frames --------------------------------------------------------------------------

    def on_text(self, text: str) -> tuple[list[dict[str, Any]], list[Event]]:
        """(replies to send, events) for one text frame; a client mistake is answered with `disconnect`."""
        try:
            message = parse_object(text, PROTOCOL)
            kind = self._accept(message)
            return getattr(self, f"_on_{kind}")(message, f"'{kind}'")
        except WireError as err:
            return self.fail(err), []

    def _accept(self, message: dict[str, Any]) -> str:
        """The message type, once the envelope and the sequence numbers are right (then its seq counts)."""
        version = message.get("version")
        if version != VERSION:
            raise WireError(f"version {version!r}; this server speaks AudioHook protocol version {VERSION!r}")
        kind = field_of(message, "type", str, "message")
        where = f"'{kind}'"
        session_id = field_of(message, "id", str, where)
        seq = field_of(message, "seq", int, where)
        serverseq = field_of(message, "serverseq", int, where)
        duration_s(field_of(message, "position", str, where), "position", where)
        field_of(message, "parameters", dict, where)
        if seq != self.clientseq + 1:
            raise WireError(f"{where}: seq {seq} after {self.clientseq}; client seq must go up by one per message")
        self.clientseq = seq
        if serverseq > self.seq:
            raise WireError(f"{where}: serverseq {serverseq} is ahead of the last server seq {self.seq}")
        if self.id is None:
            self.id = session_id
        elif session_id != self.id:
            raise WireError(f"{where}: id {session_id!r} is not this session's id {self.id!r}")
        if kind not in CLIENT_MESSAGES:
            raise WireError(f"unknown message type {kind!r}; AudioHook clients send {', '.join(CLIENT_MESSAGES)}")
        return kind

    def _on_open(self, message: dict[str, Any], where: str) -> tuple[list[dict[str, Any]], list[Event]]:
        if self.state != "preparing":
            return [], []  # a repeated open is ignored, as the reference server does
        conversation = field_of(message, "parameters.conversationId", str, where)
        offers = field_of(message, "parameters.media", list, where)
        organization = optional_field(message, "parameters.organizationId", str, where)
        if self.organization_id is not None and organization != self.organization_id:
            raise WireError(
                f"{where}: parameters.organizationId {organization!r} is not the Audiohook-Organization-Id "
                f"header's {self.organization_id!r}; a session streams for the organization that opened it"
            )
        self.probe = conversation == NULL_UUID
        media = choose_media(offers)
        if media is None and not self.probe:
            offered = ", ".join(_describe(m) for m in offers) or "nothing"
            raise WireError(
                f"{where}: no acceptable media offered ({offered}); this server takes audio PCMU at 8000 Hz "
                "with channels ['external', 'internal'] or ['external']"
            )
        self.language = optional_field(message, "parameters.language", str, where)
        events: list[Event] = []
        if not self.probe:
            custom = optional_field(message, "parameters.customConfig", dict, where) or {}
            variables = optional_field(message, "parameters.inputVariables", dict, where) or {}
            self.call = call_from_parameters(conversation, {**custom, **variables}, f"{where} customConfig")
            events.append(self.call)
        self.media, self.state = media, "active"
        return [self.reply("opened", {"media": [media] if media else []})], events

    def _on_ping(self, message: dict[str, Any], where: str) -> tuple[list[dict[str, Any]], list[Event]]:
        return [self.reply("pong", {})], []

    def _on_close(self, message: dict[str, Any], where: str) -> tuple[list[dict[str, Any]], list[Event]]:
        if self.state == "closed":
            return [], []
        self.close_reason = optional_field(message, "parameters.reason", str, where)
        self.state = "closed"
        return [self.reply("closed", {})], self.end()

    def _on_update(self, message: dict[str, Any], where: str) -> tuple[list[dict[str, Any]], list[Event]]:
        self.language = optional_field(message, "parameters.language", str, where) or self.language
        return [], []

    def _on_paused(self, message: dict[str, Any], where: str) -> tuple[list[dict[str, Any]], list[Event]]:
        if self.state == "active":
            self.state = "paused"
        return [], []

    def _on_resumed(self, message: dict[str, Any], where: str) -> tuple[list[dict[str, Any]], list[Event]]:
        discarded = duration_s(field_of(message, "parameters.discarded", str, where), "parameters.discarded", where)
        self._skipped_s += discarded  # the audio of the pause never comes: later audio is that much later
        if self.state == "paused":
            self.state = "active"
        return [], []

    def _on_discarded(self, message: dict[str, Any], where: str) -> tuple[list[dict[str, Any]], list[Event]]:
        discarded = duration_s(field_of(message, "parameters.discarded", str, where), "parameters.discarded", where)
        self._skipped_s += discarded
        return [], []

    def _on_error(self, message: dict[str, Any], where: str) -> tuple[list[dict[str, Any]], list[Event]]:
        code = optional_field(message, "parameters.code", int, where)
        text = optional_field(message, "parameters.message", str, where) or ""
        self.client_errors.append(f"{code}: {text}")
        return [], []

    # -- binary frames ------------------------------------------------------------------------

    def on_binary(self, frame: bytes) -> list[AudioChunk]:
        """The audio in one binary frame, one AudioChunk per channel; `WireError` if it cannot be used.

        The frame is dropped and the session keeps its state; the protocol's answer to the error
        is `fail(error)` (a `disconnect`), which the glue sends.
        """
        if self.state != "active" or self.media is None:
            why = {"preparing": "before 'open'", "paused": "while paused", "closed": "after 'close'"}
            when = why.get(self.state, "with no media negotiated (a connection probe)")
            raise WireError(f"audio frame {when}: AudioHook sends audio only between 'opened' and 'close'")
        channels = self.media["channels"]
        if len(frame) % len(channels):
            raise WireError(
                f"audio frame of {len(frame)} bytes does not hold whole samples for {len(channels)} channels "
                f"({', '.join(channels)}): PCMU frames carry one byte per channel per sample, interleaved"
            )
        if not frame:
            return []
        samples = decode_mulaw(frame).reshape(-1, len(channels))
        t = self._samples / ANALYSIS_RATE + self._skipped_s
        self._samples += samples.shape[0]
        columns = (np.ascontiguousarray(samples[:, i]) for i in range(len(channels)))
        return [AudioChunk(CHANNEL_SPEAKERS[name], x, t) for name, x in zip(channels, columns, strict=True)]

    # -- the socket loop's view (ingest/wire.py TelephonySerializer) ---------------------------

    def receive_text(self, text: str) -> Received:
        failed = self.failed
        replies, events = self.on_text(text)
        problem = WireError(self.failed) if self.failed is not None and self.failed != failed else None
        return Received(replies, events, problem)

    def receive_binary(self, data: bytes) -> Received:
        try:
            return Received(events=list(self.on_binary(data)))
        except WireError as problem:  # answered with the protocol's disconnect, once
            return Received(self.fail(problem), problem=problem)

    # -- replies and the end ------------------------------------------------------------------

    def reply(self, kind: str, parameters: dict[str, Any]) -> dict[str, Any]:
        """A server message, with the next server seq and the last client seq seen."""
        self.seq += 1
        return {
            "version": VERSION,
            "type": kind,
            "seq": self.seq,
            "clientseq": self.clientseq,
            "id": self.id or NULL_UUID,
            "parameters": parameters,
        }

    def fail(self, error: WireError | str) -> list[dict[str, Any]]:
        """The protocol's answer to a client mistake: one `disconnect` (reason "error"), not repeated."""
        if self.failed is not None or self.state == "closed":
            return []
        self.failed = str(error)
        return [self.reply("disconnect", {"reason": "error", "info": self.failed})]

    @property
    def position(self) -> float:
        """Seconds of the conversation heard so far (audio received plus audio paused or discarded)."""
        return self._samples / ANALYSIS_RATE + self._skipped_s

    def end(self) -> list[Event]:
        """The call ended (a `close`, or the socket closed without one): CallEnded, once, if a call opened."""
        if self.call is None or self.ended:
            return []
        self.ended = True
        return [CallEnded(t=round(self.position, 3))]


def choose_media(offers: list[Any]) -> dict[str, Any] | None:
    """The offer we take: PCMU, 8 kHz audio with both channels, else the external channel alone."""
    usable = [
        m
        for m in offers
        if isinstance(m, dict) and m.get("type") == "audio" and m.get("format") == "PCMU" and m.get("rate") == 8000
    ]
    for wanted in ACCEPTED_CHANNELS:
        for m in usable:
            channels = m.get("channels")
            if isinstance(channels, list) and sorted(channels) == sorted(wanted):
                return {"type": "audio", "format": "PCMU", "channels": list(channels), "rate": 8000}
    return None


def _describe(offer: Any) -> str:
    if not isinstance(offer, dict):
        return repr(offer)
    channels = "+".join(str(c) for c in offer.get("channels", [])) if isinstance(offer.get("channels"), list) else "?"
    return f"{offer.get('type')} {offer.get('format')} {offer.get('rate')} Hz {channels}"
