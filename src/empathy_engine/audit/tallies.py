"""Building blocks of the audit's REDUCE step: mergeable tallies of `CallRecord`s.

Every tally has `add(record)` and `merge(other)`; merging is associative and commutative
(integer sums, counters, top-k lists with a total order), so calls may be folded in any order,
in any number of partitions, on any number of machines, and give the same result. Memory is
bounded by agents x periods, never by the number of calls.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, Protocol, TypeVar

from empathy_engine.audit.records import CallRecord
from empathy_engine.taxonomy import NEGATIVE_STATES

ACK_BIN_S = 5  # time-to-acknowledgement histogram bins, seconds
TRAJECTORY_BINS = 10  # call position (share of the customer's turns) binned in tenths
BANDS = ("high", "mid", "low", "none")  # empathy score >= 0.8, 0.5-0.8, < 0.5, no emotional turn


def band_of(score: float | None) -> str:
    """The empathy band a call falls in (the same cut-offs everywhere in the report)."""
    if score is None:
        return "none"
    return "high" if score >= 0.8 else "mid" if score >= 0.5 else "low"


def period_of(day: str | None, period: str) -> str:
    """`2025-W36` (ISO week), `2025-09` (month) or `2025-09-01` (day); `undated` without a date."""
    if day is None:
        return "undated"
    if period == "day":
        return day
    if period == "month":
        return day[:7]
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


def _milli(x: float) -> int:
    return round(x * 1000)


class _Keyed(Protocol):
    def key(self) -> Any: ...


K = TypeVar("K", bound=_Keyed)


@dataclass(slots=True)
class TopK(Generic[K]):
    """The k smallest items by `item.key()`: a total order, so merge order does not matter."""

    k: int
    items: list[K] = field(default_factory=list)

    def add(self, item: K) -> None:
        if len(self.items) < self.k or item.key() < self.items[-1].key():
            self.items.append(item)
            self.items.sort(key=lambda i: i.key())
            del self.items[self.k :]

    def merge(self, other: TopK[K]) -> None:
        for item in other.items:
            self.add(item)


@dataclass(frozen=True, slots=True)
class CallBrief:
    """A call worth listening to first, with its trajectory and where the misses were."""

    id: str
    agent: str
    day: str | None
    where: str
    empathy_score: float | None
    missed_cues: int
    recovered: bool | None
    sentiment: tuple[float, ...]
    miss_positions: tuple[int, ...]  # customer-turn positions (0-based) whose reply missed

    def key(self) -> tuple[float, float, str]:
        score = self.empathy_score if self.empathy_score is not None else 1.0
        return (-float(self.missed_cues), score, self.id)

    @classmethod
    def of(cls, r: CallRecord) -> CallBrief:
        positions = tuple(sorted({m.position for m in r.misses}))
        return cls(r.id, r.agent, r.day, r.where, r.empathy_score, r.missed_cues, r.recovered, r.sentiment, positions)


@dataclass(slots=True)
class Tally:
    """Sums over a group of calls. Integers only (sentiment in thousandths), so merges are exact."""

    calls: int = 0
    scored_calls: int = 0
    judged: int = 0
    answered: int = 0
    missed: int = 0
    calls_with_miss: int = 0
    peaks: int = 0
    recovered: int = 0
    ack_eligible: int = 0
    acknowledged: int = 0
    ack_hist: Counter[int] = field(default_factory=Counter)
    sentiment_n: int = 0
    sentiment_start: int = 0
    sentiment_end: int = 0
    improved: int = 0
    escalated: int = 0
    escalation_reasons: Counter[str] = field(default_factory=Counter)
    pairs: Counter[tuple[int, int]] = field(default_factory=Counter)  # (answered, judged) -> calls

    def add(self, r: CallRecord) -> None:
        self.calls += 1
        if r.judged:
            self.scored_calls += 1
            self.pairs[(r.answered, r.judged)] += 1
        self.judged += r.judged
        self.answered += r.answered
        self.missed += r.missed_cues
        self.calls_with_miss += r.missed_cues > 0
        if r.recovered is not None:
            self.peaks += 1
            self.recovered += r.recovered
        if r.acknowledged is not None:
            self.ack_eligible += 1
            self.acknowledged += r.acknowledged
        if r.first_ack_s is not None:
            self.ack_hist[int(r.first_ack_s // ACK_BIN_S)] += 1
        if r.sentiment:
            self.sentiment_n += 1
            self.sentiment_start += _milli(r.sentiment[0])
            self.sentiment_end += _milli(r.sentiment[-1])
            self.improved += r.sentiment[-1] > r.sentiment[0]
        if r.escalated:
            self.escalated += 1
            self.escalation_reasons[r.escalation_reason or "unspecified"] += 1

    def merge(self, o: Tally) -> None:
        for name in Tally.__slots__:
            mine = getattr(self, name)
            if isinstance(mine, Counter):
                mine.update(getattr(o, name))
            else:
                setattr(self, name, mine + getattr(o, name))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in Tally.__slots__:
            value = getattr(self, name)
            if name == "pairs":
                value = {f"{a}/{j}": c for (a, j), c in sorted(value.items())}
            elif isinstance(value, Counter):
                value = {str(k): value[k] for k in sorted(value)}
            out[name] = value
        return out


@dataclass(slots=True)
class StateTally:
    """Per customer state: in how many calls it asked for a response, and in how many it was missed."""

    judged_calls: Counter[str] = field(default_factory=Counter)
    missed_calls: Counter[str] = field(default_factory=Counter)
    instead: dict[str, Counter[str]] = field(default_factory=dict)  # state -> behaviours of the missed replies

    def add(self, r: CallRecord) -> None:
        self.judged_calls.update(r.judged_states)
        self.missed_calls.update(r.missed_states)
        for m in r.misses:
            for state in m.pending:
                self.instead.setdefault(state, Counter())[m.behaviours[0] if m.behaviours else "none"] += 1

    def merge(self, o: StateTally) -> None:
        self.judged_calls.update(o.judged_calls)
        self.missed_calls.update(o.missed_calls)
        for state, counts in o.instead.items():
            self.instead.setdefault(state, Counter()).update(counts)

    def to_dict(self) -> dict[str, Any]:
        return {
            s: {
                "judged_calls": self.judged_calls[s],
                "missed_calls": self.missed_calls[s],
                "instead": dict(sorted(self.instead.get(s, Counter()).items())),
            }
            for s in NEGATIVE_STATES
        }


@dataclass(slots=True)
class Trajectories:
    """Mean customer sentiment by position in the call (tenths), per empathy band."""

    sums: dict[str, list[int]] = field(default_factory=lambda: {b: [0] * TRAJECTORY_BINS for b in BANDS})
    counts: dict[str, list[int]] = field(default_factory=lambda: {b: [0] * TRAJECTORY_BINS for b in BANDS})

    def add(self, r: CallRecord) -> None:
        band = band_of(r.empathy_score)
        k = len(r.sentiment)
        for i, s in enumerate(r.sentiment):
            b = 0 if k == 1 else min(TRAJECTORY_BINS - 1, int(i / (k - 1) * TRAJECTORY_BINS))
            self.sums[band][b] += _milli(s)
            self.counts[band][b] += 1

    def merge(self, o: Trajectories) -> None:
        for band in BANDS:
            self.sums[band] = [a + b for a, b in zip(self.sums[band], o.sums[band], strict=True)]
            self.counts[band] = [a + b for a, b in zip(self.counts[band], o.counts[band], strict=True)]

    def means(self, band: str) -> list[float | None]:
        return [s / c / 1000 if c else None for s, c in zip(self.sums[band], self.counts[band], strict=True)]

    def to_dict(self) -> dict[str, Any]:
        return {
            b: {"mean": [None if m is None else round(m, 4) for m in self.means(b)], "n": self.counts[b]} for b in BANDS
        }
