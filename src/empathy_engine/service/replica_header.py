"""`X-Empathy-Replica` on every response and WebSocket handshake: which replica served it.

Behind HAProxy (docs/deploy.md) it shows that a call's stream and its watchers reached the same
replica, and which one to look at in the logs. It names a process, never a secret or a host's
address unless EMPATHY_REPLICA_ID is set to one.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-empathy-replica"


class ReplicaHeader:
    """Pure ASGI (no body buffering): adds the header to http.response.start and websocket.accept."""

    def __init__(self, app: ASGIApp, replica_id: str) -> None:
        self.app = app
        self.value = replica_id.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        async def tagged(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message = {**message, "headers": [*message.get("headers", []), (HEADER, self.value)]}
            await send(message)

        await self.app(scope, receive, tagged)
