"""The tracker on hand-made readings: how signals, context and the last turn move the states,
and what a call remembers between turns. No text model: the readings are built here."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from empathy_engine.perception.fusion_weights import bundled
from empathy_engine.perception.signals import Signal
from empathy_engine.perception.text import TextReading
from empathy_engine.results import AgentTurn, CustomerTurn
from empathy_engine.state.tracker import CallMemory, fuse
from empathy_engine.taxonomy import STATES

FP = np.eye(8, dtype=np.float32)[0]


@dataclass
class _Prediction:
    """Just enough of a TextPrediction for quotes: one token spanning the whole text."""

    text: str

    @property
    def token_spans(self) -> tuple[tuple[int, int], ...]:
        return ((0, len(self.text)),)

    @property
    def fingerprint(self) -> np.ndarray:
        return FP

    @property
    def spans(self) -> tuple[tuple[int, int], ...]:
        return ((0, 1),)  # one reading window over the one token

    @property
    def winner(self) -> np.ndarray:
        return np.zeros(len(STATES), dtype=np.int64)

    def contributions(self, output: int) -> np.ndarray:
        return np.ones(1, dtype=np.float32)


def reading(text: str = "words", **logits: float) -> TextReading:
    """The text model's calibrated log-odds: -4 (clearly not) for every state not given."""
    values = np.array([logits.get(s, -4.0) for s in STATES], dtype=np.float32)
    return TextReading(values, np.zeros(13, np.float32), _Prediction(text), text)  # type: ignore[arg-type]


def logit(turn: CustomerTurn, state: str) -> float:
    p = float(np.clip(turn.states[state], 1e-9, 1 - 1e-9))  # type: ignore[index]
    return float(np.log(p / (1 - p)))


def test_fuse_the_words_alone_decide_when_nothing_else_is_known() -> None:
    turn = fuse(reading(neutral=3.0), (), (), 0, None, 0, 1.5)
    assert turn.detected == ("neutral",) and turn.primary == "neutral" and turn.intensity == 0.0
    assert (turn.index, turn.t, turn.evidence) == (0, 1.5, ())
    frustrated = fuse(reading("this is ridiculous", frustration=3.0, neutral=-3.0), (), (), 0, None, 0, None)
    assert frustrated.primary == "frustration" and frustrated.negative == ("frustration",)
    assert [(e.state, e.source) for e in frustrated.evidence] == [("frustration", "text")]


def test_fuse_a_signal_moves_its_state_and_counts_against_neutral() -> None:
    words = reading(frustration=-0.5, neutral=0.5)
    plain = fuse(words, (), (), 0, None, 0, None)
    signal = Signal("frustration", 2.0, "pattern", "again")
    moved = fuse(words, (signal,), (), 0, None, 0, None)
    assert abs(logit(moved, "frustration") - logit(plain, "frustration") - 2.0) < 1e-3
    assert logit(moved, "neutral") < logit(plain, "neutral")  # evidence for an emotion is evidence against none
    assert moved.detected == ("frustration",)
    assert ("frustration", "again", "pattern") in {(e.state, e.quote, e.source) for e in moved.evidence}


def test_fuse_context_is_capped_and_fades_over_the_call() -> None:
    w = bundled().tracker
    words = reading(urgency=-1.0, neutral=-2.0)
    night = (Signal("urgency", 0.9, "context", "02:10"), Signal("urgency", 0.6, "context", "water_damage"))
    one = (Signal("urgency", w.max_context, "context", "capped"),)
    first, capped = fuse(words, (), night, 0, None, 0, None), fuse(words, (), one, 0, None, 0, None)
    assert abs(logit(first, "urgency") - logit(capped, "urgency")) < 1e-4  # 1.5 in all is held to max_context
    later = fuse(words, (), night, 3, None, 6, None)
    base = logit(fuse(words, (), (), 0, None, 0, None), "urgency")
    assert 0 < logit(later, "urgency") - base < logit(first, "urgency") - base


def test_fuse_context_does_not_colour_plain_logistics() -> None:
    address = reading("It's 14 Elm Street", neutral=8.0)
    night = (Signal("urgency", 0.9, "context", "02:10"),)
    assert fuse(address, (), night, 0, None, 0, None).detected == ("neutral",)
    moved = logit(fuse(address, (), night, 0, None, 0, None), "urgency") - logit(
        fuse(address, (), (), 0, None, 0, None), "urgency"
    )
    assert 0 <= moved < 0.01


def test_fuse_last_turns_negative_mood_lingers_but_satisfaction_does_not() -> None:
    words = reading(frustration=-0.2, satisfaction=-0.2, neutral=-1.0)
    before = np.array([0.95 if s in ("frustration", "satisfaction") else 0.05 for s in STATES], np.float32)
    fresh = fuse(words, (), (), 1, None, 2, None)
    after = fuse(words, (), (), 1, before, 2, None)
    assert logit(after, "frustration") > logit(fresh, "frustration")
    assert abs(logit(after, "satisfaction") - logit(fresh, "satisfaction")) < 1e-4


def _customer(memory: CallMemory, text: str, **logits: float) -> CustomerTurn:
    turn = fuse(reading(text, **logits), (), memory.context, memory.customer_turns, memory.last_scores,
                memory.turns, None)  # fmt: skip
    memory.record_customer(turn)
    return turn


def _agent(memory: CallMemory, text: str, missed: bool) -> None:
    memory.record_agent(AgentTurn(memory.turns, ("none",), missed))


def test_call_memory_summary_follows_the_call() -> None:
    memory = CallMemory()
    _customer(memory, "where is my tech", neutral=2.0)
    _customer(memory, "nobody came again", frustration=1.0, neutral=-3.0)
    _agent(memory, "I'm sorry about that", missed=False)
    strongest = _customer(memory, "this is the third time", frustration=6.0, neutral=-4.0)
    _agent(memory, "Our window is 8 to 12", missed=True)
    _customer(memory, "thanks, that's a relief", satisfaction=4.0, neutral=-3.0)
    _agent(memory, "You're welcome", missed=False)  # nothing negative to answer: not judged
    summary = memory.summary()
    assert (summary.start, summary.end) == ("neutral", "satisfaction")
    assert summary.peak is not None and (summary.peak.state, summary.peak.turn) == ("frustration", strongest.index)
    assert summary.empathy_score == 0.5 and summary.missed_cues == 1


def test_call_memory_an_agent_turn_is_judged_once_against_the_customer_turn_before_it() -> None:
    memory = CallMemory()
    _customer(memory, "nobody came again", frustration=2.0, neutral=-3.0)
    _agent(memory, "Let me check", missed=True)
    _agent(memory, "I'm so sorry, that shouldn't have happened", missed=False)  # a second reply is not judged
    assert (memory.emotional_answered, memory.answered_well, memory.missed_cues) == (1, 0, 1)
    assert memory.summary().empathy_score == 0.0


def test_call_memory_peak_is_a_negative_state_even_when_satisfaction_leads_the_turn() -> None:
    # "Thanks, but I'm still worried": satisfaction scores higher, worry is detected too.
    memory = CallMemory()
    mixed = _customer(memory, "thanks, but I'm still worried", satisfaction=6.0, worry=2.0, neutral=-4.0)
    assert mixed.primary == "satisfaction" and "worry" in mixed.negative
    peak = memory.summary().peak
    assert peak is not None and (peak.state, peak.turn) == ("worry", mixed.index)
    assert peak.intensity == mixed.intensity_of("worry") < mixed.intensity
