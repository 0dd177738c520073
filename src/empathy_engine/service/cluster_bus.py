"""Several replicas, one board: board rows and watchers' frames between replicas over Redis pub/sub.

With EMPATHY_REDIS_URL set, every replica publishes, per tenant, the board rows of the calls it
holds (the BOARD_ROWS riskiest, since no board lists more, and how many it holds in all; when
they change, at most once per board interval, and again every HEARTBEAT_S), and every frame it
sends a call's watchers. Every replica takes the other replicas' rows into its
boards, so a supervisor sees every call whichever replica the board's socket reached; a row
carries an expiry (ROWS_TTL_S), so a lost message heals at the next heartbeat and the rows of a
replica that died age out. Frames of a call go to the call's own channel, which a replica
listens to only while one of its watchers follows that call (after a take-over, a cockpit still
open on the old replica keeps getting the new holder's frames).

Nothing here is on a turn's path: publishing is a `put_nowait` into a bounded queue that one
task drains to Redis. When Redis is slow or down the queue fills and what does not fit is
dropped and counted (`empathy_redis_messages_total{outcome="dropped"}`), never waited for.
Only what watchers are already sent goes out: frames and rows are redacted before they get here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from empathy_engine.service.metrics import Metrics

if TYPE_CHECKING:
    from empathy_engine.service.live import LiveRegistry

log = logging.getLogger(__name__)

#: How long another replica's rows stay on the board without being published again.
ROWS_TTL_S = 3.0
#: Every replica publishes its rows at least this often (a lost message heals within it).
HEARTBEAT_S = 1.0
#: A message larger than this from Redis is ignored (a board of BOARD_ROWS rows is ~100 KB).
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
#: Wait before reconnecting to Redis after it failed, doubled up to RETRY_MAX_S.
RETRY_S, RETRY_MAX_S = 0.5, 10.0
BOARD = "empathy:board:"
CALL = "empathy:call:"


@lru_cache(maxsize=20_000)
def call_channel(tenant_id: str, call_id: str) -> str:
    """One call's channel: JSON keeps any tenant or call id unambiguous (built once per live call)."""
    return CALL + json.dumps([tenant_id, call_id], separators=(",", ":"))


class ClusterBus:
    """This replica's side of the Redis pub/sub shared by the replicas."""

    def __init__(
        self, url: str, replica_id: str, live: LiveRegistry, metrics: Metrics, queue: int, interval_s: float
    ) -> None:
        self.url = url
        self.interval_s = interval_s  # the board interval: own rows published at most this often
        self.replica_id = replica_id
        self.live = live
        self.metrics = metrics
        self._out: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(queue)
        self._prefix = (replica_id + "\n").encode()  # every message starts with its sender
        #: tenant -> replica -> (time.monotonic() it expires, its rows, how many calls it holds)
        self._remote: dict[str, dict[str, tuple[float, list[dict[str, Any]], int]]] = {}
        self._dirty: set[str] = set()  # tenants whose own rows changed since last published
        self._published: set[str] = set()  # tenants this replica has published rows for
        self._wake = asyncio.Event()
        self._wanted: set[str] = set()  # call channels some local watcher follows
        self.connected = False

    # --- called on the event loop by LiveRegistry (never waits) ---------------------------------

    def frame(self, tenant_id: str, call_id: str, text: str) -> None:
        self._send(call_channel(tenant_id, call_id), self._prefix + text.encode())

    def board_changed(self, tenant_id: str) -> None:
        self._dirty.add(tenant_id)
        self._wake.set()

    def follow(self, tenant_id: str, call_id: str, following: bool) -> None:
        """A local watcher started (or the last one stopped) following a call."""
        channel = call_channel(tenant_id, call_id)
        (self._wanted.add if following else self._wanted.discard)(channel)

    def rows_of(self, tenant_id: str) -> tuple[dict[str, dict[str, Any]], int]:
        """The other replicas' live rows of a tenant by call id (of two for one call, during a
        take-over, the later one), and how many calls they hold beyond the rows they sent."""
        now = time.monotonic()
        rows: dict[str, dict[str, Any]] = {}
        unlisted = 0
        for expires, replica_rows, total in self._remote.get(tenant_id, {}).values():
            if expires < now:
                continue
            unlisted += max(0, total - len(replica_rows))
            for row in replica_rows:
                known = rows.get(row["call_id"])
                if known is None or row.get("updated_at", 0) > known.get("updated_at", 0):
                    rows[row["call_id"]] = row
        return rows, unlisted

    def _send(self, channel: str, data: bytes) -> None:
        try:
            self._out.put_nowait((channel, data))
        except asyncio.QueueFull:
            self.metrics.redis["dropped"] += 1

    # --- the tasks -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Publish, listen and heartbeat until cancelled; Redis going away is retried, never fatal."""
        from redis import asyncio as aioredis  # the cluster extra; checked when the app starts

        client = aioredis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)
        try:
            await asyncio.gather(self._publisher(client), self._listener(client), self._heartbeat())
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def _publisher(self, client: Any) -> None:
        wait = RETRY_S
        while True:
            channel, data = await self._out.get()
            try:
                await client.publish(channel, data)
            except Exception as e:  # down or slow: this message is lost, later ones are tried
                self.metrics.redis["dropped"] += 1
                self._down(e)
                await asyncio.sleep(wait)
                wait = min(RETRY_MAX_S, wait * 2)
                continue
            wait = RETRY_S
            self.metrics.redis["published"] += 1

    async def _listener(self, client: Any) -> None:
        wait = RETRY_S
        while True:
            try:
                await self._listen(client)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self._down(e)
                await asyncio.sleep(wait)
                wait = min(RETRY_MAX_S, wait * 2)
            else:
                wait = RETRY_S

    async def _listen(self, client: Any) -> None:
        pubsub = client.pubsub()
        try:
            await pubsub.psubscribe(BOARD + "*")
            subscribed: set[str] = set()
            if not self.connected:
                log.info("cluster: connected to Redis as replica %s", self.replica_id)
            self.connected = True
            while True:
                wanted = set(self._wanted)  # watchers come and go on the loop meanwhile
                if add := wanted - subscribed:
                    await pubsub.subscribe(*add)
                if gone := subscribed - wanted:
                    await pubsub.unsubscribe(*gone)
                subscribed = wanted
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
                if message is not None:
                    self._take(message)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    def _take(self, message: dict[str, Any]) -> None:
        channel = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
        data = message["data"]
        if not isinstance(data, bytes) or len(data) > MAX_MESSAGE_BYTES or data.startswith(self._prefix):
            return  # not a message of ours, too large, or this replica's own
        try:
            sender, body = data.split(b"\n", 1)
            if channel.startswith(BOARD):
                self._take_rows(channel[len(BOARD) :], sender.decode(), json.loads(body))
            elif channel.startswith(CALL):
                tenant_id, call_id = json.loads(channel[len(CALL) :])
                self.live.publish_local(tenant_id, call_id, body.decode())
            self.metrics.redis["received"] += 1
        except (ValueError, KeyError, IndexError, TypeError):
            log.warning("cluster: ignored a malformed message on %s", channel[:80])

    def _take_rows(self, tenant_id: str, replica: str, message: dict[str, Any]) -> None:
        ttl = min(float(message.get("ttl", ROWS_TTL_S)), 60.0)
        rows = [r for r in message["rows"] if isinstance(r, dict) and "call_id" in r]
        total = max(len(rows), int(message.get("total", len(rows))))
        self._remote.setdefault(tenant_id, {})[replica] = (time.monotonic() + ttl, rows, total)
        self.live.remote_changed(tenant_id)

    async def _heartbeat(self) -> None:
        """Publish this replica's rows when they change (at most once per board interval) and
        every HEARTBEAT_S anyway; and re-push boards whose remote rows just expired."""
        next_beat = 0.0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=HEARTBEAT_S)
            self._wake.clear()
            now = time.monotonic()
            if now >= next_beat:
                next_beat = now + HEARTBEAT_S
                self._dirty |= {tenant for tenant, _ in self.live.calls} | self._published
                self._expire(now)
            dirty, self._dirty = self._dirty, set()
            for tenant_id in dirty:
                self._publish_rows(tenant_id)
            await asyncio.sleep(self.interval_s)

    def _publish_rows(self, tenant_id: str) -> None:
        rows, total = self.live.own_rows(tenant_id)
        if rows:
            self._published.add(tenant_id)
        else:
            self._published.discard(tenant_id)  # one empty message takes this replica's rows off
        message = {"ttl": ROWS_TTL_S, "rows": rows, "total": total}
        self._send(BOARD + tenant_id, self._prefix + json.dumps(message).encode())

    def _expire(self, now: float) -> None:
        for tenant_id, replicas in self._remote.items():
            gone = [r for r, (expires, _, _) in replicas.items() if expires < now]
            for replica in gone:
                del replicas[replica]
            if gone:
                self.live.remote_changed(tenant_id)

    def _down(self, error: Exception) -> None:
        if self.connected:
            log.warning("cluster: Redis at %s failed (%s); boards show this replica's calls only", self._where, error)
        self.connected = False

    @property
    def _where(self) -> str:
        """The Redis address without a password."""
        from urllib.parse import urlsplit

        parts = urlsplit(self.url)
        return f"{parts.hostname}:{parts.port or 6379}"
