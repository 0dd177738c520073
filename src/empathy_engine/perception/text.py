"""TextEmotionPerceiver: the trained text model's view of one turn, with the words behind it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from empathy_engine.perception.text_model import TextModel, TextPrediction
from empathy_engine.taxonomy import BEHAVIOURS, STATES

QUOTE_TOKENS = 4  # the run of word pieces a quote is built around
QUOTE_WORDS = 7  # the longest quote, in words
CLAUSE = re.compile(r"[^.!?;]+[.!?;]*")
WORD = re.compile(r"\S+")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


@dataclass(frozen=True, slots=True)
class TextReading:
    """What the text model says about one turn."""

    state_logits: np.ndarray  # (9,) calibrated: 0 is each state's decision point
    behaviour_scores: np.ndarray  # (13,) calibrated probabilities
    prediction: TextPrediction
    text: str

    def quote(self, output: str) -> str:
        """The customer's words that pushed `output` up most: the clause around the strongest
        run of word pieces, or a few words either side of it when the clause is long."""
        k = _OUTPUT_INDEX[output]
        a, b = self.prediction.spans[int(self.prediction.winner[k])]  # the window the score came from
        contrib = self.prediction.contributions(k)[a:b]
        width = min(QUOTE_TOKENS, len(contrib))
        start = a + int(np.argmax(np.convolve(contrib, np.ones(width), mode="valid")))
        spans = self.prediction.token_spans[start : start + width]
        lo, hi = spans[0][0], spans[-1][1]
        if hi <= lo:
            return ""
        clause = next((m for m in CLAUSE.finditer(self.text) if m.end() >= (lo + hi) // 2), None)
        bounds = (clause.start(), clause.end()) if clause else (0, len(self.text))
        words = list(WORD.finditer(self.text, *bounds))
        if len(words) > QUOTE_WORDS:  # a long clause: the words around the run, within it
            inside = [i for i, w in enumerate(words) if w.end() > lo and w.start() < hi] or [0]
            first = max(0, min(inside[0], inside[-1] - QUOTE_WORDS + 1))
            words = words[first : first + QUOTE_WORDS]
        return self.text[words[0].start() : words[-1].end()].strip(" ,.;:!?\"'") if words else ""


_OUTPUT_INDEX: dict[str, int] = {name: i for i, name in enumerate((*STATES, *BEHAVIOURS))}


class TextEmotionPerceiver:
    """Runs the bundled text model on a turn; customer states and agent behaviours in one pass."""

    def __init__(self, model: TextModel) -> None:
        if tuple(model.outputs) != (*STATES, *BEHAVIOURS):
            raise ValueError(f"model {model.directory} has outputs {model.outputs}, not the taxonomy's")
        self.model = model

    def read(self, text: str, answering: np.ndarray | None = None) -> TextReading:
        """One turn; `answering` is the `context` of the turn it answers (see `context`): a v3
        model reads the two together, so "Great." after bad news is not "Great." after good news."""
        prediction = self.model.predict(text, answering)
        scores = prediction.scores
        return TextReading(_logit(scores[: len(STATES)]), scores[len(STATES) :], prediction, text)

    def context(self, reading: TextReading) -> np.ndarray | None:
        """What the next turn needs of this one: its pooled features (2 KB as float16), or None
        when the model does not read context, so a call keeps nothing it would not use."""
        return reading.prediction.pooled.astype(np.float16) if self.model.reads_context else None
