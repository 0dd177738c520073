"""How often agents called the engine's reading wrong, per state and per conversation pattern.

Read from the service's database when the audit reads its calls there (`empathy audit
--database`): the denominators are the customer turns of the tenant's ended calls that showed a
card; the numerators are those turns agents marked "wrong read" (or "helpful"), each turn
counted once however many agents pressed. A turn's state is its first card's (the one the
cockpit shows); its patterns are the words the conversation patterns matched (evidence of
source `pattern`). Agents' opinion, not accuracy: it says where to look first (docs/learning.md).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from empathy_engine.audit.stats import wilson

#: Patterns listed in the report (most called wrong first); the JSON has the same.
TOP_PATTERNS = 12
PATTERN_CHARS = 40


def pattern_keys(result: dict[str, Any]) -> set[str]:
    """The patterns a turn's reading rested on: the matched words, lower-cased and cut short."""
    keys = set()
    for item in result.get("evidence") or ():
        if isinstance(item, dict) and item.get("source") == "pattern" and item.get("quote"):
            keys.add(" ".join(str(item["quote"]).lower().split())[:PATTERN_CHARS])
    return keys


def _row(name: str, key: str, shown: int, wrong: int, helpful: int) -> dict[str, Any]:
    return {key: name, "cards": shown, "wrong_read": wrong, "helpful": helpful, "rate": wilson(wrong, shown).to_dict()}


def feedback_rates(url: str, tenant_id: str) -> dict[str, Any]:
    """The section's figures for one tenant of the service's database."""
    from empathy_engine.store import feedback as store
    from empathy_engine.store.db import open_database
    from empathy_engine.store.tenancy import bind_tenant

    db = open_database(url)
    try:
        with db.connect() as connection:
            bind_tenant(connection, tenant_id)
            marks: dict[str, set[tuple[str, int]]] = {"wrong_read": set(), "helpful": set()}
            for row in store.list_feedback(connection, tenant_id):
                marks[row.kind].add((row.call_id, row.turn_index))
            return tally(store.card_turns(connection, tenant_id), marks)
    finally:
        db.dispose()


def tally(turns: Any, marks: dict[str, set[tuple[str, int]]]) -> dict[str, Any]:
    """Count cards and marked turns by state and pattern; `turns` yields (call id, turn, result)."""
    counts: dict[str, dict[str, Counter[str]]] = {
        dim: {"cards": Counter(), "wrong_read": Counter(), "helpful": Counter()} for dim in ("state", "pattern")
    }
    total: Counter[str] = Counter()
    for call_id, turn, result in turns:
        card = (result.get("cues") or [{}])[0]
        keys = {"state": {str(card.get("state") or "unknown")}, "pattern": pattern_keys(result)}
        flags = [kind for kind in ("wrong_read", "helpful") if (call_id, turn) in marks[kind]]
        total.update(["cards", *flags])
        for dim, names in keys.items():
            for name in names:
                counts[dim]["cards"][name] += 1
                for kind in flags:
                    counts[dim][kind][name] += 1
    by = {
        dim: sorted(
            (_row(n, dim, c["cards"][n], c["wrong_read"][n], c["helpful"][n]) for n in c["cards"]),
            key=lambda r: (-r["wrong_read"], -r["cards"], r[dim]),
        )
        for dim, c in counts.items()
    }
    return {
        "cards": total["cards"],
        "wrong_read": total["wrong_read"],
        "helpful": total["helpful"],
        "rate": wilson(total["wrong_read"], total["cards"]).to_dict(),
        "by_state": by["state"],
        "by_pattern": by["pattern"][:TOP_PATTERNS],
    }
