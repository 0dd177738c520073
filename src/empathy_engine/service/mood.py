"""A call's mood at a glance: current state, trend, current cue card, safety, and risk.

Fed the stored turn results in order, so a live call, a restarted server and a finished call
all show the same thing. The supervisor board sorts by `risk`.

Safety is "handled" the way the coach itself decides it (coaching/coach.py keeps a safety card
up until the agent acts on it): an agent turn whose follow-through says it followed the safety
card. A safety emergency raised by an escalation with no safety card of its own (no heat for
someone vulnerable) is handled when the agent follows the card shown after it. A customer who
sounds satisfied does not clear it: the hazard has not gone because the mood has.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from empathy_engine.taxonomy import NEGATIVE_STATES, intensity_of

#: A change in the strongest negative score of at least this much is a trend, not noise.
TREND_STEP = 0.1
HISTORY = 20
#: Risk weights: a safety emergency outranks everything; then how strong the worst negative
#: state is (0..1); a worsening call gets up to half a level more than a steady one.
SAFETY_RISK = 10.0
WORSENING_WEIGHT = 0.5


def negativity(result: dict[str, Any]) -> float:
    """The strongest negative state's score in a customer turn (0..1)."""
    states = result.get("states") or {}
    return max((float(states.get(s, 0.0)) for s in NEGATIVE_STATES), default=0.0)


def strength(result: dict[str, Any]) -> float:
    """The intensity (0.33 mild .. 1 strong) of the strongest detected negative state; 0 if none."""
    states = result.get("states") or {}
    scores = [float(states.get(s, 0.0)) for s in result.get("detected", ()) if s in NEGATIVE_STATES]
    return intensity_of(max(scores)) if scores else 0.0


def is_safety_card(card: dict[str, Any]) -> bool:
    return (
        card.get("state") == "safety" or card.get("source") == "safety" or str(card.get("id", "")).startswith("safety/")
    )


def mentions_safety(value: Any) -> bool:
    """True when an escalation (any shape) names the safety_emergency reason."""
    if isinstance(value, str):
        return value == "safety_emergency"
    if isinstance(value, dict):
        return any(mentions_safety(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(mentions_safety(v) for v in value)
    return False


def trend_of(delta: float | None) -> str:
    if delta is None:
        return "new"
    if delta >= TREND_STEP:
        return "worsening"
    if delta <= -TREND_STEP:
        return "improving"
    return "steady"


@dataclass(slots=True)
class Mood:
    """Folds turn results into what the cockpit's indicator and the board show."""

    primary: str | None = None
    intensity: float = 0.0
    strength: float = 0.0
    negativity: float | None = None
    delta: float | None = None
    card: dict[str, Any] | None = None
    last_card: dict[str, Any] | None = None  # the most recent card of the call, for the board
    why: list[dict[str, Any]] = field(default_factory=list)
    safety: bool = False
    #: The safety card the agent has not acted on yet ("" when the flag came from an escalation).
    safety_open: str | None = None
    safety_handled: bool = False  # a safety flag was raised on this call and the agent handled it
    escalation: Any = None
    last_text: str | None = None
    customer_turns: int = 0
    history: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY))

    def add(self, speaker: str, text: str, result: dict[str, Any]) -> None:
        escalation = result.get("escalation")
        if escalation:
            self.escalation = escalation
            if mentions_safety(escalation) and not self.safety:
                self._raise_safety("")
        if speaker != "customer":
            self._agent_followed(result.get("follow_through"))
            return
        level = negativity(result)
        self.delta = None if self.negativity is None else level - self.negativity
        self.negativity = level
        self.history.append(round(level, 3))
        self.primary = result.get("primary")
        self.intensity = float(result.get("intensity", 0.0))
        self.strength = strength(result)
        cues = [c for c in result.get("cues") or [] if isinstance(c, dict)]
        # The current card is the first card of the latest customer turn: the engine puts the
        # most important first, and an older card may no longer fit what the customer says.
        self.card = cues[0] if cues else None
        self.last_card = self.card or self.last_card
        safety_card = next((c for c in cues if is_safety_card(c)), None)
        if safety_card is not None:
            self._raise_safety(str(safety_card.get("id", "")))
        self.why = [e for e in result.get("evidence", []) if e.get("state") == self.primary][:3]
        self.last_text = text[:200]
        self.customer_turns += 1

    def _raise_safety(self, card_id: str) -> None:
        self.safety, self.safety_open, self.safety_handled = True, card_id, False

    def _agent_followed(self, follow: Any) -> None:
        """Clear the safety flag once the agent did what its card asked (the coach's own verdict)."""
        if not self.safety:
            return
        for f in follow if isinstance(follow, list) else [follow] if isinstance(follow, dict) else []:
            if f.get("followed") is True and (not self.safety_open or f.get("card") == self.safety_open):
                self.safety, self.safety_open, self.safety_handled = False, None, True
                return

    @property
    def trend(self) -> str:
        return trend_of(self.delta)

    @property
    def risk(self) -> float:
        worsening = max(0.0, self.delta or 0.0)
        return (SAFETY_RISK if self.safety else 0.0) + self.strength + WORSENING_WEIGHT * worsening

    def to_dict(self) -> dict[str, Any]:
        return {
            "primary": self.primary,
            "intensity": self.intensity,
            "strength": round(self.strength, 2),
            "trend": self.trend,
            "delta": None if self.delta is None else round(self.delta, 3),
            "history": list(self.history),
            "card": self.card,
            "last_card": self.last_card,
            "why": self.why,
            "safety": self.safety,
            "safety_handled": self.safety_handled,
            "escalation": self.escalation,
            "last_text": self.last_text,
            "risk": round(self.risk, 3),
        }
