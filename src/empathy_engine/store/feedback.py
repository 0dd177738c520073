"""Agents' feedback on cards (migration 0006): write one, count them for the caps, read them back.

Tenant rows like the calls' (store/tenancy.py): every function takes the tenant, every query
names it, and on PostgreSQL the transaction must be bound to it (row-level security).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from empathy_engine.store.models import CallRow, FeedbackRow, TurnRow, utcnow
from empathy_engine.store.tenancy import mine

Kind = Literal["helpful", "wrong_read"]
KINDS: tuple[str, ...] = ("helpful", "wrong_read")
#: The longest note an agent may leave (characters), before redaction.
MAX_NOTE_CHARS = 500

_feedback = cast(Table, FeedbackRow.__table__)
_turns = cast(Table, TurnRow.__table__)


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    call_id: str
    turn_index: int
    card_id: str
    kind: str
    given_by: str
    agent_id: str
    note: str | None
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "turn_index": self.turn_index,
            "card_id": self.card_id,
            "kind": self.kind,
            "given_by": self.given_by,
            "agent_id": self.agent_id,
            "note": self.note,
            "created_at": self.created_at.isoformat(),
        }


def _record(row: Any) -> FeedbackRecord:
    return FeedbackRecord(
        row.call_id, row.turn_index, row.card_id, row.kind, row.given_by, row.agent_id, row.note, row.created_at
    )


def get_feedback(
    connection: Connection, tenant_id: str, call_id: str, turn_index: int, given_by: str, kind: str
) -> FeedbackRecord | None:
    """The one row of this (turn, who, kind), if it was given already."""
    row = connection.execute(
        select(_feedback).where(
            mine(_feedback, tenant_id),
            _feedback.c.call_id == call_id,
            _feedback.c.turn_index == turn_index,
            _feedback.c.given_by == given_by,
            _feedback.c.kind == kind,
        )
    ).first()
    return _record(row) if row else None


def add_feedback(connection: Connection, tenant_id: str, record: FeedbackRecord) -> bool:
    """Store one row; False (nothing written) when that (turn, who, kind) is already there: two
    presses at once land on the key (ON CONFLICT DO NOTHING), never as two rows nor as an error."""
    values = {"tenant_id": tenant_id, **{k: getattr(record, k) for k in FeedbackRecord.__slots__}}
    if connection.dialect.name == "sqlite":
        done = connection.execute(sqlite_insert(_feedback).values(**values).on_conflict_do_nothing())
        return bool(done.rowcount == 1)
    statement = postgresql_insert(_feedback).values(**values).on_conflict_do_nothing()
    return connection.execute(statement.returning(_feedback.c.kind)).first() is not None


def count_for_call(connection: Connection, tenant_id: str, call_id: str, agent_id: str) -> int:
    """How many rows this agent's feedback has on this call (the per-call cap)."""
    return int(
        connection.execute(
            select(func.count())
            .select_from(_feedback)
            .where(mine(_feedback, tenant_id), _feedback.c.call_id == call_id, _feedback.c.agent_id == agent_id)
        ).scalar_one()
    )


def count_since(connection: Connection, tenant_id: str, agent_id: str, since: datetime) -> int:
    """How many rows this agent's feedback has since `since`, on any call (the hourly cap)."""
    return int(
        connection.execute(
            select(func.count())
            .select_from(_feedback)
            .where(mine(_feedback, tenant_id), _feedback.c.agent_id == agent_id, _feedback.c.created_at >= since)
        ).scalar_one()
    )


def list_feedback(
    connection: Connection,
    tenant_id: str,
    *,
    kind: str | None = None,
    since: datetime | None = None,
    call_id: str | None = None,
    limit: int | None = None,
) -> list[FeedbackRecord]:
    """The tenant's feedback, oldest first (by call and turn within the same second)."""
    where = [mine(_feedback, tenant_id)]
    if kind is not None:
        where.append(_feedback.c.kind == kind)
    if since is not None:
        where.append(_feedback.c.created_at >= since)
    if call_id is not None:
        where.append(_feedback.c.call_id == call_id)
    query = (
        select(_feedback)
        .where(*where)
        .order_by(
            _feedback.c.created_at, _feedback.c.call_id, _feedback.c.turn_index, _feedback.c.given_by, _feedback.c.kind
        )
    )
    if limit is not None:
        query = query.limit(limit)
    return [_record(row) for row in connection.execute(query)]


def new_record(
    call_id: str, turn_index: int, card_id: str, kind: str, given_by: str, agent_id: str, note: str | None
) -> FeedbackRecord:
    return FeedbackRecord(call_id, turn_index, card_id, kind, given_by, agent_id, note, utcnow())


def stored_turn(
    connection: Connection, tenant_id: str, call_id: str, turn_index: int
) -> tuple[str, dict[str, Any]] | None:
    """The speaker and stored result of one turn of the tenant's call, or None when it has no such turn."""
    row = connection.execute(
        select(_turns.c.speaker, _turns.c.result).where(
            mine(_turns, tenant_id), _turns.c.call_id == call_id, _turns.c.turn_index == turn_index
        )
    ).first()
    return (str(row.speaker), dict(row.result or {})) if row else None


def turn_text(connection: Connection, tenant_id: str, call_id: str, turn_index: int) -> str | None:
    """The (already redacted) words of one stored turn."""
    found: str | None = connection.execute(
        select(_turns.c.text).where(
            mine(_turns, tenant_id), _turns.c.call_id == call_id, _turns.c.turn_index == turn_index
        )
    ).scalar_one_or_none()
    return found


def agent_text_before(connection: Connection, tenant_id: str, call_id: str, turn_index: int) -> str | None:
    """The agent's last words before this turn of the call, if the agent spoke before it."""
    found: str | None = connection.execute(
        select(_turns.c.text)
        .where(
            mine(_turns, tenant_id),
            _turns.c.call_id == call_id,
            _turns.c.turn_index < turn_index,
            _turns.c.speaker == "agent",
        )
        .order_by(_turns.c.turn_index.desc())
        .limit(1)
    ).scalar_one_or_none()
    return found


def card_turns(connection: Connection, tenant_id: str) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """(call id, turn index, result) of every customer turn of the tenant's ended calls that showed a
    card: the cards agents could judge, read in pages so memory stays flat however many there are."""
    calls = cast(Table, CallRow.__table__)
    query = (
        select(_turns.c.call_id, _turns.c.turn_index, _turns.c.result)
        .join(calls, (calls.c.tenant_id == _turns.c.tenant_id) & (calls.c.id == _turns.c.call_id))
        .where(
            mine(_turns, tenant_id), mine(calls, tenant_id), calls.c.status == "ended", _turns.c.speaker == "customer"
        )
        .order_by(_turns.c.call_id, _turns.c.turn_index)
        .execution_options(yield_per=1000)
    )
    for row in connection.execute(query):
        result = row.result or {}
        if result.get("cues"):
            yield str(row.call_id), int(row.turn_index), dict(result)
