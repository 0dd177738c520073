"""TextEmotionPerceiver: the trained text model's view of one turn, with the words behind it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from empathy_engine.perception.text_model import TextModel, TextPrediction
from empathy_engine.taxonomy import BEHAVIOURS, STATES

QUOTE_TOKENS = 4  # the longest run of word pieces a quote is built around


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
        """The few words of the text that pushed `output` up most, widened to whole words."""
        contrib = self.prediction.contributions(_OUTPUT_INDEX[output])
        n = len(contrib)
        width = min(QUOTE_TOKENS, n)
        sums = np.convolve(contrib, np.ones(width), mode="valid")
        start = int(np.argmax(sums))
        spans = self.prediction.token_spans[start : start + width]
        lo, hi = spans[0][0], spans[-1][1]
        while lo > 0 and not self.text[lo - 1].isspace():
            lo -= 1
        while hi < len(self.text) and not self.text[hi].isspace():
            hi += 1
        return self.text[lo:hi].strip(" ,.;:!?\"'")


_OUTPUT_INDEX = {name: i for i, name in enumerate((*STATES, *BEHAVIOURS))}


class TextEmotionPerceiver:
    """Runs the bundled text model on a turn; customer states and agent behaviours in one pass."""

    def __init__(self, model: TextModel) -> None:
        if tuple(model.outputs) != (*STATES, *BEHAVIOURS):
            raise ValueError(f"model {model.directory} has outputs {model.outputs}, not the taxonomy's")
        self.model = model

    def read(self, text: str) -> TextReading:
        prediction = self.model.predict(text)
        scores = prediction.scores
        return TextReading(_logit(scores[: len(STATES)]), scores[len(STATES) :], prediction, text)
