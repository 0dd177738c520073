"""Live calls in memory, and the watchers (cockpits, supervisor boards) that follow them.

The database is the record; this is the fast path. A restarted server rebuilds it from the
database (`LiveCall.restore`), and a call's engine session from its stored utterances.

Everything here is kept per tenant: a live call is known by (tenant, call id), so two tenants
may stream calls with the same id, and a watcher follows its own tenant's calls and board only.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from empathy_engine.events import CallStarted
from empathy_engine.pipeline import CallSession
from empathy_engine.service.mood import Mood
from empathy_engine.store.calls import TurnRecord

if TYPE_CHECKING:
    from empathy_engine.service.cluster_bus import ClusterBus

#: Turns a live call keeps in memory for cockpits that open mid-call; older ones are in the DB.
TRANSCRIPT_KEPT = 200
#: Frames a watcher may fall behind before it is cut off (a stuck browser tab).
WATCHER_BACKLOG = 1000
#: The board lists at most this many calls (riskiest first) and says how many there are.
BOARD_ROWS = 200
#: Engine time one call may take: ENGINE_SHARE of a core on average, ENGINE_BURST_S at once.
#: A real call uses a fraction of a percent (an utterance every few seconds, ~3 ms each); a
#: client sending the longest texts back to back is slowed to this share instead of taking
#: the core every other call needs.
ENGINE_SHARE = 0.05
ENGINE_BURST_S = 0.25


class Watcher:
    """One cockpit or board connection: frames are queued as text, serialised once for all."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[str] = asyncio.Queue(WATCHER_BACKLOG)
        self.overflowed = False

    def push(self, text: str) -> None:
        if self.overflowed:
            return
        try:
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            self.overflowed = True

    async def next(self) -> str | None:
        """The next frame, or None once this watcher fell too far behind."""
        if self.overflowed and self._queue.empty():
            return None
        return await self._queue.get()


#: (tenant, call id): how a live call is known (two tenants may use the same call id).
CallKey = tuple[str, str]


@dataclass(eq=False)
class LiveCall:
    """One call of one tenant that has started and not ended."""

    tenant_id: str
    id: str
    header: dict[str, Any]
    call: CallStarted
    created_at: float = field(default_factory=time.time)
    session: CallSession | None = None  # None until rebuilt after a restart or a failure
    next_turn: int = 0
    ended: bool = False
    producer: object | None = None  # the stream connection that holds the call
    #: The epoch this replica holds the call at in the database (migration 0008): its writes name
    #: it and are refused once another replica has taken the call over. None: not held (restored).
    epoch: int | None = None
    #: Entries kept as JSON text: one object per turn instead of dozens, so a thousand live calls
    #: give the garbage collector little to walk (its full passes were the latency tail).
    transcript: deque[str] = field(default_factory=lambda: deque(maxlen=TRANSCRIPT_KEPT))
    mood: Mood = field(default_factory=Mood)
    updated_at: float = field(default_factory=time.time)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: time.monotonic() of the call's last event (start, resume, utterance): idle calls expire.
    last_event: float = field(default_factory=time.monotonic)
    #: time.monotonic() when its stream connection went away (None while one holds it): after
    #: LiveRegistry.dropped_grace_s the call leaves the board, though it may still resume.
    dropped_at: float | None = None
    #: time.time() when the customer's current state began (the board's "in state" column).
    state_since: float = field(default_factory=time.time)

    #: Safety cards already sent as webhook alerts (service/webhook.py): each is sent once per call.
    alerted: tuple[str, ...] = ()

    #: Engine seconds this call owes (a leaky bucket draining at ENGINE_SHARE), and since when.
    engine_debt_s: float = 0.0
    engine_debt_at: float = field(default_factory=time.monotonic)

    def touch(self) -> None:
        self.last_event = time.monotonic()

    def idle_s(self) -> float:
        """Seconds since the call's last event here."""
        return time.monotonic() - self.last_event

    def charge(self, engine_s: float) -> None:
        """Count engine time this call used."""
        self.engine_wait_s()
        self.engine_debt_s += engine_s

    def engine_wait_s(self) -> float:
        """How long the call's next engine work must wait to stay within its share (0 mostly)."""
        now = time.monotonic()
        self.engine_debt_s = max(0.0, self.engine_debt_s - (now - self.engine_debt_at) * ENGINE_SHARE)
        self.engine_debt_at = now
        return max(0.0, (self.engine_debt_s - ENGINE_BURST_S) / ENGINE_SHARE)

    def record(self, turn: TurnRecord) -> str:
        """Take a stored turn into the live view; returns its transcript entry (JSON text)."""
        now = time.time()
        at = epoch_of(turn.received_at) if turn.received_at is not None else now
        fields = {"index": turn.index, "speaker": turn.speaker, "text": turn.text, "t": turn.t, "at": at}
        entry = json.dumps(fields | {"result": turn.result})
        self.transcript.append(entry)
        before = self.mood.primary
        self.mood.add(turn.speaker, turn.text, turn.result)
        if self.mood.primary != before:
            self.state_since = at
        self.next_turn = turn.index + 1
        self.updated_at = now
        self.touch()
        return entry

    @property
    def key(self) -> CallKey:
        return (self.tenant_id, self.id)

    @classmethod
    def restore(
        cls,
        tenant_id: str,
        call_id: str,
        header: dict[str, Any],
        call: CallStarted,
        turns: list[TurnRecord],
        idle_s: float = 0.0,
        created_at: datetime | None = None,
    ) -> LiveCall:
        """A call rebuilt from the database; `idle_s`: how long ago its last stored event was;
        `created_at`: when it started (its duration on the board counts from then)."""
        live = cls(tenant_id, call_id, header, call)
        if created_at is not None:
            live.created_at = epoch_of(created_at)
        for turn in turns:
            live.record(turn)
        live.last_event = time.monotonic() - max(0.0, idle_s)
        live.dropped_at = live.last_event  # nobody streams a restored call until it resumes
        return live

    def snapshot(self) -> str:
        """What a cockpit needs when it opens (JSON text): the header, the context, the transcript, the mood."""
        view = call_view(self.id, self.header, "live", connected=self.producer is not None)
        call = json.dumps(view | {"live_since": self.created_at})
        transcript = ",".join(self.transcript)
        mood = json.dumps(self.mood.to_dict())
        at = time.time()  # the server's clock, so a page can time the call with its own clock's offset
        return f'{{"type": "snapshot", "call": {call}, "transcript": [{transcript}], "mood": {mood}, "at": {at}}}'

    def turn_frame(self, entry: str) -> str:
        """The frame that tells watchers about a new turn (JSON text)."""
        return f'{{"type": "turn", "entry": {entry}, "mood": {json.dumps(self.mood.to_dict())}}}'

    def board_row(self) -> dict[str, Any]:
        customer = self.header.get("customer") or {}
        return {
            "call_id": self.id,
            "customer": customer.get("name") or customer.get("id"),
            "service": self.header.get("service"),
            "agent": (self.header.get("agent") or {}).get("id"),
            "connected": self.producer is not None,
            "turns": self.next_turn,
            "updated_at": self.updated_at,
            "started": self.created_at,
            "state_since": self.state_since,
            **self.mood.to_dict(),
        }


def epoch_of(when: datetime) -> float:
    """Unix seconds of a stored time (SQLite gives back naive datetimes; they were stored in UTC)."""
    return (when if when.tzinfo is not None else when.replace(tzinfo=UTC)).timestamp()


def call_view(call_id: str, header: dict[str, Any], status: str, connected: bool = False) -> dict[str, Any]:
    customer = header.get("customer") or {}
    return {
        "id": call_id,
        "status": status,
        "connected": connected,
        "service": header.get("service"),
        "channel": header.get("channel"),
        "started_at": header.get("started_at"),
        "agent": (header.get("agent") or {}).get("id"),
        "customer": {
            "id": customer.get("id"),
            "name": customer.get("name"),
            "notes": customer.get("notes", []),
            "prior_contacts": customer.get("prior_contacts", []),
        },
    }


def on_board(calls: list[LiveCall], dropped_grace_s: float | None = None) -> list[LiveCall]:
    """The calls a board lists: less those whose connection dropped more than `dropped_grace_s`
    ago (abandoned, as far as anyone watching can tell)."""
    if dropped_grace_s is None:
        return calls
    gone = time.monotonic() - dropped_grace_s
    return [c for c in calls if c.dropped_at is None or c.dropped_at > gone]


def board_frame(
    calls: list[LiveCall],
    dropped_grace_s: float | None = None,
    others: list[dict[str, Any]] | None = None,
    unlisted: int = 0,
) -> dict[str, Any]:
    """The board: live calls riskiest first (`others`: rows other replicas hold, service/cluster_bus.py;
    `unlisted`: calls they hold beyond the rows they sent)."""
    listed = [c.board_row() for c in on_board(calls, dropped_grace_s)] + (others or [])
    rows = sorted(listed, key=lambda r: (-r["risk"], -r["updated_at"], r["call_id"]))
    return {"type": "board", "total": len(rows) + unlisted, "calls": rows[:BOARD_ROWS], "at": time.time()}


class LiveRegistry:
    """The live calls of every tenant and who watches them; all of it lives on the event loop's thread."""

    def __init__(self, dropped_grace_s: float | None = None) -> None:
        #: How long a call whose connection dropped stays on the board (None: until it ends).
        self.dropped_grace_s = dropped_grace_s
        self.calls: dict[CallKey, LiveCall] = {}
        self._per_tenant: Counter[str] = Counter()  # live calls per tenant
        self._reserved: Counter[str] = Counter()  # starts that passed the cap and are being stored
        self._call_watchers: dict[CallKey, set[Watcher]] = {}
        self._board_watchers: dict[str, set[Watcher]] = {}  # by tenant
        self._board_dirty = asyncio.Event()
        self._dirty_tenants: set[str] = set()
        #: The other replicas' rows and frames (EMPATHY_REDIS_URL); None: this process is alone.
        self.bus: ClusterBus | None = None

    # --- calls ---
    def get(self, tenant_id: str, call_id: str) -> LiveCall | None:
        return self.calls.get((tenant_id, call_id))

    def of_tenant(self, tenant_id: str) -> list[LiveCall]:
        return [live for (tenant, _), live in self.calls.items() if tenant == tenant_id]

    def add(self, live: LiveCall) -> None:
        self.put(live)
        self.publish(live.tenant_id, live.id, live.snapshot())
        self.board_changed(live.tenant_id)

    def put(self, live: LiveCall) -> None:
        """Take a call in without telling anyone (a restart restoring its calls)."""
        if live.key not in self.calls:
            self._per_tenant[live.tenant_id] += 1
        self.calls[live.key] = live

    def remove(self, live: LiveCall) -> None:
        if self.calls.pop(live.key, None) is not None:
            self._per_tenant[live.tenant_id] -= 1
        self.board_changed(live.tenant_id)

    def dropped(self, live: LiveCall) -> None:
        """Its stream connection went away: the board says so now, and drops it after the grace."""
        live.dropped_at = time.monotonic()
        self.board_changed(live.tenant_id)
        if self.dropped_grace_s is not None:
            asyncio.get_running_loop().call_later(self.dropped_grace_s + 0.05, self.board_changed, live.tenant_id)

    def live_count(self, tenant: str) -> int:
        return self._per_tenant[tenant]

    def reserve(self, tenant: str, cap: int) -> bool:
        """Hold a place for a call being started; False when the tenant already has `cap` live calls."""
        if self._per_tenant[tenant] + self._reserved[tenant] >= cap:
            return False
        self._reserved[tenant] += 1
        return True

    def unreserve(self, tenant: str) -> None:
        self._reserved[tenant] -= 1

    # --- watchers ---
    def watch_call(self, tenant_id: str, call_id: str) -> Watcher:
        watcher = Watcher()
        self._call_watchers.setdefault((tenant_id, call_id), set()).add(watcher)
        if self.bus is not None:
            self.bus.follow(tenant_id, call_id, True)
        return watcher

    def unwatch_call(self, tenant_id: str, call_id: str, watcher: Watcher) -> None:
        watchers = self._call_watchers.get((tenant_id, call_id))
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers:
                del self._call_watchers[(tenant_id, call_id)]
                if self.bus is not None:
                    self.bus.follow(tenant_id, call_id, False)

    def watch_board(self, tenant_id: str, watcher: Watcher | None = None) -> Watcher:
        """A board watcher of one tenant (`watcher`: one of a kind that filters what it is pushed,
        a supervisor's team board), with that tenant's board now: it sees no other tenant's calls."""
        watcher = watcher or Watcher()
        watcher.push(self.board_text(tenant_id))
        self._board_watchers.setdefault(tenant_id, set()).add(watcher)
        return watcher

    def unwatch_board(self, tenant_id: str, watcher: Watcher) -> None:
        watchers = self._board_watchers.get(tenant_id)
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers:
                del self._board_watchers[tenant_id]

    def publish(self, tenant_id: str, call_id: str, frame: dict[str, Any] | str) -> None:
        """Send a frame to the call's watchers here, and (with a bus) on the other replicas."""
        watchers = self._call_watchers.get((tenant_id, call_id))
        if watchers or self.bus is not None:
            text = frame if isinstance(frame, str) else json.dumps(frame)
            self.publish_local(tenant_id, call_id, text)
            if self.bus is not None:
                self.bus.frame(tenant_id, call_id, text)

    def publish_local(self, tenant_id: str, call_id: str, text: str) -> None:
        for watcher in self._call_watchers.get((tenant_id, call_id), ()):
            watcher.push(text)

    def board_changed(self, tenant_id: str) -> None:
        self.remote_changed(tenant_id)
        if self.bus is not None:
            self.bus.board_changed(tenant_id)

    def remote_changed(self, tenant_id: str) -> None:
        """The tenant's board changed (here, or another replica's rows): pushed at the next round."""
        self._dirty_tenants.add(tenant_id)
        self._board_dirty.set()

    def own_rows(self, tenant_id: str) -> tuple[list[dict[str, Any]], int]:
        """The board rows of the calls this replica holds (what it publishes to the others): the
        BOARD_ROWS riskiest, since no board lists more, and how many there are in all. The cap keeps
        the fan-out per replica constant however many calls it holds."""
        held = [c for c in self.of_tenant(tenant_id) if c.epoch is not None]
        frame = board_frame(held, self.dropped_grace_s)
        return frame["calls"], frame["total"]

    def board_text(self, tenant_id: str) -> str:
        """The tenant's board (JSON text): its calls here and, with a bus, every other replica's.
        A call restored here that nobody resumed here shows as the replica holding it says."""
        calls = self.of_tenant(tenant_id)
        if self.bus is None:
            return json.dumps(board_frame(calls, self.dropped_grace_s))
        others, unlisted = self.bus.rows_of(tenant_id)
        held = {c.id for c in calls if c.epoch is not None}
        calls = [c for c in calls if c.id in held or c.id not in others]
        rows = [row for call_id, row in others.items() if call_id not in held]
        return json.dumps(board_frame(calls, self.dropped_grace_s, rows, unlisted))

    async def run_board(self, interval: float) -> None:
        """Push each tenant's sorted board at most once per `interval`, and only when it changed."""
        while True:
            await self._board_dirty.wait()
            self._board_dirty.clear()
            dirty, self._dirty_tenants = self._dirty_tenants, set()
            for tenant_id in dirty:
                watchers = self._board_watchers.get(tenant_id)
                if watchers:
                    text = self.board_text(tenant_id)
                    for watcher in list(watchers):
                        watcher.push(text)
            await asyncio.sleep(interval)
