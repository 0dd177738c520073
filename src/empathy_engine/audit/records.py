"""What the audit's map step produces for one call: small, picklable, JSON- and CSV-ready."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from empathy_engine.learning.rewards import Card

#: Longest customer or agent quote kept in a record (characters); the rest is cut with "…".
QUOTE_CHARS = 280


def plain(x: Any) -> Any:
    """Dataclasses, tuples and dicts as plain JSON-ready data (a faster `dataclasses.asdict`, no deep copies)."""
    if x is None or isinstance(x, str | int | float | bool):
        return x
    if isinstance(x, tuple | list):
        return [plain(v) for v in x]
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    return {k: plain(getattr(x, k)) for k in x.__dataclass_fields__}


def clip(text: str, limit: int = QUOTE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class Advice:
    """What the playbook would have done: a cue card when coaching ran, else the expected behaviours."""

    state: str
    do: str
    say: str = ""
    avoid: tuple[str, ...] = ()
    source: str = "taxonomy"  # "taxonomy" (fallback), or the card's source: playbook, exemplar, safety
    followed: bool | None = None


@dataclass(frozen=True, slots=True)
class Miss:
    """An agent reply that left an emotional customer turn unanswered."""

    call_id: str
    agent: str
    turn: int  # the agent turn's index
    customer_turn: int
    position: int  # the customer turn's place among the customer's turns (0-based)
    t: float | None  # the customer turn's time, seconds from the start of the call
    state: str  # the strongest pending state
    pending: tuple[str, ...]  # every state that asked for a response
    intensity: float
    quote: str  # the customer's words
    evidence: tuple[str, ...]  # why we think so (quotes from the engine's evidence)
    reply: str  # what the agent said instead
    behaviours: tuple[str, ...]
    advice: tuple[Advice, ...]
    from_cues: bool  # advice came from cue cards shown during the call

    def key(self) -> tuple[float, str, int]:
        """Most intense first; ties broken by call and turn so any merge order gives the same pick."""
        return (-self.intensity, self.call_id, self.turn)


@dataclass(frozen=True, slots=True)
class Moment:
    """An agent reply that answered an intense emotional turn well: an exemplar to share."""

    call_id: str
    agent: str
    turn: int
    state: str
    intensity: float
    quote: str
    reply: str
    behaviours: tuple[str, ...]

    def key(self) -> tuple[float, str, int]:
        return (-self.intensity, self.call_id, self.turn)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """Everything the audit keeps about one call (the map step's output)."""

    id: str
    where: str
    agent: str
    customer: str | None
    started_at: str | None  # ISO 8601 as given (local time with offset)
    day: str | None  # the local date, YYYY-MM-DD
    service: str | None
    channel: str | None
    handled_by: str
    turns: int
    customer_turns: int
    judged: int  # emotional customer turns with an agent reply after them
    answered: int  # of those, answered well
    empathy_score: float | None
    missed_cues: int
    #: Seconds (and agent replies) from the first emotional turn to the first reply that answered one.
    first_ack_s: float | None
    first_ack_replies: int | None
    acknowledged: bool | None  # None: nothing emotional to acknowledge
    start: str | None
    peak_state: str | None
    peak_intensity: float | None
    peak_turn: int | None
    end: str | None
    recovered: bool | None  # None: the call never had an emotional peak
    sentiment: tuple[float, ...]  # per customer turn, in [-1, 1]
    judged_states: tuple[str, ...]  # states that were pending at a judged reply
    missed_states: tuple[str, ...]  # states that were pending at a missed reply
    misses: tuple[Miss, ...]
    best: Moment | None
    escalated: bool
    escalation_reason: str | None
    escalation_turn: int | None
    #: The learnable cards shown (variant, propensity, followed, eased): `empathy learn fit` reads them.
    cards: tuple[Card, ...] = ()
    #: The customer had earlier contacts (CRM prior contacts): part of the call mix (audit/mix.py).
    repeat_caller: bool = False

    @property
    def sentiment_start(self) -> float | None:
        return self.sentiment[0] if self.sentiment else None

    @property
    def sentiment_end(self) -> float | None:
        return self.sentiment[-1] if self.sentiment else None

    def key(self) -> tuple[float, float, str]:
        """Calls to review first: most misses, then lowest score, then id."""
        score = self.empathy_score if self.empathy_score is not None else 1.0
        return (-float(self.missed_cues), score, self.id)

    def to_dict(self) -> dict[str, Any]:
        out = plain(self)
        out["sentiment_start"] = self.sentiment_start
        out["sentiment_end"] = self.sentiment_end
        return out

    def csv_row(self) -> dict[str, Any]:
        top = self.misses[0] if self.misses else None
        return {
            "call_id": self.id,
            "agent_id": self.agent,
            "customer_id": self.customer or "",
            "started_at": self.started_at or "",
            "service": self.service or "",
            "handled_by": self.handled_by,
            "turns": self.turns,
            "judged": self.judged,
            "answered": self.answered,
            "empathy_score": "" if self.empathy_score is None else f"{self.empathy_score:.3f}",
            "missed_cues": self.missed_cues,
            "first_ack_s": "" if self.first_ack_s is None else f"{self.first_ack_s:.1f}",
            "acknowledged": _flag(self.acknowledged),
            "start": self.start or "",
            "peak": self.peak_state or "",
            "peak_intensity": "" if self.peak_intensity is None else f"{self.peak_intensity:.2f}",
            "end": self.end or "",
            "recovered": _flag(self.recovered),
            "sentiment_start": "" if self.sentiment_start is None else f"{self.sentiment_start:.3f}",
            "sentiment_end": "" if self.sentiment_end is None else f"{self.sentiment_end:.3f}",
            "escalated": _flag(self.escalated),
            "escalation_reason": self.escalation_reason or "",
            "first_miss_state": top.state if top else "",
            "first_miss_quote": top.quote if top else "",
            "source": self.where,
        }


#: The per-call CSV's columns, in order (docs/audit.md).
CSV_COLUMNS = (
    "call_id",
    "agent_id",
    "customer_id",
    "started_at",
    "service",
    "handled_by",
    "turns",
    "judged",
    "answered",
    "empathy_score",
    "missed_cues",
    "first_ack_s",
    "acknowledged",
    "start",
    "peak",
    "peak_intensity",
    "end",
    "recovered",
    "sentiment_start",
    "sentiment_end",
    "escalated",
    "escalation_reason",
    "first_miss_state",
    "first_miss_quote",
    "source",
)


def _flag(value: bool | None) -> str:
    return "" if value is None else "yes" if value else "no"


@dataclass(frozen=True, slots=True)
class FailedInput:
    """An input the audit skipped: where it was, its id if known, and why."""

    where: str
    reason: str
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"where": self.where, "id": self.id, "reason": self.reason}
