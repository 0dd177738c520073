"""AgentBehaviourPerceiver: what an agent turn does (TAXONOMY.md behaviours), from the text model."""

from __future__ import annotations

import numpy as np

from empathy_engine.perception.text import TextReading
from empathy_engine.taxonomy import BEHAVIOURS, RESPONSES, AgentBehaviour, CustomerState


def behaviours_of(reading: TextReading) -> tuple[AgentBehaviour, ...]:
    """Behaviours whose calibrated score passes 0.5, strongest first; ("none",) when nothing does."""
    scores = reading.behaviour_scores
    found = tuple(BEHAVIOURS[i] for i in np.argsort(-scores) if scores[i] >= 0.5 and BEHAVIOURS[i] != "none")
    return found or ("none",)


def answered_states(
    behaviours: tuple[AgentBehaviour, ...], states: tuple[CustomerState, ...]
) -> tuple[CustomerState, ...]:
    """Which of the customer's states these behaviours respond to (TAXONOMY.md, missed_cue)."""
    shown = set(behaviours)
    return tuple(s for s in states if RESPONSES.get(s, frozenset()) & shown)
