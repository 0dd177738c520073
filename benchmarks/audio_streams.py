"""Real-time Twilio Media Streams for benchmarks/load.py's `audio` disturbance: audio-only calls,
recognised by the server's own recogniser, beside the measured JSON calls.

Each stream is one call: customer sentences of the domain corpus and agent replies, spoken by
espeak-ng (benchmarks/speech.py), one speaker at a time with a second of silence between turns,
laid on Twilio's two tracks (inbound: the caller, outbound: the agent) as 20 ms base64 mu-law
media messages, exactly as Twilio sends them, and sent in real time: each 20 ms of both tracks at
its moment on the stream's clock. The script loops until the window ends, then `stop`. Afterwards
each call is read back (GET /v1/calls/{callSid}): its stored turns against the utterances whose
audio, and a second of silence after it, were sent.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import websockets
from speech import PHONE_RATE, sentences, speak

from empathy_engine.ingest.audio import encode_mulaw

FRAME = PHONE_RATE // 50  # 20 ms, as Twilio sends
GAP_S = 1.0  # silence between turns: longer than the server's 0.7 s end of utterance
AGENT_LINES = (
    "I am so sorry about that, let me get someone out to you today.",
    "I understand, I can see the last visit on your account.",
    "Thank you for waiting, I have a technician free this afternoon.",
)


@dataclass(frozen=True)
class Script:
    """One call's two tracks (8 kHz floats) and where each utterance ends (samples)."""

    customer: np.ndarray
    agent: np.ndarray
    ends: tuple[int, ...]


def make_script(seed: int, turns: int = 6) -> Script:
    """`turns` utterances, customer and agent in turn, with GAP_S of silence after each."""
    said = sentences(turns, seed)
    customer: list[np.ndarray] = []
    agent: list[np.ndarray] = []
    ends: list[int] = []
    at = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(turns):
            text = said[i] if i % 2 == 0 else AGENT_LINES[(i // 2) % len(AGENT_LINES)]
            audio = speak(text, "en-us" if i % 2 == 0 else "en-us+m3", 165, Path(tmp))
            silence = np.zeros(len(audio) + int(GAP_S * PHONE_RATE), np.float32)
            speaking, quiet = (customer, agent) if i % 2 == 0 else (agent, customer)
            speaking.append(np.concatenate([audio, np.zeros(int(GAP_S * PHONE_RATE), np.float32)]))
            quiet.append(silence)
            at += len(silence)
            ends.append(at)
    return Script(np.concatenate(customer), np.concatenate(agent), tuple(ends))


def _media(stream_sid: str, track: str, chunk: int, samples: np.ndarray) -> str:
    payload = base64.b64encode(encode_mulaw(samples)).decode()
    media = {"track": track, "chunk": str(chunk), "timestamp": str(chunk * 20), "payload": payload}
    return json.dumps({"event": "media", "streamSid": stream_sid, "media": media})


async def stream_call(ws_url: str, call_sid: str, script: Script, stop: asyncio.Event) -> int | None:
    """Stream `script` (looped) as one Twilio call until `stop`; the utterances fully sent, or None
    when the connection was lost."""
    try:
        return await _stream(ws_url, call_sid, script, stop)
    except (OSError, websockets.ConnectionClosed) as e:
        print(f"  audio stream {call_sid} lost its connection: {e}", file=sys.stderr)
        return None


async def _stream(ws_url: str, call_sid: str, script: Script, stop: asyncio.Event) -> int:
    stream_sid = "MZ" + call_sid[2:]
    start = {"accountSid": "AC" + "0" * 32, "streamSid": stream_sid, "callSid": call_sid,
             "tracks": ["inbound", "outbound"], "customParameters": {"service": "hvac"},
             "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": PHONE_RATE, "channels": 1}}  # fmt: skip
    length = len(script.customer)
    spoken = 0
    async with websockets.connect(ws_url, max_size=1 << 20, ping_interval=None) as ws:  # Twilio sends no pings
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await ws.send(json.dumps({"event": "start", "streamSid": stream_sid, "start": start}))
        began, chunk = time.monotonic(), 0
        while not stop.is_set():
            at = (chunk * FRAME) % length
            for track, audio in (("inbound", script.customer), ("outbound", script.agent)):
                await ws.send(_media(stream_sid, track, chunk, audio[at : at + FRAME]))
            chunk += 1
            spoken += sum(1 for end in script.ends if at < end <= at + FRAME)
            await asyncio.sleep(max(0.0, began + chunk * 0.02 - time.monotonic()))  # real time, no drift
        await ws.send(json.dumps({"event": "stop", "streamSid": stream_sid, "stop": {"callSid": call_sid}}))
        await asyncio.sleep(0.5)
    return spoken


def stored_turns(base_url: str, call_sid: str, key: str, wait_s: float = 90.0) -> int | None:
    """The call's stored turns once it has ended (recognition may still be finishing), or None."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        request = urllib.request.Request(f"{base_url}/v1/calls/{call_sid}", headers={"Authorization": f"Bearer {key}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 (loopback only, checked)
                call: dict[str, Any] = json.loads(reply.read())
        except OSError:
            call = {}
        if call.get("status") == "ended":
            return len(call.get("turns", []))
        time.sleep(1.0)
    return None


async def keep_streaming_audio(base_url: str, streams: int, stop: asyncio.Event, key: str) -> dict[str, Any]:
    """`streams` real-time audio-only calls until `stop`; what they yielded."""
    scripts = [await asyncio.to_thread(make_script, 100 + i) for i in range(min(streams, 4))]
    ws_url = base_url.replace("http://", "ws://") + "/v1/telephony/twilio"
    sids = [f"CA{int(time.time()):010d}{i:022d}" for i in range(streams)]
    streaming = (stream_call(ws_url, sid, scripts[i % len(scripts)], stop) for i, sid in enumerate(sids))
    spoken = await asyncio.gather(*streaming)
    stored = [await asyncio.to_thread(stored_turns, base_url, sid, key) for sid in sids]
    return {
        "audio_streams": streams,
        "utterances_sent": list(spoken),
        "turns_stored": stored,
        "streams_lost": sum(1 for n in spoken if n is None),
        "every_call_yielded_its_turns": all(
            s is not None and n is not None and s >= n for s, n in zip(stored, spoken, strict=True)
        ),
    }
