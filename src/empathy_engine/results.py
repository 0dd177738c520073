"""The result contract of `empathy analyze` and the live API (docs/output-format.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from empathy_engine.coaching.cards import CueCard
from empathy_engine.perception.signals import Source
from empathy_engine.taxonomy import AgentBehaviour, CustomerState


@dataclass(frozen=True, slots=True)
class Evidence:
    state: CustomerState
    quote: str
    source: Source

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "quote": self.quote, "source": self.source}


@dataclass(frozen=True, slots=True)
class CustomerTurn:
    index: int
    states: dict[CustomerState, float]
    detected: tuple[CustomerState, ...]
    primary: CustomerState
    intensity: float
    evidence: tuple[Evidence, ...]
    t: float | None = None
    cues: tuple[CueCard, ...] = ()
    #: Bot-handled calls only: the hand-over decided after this turn, and the proactive offer.
    escalation: dict[str, Any] | None = None
    offer_human: bool = False
    #: Tone of voice when the turn came with audio (docs/voice.md).
    voice: dict[str, Any] | None = None

    @property
    def negative(self) -> tuple[CustomerState, ...]:
        """Detected states that ask the agent to respond."""
        return tuple(s for s in self.detected if s not in ("neutral", "satisfaction"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "speaker": "customer",
            **({"t": self.t} if self.t is not None else {}),
            "states": {k: round(v, 3) for k, v in self.states.items()},
            "detected": list(self.detected),
            "primary": self.primary,
            "intensity": round(self.intensity, 2),
            "evidence": [e.to_dict() for e in self.evidence],
            "cues": [c.to_dict() for c in self.cues],
            **({"escalation": self.escalation} if self.escalation else {}),
            **({"offer_human": True} if self.offer_human else {}),
            **({"voice": self.voice} if self.voice else {}),
        }


@dataclass(frozen=True, slots=True)
class AgentTurn:
    index: int
    behaviours: tuple[AgentBehaviour, ...]
    missed_cue: bool
    #: The customer states this turn answered (empty when there was nothing to answer).
    answered: tuple[CustomerState, ...] = ()
    t: float | None = None
    #: The card that was up when the agent spoke, and whether this turn did what it asked.
    follow_through: tuple[str, bool] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "speaker": "agent",
            **({"t": self.t} if self.t is not None else {}),
            "behaviours": list(self.behaviours),
            "missed_cue": self.missed_cue,
        }
        if self.follow_through is not None:
            out["follow_through"] = {"card": self.follow_through[0], "followed": self.follow_through[1]}
        return out


TurnResult = CustomerTurn | AgentTurn


@dataclass(frozen=True, slots=True)
class Peak:
    state: CustomerState
    intensity: float
    turn: int


@dataclass(frozen=True, slots=True)
class Summary:
    start: CustomerState | None
    peak: Peak | None
    end: CustomerState | None
    #: Share of emotional customer turns the agent answered well; None when there were none.
    empathy_score: float | None
    missed_cues: int

    def to_dict(self) -> dict[str, Any]:
        peak = self.peak
        return {
            "start": self.start,
            "peak": None
            if peak is None
            else {"state": peak.state, "intensity": round(peak.intensity, 2), "turn": peak.turn},
            "end": self.end,
            "empathy_score": None if self.empathy_score is None else round(self.empathy_score, 2),
            "missed_cues": self.missed_cues,
        }


@dataclass(frozen=True, slots=True)
class ConversationResult:
    id: str
    turns: tuple[TurnResult, ...]
    summary: Summary
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        turns = [t.to_dict() for t in self.turns]
        # A stored conversation knows what the agent did next: fill in each card's `followed`.
        for i, turn in enumerate(self.turns[:-1]):
            after = self.turns[i + 1]
            if isinstance(turn, CustomerTurn) and isinstance(after, AgentTurn) and after.follow_through:
                card_id, followed = after.follow_through
                for card in turns[i]["cues"]:
                    if card["id"] == card_id:
                        card["followed"] = followed
        return {"id": self.id, "turns": turns, "summary": self.summary.to_dict(), **self.extra}
