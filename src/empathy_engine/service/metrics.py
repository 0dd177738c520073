"""Prometheus metrics, served at GET /metrics by service/api_metrics.py (docs/operations.md, "Metrics").

Counting is plain integer arithmetic on the event loop's thread: no lock, no allocation, no
database read per turn (the live path handles hundreds of turns a second on two cores). The
numbers become Prometheus metric families only when /metrics is scraped, by `Collector`, which
also reads what already exists (the live calls per tenant, the webhook's queue) at that moment.
prometheus-client writes the exposition format and adds the process's own metrics.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from empathy_engine import __version__
from empathy_engine.coaching.escalation import PRECEDENCE

#: Upper bounds (seconds) of the insight latency histogram: a turn's insight normally takes a few ms.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: WebSocket close reasons that are refusals of a credential or an origin (service/guard.py, authz.py).
WS_REFUSALS = frozenset({"unauthorized", "forbidden", "bad_origin", "credential_revoked", "session_expired"})
#: Escalation reasons are a fixed set (coaching/escalation.py); anything else counts as "other".
ESCALATION_REASONS = frozenset(PRECEDENCE)


class Metrics:
    """The counts. Every method is called on the event loop's thread only (so no lock is needed)."""

    def __init__(self) -> None:
        self.turns: Counter[str] = Counter()  # by tenant
        self.calls_started: Counter[str] = Counter()  # by tenant
        self.latency = [0] * (len(LATENCY_BUCKETS) + 1)  # per bucket (not cumulative); the last is +Inf
        self.latency_sum = 0.0
        self.storage_failures: Counter[str] = Counter()  # by reason: database_busy, storage_refused, ...
        self.escalations: Counter[str] = Counter()  # by reason
        self.safety_alerts = 0
        self.sockets: Counter[str] = Counter()  # open WebSockets by kind
        self.auth_refusals: Counter[str] = Counter()  # by reason
        self.webhook: Counter[tuple[str, str]] = Counter()  # (event type, outcome)
        self.webhook_failed_attempts = 0
        #: Messages between replicas (service/cluster_bus.py) by outcome: published, dropped, received.
        self.redis: Counter[str] = Counter()
        #: The webhook queue's length now (set by service/webhook.py when it starts).
        self.webhook_queued: Callable[[], int] = lambda: 0

    def turn(self, tenant_id: str, received: float) -> None:
        """A final turn was stored and its insight handed to the stream and the cockpits.
        `received`: time.perf_counter() when its frame arrived."""
        self.turns[tenant_id] += 1
        elapsed = time.perf_counter() - received
        self.latency[bisect_left(LATENCY_BUCKETS, elapsed)] += 1
        self.latency_sum += elapsed

    def escalation(self, reason: str) -> None:
        self.escalations[reason if reason in ESCALATION_REASONS else "other"] += 1


class Collector:
    """Turns `Metrics` (and what is live now) into metric families at scrape time."""

    def __init__(self, metrics: Metrics, live_calls: Callable[[], Counter[str]]) -> None:
        self.m = metrics
        self.live_calls = live_calls

    def collect(self) -> Iterator[Metric]:
        m = self.m
        info = GaugeMetricFamily("empathy_build_info", "The running version (always 1).", labels=["version"])
        info.add_metric([__version__], 1)
        yield info
        yield _by(GaugeMetricFamily, "empathy_calls_live", "Calls started and not ended.", "tenant", self.live_calls())
        yield _by(CounterMetricFamily, "empathy_calls_started", "Calls started.", "tenant", m.calls_started)
        yield _by(CounterMetricFamily, "empathy_turns", "Final turns stored and answered.", "tenant", m.turns)
        yield self._latency()
        yield _by(
            CounterMetricFamily,
            "empathy_storage_failures",
            "Stream writes the database did not take (the event was refused, nothing stored).",
            "reason",
            m.storage_failures,
        )
        yield _by(CounterMetricFamily, "empathy_escalations", "Bot calls handed to a human.", "reason", m.escalations)
        yield CounterMetricFamily("empathy_safety_alerts", "Safety cards raised, once per call.", m.safety_alerts)
        yield _by(GaugeMetricFamily, "empathy_websocket_connections", "Open WebSockets.", "kind", m.sockets)
        yield _by(
            CounterMetricFamily,
            "empathy_auth_refusals",
            "Requests and sockets refused for their credential (401, 403) or their origin.",
            "reason",
            m.auth_refusals,
        )
        yield from self._webhook()
        yield _by(
            CounterMetricFamily,
            "empathy_redis_messages",
            "Board rows and watchers' frames between replicas: published, dropped (Redis slow or down), received.",
            "outcome",
            m.redis,
        )

    def _latency(self) -> HistogramMetricFamily:
        cumulative, buckets = 0, []
        for bound, count in zip((*LATENCY_BUCKETS, float("inf")), self.m.latency, strict=True):
            cumulative += count
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), float(cumulative)))
        return HistogramMetricFamily(
            "empathy_insight_latency_seconds",
            "From a final turn's frame arriving to its insight being sent (stored first).",
            buckets=buckets,
            sum_value=self.m.latency_sum,
        )

    def _webhook(self) -> Iterator[Metric]:
        deliveries = CounterMetricFamily(
            "empathy_webhook_deliveries",
            "Webhook events by outcome: delivered, given_up (every attempt failed), dropped (queue full).",
            labels=["event", "outcome"],
        )
        for (event, outcome), count in sorted(self.m.webhook.items()):
            deliveries.add_metric([event, outcome], count)
        yield deliveries
        yield CounterMetricFamily(
            "empathy_webhook_failed_attempts",
            "Webhook delivery attempts that failed (each retry that fails counts).",
            self.m.webhook_failed_attempts,
        )
        yield GaugeMetricFamily("empathy_webhook_queue", "Webhook events waiting.", self.m.webhook_queued())


def _by(kind: Any, name: str, documentation: str, label: str, counts: Counter[str]) -> Metric:
    family: Metric = kind(name, documentation, labels=[label])
    for value, count in sorted(counts.items()):
        family.add_metric([value], count)  # type: ignore[attr-defined]
    return family


def registry_of(metrics: Metrics, live_calls: Callable[[], Counter[str]]) -> CollectorRegistry:
    """One registry per app (tests build many apps in one process), with the process's own metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Collector(metrics, live_calls))
    ProcessCollector(registry=registry)
    return registry


def _socket_kind(path: str) -> str:
    if path.startswith("/v1/telephony/"):
        return "telephony"
    if path.endswith("/stream"):
        return "stream"
    if path.startswith("/v1/board/"):
        return "board"
    return "watch" if path.endswith("/watch") else "other"


class MetricsMiddleware:
    """Counts what only the transport sees: open WebSockets, and refusals (401/403, and sockets
    closed for their credential or origin). A few comparisons per message; nothing more."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.m = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.app(scope, receive, self._http_send(send))
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _http_send(self, send: Send) -> Send:
        refusals = self.m.auth_refusals

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (401, 403):
                refusals["unauthorized" if message["status"] == 401 else "forbidden"] += 1
            await send(message)

        return counted

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind, sockets, refusals = _socket_kind(scope["path"]), self.m.sockets, self.m.auth_refusals
        accepted = False

        async def counted(message: Message) -> None:
            nonlocal accepted
            kind_of = message["type"]
            if kind_of == "websocket.accept" and not accepted:
                accepted = True
                sockets[kind] += 1
            elif kind_of == "websocket.close" and message.get("code") == 1008:
                reason = message.get("reason") or ""
                if reason in WS_REFUSALS:
                    refusals[reason] += 1
            elif kind_of == "websocket.http.response.start" and message["status"] in (401, 403):
                refusals["unauthorized" if message["status"] == 401 else "forbidden"] += 1
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:
            if accepted:
                sockets[kind] -= 1
