"""The review queue: turns agents said the engine read wrong, as JSONL lines for annotation.

One line per customer turn called a "wrong read" (however many agents said so), with what an
annotator needs to judge it: the customer's words and the agent's words before them (both as
stored: redacted at the edge, and masked again here), what the engine read (states, detected,
primary, intensity, evidence), the card shown, and the agents' notes. `labels` is left null for
the annotator, who fills it with the states the customer really showed, in the annotated real
set's vocabulary (training/data/real, docs/learning.md "Agents' feedback").
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from empathy_engine.privacy import redact_text
from empathy_engine.store import feedback as store

#: The `source` of every queue line, and the first part of its id (`feedback|<call id>|<turn>`).
SOURCE = "feedback"


def review_queue(connection: Connection, tenant_id: str, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """The tenant's wrong-read turns (since `since`), oldest feedback first."""
    grouped: dict[tuple[str, int], list[store.FeedbackRecord]] = {}
    for row in store.list_feedback(connection, tenant_id, kind="wrong_read", since=since):
        grouped.setdefault((row.call_id, row.turn_index), []).append(row)
    for (call_id, turn_index), rows in grouped.items():
        yield _line(connection, tenant_id, call_id, turn_index, rows)


def _line(
    connection: Connection, tenant_id: str, call_id: str, turn_index: int, rows: list[store.FeedbackRecord]
) -> dict[str, Any]:
    turn = store.stored_turn(connection, tenant_id, call_id, turn_index)
    result = turn[1] if turn else {}
    text = store.turn_text(connection, tenant_id, call_id, turn_index) or ""
    before = store.agent_text_before(connection, tenant_id, call_id, turn_index)
    cards = {str(c.get("id")): c for c in result.get("cues") or [] if isinstance(c, dict)}
    card = cards.get(rows[0].card_id, {})
    return {
        "id": f"{SOURCE}|{call_id}|{turn_index}",
        "source": SOURCE,
        "dialogue": call_id,
        "turn": turn_index,
        "speaker": "customer",
        "text": redact_text(text),
        "agent_before": redact_text(before) if before else None,
        "engine": {
            "states": result.get("states", {}),
            "detected": result.get("detected", []),
            "primary": result.get("primary"),
            "intensity": result.get("intensity"),
            "evidence": result.get("evidence", []),
        },
        "card": {"id": rows[0].card_id, "state": card.get("state")},
        "feedback": {
            "wrong_read": len(rows),
            "agents": sorted({r.agent_id for r in rows}),
            "notes": [r.note for r in rows if r.note],
            "first_at": min(r.created_at for r in rows).isoformat(),
        },
        "labels": None,
    }
