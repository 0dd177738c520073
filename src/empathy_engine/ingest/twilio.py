"""Twilio Media Streams (one WebSocket per call) -> typed events.

Twilio sends one JSON object per text frame, named by its `event` field: `connected` (the
protocol, "Call"), `start` (the stream and call ids, the tracks, the TwiML `<Parameter>`s as
`customParameters`, and the media format: mu-law at 8 kHz, mono), then `media` (20 ms of one
track, base64 mu-law, `timestamp` in ms from the stream start) on each track, `mark` (a label
we sent back was played), `dtmf` (a key press) and, last, `stop`. Docs: docs/telephony.md.

    serializer = TwilioMediaSerializer()
    for event in serializer.parse(text):    # CallStarted, AudioChunk..., CallEnded
        ...
    serializer.end()                        # the socket closed: CallEnded, if Twilio sent no stop
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from empathy_engine.events import AudioChunk, CallEnded, CallStarted, Event, Speaker
from empathy_engine.ingest.audio import ANALYSIS_RATE, decode_mulaw
from empathy_engine.ingest.wire import (
    Received,
    WireError,
    call_from_parameters,
    field_of,
    number_field,
    optional_field,
    parse_object,
)

PROTOCOL = "Twilio Media Streams"
EVENTS = ("connected", "start", "media", "mark", "dtmf", "stop")
ENCODING = "audio/x-mulaw"
TRACKS = ("inbound", "outbound")
#: Inbound is what Twilio receives from the caller: the customer. Outbound is what it plays to them.
DEFAULT_TRACKS: Mapping[str, Speaker] = {"inbound": "customer", "outbound": "agent"}


class TwilioMediaSerializer:
    """One Twilio Media Streams connection: `parse` each text frame into events, `end` when it closes.

    A frame that cannot be used raises `WireError`; everything accepted before stays, and the
    next frame is parsed as usual.
    """

    vendor = "twilio"

    def __init__(self, tracks: Mapping[str, Speaker] | None = None) -> None:
        self.tracks: dict[str, Speaker] = dict(DEFAULT_TRACKS if tracks is None else tracks)
        for track, speaker in self.tracks.items():
            if track not in TRACKS or speaker not in ("customer", "agent"):
                raise ValueError(f"track mapping {track!r}: {speaker!r}; use tracks {TRACKS} -> 'customer'/'agent'")
        self.protocol: str | None = None  # from `connected`
        self.version: str | None = None
        self.stream_sid: str | None = None
        self.call: CallStarted | None = None  # from `start`
        self.stream_tracks: tuple[str, ...] = ()
        self.ended = False
        self.marks: list[str] = []  # names of the marks Twilio says were played, in order
        self.digits: list[str] = []  # DTMF key presses, in order
        self.last_t = 0.0  # end of the latest audio (seconds from the stream start)

    def parse(self, text: str) -> list[Event]:
        """The events in one text frame (often none); `WireError` if it cannot be used."""
        message = parse_object(text, PROTOCOL)
        kind = message.get("event")
        if not isinstance(kind, str):
            raise WireError(f"message has no 'event' field; {PROTOCOL} messages name it ({', '.join(EVENTS)})")
        if kind == "connected":
            return self._connected(message)
        if kind == "start":
            return self._start(message)
        if kind not in EVENTS:
            raise WireError(f"unknown event {kind!r}; {PROTOCOL} sends {', '.join(EVENTS)}")
        where = f"'{kind}'"
        if self.call is None:
            raise WireError(f"{where} before 'start': Twilio sends 'start' first; this message was dropped")
        sid = optional_field(message, "streamSid", str, where)
        if sid is not None and sid != self.stream_sid:
            raise WireError(f"{where}: streamSid {sid!r} is not this connection's stream {self.stream_sid!r}")
        if self.ended:
            raise WireError(f"{where} after 'stop': the stream has ended; this message was dropped")
        if kind == "media":
            return self._media(message, where)
        if kind == "mark":
            self.marks.append(field_of(message, "mark.name", str, where))
            return []
        if kind == "dtmf":
            self.digits.append(field_of(message, "dtmf.digit", str, where))
            return []
        self.ended = True  # stop
        return [CallEnded(t=round(self.last_t, 3))]

    def receive_text(self, text: str) -> Received:
        """`parse` for the socket loop: a bad frame is reported, not raised (Twilio expects no answer)."""
        try:
            return Received(events=self.parse(text))
        except WireError as problem:
            return Received(problem=problem)

    def receive_binary(self, data: bytes) -> Received:
        return Received(problem=WireError("a binary frame was ignored; Twilio Media Streams sends JSON text"))

    def end(self) -> list[Event]:
        """The WebSocket closed: a CallEnded if the call started and Twilio sent no `stop` (an abrupt end)."""
        if self.call is None or self.ended:
            return []
        self.ended = True
        return [CallEnded(t=round(self.last_t, 3))]

    def _connected(self, message: dict[str, Any]) -> list[Event]:
        protocol = optional_field(message, "protocol", str, "'connected'")
        if protocol is not None and protocol != "Call":
            raise WireError(f"'connected': protocol {protocol!r} is not 'Call'; point a <Stream> of a voice call here")
        self.protocol = protocol
        self.version = optional_field(message, "version", str, "'connected'")
        return []

    def _start(self, message: dict[str, Any]) -> list[Event]:
        where = "'start'"
        if self.call is not None:
            raise WireError(f"{where}: a second start on one connection; Twilio opens one WebSocket per stream")
        call_sid = field_of(message, "start.callSid", str, where)
        stream_sid = optional_field(message, "start.streamSid", str, where)
        stream_sid = stream_sid or field_of(message, "streamSid", str, where)
        encoding = field_of(message, "start.mediaFormat.encoding", str, where)
        if encoding != ENCODING:
            raise WireError(f"{where}: mediaFormat.encoding is {encoding!r}; this endpoint takes {ENCODING!r} (mu-law)")
        rate = number_field(message, "start.mediaFormat.sampleRate", where)
        if rate != ANALYSIS_RATE:
            raise WireError(f"{where}: mediaFormat.sampleRate is {rate:g}; this endpoint takes {ANALYSIS_RATE} Hz")
        channels = optional_field(message, "start.mediaFormat.channels", (int, str), where)
        if channels is not None and str(channels) != "1":
            raise WireError(f"{where}: mediaFormat.channels is {channels}; Twilio streams each track as mono (1)")
        tracks = optional_field(message, "start.tracks", list, where) or ["inbound"]
        for track in tracks:
            if track not in TRACKS:
                raise WireError(f"{where}: unknown track {track!r} in start.tracks; Twilio names 'inbound', 'outbound'")
        parameters = optional_field(message, "start.customParameters", dict, where) or {}
        call = call_from_parameters(call_sid, parameters, f"{where} customParameters")
        self.call, self.stream_sid, self.stream_tracks = call, stream_sid, tuple(tracks)
        return [call]

    def _media(self, message: dict[str, Any], where: str) -> list[Event]:
        track = field_of(message, "media.track", str, where)
        if track not in TRACKS:
            raise WireError(f"{where}: unknown media.track {track!r}; Twilio names 'inbound' and 'outbound'")
        timestamp = number_field(message, "media.timestamp", where)
        payload = field_of(message, "media.payload", str, where)
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise WireError(f"{where}: media.payload is not base64; Twilio sends base64 mu-law bytes") from None
        speaker = self.tracks.get(track)
        if speaker is None or not data:
            return []  # a track this endpoint was told to ignore, or an empty chunk
        chunk = AudioChunk(speaker, decode_mulaw(data), timestamp / 1000.0)
        self.last_t = max(self.last_t, chunk.end)
        return [chunk]
