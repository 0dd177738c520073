"""An ASGI middleware that bounds every HTTP request body while it is read.

A `Content-Length` over the limit is refused before a byte of the body is read; a chunked body
(no length) is counted as it arrives, and refused with 413 the moment it passes the limit, so a
client streaming 400 MB costs the server the limit, not 400 MB. WebSockets are bounded by the
server's frame limit instead (`Settings.ws_max_size`).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def too_large(limit: int) -> str:
    return (
        f"the request body is larger than {limit} bytes, the most this server takes (EMPATHY_MAX_BODY_BYTES); "
        "send less per request (split a CSV import into several files)"
    )


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413, counting while reading."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None and length > self.limit:
            await _refuse(send, self.limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    # Raised inside the route's body read: FastAPI answers it as a 413 and
                    # nothing more of the body is read.
                    raise HTTPException(413, too_large(self.limit))
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": too_large(limit)}).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    start: dict[str, Any] = {"type": "http.response.start", "status": 413, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body})
