"""The result contract of `empathy analyze` and the live API (docs/output-format.md).

One typed `Insight` per turn, built once by the pipeline: for a customer turn the tracker's
state snapshot (`CustomerTurn`) with the card, the hand-over and the voice reading added
(`CustomerInsight`); for an agent turn its behaviours (`AgentTurn`). Everything downstream
reads these; `to_dict` is for the wire and files only, and `from_dict` reads stored results
back at that edge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from empathy_engine.advice import CueCard, Escalation
from empathy_engine.perception.signals import Source
from empathy_engine.taxonomy import AgentBehaviour, CustomerState, intensity_of, negative

if TYPE_CHECKING:
    from empathy_engine.perception.prosody import VoiceReading

#: Decimals of the documented output: state scores, intensities. Readers that must agree with a
#: stored result (the board after a restart, an audit of a results file) read at this precision.
SCORE_DIGITS = 3
INTENSITY_DIGITS = 2


@dataclass(frozen=True, slots=True)
class Evidence:
    state: CustomerState
    quote: str
    source: Source

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "quote": self.quote, "source": self.source}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Evidence:
        return cls(cast(CustomerState, d["state"]), str(d["quote"]), cast(Source, d.get("source", "text")))


@dataclass(frozen=True, slots=True)
class CustomerTurn:
    """The tracker's snapshot of the customer's state after one turn (no advice yet)."""

    index: int
    states: dict[CustomerState, float]
    detected: tuple[CustomerState, ...]
    primary: CustomerState
    intensity: float
    evidence: tuple[Evidence, ...]
    t: float | None = None

    @property
    def negative(self) -> tuple[CustomerState, ...]:
        """Detected states that ask the agent to respond."""
        return negative(self.detected)

    def intensity_of(self, state: CustomerState) -> float:
        """How strongly `state` holds on this turn (0 when it is not detected)."""
        return intensity_of(self.states[state])

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "speaker": "customer",
            **({"t": self.t} if self.t is not None else {}),
            "states": {k: round(v, SCORE_DIGITS) for k, v in self.states.items()},
            "detected": list(self.detected),
            "primary": self.primary,
            "intensity": round(self.intensity, INTENSITY_DIGITS),
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass(frozen=True, slots=True)
class CustomerInsight(CustomerTurn):
    """A customer turn's result: the state, and what the engine advises on it."""

    cues: tuple[CueCard, ...] = ()
    #: Bot-handled calls only: the hand-over decided after this turn, and the proactive offer.
    escalation: Escalation | None = None
    offer_human: bool = False
    #: Tone of voice when the turn came with audio (docs/voice.md).
    voice: VoiceReading | None = None
    #: The text model's pooled features of the words: for the audit's exemplar harvest, never output.
    fingerprint: np.ndarray | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(
        cls,
        state: CustomerTurn,
        cues: tuple[CueCard, ...] = (),
        escalation: Escalation | None = None,
        offer_human: bool = False,
        voice: VoiceReading | None = None,
        fingerprint: np.ndarray | None = None,
    ) -> CustomerInsight:
        snapshot = {f.name: getattr(state, f.name) for f in fields(CustomerTurn)}
        return cls(**snapshot, cues=cues, escalation=escalation, offer_human=offer_human, voice=voice,
                   fingerprint=fingerprint)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {
            **CustomerTurn.to_dict(self),
            "cues": [c.to_dict() for c in self.cues],
            **({"escalation": self.escalation.to_dict()} if self.escalation else {}),
            **({"offer_human": True} if self.offer_human else {}),
            **({"voice": self.voice.to_dict()} if self.voice else {}),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CustomerInsight:
        """A stored customer turn. The voice reading stays behind: nothing that reads stored turns uses it."""
        escalation = d.get("escalation")
        return cls(
            index=int(d["index"]),
            states={cast(CustomerState, k): float(v) for k, v in d["states"].items()},
            detected=tuple(d["detected"]),
            primary=d["primary"],
            intensity=float(d.get("intensity", 0.0)),
            evidence=tuple(Evidence.from_dict(e) for e in d.get("evidence") or ()),
            t=d.get("t"),
            cues=tuple(CueCard.from_dict(c) for c in d.get("cues") or ()),
            escalation=Escalation.from_dict(escalation) if escalation else None,
            offer_human=bool(d.get("offer_human", False)),
        )


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

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AgentTurn:
        follow = d.get("follow_through")
        return cls(
            index=int(d["index"]),
            behaviours=tuple(d.get("behaviours") or ()),
            missed_cue=bool(d.get("missed_cue", False)),
            t=d.get("t"),
            follow_through=(str(follow["card"]), bool(follow["followed"])) if follow else None,
        )


Insight = CustomerInsight | AgentTurn


def insight_from_dict(d: Mapping[str, Any]) -> Insight:
    """A stored turn result, typed again."""
    return CustomerInsight.from_dict(d) if d.get("speaker") == "customer" else AgentTurn.from_dict(d)


def empathy_score(answered: int, judged: int) -> float | None:
    """The share of emotional customer turns whose first reply answered them; None when there were none.

    The one definition: the tracker's summary and the audit's call record both use it."""
    return answered / judged if judged else None


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

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Summary:
        peak = d.get("peak")
        return cls(
            start=d.get("start"),
            peak=Peak(peak["state"], float(peak["intensity"]), int(peak["turn"])) if peak else None,
            end=d.get("end"),
            empathy_score=d.get("empathy_score"),
            missed_cues=int(d.get("missed_cues", 0)),
        )


@dataclass(frozen=True, slots=True)
class ConversationResult:
    id: str
    turns: tuple[Insight, ...]
    summary: Summary
    #: Bot-handled calls carry their hand-over (None: the bot kept the call); other calls have no such field.
    bot: bool = False
    escalation: Escalation | None = None
    #: The cue policy's version the call was coached with ("none": uniform draws) and the call's
    #: context key for it (coaching/choice.py CONTEXTS); what `empathy learn fit` groups by.
    policy: str | None = None
    context: str | None = None

    def to_dict(self) -> dict[str, Any]:
        turns = [t.to_dict() for t in self.turns]
        # A stored conversation knows what the agent did next: fill in each card's `followed`.
        for i, turn in enumerate(self.turns[:-1]):
            after = self.turns[i + 1]
            if isinstance(turn, CustomerInsight) and isinstance(after, AgentTurn) and after.follow_through:
                card_id, followed = after.follow_through
                for card in turns[i]["cues"]:
                    if card["id"] == card_id:
                        card["followed"] = followed
        out: dict[str, Any] = {"id": self.id, "turns": turns, "summary": self.summary.to_dict()}
        if self.bot:
            out["escalation"] = self.escalation.to_dict() if self.escalation else None
        if self.policy is not None:
            out["policy"] = self.policy
        if self.context is not None:
            out["context"] = self.context
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ConversationResult:
        """A stored result (docs/output-format.md), typed again. A card's `followed` becomes the
        next agent turn's follow-through, as `to_dict` wrote it."""
        turns = [insight_from_dict(t) for t in d["turns"]]
        for i, after in enumerate(turns[1:], 1):
            cards = d["turns"][i - 1].get("cues") or ()
            judged = [(str(c["id"]), bool(c["followed"])) for c in cards if c.get("followed") is not None]
            if judged and isinstance(after, AgentTurn) and after.follow_through is None:
                turns[i] = replace(after, follow_through=judged[0])
        escalation = d.get("escalation")
        handover = Escalation.from_dict(escalation) if isinstance(escalation, Mapping) else None
        summary = Summary.from_dict(d.get("summary") or {})
        policy, context = d.get("policy"), d.get("context")
        return cls(
            str(d["id"]), tuple(turns), summary, "escalation" in d, handover,
            str(policy) if policy is not None else None, str(context) if context is not None else None,
        )
