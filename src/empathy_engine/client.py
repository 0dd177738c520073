"""A small client for the streaming API (docs/protocol.md), async and sync.

    async with await CallStream.connect("http://127.0.0.1:8000", "call-42") as call:
        await call.start({"service": "hvac", "customer": {"id": "c-7"}})
        insight = await call.say("customer", "the heat's out again")
        print(insight["detected"], insight["latency_ms"])
        await call.end()

After a lost connection or a server restart, connect again and `resume()`: it tells where the
call stands (`next_turn`), and utterances the server already stored are answered again from
the database, never stored twice (each final utterance carries the turn index it expects).
"""

from __future__ import annotations

import json
import os
from typing import Any, Literal, Self
from urllib.parse import quote

from empathy_engine.extras import MissingExtra

try:
    from websockets.asyncio.client import ClientConnection, connect
    from websockets.sync.client import ClientConnection as SyncConnection
    from websockets.sync.client import connect as sync_connect
except ModuleNotFoundError as e:  # websockets alone is enough; the serve extra brings it
    raise MissingExtra("serve", "empathy_engine.client (websockets)") from e

Speaker = Literal["customer", "agent"]
#: Frames may be as large as the server allows events to be (long texts, big headers).
MAX_FRAME = 8 * 1024 * 1024


class StreamError(Exception):
    """The server answered an event with an error frame (`code` says which, see docs/protocol.md)."""

    def __init__(self, frame: dict[str, Any]) -> None:
        self.frame = frame
        self.code: str = frame.get("code", "unknown")
        self.message: str = frame.get("message", "")
        super().__init__(f"{self.code}: {self.message}")


def auth_headers(key: str | None = None) -> dict[str, str]:
    """The Authorization header for `key`, else for EMPATHY_API_KEY (none when neither is set)."""
    key = key or os.environ.get("EMPATHY_API_KEY")
    return {"Authorization": f"Bearer {key}"} if key else {}


def stream_url(base_url: str, call_id: str, feed: str = "stream") -> str:
    """ws://host:port/v1/calls/{call_id}/stream from http://host:port (https gives wss)."""
    base = base_url.rstrip("/")
    if base.startswith("http"):
        base = "ws" + base[4:]
    return f"{base}/v1/calls/{quote(call_id, safe='')}/{feed}"


class _Calls:
    """The protocol, independent of how frames travel."""

    call_id: str
    next_turn: int

    def _utterance(self, speaker: Speaker, text: str, t: float | None, final: bool) -> dict[str, Any]:
        event: dict[str, Any] = {"type": "utterance", "speaker": speaker, "text": text, "final": final}
        if t is not None:
            event["t"] = t
        if final:
            event["turn"] = self.next_turn
        return event

    def _check(self, reply: dict[str, Any]) -> dict[str, Any]:
        if reply.get("type") == "error":
            raise StreamError(reply)
        if reply.get("type") in ("started", "resumed"):
            self.next_turn = int(reply.get("next_turn", 0))
        elif reply.get("type") == "insight" and not reply.get("provisional"):
            self.next_turn = max(self.next_turn, int(reply["turn"]) + 1)
        return reply


class CallStream(_Calls):
    """One call's stream, asyncio flavour (what the load benchmark and the demo use)."""

    def __init__(self, connection: ClientConnection, call_id: str) -> None:
        self.connection = connection
        self.call_id = call_id
        self.next_turn = 0

    @classmethod
    async def connect(cls, base_url: str, call_id: str, open_timeout: float = 10, key: str | None = None) -> CallStream:
        """`key`: the API key (a `stream` scope); default EMPATHY_API_KEY from the environment."""
        connection = await connect(
            stream_url(base_url, call_id),
            open_timeout=open_timeout,
            max_size=MAX_FRAME,
            compression=None,
            additional_headers=auth_headers(key),
        )
        return cls(connection, call_id)

    async def request(self, event: dict[str, Any]) -> dict[str, Any]:
        """Send one event and return its reply; an error frame raises StreamError."""
        await self.connection.send(json.dumps(event))
        return self._check(json.loads(await self.connection.recv()))

    async def start(self, header: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.request({"type": "start", "call": header or {}})

    async def resume(self) -> dict[str, Any]:
        return await self.request({"type": "resume"})

    async def say(self, speaker: Speaker, text: str, t: float | None = None, final: bool = True) -> dict[str, Any]:
        return await self.request(self._utterance(speaker, text, t, final))

    async def end(self) -> dict[str, Any]:
        return await self.request({"type": "end"})

    async def close(self) -> None:
        await self.connection.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class SyncCallStream(_Calls):
    """The same, blocking (for scripts and tests that are not async)."""

    def __init__(self, connection: SyncConnection, call_id: str) -> None:
        self.connection = connection
        self.call_id = call_id
        self.next_turn = 0

    @classmethod
    def connect(cls, base_url: str, call_id: str, open_timeout: float = 10, key: str | None = None) -> SyncCallStream:
        """`key`: the API key (a `stream` scope); default EMPATHY_API_KEY from the environment."""
        opener = sync_connect(
            stream_url(base_url, call_id),
            open_timeout=open_timeout,
            max_size=MAX_FRAME,
            compression=None,
            additional_headers=auth_headers(key),
        )
        # Entered rather than used as it is: websockets 17 deprecates a bare connect(), and later
        # versions return an opener whose __enter__ gives the connection; this works with both.
        return cls(opener.__enter__(), call_id)

    def request(self, event: dict[str, Any], timeout: float | None = 30) -> dict[str, Any]:
        self.connection.send(json.dumps(event))
        return self._check(json.loads(self.connection.recv(timeout)))

    def send_raw(self, frame: str | bytes, timeout: float | None = 30) -> dict[str, Any]:
        """Send a frame as it is (for testing bad input) and return the reply, errors included."""
        self.connection.send(frame)
        return json.loads(self.connection.recv(timeout))

    def start(self, header: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.request({"type": "start", "call": header or {}})

    def resume(self) -> dict[str, Any]:
        return self.request({"type": "resume"})

    def say(self, speaker: Speaker, text: str, t: float | None = None, final: bool = True) -> dict[str, Any]:
        return self.request(self._utterance(speaker, text, t, final))

    def end(self) -> dict[str, Any]:
        return self.request({"type": "end"})

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def header_of(conversation: dict[str, Any]) -> dict[str, Any]:
    """The `start` event's call header of a conversation v1 object (everything but its turns)."""
    return {k: v for k, v in conversation.items() if k != "turns"}
