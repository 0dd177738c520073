"""AgentBehaviourPerceiver: what an agent turn does (TAXONOMY.md behaviours), from the text model."""

from __future__ import annotations

import re

import numpy as np

from empathy_engine.perception.text import TextReading
from empathy_engine.taxonomy import BEHAVIOURS, RESPONSES, AgentBehaviour, CustomerState

#: offer_human is offering the customer a person (TAXONOMY.md): a turn that names nobody to hand over
#: to does not do it, whatever the model reads into a closing "anything else I can help with?".
HANDOVER = re.compile(
    r"\b(transfer|put you through|connect you|hand you (over|off)|pass you|escalat\w*|supervisor|manager|"
    r"specialist|colleague|(a|an|another|real|live) (person|human|agent|representative|rep)|human|"
    r"some(one|body) (else|who|from|in|on)|speak (to|with)|talk (to|with))",
    re.IGNORECASE,
)


def behaviours_of(reading: TextReading) -> tuple[AgentBehaviour, ...]:
    """Behaviours whose calibrated score passes 0.5, strongest first; ("none",) when nothing does."""
    scores = reading.behaviour_scores
    found = tuple(BEHAVIOURS[i] for i in np.argsort(-scores) if scores[i] >= 0.5 and BEHAVIOURS[i] != "none")
    if "offer_human" in found and not HANDOVER.search(reading.text):
        found = tuple(b for b in found if b != "offer_human")
    return found or ("none",)


def answered_states(
    behaviours: tuple[AgentBehaviour, ...], states: tuple[CustomerState, ...]
) -> tuple[CustomerState, ...]:
    """Which of the customer's states these behaviours respond to (TAXONOMY.md, missed_cue)."""
    shown = set(behaviours)
    return tuple(s for s in states if RESPONSES.get(s, frozenset()) & shown)
