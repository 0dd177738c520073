"""The label vocabularies of ../shared/TAXONOMY.md: the engine's public contract.

Every output, playbook, report and evaluation uses exactly these names, in this order. The
helpers that read them (which states ask for a response, how strong an intensity is) live
here too, so the renderers, the coach, the service and the audit cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final, Literal

CustomerState = Literal[
    "frustration",
    "urgency",
    "confusion",
    "cost_anxiety",
    "worry",
    "dejection",
    "distrust",
    "satisfaction",
    "neutral",
]

AgentBehaviour = Literal[
    "acknowledge_emotion",
    "validate",
    "apologize",
    "action_plan",
    "urgency_ack",
    "clarify",
    "confirm_understanding",
    "probe_deeper",
    "reassure",
    "budget_ack",
    "offer_human",
    "informational",
    "none",
]

STATES: Final[tuple[CustomerState, ...]] = (
    "frustration",
    "urgency",
    "confusion",
    "cost_anxiety",
    "worry",
    "dejection",
    "distrust",
    "satisfaction",
    "neutral",
)

#: The one name a person reads for each state (docs/output-format.md, "State names"): escalation
#: reasons, the board and the cockpit say these; JSON always carries the label itself (`dejection`).
STATE_NAMES: Final[dict[CustomerState, str]] = {
    "frustration": "Frustrated",
    "urgency": "Urgent",
    "confusion": "Confused",
    "cost_anxiety": "Worried about cost",
    "worry": "Worried",
    "dejection": "Dejected",
    "distrust": "Distrustful",
    "satisfaction": "Satisfied",
    "neutral": "Calm",
}

#: States that ask the agent to respond; satisfaction and neutral do not.
NEGATIVE_STATES: Final[tuple[CustomerState, ...]] = STATES[:7]

BEHAVIOURS: Final[tuple[AgentBehaviour, ...]] = (
    "acknowledge_emotion",
    "validate",
    "apologize",
    "action_plan",
    "urgency_ack",
    "clarify",
    "confirm_understanding",
    "probe_deeper",
    "reassure",
    "budget_ack",
    "offer_human",
    "informational",
    "none",
)

#: Which agent behaviours count as responding to each customer state (TAXONOMY.md,
#: `missed_cue`). An agent turn that shows none of these after a turn carrying the
#: state has missed that cue.
RESPONSES: Final[dict[CustomerState, frozenset[AgentBehaviour]]] = {
    "frustration": frozenset({"acknowledge_emotion", "validate", "apologize", "action_plan"}),
    "urgency": frozenset({"urgency_ack", "action_plan", "acknowledge_emotion"}),
    "confusion": frozenset({"clarify", "confirm_understanding"}),
    "cost_anxiety": frozenset({"budget_ack"}),
    "worry": frozenset({"reassure", "acknowledge_emotion"}),
    "dejection": frozenset({"probe_deeper", "acknowledge_emotion", "validate"}),
    "distrust": frozenset({"apologize", "reassure", "validate"}),
}

ESCALATION_REASONS: Final[tuple[str, ...]] = (
    "asked_for_human",
    "safety_emergency",
    "rising_frustration",
    "bot_not_understanding",
    "vulnerable_customer",
    "high_value_complaint",
)


def negative(states: Iterable[CustomerState]) -> tuple[CustomerState, ...]:
    """The states among `states` that ask the agent to respond, in the order given."""
    return tuple(s for s in states if s in NEGATIVE_STATES)


# --- intensity: how strongly a detected state holds -------------------------------------------

Level = Literal["mild", "clear", "strong"]
#: TAXONOMY.md: intensity 0.33 / 0.66 / 1.0 reads as mild / clear / strong. An intensity
#: reads as the level it is nearest to, so the bands meet about halfway between the anchors:
#: clear from 0.5 (halfway is 0.495; the coach and the escalation policy have always read 0.5
#: as clear), strong from 0.83.
LEVELS: Final[tuple[tuple[Level, float], ...]] = (("mild", 0.33), ("clear", 0.66), ("strong", 1.0))
CLEAR_FROM: Final[float] = 0.5
STRONG_FROM: Final[float] = (LEVELS[1][1] + LEVELS[2][1]) / 2
#: Calibrated log-odds at which a state reads as strong (intensity 1.0).
STRONG_LOGIT: Final[float] = 8.0


def level(intensity: float) -> Level:
    """The word for an intensity: mild, clear or strong."""
    if intensity >= STRONG_FROM:
        return "strong"
    return "clear" if intensity >= CLEAR_FROM else "mild"


def intensity_of(score: float) -> float:
    """A detected state's strength on TAXONOMY's scale: 0.33 mild, 0.66 clear, 1.0 strong; 0 when not detected.

    Read from the log-odds rather than the score, which saturates near 1 long before the
    words get strong ("I'm annoyed" and "I'm furious" both score 0.99+)."""
    if score < 0.5:
        return 0.0
    # math, not numpy: this runs for every state of every turn, and a numpy call on one float
    # costs microseconds where math costs tens of nanoseconds.
    logit = math.log(score / max(1e-12, 1.0 - score))
    return min(1.0, max(0.33, 0.33 + 0.67 * logit / STRONG_LOGIT))  # from mild (0.33) up to strong (1.0)
