"""The KPIs that need a join across calls, computed from a temporary SQLite file, not from memory.

Repeat contacts (the same customer about the same service within a window), outcomes (by call
id) and reviews (by customer and date) each need one call to meet another row. That is a keyed
reduce: here a spill of one slim row per call into SQLite on disk, so memory stays flat however
many calls; on a distributed engine, a group-by on the same keys. Failed inputs are spilled
here too, so the report can list every one of them.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from empathy_engine.audit.outcomes import Outcome, Review
from empathy_engine.audit.records import CallRecord, FailedInput
from empathy_engine.audit.tallies import band_of, period_of

_SCHEMA = """
CREATE TABLE calls (call_id TEXT, agent TEXT, customer TEXT, service TEXT, ts REAL, day TEXT,
                    period TEXT, band TEXT, score REAL);
CREATE TABLE outcomes (call_id TEXT PRIMARY KEY, csat INTEGER, resolved INTEGER, referral INTEGER,
                       category TEXT);
CREATE TABLE reviews (customer TEXT, day TEXT, period TEXT, rating INTEGER, category TEXT);
CREATE TABLE errors (place TEXT, id TEXT, reason TEXT);
"""
GROUPS = ("team", "agent", "period", "band")


@dataclass(frozen=True, slots=True)
class JoinSettings:
    period: str = "week"
    repeat_window_days: float = 7.0
    review_link_days: float = 30.0


class JoinStore:
    """One slim row per call, outcome, review and failed input, on disk; queried once at the end."""

    def __init__(self, settings: JoinSettings, directory: Path | None = None) -> None:
        self.settings = settings
        self._dir = tempfile.TemporaryDirectory(prefix="empathy-audit-", dir=directory)
        self.db = sqlite3.connect(Path(self._dir.name) / "joins.sqlite")
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
        self.failed = 0
        self.outcome_rows = 0
        self.review_rows = 0

    def close(self) -> None:
        self.db.close()
        self._dir.cleanup()

    def __enter__(self) -> JoinStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- spill -------------------------------------------------------------------------------

    def add_calls(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Rows made by `join_row` (in the workers, so this process only inserts them)."""
        self.db.executemany("INSERT INTO calls VALUES (?,?,?,?,?,?,?,?,?)", rows)

    def add_failure(self, failure: FailedInput) -> None:
        self.failed += 1
        self.db.execute("INSERT INTO errors VALUES (?,?,?)", (failure.where, failure.id, failure.reason))

    def add_outcome(self, o: Outcome) -> None:
        self.outcome_rows += 1
        self.db.execute(
            "INSERT OR REPLACE INTO outcomes VALUES (?,?,?,?,?)",
            (o.call_id, o.csat, _int(o.resolved), _int(o.referral), o.category),
        )

    def add_review(self, r: Review) -> None:
        self.review_rows += 1
        period = period_of(r.day, self.settings.period)
        self.db.execute("INSERT INTO reviews VALUES (?,?,?,?,?)", (r.customer_id, r.day, period, r.rating, r.category))

    def failures(self) -> Iterable[FailedInput]:
        for place, ident, reason in self.db.execute("SELECT place, id, reason FROM errors ORDER BY rowid"):
            yield FailedInput(place, reason, ident)

    # --- queries -----------------------------------------------------------------------------

    def kpis(self) -> dict[str, Any]:
        """Repeat contacts, outcomes and review language, per team, agent, period and empathy band."""
        self.db.executescript(
            "CREATE INDEX IF NOT EXISTS calls_by_customer ON calls (customer, service, ts);"
            "CREATE INDEX IF NOT EXISTS calls_by_id ON calls (call_id);"
        )
        out: dict[str, Any] = {group: {} for group in GROUPS}
        for group in GROUPS:
            for key, values in self._repeats(group).items():
                out[group].setdefault(key, {}).update(values)
            for key, values in self._outcomes(group).items():
                out[group].setdefault(key, {}).update(values)
            for key, values in self._language(group).items():
                out[group].setdefault(key, {}).update(values)
        (matched,) = self.db.execute(
            "SELECT COUNT(*) FROM outcomes WHERE call_id IN (SELECT call_id FROM calls)"
        ).fetchone()
        (outcomes,) = self.db.execute("SELECT COUNT(*) FROM outcomes").fetchone()
        texts, linked = self._review_texts()
        out["coverage"] = {
            "outcomes": outcomes,
            "outcomes_matched": matched,
            "reviews": self.review_rows,
            "review_texts": texts,
            "review_texts_linked": linked,
        }
        out["language_scores"] = self._language_scores()
        return out

    def _repeats(self, group: str) -> dict[str, dict[str, int]]:
        column = "'all'" if group == "team" else f"c1.{group}"
        window = self.settings.repeat_window_days * 86400.0
        sql = f"""
            SELECT {column}, COUNT(*), SUM(EXISTS (
                SELECT 1 FROM calls c2 WHERE c2.customer = c1.customer AND c2.service = c1.service
                AND c2.ts > c1.ts AND c2.ts <= c1.ts + :w))
            FROM calls c1
            WHERE c1.customer IS NOT NULL AND c1.ts IS NOT NULL
              AND c1.ts + :w <= (SELECT MAX(ts) FROM calls)
            GROUP BY 1"""
        return {k: {"repeat_n": n, "repeat_k": k_ or 0} for k, n, k_ in self.db.execute(sql, {"w": window})}

    def _outcomes(self, group: str) -> dict[str, dict[str, int]]:
        column = "'all'" if group == "team" else f"c.{group}"
        sql = f"""
            SELECT {column}, COUNT(o.csat), TOTAL(o.csat), TOTAL(o.csat * o.csat), TOTAL(o.csat >= 4),
                   COUNT(o.resolved), TOTAL(o.resolved), COUNT(o.referral), TOTAL(o.referral)
            FROM calls c JOIN outcomes o ON o.call_id = c.call_id GROUP BY 1"""
        names = (
            "csat_n",
            "csat_sum",
            "csat_sq",
            "csat_satisfied",
            "resolved_n",
            "resolved_k",
            "referral_n",
            "referral_k",
        )
        return {row[0]: {n: int(v) for n, v in zip(names, row[1:], strict=True)} for row in self.db.execute(sql)}

    def _linked(self) -> str:
        """Every review text with the call it speaks of: outcome texts by call id, reviews by customer and date."""
        days = self.settings.review_link_days
        return f"""
            SELECT o.category AS category, c.agent AS agent, c.period AS period, c.band AS band, c.score AS score
            FROM outcomes o JOIN calls c ON c.call_id = o.call_id WHERE o.category IS NOT NULL
            UNION ALL
            SELECT r.category, c.agent, r.period, COALESCE(c.band, 'unlinked'), c.score
            FROM reviews r LEFT JOIN calls c ON c.rowid = (
                SELECT c2.rowid FROM calls c2 WHERE c2.customer = r.customer AND c2.day <= r.day
                AND julianday(r.day) - julianday(c2.day) <= {days} ORDER BY c2.ts DESC LIMIT 1)"""

    def _language(self, group: str) -> dict[str, dict[str, int]]:
        column = "'all'" if group == "team" else group
        sql = f"""SELECT {column}, COUNT(*), TOTAL(category = 'care'), TOTAL(category = 'competence_only')
                  FROM ({self._linked()}) GROUP BY 1"""
        return {
            k: {"reviews_n": n, "care_k": int(care), "competence_k": int(comp)}
            for k, n, care, comp in self.db.execute(sql)
            if k is not None
        }

    def _language_scores(self) -> dict[str, dict[str, float | int]]:
        sql = f"""SELECT category, COUNT(score), TOTAL(score), TOTAL(score * score)
                  FROM ({self._linked()}) GROUP BY 1"""
        return {cat: {"n": n, "sum": s, "sq": sq} for cat, n, s, sq in self.db.execute(sql)}

    def _review_texts(self) -> tuple[int, int]:
        """Review texts read (survey answers and reviews), and how many were linked to an audited call."""
        texts, linked = self.db.execute(f"SELECT COUNT(*), COUNT(agent) FROM ({self._linked()})").fetchone()
        return int(texts), int(linked)


def join_row(r: CallRecord, period: str) -> tuple[Any, ...]:
    """The slim row a call leaves in the join store."""
    return (
        r.id,
        r.agent,
        r.customer,
        r.service or "",
        _timestamp(r.started_at),
        r.day,
        period_of(r.day, period),
        band_of(r.empathy_score),
        r.empathy_score,
    )


def _timestamp(started_at: str | None) -> float | None:
    if started_at is None:
        return None
    return datetime.fromisoformat(started_at).timestamp()


def _int(flag: bool | None) -> int | None:
    return None if flag is None else int(flag)
