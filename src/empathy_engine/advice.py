"""What the engine advises on a customer turn: the agent's cue card and the bot's hand-over.

These are part of the result contract, so they sit at the bottom of the flow (they need only
the taxonomy): the contract in `results.py` carries them without importing `coaching/`, which
builds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from empathy_engine.taxonomy import AgentBehaviour

CardSource = Literal["playbook", "exemplar", "safety"]


@dataclass(frozen=True, slots=True)
class CueCard:
    """What the customer feels, why we think so, what to do and say next, and what to avoid."""

    id: str  # stable within a call: "<state>/<step>" (or "safety/<hazard>")
    state: str  # a customer state, or "safety"
    why: str  # the evidence quote
    do: str  # the playbook step
    say: str  # a suggested phrase, personalised
    avoid: tuple[str, ...]
    priority: int  # 0 = safety first; higher numbers matter less
    expects: tuple[AgentBehaviour, ...]  # behaviours that count as following the card
    source: CardSource = "playbook"
    exemplar: str | None = None  # where a proven phrasing came from ("call-17#4")
    #: The phrasing shown, as a stable id ("frustration/validate#1a2b3c", coaching/choice.py), and
    #: the probability the coach's draw gave it: every card is an experiment (docs/learning.md).
    variant: str | None = None
    propensity: float | None = None
    #: The idiom explainer's line on what the customer's phrase usually means (coaching/explainer.py).
    explain: str | None = None

    def to_dict(self, followed: bool | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "state": self.state,
            "why": self.why,
            "do": self.do,
            "say": self.say,
            "avoid": list(self.avoid),
            "priority": self.priority,
            "source": self.source,
            "followed": followed,
        }
        if self.exemplar:
            out["exemplar"] = self.exemplar
        if self.variant is not None:
            out["variant"] = self.variant
        if self.propensity is not None:
            out["propensity"] = round(self.propensity, 6)
        if self.explain:
            out["explain"] = self.explain
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CueCard:
        """A card read back from a stored result. `expects` is not part of the output, so it stays empty."""
        exemplar, variant, propensity = d.get("exemplar"), d.get("variant"), d.get("propensity")
        exemplar, explain = d.get("exemplar"), d.get("explain")
        return cls(
            id=str(d["id"]),
            state=str(d["state"]),
            why=str(d.get("why", "")),
            do=str(d.get("do", "")),
            say=str(d.get("say", "")),
            avoid=tuple(str(a) for a in d.get("avoid") or ()),
            priority=int(d.get("priority", 1)),
            expects=(),
            source=cast(CardSource, d.get("source", "playbook")),
            exemplar=str(exemplar) if exemplar else None,
            variant=str(variant) if variant is not None else None,
            propensity=float(propensity) if propensity is not None else None,
            explain=str(explain) if explain else None,
        )

    @property
    def safety(self) -> bool:
        return self.source == "safety"


@dataclass(frozen=True, slots=True)
class Escalation:
    """A bot-handled call's hand-over to a human: when, why, and the packet the human starts from."""

    at_turn: int
    reason: str
    handoff: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"at_turn": self.at_turn, "reason": self.reason, "handoff": self.handoff}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Escalation:
        return cls(int(d["at_turn"]), str(d["reason"]), dict(d.get("handoff") or {}))
