"""Fuse a turn's signals into the customer's state, and keep the little a live call must remember.

`fuse` computes (pure); `CallMemory` changes (one small object per call). The same code
serves a live call fed turn by turn and a batch audit of stored calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from empathy_engine.perception import fusion_weights
from empathy_engine.perception.fusion_weights import TrackerWeights
from empathy_engine.perception.signals import Signal
from empathy_engine.perception.text import TextReading
from empathy_engine.results import AgentTurn, CustomerTurn, Evidence, Peak, Summary, empathy_score
from empathy_engine.taxonomy import NEGATIVE_STATES, STATES, CustomerState, intensity_of

MAX_EVIDENCE = 3
_INDEX = {s: i for i, s in enumerate(STATES)}
_NEUTRAL = _INDEX["neutral"]
_NEGATIVE = np.array([s in NEGATIVE_STATES for s in STATES])


def fuse(
    reading: TextReading,
    signals: Sequence[Signal],
    context: Sequence[Signal],
    customer_turn: int,
    previous: np.ndarray | None,
    index: int,
    t: float | None,
    weights: TrackerWeights | None = None,
) -> CustomerTurn:
    """One customer turn's states from the text model, the pattern and context signals and the last turn.
    `weights`: the fusion artefact's (models/fusion-v1 unless the engine names another)."""
    w = weights or fusion_weights.bundled().tracker
    logits = reading.state_logits.astype(np.float64).copy()
    # Context and the last turn's mood colour what the words say; they add nothing to plain
    # logistics ("it's 14 Elm Street"), so they count as much as the words are not neutral.
    emotional = 1.0 - 1.0 / (1.0 + np.exp(-logits[_NEUTRAL]))
    decay = w.context_decay**customer_turn * emotional
    weighted = [(s, s.weight) for s in signals]
    for state in dict.fromkeys(s.state for s in context):  # ordered: same result every run
        total = sum(s.weight for s in context if s.state == state)
        scale = decay * min(1.0, w.max_context / total)
        weighted += [(s, s.weight * scale) for s in context if s.state == state]
    for signal, weight in weighted:
        logits[_INDEX[signal.state]] += weight
    if previous is not None:
        prev_logits = np.log(np.clip(previous, 1e-6, 1 - 1e-6) / np.clip(1 - previous, 1e-6, 1))
        logits += np.where(_NEGATIVE, w.carry * emotional * np.clip(prev_logits, 0.0, w.carry_cap), 0.0)
    # Evidence for an emotion is evidence against "no emotion".
    logits[_NEUTRAL] -= w.against_neutral * max((wt for s, wt in weighted if s.state != "neutral"), default=0.0)
    scores = 1.0 / (1.0 + np.exp(-logits))

    order = [int(i) for i in np.argsort(-scores) if scores[i] >= 0.5]
    detected: tuple[CustomerState, ...] = tuple(STATES[i] for i in order if i != _NEUTRAL) or ("neutral",)
    primary = detected[0]
    intensity = 0.0 if primary == "neutral" else intensity_of(float(scores[_INDEX[primary]]))
    evidence = _evidence(reading, weighted, detected)
    states = {s: float(scores[i]) for i, s in enumerate(STATES)}
    return CustomerTurn(index, states, detected, primary, intensity, evidence, t)


def _evidence(
    reading: TextReading, weighted: list[tuple[Signal, float]], detected: Sequence[CustomerState]
) -> tuple[Evidence, ...]:
    out: list[Evidence] = []
    for state in detected:
        if state == "neutral":
            continue
        found = [(w, Evidence(state, s.quote, s.source)) for s, w in weighted if s.state == state and w > 0.2]
        text_logit = float(reading.state_logits[_INDEX[state]])
        if text_logit > -1.0 and (quote := reading.quote(state)):
            found.append((text_logit + 1.0, Evidence(state, quote, "text")))
        found.sort(key=lambda pair: -pair[0])
        out.extend(e for _, e in found[:MAX_EVIDENCE])
    return tuple(out)


@dataclass(slots=True)
class CallMemory:
    """What the tracker keeps of a call between turns; bounded, so a call's state stays small."""

    context: tuple[Signal, ...] = ()
    turns: int = 0
    customer_turns: int = 0
    last_scores: np.ndarray | None = None
    last_customer: CustomerTurn | None = None
    # Running summary.
    start: CustomerState | None = None
    end: CustomerState | None = None
    peak: Peak | None = None
    emotional_answered: int = 0
    answered_well: int = 0
    missed_cues: int = 0

    def record_customer(self, turn: CustomerTurn) -> None:
        self.turns += 1
        self.customer_turns += 1
        self.last_scores = np.array([turn.states[s] for s in STATES], dtype=np.float32)
        self.last_customer = turn
        self.start = self.start or turn.primary
        self.end = turn.primary
        if turn.negative:  # the peak is the call's strongest negative state: never satisfaction or neutral
            state = turn.primary if turn.primary in turn.negative else max(turn.negative, key=turn.states.__getitem__)
            intensity = turn.intensity if state == turn.primary else turn.intensity_of(state)
            if self.peak is None or intensity > self.peak.intensity:
                self.peak = Peak(state, intensity, turn.index)

    def record_agent(self, turn: AgentTurn) -> None:
        self.turns += 1
        if self.last_customer is not None and self.last_customer.negative:
            self.emotional_answered += 1
            self.answered_well += not turn.missed_cue
            self.missed_cues += turn.missed_cue
        self.last_customer = None  # the agent has had their turn to answer it

    def summary(self) -> Summary:
        score = empathy_score(self.answered_well, self.emotional_answered)
        return Summary(self.start, self.peak, self.end, score, self.missed_cues)
