"""The cue card: one short, contextual prompt for the agent, added to a customer turn's result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

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
        return out
