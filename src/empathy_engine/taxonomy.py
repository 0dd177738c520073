"""The label vocabularies of ../shared/TAXONOMY.md: the engine's public contract.

Every output, playbook, report and evaluation uses exactly these names, in this order.
"""

from __future__ import annotations

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
