"""REST bodies are read with the same JSON limits as every other input (ingest/limits.py).

FastAPI parses a JSON body with Starlette's `Request.json` (plain `json.loads`): NaN, Infinity,
1e400, 5,000-digit numbers, lone surrogates and NUL characters all got through, and the 422 that
echoed them back (or PostgreSQL, which refuses NUL) then failed as a 500. `SafeJsonRoute`, the
route class of every REST router, reads bodies with `load_json` instead: such a body is a 400
that names the problem, and the connection stays usable for the next keep-alive request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

from empathy_engine.ingest.limits import JsonLimitError, load_json


class SafeJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = load_json(body)
            except JsonLimitError as e:
                raise HTTPException(400, f"request body refused: {e}") from None
            except UnicodeDecodeError as e:
                message = f"request body is not UTF-8 (invalid byte at {e.start}); send UTF-8 JSON"
                raise HTTPException(400, message) from None
            except json.JSONDecodeError:
                raise  # FastAPI answers malformed JSON with its usual 422, naming the position
        return self._json


class SafeJsonRoute(APIRoute):
    """An APIRoute whose request body is parsed by `SafeJsonRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def safe_handler(request: Request) -> Response:
            return await handler(SafeJsonRequest(request.scope, request.receive))

        return safe_handler
