"""A signed outbound webhook for hand-overs (a bot call handed to a human) and safety alerts.

`Webhook.send` only puts the event on a bounded queue (never blocking the live path); worker
tasks POST it in the background, one thread doing the HTTP, and retry a failure with
exponential backoff and jitter until EMPATHY_WEBHOOK_ATTEMPTS are spent. An event that finds
the queue full is dropped. Deliveries, failed attempts, give-ups and drops are counted in the
metrics and logged. Each attempt is signed afresh (docs/operations.md, "Webhook"):

    Empathy-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

and carries the same Empathy-Delivery id, so a receiver can drop a repeat it has already taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import random
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from empathy_engine import __version__
from empathy_engine.service.metrics import Metrics
from empathy_engine.service.settings import Settings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Empathy-Signature"
#: Deliveries in flight at once (each worker takes one event through all its attempts).
WORKERS = 4
#: No wait between attempts is longer than this, however many attempts there are.
MAX_BACKOFF_S = 300.0


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The Empathy-Signature header's value for `body` sent at `timestamp`."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: bytes, header: str, body: bytes, tolerance_s: float = 300, now: float | None = None) -> bool:
    """What a receiver does (docs/operations.md shows the same in a few lines): the signature is
    ours over this body, and was made within `tolerance_s` of now (a replayed old request fails)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    expected = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))


@dataclass(frozen=True, slots=True)
class Event:
    type: str  # "handover" or "alert"
    id: str  # the Empathy-Delivery id, the same on every attempt
    body: bytes


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failed delivery: following it would resend the signed body somewhere else."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Webhook:
    """The queue and its workers. `start` and `stop` run in the app's lifespan; `send` on the loop."""

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        assert settings.webhook_url is not None and settings.webhook_secret is not None
        self.url = settings.webhook_url
        self._secret = settings.webhook_secret.get_secret_value().encode()
        self.timeout_s = settings.webhook_timeout_s
        self.attempts = settings.webhook_attempts
        self.backoff_s = settings.webhook_backoff_s
        self.metrics = metrics
        self._queue: asyncio.Queue[Event] = asyncio.Queue(settings.webhook_queue)
        self._opener = urllib.request.build_opener(_NoRedirect)
        self._http = ThreadPoolExecutor(WORKERS, thread_name_prefix="empathy-webhook")
        self._workers: list[asyncio.Task[None]] = []
        metrics.webhook_queued = self._queue.qsize

    def start(self) -> None:
        self._workers = [asyncio.create_task(self._work()) for _ in range(WORKERS)]

    async def stop(self) -> None:
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if left := self._queue.qsize():
            log.warning("webhook: %d event(s) not delivered at shutdown", left)
        self._http.shutdown(wait=False, cancel_futures=True)

    def send(self, event_type: str, tenant_id: str, call_id: str, turn: int, data: dict[str, Any]) -> bool:
        """Queue an event; False (counted, logged) when the queue is full. Never waits."""
        delivery = uuid.uuid4().hex
        created = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        body = {
            "id": delivery,
            "type": event_type,
            "created_at": created,
            "tenant_id": tenant_id,
            "call_id": call_id,
            "turn": turn,
            "data": data,
        }
        event = Event(event_type, delivery, json.dumps(body, ensure_ascii=False).encode())
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.metrics.webhook[(event_type, "dropped")] += 1
            waiting = self._queue.qsize()
            log.error("webhook: queue full (%d waiting), %s event %s dropped", waiting, event_type, delivery)
            return False
        return True

    async def _work(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self._deliver(event)
            except Exception:  # a bug here must not stop the worker: the next event still goes
                log.exception("webhook: delivering %s failed", event.id)
            finally:
                self._queue.task_done()

    async def _deliver(self, event: Event) -> None:
        loop = asyncio.get_running_loop()
        for attempt in range(1, self.attempts + 1):
            problem = await loop.run_in_executor(self._http, self._post, event)
            if problem is None:
                self.metrics.webhook[(event.type, "delivered")] += 1
                if attempt > 1:
                    log.info("webhook: %s event %s delivered on attempt %d", event.type, event.id, attempt)
                return
            self.metrics.webhook_failed_attempts += 1
            if attempt == self.attempts:
                self.metrics.webhook[(event.type, "given_up")] += 1
                log.error(
                    "webhook: %s event %s given up after %d attempts (last: %s)", event.type, event.id, attempt, problem
                )
                return
            wait = self.backoff(attempt)
            log.warning(
                "webhook: %s event %s attempt %d failed (%s); retrying in %.1f s",
                event.type,
                event.id,
                attempt,
                problem,
                wait,
            )
            await asyncio.sleep(wait)

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt `attempt` (1, 2, ...): doubling, with +-50 % jitter so that
        many events failing together do not all come back at the same moment."""
        base = min(MAX_BACKOFF_S, self.backoff_s * 2 ** (attempt - 1))
        return float(base * random.uniform(0.5, 1.5))

    def _post(self, event: Event) -> str | None:
        """One attempt (in the HTTP thread): None when the receiver answered 2xx, else what went wrong."""
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"empathy-engine/{__version__}",
            "Empathy-Event": event.type,
            "Empathy-Delivery": event.id,
            SIGNATURE_HEADER: sign(self._secret, int(time.time()), event.body),
        }
        request = urllib.request.Request(self.url, data=event.body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                status = response.status
        except urllib.error.HTTPError as e:
            return f"HTTP {e.code}"
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            return f"{type(e).__name__}: {reason}"
        return None if 200 <= status < 300 else f"HTTP {status}"


def after_turn(webhook: Webhook | None, metrics: Metrics, live: Any, turn: int, result: dict[str, Any]) -> None:
    """What a stored customer turn tells operations: a hand-over (counted, and sent), and a safety
    card raised for the first time in this call (counted, and sent as an alert). `live`: the
    LiveCall; its `alerted` holds the safety cards already sent."""
    escalation = result.get("escalation")
    if escalation is not None:
        metrics.escalation(str(escalation.get("reason")))
        if webhook is not None:
            webhook.send("handover", live.tenant_id, live.id, turn, escalation)
    for cue in result.get("cues") or ():
        if cue.get("source") == "safety" and cue.get("id") not in live.alerted:
            live.alerted = (*live.alerted, cue.get("id"))
            metrics.safety_alerts += 1
            if webhook is not None:
                webhook.send("alert", live.tenant_id, live.id, turn, {"kind": "safety", "card": cue})
