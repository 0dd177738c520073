"""Recorded-format telephony sessions built from the synthesised voice fixtures, for replay tests.

`two_channel_call` lays fixture sentences on a customer and an agent channel; `twilio_messages`
and `audiohook_messages` turn the channels into the exact frames each platform sends: Twilio's
JSON text frames (20 ms of base64 mu-law per track) and AudioHook's JSON text messages with
binary frames of interleaved PCMU (`encode_mulaw`, ingest/audio.py).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from empathy_engine.ingest.audio import ANALYSIS_RATE, encode_mulaw, read_wav

VOICE = Path(__file__).resolve().parent / "fixtures" / "voice"
RATE = ANALYSIS_RATE
CALL_SID = "CA0123456789abcdef0123456789abcdef"
STREAM_SID = "MZ0123456789abcdef0123456789abcdef"
ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
SESSION_ID = "e160e428-53e2-487c-977d-96989bf5c99d"
CONVERSATION_ID = "090eaa2f-72fa-480a-83e0-8667ff89c0ec"
ORGANIZATION_ID = "d7934305-0972-4844-938e-9060eef73d05"
PARTICIPANT_ID = "883efee8-3d6c-4537-b500-6d7ca4b92fa0"


@cache
def fixture(name: str) -> np.ndarray:
    return read_wav(VOICE / f"{name}.wav").channel(0)


@dataclass(frozen=True)
class Line:
    """One sentence of the script: who says which fixture, from when to when (seconds)."""

    speaker: str
    name: str
    t: float
    end: float


@dataclass(frozen=True)
class Call:
    customer: np.ndarray
    agent: np.ndarray
    lines: tuple[Line, ...]

    @property
    def duration(self) -> float:
        return len(self.customer) / RATE


def two_channel_call(script: list[tuple[str, str, float]], tail: float = 1.0) -> Call:
    """Channels from (speaker, fixture, start second) lines: silence elsewhere, as a stereo recording."""
    lines = [Line(s, n, t, t + len(fixture(n)) / RATE) for s, n, t in script]
    total = int((max(line.end for line in lines) + tail) * RATE)
    channels = {"customer": np.zeros(total, np.float32), "agent": np.zeros(total, np.float32)}
    for line in lines:
        start = int(round(line.t * RATE))
        x = fixture(line.name)
        channels[line.speaker][start : start + len(x)] += x
    return Call(channels["customer"], channels["agent"], tuple(lines))


#: A home-services call: two customer turns in a row, agent turns between, a raised last turn.
SCRIPT = [
    ("customer", "base_1", 0.5),
    ("agent", "agent_1", 4.2),
    ("customer", "base_2", 8.1),
    ("customer", "base_3", 11.7),
    ("agent", "agent_1", 15.0),
    ("customer", "fine_raised", 18.9),
]
WORDS = {
    "base_1": "Hi, I am calling about the furnace in my basement.",
    "base_2": "It started making a strange noise last night.",
    "base_3": "The model number is on a sticker near the filter.",
    "fine_raised": "Okay. I guess it is fine.",
    "agent_1": "I am sorry, the earliest we can do is Wednesday afternoon.",
}


def twilio_messages(
    call: Call, parameters: dict[str, str] | None = None, chunk_ms: int = 20, stop: bool = True
) -> list[str]:
    """Twilio Media Streams text frames for a whole call, both tracks, as Twilio sends them."""
    seq = iter(range(1, 1_000_000))
    out: list[dict[str, Any]] = [{"event": "connected", "protocol": "Call", "version": "1.0.0"}]
    out.append(
        {
            "event": "start",
            "sequenceNumber": str(next(seq)),
            "start": {
                "accountSid": ACCOUNT_SID,
                "streamSid": STREAM_SID,
                "callSid": CALL_SID,
                "tracks": ["inbound", "outbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": parameters or {},
            },
            "streamSid": STREAM_SID,
        }
    )
    step = RATE * chunk_ms // 1000
    for chunk, i in enumerate(range(0, len(call.customer), step), start=1):
        for track, x in (("inbound", call.customer), ("outbound", call.agent)):
            payload = base64.b64encode(encode_mulaw(x[i : i + step])).decode()
            media = {"track": track, "chunk": str(chunk), "timestamp": str(i * 1000 // RATE), "payload": payload}
            out.append({"event": "media", "sequenceNumber": str(next(seq)), "media": media, "streamSid": STREAM_SID})
        if chunk % 250 == 0:  # a mark back from a bidirectional stream every 5 s
            mark = {"name": f"cue-{chunk // 250}"}
            out.append({"event": "mark", "sequenceNumber": str(next(seq)), "streamSid": STREAM_SID, "mark": mark})
    if stop:
        stopped = {"accountSid": ACCOUNT_SID, "callSid": CALL_SID}
        out.append({"event": "stop", "sequenceNumber": str(next(seq)), "streamSid": STREAM_SID, "stop": stopped})
    return [json.dumps(m) for m in out]


class AudioHookClient:
    """Builds what Genesys sends: text messages with seq/serverseq/position, binary audio frames."""

    def __init__(self, session_id: str = SESSION_ID) -> None:
        self.id = session_id
        self.seq = 0
        self.serverseq = 0  # the replies the server will have sent before our next message
        self.samples = 0

    def message(self, kind: str, parameters: dict[str, Any], replies: int = 1, **extra: Any) -> str:
        self.seq += 1
        position = f"PT{self.samples / RATE:.3f}S".replace(".000S", "S")
        m = {"version": "2", "id": self.id, "type": kind, "seq": self.seq, "serverseq": self.serverseq}
        m |= {"position": position, "parameters": parameters, **extra}
        self.serverseq += replies
        return json.dumps(m)

    def open(self, media: list[dict[str, Any]] | None = None, **parameters: Any) -> str:
        offers = (
            media
            if media is not None
            else [
                {"type": "audio", "format": "PCMU", "channels": ["external", "internal"], "rate": 8000},
                {"type": "audio", "format": "PCMU", "channels": ["external"], "rate": 8000},
                {"type": "audio", "format": "PCMU", "channels": ["internal"], "rate": 8000},
            ]
        )
        p = {
            "organizationId": ORGANIZATION_ID,
            "conversationId": CONVERSATION_ID,
            "participant": {"id": PARTICIPANT_ID, "ani": "+13175550123", "aniName": "Dana", "dnis": "+13175550100"},
            "media": offers,
            "language": "en-US",
        }
        return self.message("open", p | parameters)

    def frame(self, *channels: np.ndarray) -> bytes:
        """One binary frame: the channels' samples interleaved, mu-law."""
        self.samples += len(channels[0])
        return encode_mulaw(np.stack(channels, axis=1).ravel())


def audiohook_messages(call: Call, frame_ms: int = 100, ping_s: float = 5.0, close: bool = True) -> list[str | bytes]:
    """A whole AudioHook session: open, stereo audio frames with pings between, close."""
    client = AudioHookClient()
    out: list[str | bytes] = [client.open(customConfig={"customer_id": "cust-7", "service": "hvac"})]
    step = RATE * frame_ms // 1000
    next_ping = ping_s
    for i in range(0, len(call.customer), step):
        out.append(client.frame(call.customer[i : i + step], call.agent[i : i + step]))
        if client.samples / RATE >= next_ping:
            out.append(client.message("ping", {"rtt": "PT0.05S"}))
            next_ping += ping_s
    if close:
        out.append(client.message("close", {"reason": "end"}))
    return out
