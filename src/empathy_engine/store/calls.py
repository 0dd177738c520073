"""Calls, their turns and outcomes: write jobs for the group-commit writer, and reads.

Write jobs are functions of a `Connection` (see writer.py); they report "already there"
as a return value instead of raising, so one duplicate never spoils a shared transaction.

Every function takes the tenant: rows are written with it and read only through it (`mine`,
store/tenancy.py); on PostgreSQL the transaction must also be bound to it (row-level security).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal, cast

from sqlalchemy import ColumnElement, Connection, Executable, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from empathy_engine.ingest.limits import BAD_CALL_ID, is_call_id
from empathy_engine.store import tenancy
from empathy_engine.store.models import CallRow, OutcomeRow, TurnRow, utcnow
from empathy_engine.store.tenancy import mine, mine_bound

# Declarative __table__ is typed as a FromClause; it is the Table that insert/update/delete take.
_calls = cast(Table, CallRow.__table__)
_turns = cast(Table, TurnRow.__table__)
_outcomes = cast(Table, OutcomeRow.__table__)

#: What a fenced write job returns when another replica has taken the call over (a higher epoch).
TAKEN_OVER: Literal["taken_over"] = "taken_over"


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """One stored turn: what was said and what the engine answered."""

    index: int
    speaker: str
    text: str
    t: float | None
    result: dict[str, Any]
    latency_ms: float = 0.0
    received_at: datetime | None = None
    end: float | None = None  # when the utterance ended, if known
    #: The tone of voice the engine was given (store/replay.py voice_to_json); not part of the API.
    voice: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "speaker": self.speaker,
            "text": self.text,
            "t": self.t,
            "result": self.result,
            "latency_ms": round(self.latency_ms, 2),
            "received_at": self.received_at.isoformat() if self.received_at else None,
        }


@dataclass(frozen=True, slots=True)
class CallRecord:
    id: str
    header: dict[str, Any]
    customer_id: str | None
    status: str
    turn_count: int
    summary: dict[str, Any] | None
    extra: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    #: The engine settings the call ran with (store/replay.py EngineRecord); None for older calls.
    engine: dict[str, Any] | None = None
    #: The replica holding it and its epoch (migration 0008); not part of the API.
    owner: str | None = None
    epoch: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "customer_id": self.customer_id,
            "turn_count": self.turn_count,
            "header": self.header,
            "summary": self.summary,
            "extra": self.extra or {},
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
        }


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    call_id: str
    csat: int | None
    resolved: bool | None
    referral: bool | None
    review_text: str | None
    recorded_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "csat": self.csat,
            "resolved": self.resolved,
            "referral": self.referral,
            "review_text": self.review_text,
            "recorded_at": self.recorded_at.isoformat(),
        }


# --- write jobs -------------------------------------------------------------------------


def create_call(
    tenant_id: str,
    call_id: str,
    header: dict[str, Any],
    customer_id: str | None,
    engine: dict[str, Any] | None = None,
    owner: str | None = None,
) -> Callable[[Connection], bool]:
    """Job: store a new live call and the engine settings it runs with, held by `owner` at epoch 1;
    False (nothing written) if the tenant already has a call with that id."""
    if not is_call_id(call_id):  # the last wall: every source checks the rule before it gets here
        raise ValueError(f"call id {call_id[:60]!r} refused: {BAD_CALL_ID}")

    def job(connection: Connection) -> bool:
        if connection.execute(select(_calls.c.id).where(mine(_calls, tenant_id), _calls.c.id == call_id)).first():
            return False
        now = utcnow()
        connection.execute(
            insert(_calls).values(
                tenant_id=tenant_id,
                id=call_id,
                header=header,
                customer_id=customer_id,
                engine=engine,
                owner=owner,
                epoch=1,
                status="live",
                turn_count=0,
                created_at=now,
                updated_at=now,
            )
        )
        return True

    return job


def append_turn(
    tenant_id: str, call_id: str, turn: TurnRecord, epoch: int | None = None
) -> Callable[[Connection], bool | Literal["taken_over"]]:
    """Job: store one turn of a live call; False (nothing written) if that turn is already stored.
    `epoch`: the one the writer holds the call at; TAKEN_OVER (nothing written) once it has been
    taken over by another replica. None: unfenced (a single process)."""

    def job(connection: Connection) -> bool | Literal["taken_over"]:
        sqlite = connection.dialect.name == "sqlite"
        insert_turn, count_turn = _turn_statements(sqlite, tenancy.FILTER_ON, epoch is not None)
        now = utcnow()
        row = {
            "tenant_id": tenant_id,
            "call_id": call_id,
            "turn_index": turn.index,
            "speaker": turn.speaker,
            "text": turn.text,
            "t": turn.t,
            "end_t": turn.end,
            "result": turn.result,
            "voice": turn.voice,
            "latency_ms": turn.latency_ms,
            "received_at": turn.received_at or now,
        }
        done = connection.execute(insert_turn, row)
        # SQLite counts the row it inserted; psycopg reports no count here, so PostgreSQL returns it.
        if (done.rowcount != 1) if sqlite else (done.first() is None):
            # Already stored: by this holder (a duplicate), or by the one that took the call over.
            return False if epoch is None or held_at(connection, tenant_id, call_id) == epoch else TAKEN_OVER
        key = {"b_tenant_id": tenant_id, "b_call_id": call_id}
        fence = {} if epoch is None else {"b_epoch": epoch}
        counted = connection.execute(count_turn, {**key, **fence, "turn_count": turn.index + 1, "updated_at": now})
        if epoch is not None and counted.rowcount != 1:
            # The fence: the call's row names a later epoch. Take the turn back out (the rare path;
            # the hot path stays two statements) so the shared transaction commits only others' work.
            connection.execute(
                delete(_turns).where(
                    mine(_turns, tenant_id), _turns.c.call_id == call_id, _turns.c.turn_index == turn.index
                )
            )
            return TAKEN_OVER
        return True

    return job


def held_at(connection: Connection, tenant_id: str, call_id: str) -> int | None:
    """The epoch a call is held at now (None: no such call)."""
    row = connection.execute(select(_calls.c.epoch).where(mine(_calls, tenant_id), _calls.c.id == call_id)).first()
    return None if row is None else int(row.epoch)


@lru_cache(maxsize=8)
def _turn_statements(sqlite: bool, filter_on: bool, fenced: bool = False) -> tuple[Executable, Executable]:
    """append_turn's two statements, built once (per database, state of the tenant filter and
    fencing) and run with parameters. Building a SQLAlchemy statement and its cache key for every turn cost
    more CPU than SQLite spent running it (0.8 ms a turn); and each statement the writer thread
    runs makes it wait for the GIL again behind a busy event loop, so a duplicate turn is left to
    the primary key (ON CONFLICT DO NOTHING) instead of a SELECT first. Fenced, the count's UPDATE
    also matches only the epoch the writer holds: on PostgreSQL it waits for a take-over's row
    lock and then sees the new epoch, so the old holder's turn is refused, never interleaved."""
    insert_turn: Executable
    if sqlite:
        insert_turn = sqlite_insert(_turns).on_conflict_do_nothing()
    else:
        insert_turn = postgresql_insert(_turns).on_conflict_do_nothing().returning(_turns.c.turn_index)
    where = [mine_bound(_calls), _calls.c.id == bindparam("b_call_id")]
    if fenced:
        where.append(_calls.c.epoch == bindparam("b_epoch"))
    count_turn = (
        update(_calls).where(*where).values(turn_count=bindparam("turn_count"), updated_at=bindparam("updated_at"))
    )
    return insert_turn, count_turn


def end_call(
    tenant_id: str,
    call_id: str,
    summary: dict[str, Any],
    extra: dict[str, Any] | None = None,
    epoch: int | None = None,
    idle_since: datetime | None = None,
) -> Callable[[Connection], bool]:
    """Job: mark a live call ended with its summary (and extra results); False if it was not live,
    or (`epoch`) is held at another epoch now, or (`idle_since`) has had an event since then."""

    def job(connection: Connection) -> bool:
        now = utcnow()
        where = [mine(_calls, tenant_id), _calls.c.id == call_id, _calls.c.status == "live"]
        if epoch is not None:
            where.append(_calls.c.epoch == epoch)
        if idle_since is not None:
            where.append(_calls.c.updated_at <= idle_since)
        done = connection.execute(
            update(_calls)
            .where(*where)
            .values(status="ended", summary=summary, extra=extra or None, ended_at=now, updated_at=now)
        )
        return done.rowcount == 1

    return job


def take_over(tenant_id: str, call_id: str, owner: str) -> Callable[[Connection], tuple[int, int] | None]:
    """Job: `owner` holds the live call from now on, at the next epoch: one conditional UPDATE, so
    of two replicas resuming at once each gets its own epoch and only the later one's writes pass.
    Returns (the new epoch, the turns stored), or None when the call is not live (ended, unknown)."""

    def job(connection: Connection) -> tuple[int, int] | None:
        here = [mine(_calls, tenant_id), _calls.c.id == call_id, _calls.c.status == "live"]
        done = connection.execute(
            update(_calls).where(*here).values(epoch=_calls.c.epoch + 1, owner=owner, updated_at=utcnow())
        )
        if done.rowcount != 1:
            return None
        row = connection.execute(select(_calls.c.epoch, _calls.c.turn_count).where(*here)).one()
        return int(row.epoch), int(row.turn_count)  # this transaction holds the row: nobody moved it since

    return job


# --- reads --------------------------------------------------------------------------------


def _call(row: Any) -> CallRecord:
    return CallRecord(
        row.id,
        row.header,
        row.customer_id,
        row.status,
        row.turn_count,
        row.summary,
        row.extra,
        row.created_at,
        row.updated_at,
        row.ended_at,
        row.engine,
        row.owner,
        row.epoch,
    )


def get_call(connection: Connection, tenant_id: str, call_id: str) -> CallRecord | None:
    row = connection.execute(select(_calls).where(mine(_calls, tenant_id), _calls.c.id == call_id)).first()
    return _call(row) if row else None


def get_turns(connection: Connection, tenant_id: str, call_id: str, since: int = 0) -> list[TurnRecord]:
    rows = connection.execute(
        select(_turns)
        .where(mine(_turns, tenant_id), _turns.c.call_id == call_id, _turns.c.turn_index >= since)
        .order_by(_turns.c.turn_index)
    ).mappings()  # by name: a Row's own `.t` attribute would hide the column `t`
    return [
        TurnRecord(
            r["turn_index"],
            r["speaker"],
            r["text"],
            r["t"],
            r["result"],
            r["latency_ms"],
            r["received_at"],
            r["end_t"],
            r["voice"],
        )
        for r in rows
    ]


def list_calls(
    connection: Connection,
    tenant_id: str,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
    *,
    agents: Collection[str] | None = None,
) -> tuple[int, list[CallRecord]]:
    """The total matching and one page of the tenant's calls, newest first; `agents`: only calls
    whose header names one of these agents (an agent's own calls, a supervisor's team)."""
    where: list[ColumnElement[bool]] = [mine(_calls, tenant_id)]
    if status is not None:
        where.append(_calls.c.status == status)
    if agents is not None:
        where.append(_calls.c.header[("agent", "id")].as_string().in_(sorted(agents)))
    total = connection.execute(select(func.count()).select_from(_calls).where(*where)).scalar_one()
    rows = connection.execute(
        select(_calls).where(*where).order_by(_calls.c.created_at.desc(), _calls.c.id).limit(limit).offset(offset)
    )
    return total, [_call(r) for r in rows]


def live_calls(connection: Connection, tenant_id: str) -> list[CallRecord]:
    """The tenant's calls never ended: after a restart their streams may come back and resume."""
    rows = connection.execute(
        select(_calls).where(mine(_calls, tenant_id), _calls.c.status == "live").order_by(_calls.c.created_at)
    )
    return [_call(r) for r in rows]


def get_outcome(connection: Connection, tenant_id: str, call_id: str) -> OutcomeRecord | None:
    row = connection.execute(
        select(_outcomes).where(mine(_outcomes, tenant_id), _outcomes.c.call_id == call_id)
    ).first()
    if row is None:
        return None
    return OutcomeRecord(row.call_id, row.csat, row.resolved, row.referral, row.review_text, row.recorded_at)


def put_outcome(connection: Connection, tenant_id: str, call_id: str, fields: dict[str, Any]) -> OutcomeRecord:
    """Create or replace the call's outcome (the caller checks that the tenant has the call)."""
    values = {k: fields.get(k) for k in ("csat", "resolved", "referral", "review_text")}
    now = utcnow()
    here = [mine(_outcomes, tenant_id), _outcomes.c.call_id == call_id]
    if connection.execute(select(_outcomes.c.call_id).where(*here)).first():
        connection.execute(update(_outcomes).where(*here).values(**values, recorded_at=now))
    else:
        connection.execute(insert(_outcomes).values(tenant_id=tenant_id, call_id=call_id, **values, recorded_at=now))
    outcome = get_outcome(connection, tenant_id, call_id)
    assert outcome is not None
    return outcome
