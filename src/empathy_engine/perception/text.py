"""TextEmotionPerceiver: the trained text model's view of one turn, with the words behind it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from empathy_engine.perception.text_model import TextModel, TextPrediction
from empathy_engine.taxonomy import BEHAVIOURS, STATES

QUOTE_TOKENS = 4  # the run of word pieces a quote is built around
QUOTE_WORDS = 12  # the longest quote, in words
CLAUSE = re.compile(r"[^.!?;]+[.!?;]*")
WORD = re.compile(r"\S+")
#: Words that start a new clause: a quote is cut before them, never just after.
JOINER = re.compile(r"and|but|or|so|because|while|when|whenever|although|though|since|until|unless|whereas|then")
#: Words a quote must not end on (it would stop mid-phrase).
TRAILING = re.compile(
    r"a|an|the|to|of|in|on|at|for|with|from|by|about|my|your|our|their|his|her|its|it's|i|i'm|i've|we|you|they|"
    r"is|are|was|were|be|been|has|have|had|that|this|just|very|really|not|no"
)


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
        """The customer's words that pushed `output` up most: the sentence around the strongest run
        of word pieces, or, when that is long, the clause (or clauses) the run falls in. A clause
        longer than QUOTE_WORDS is cut at words, never ending or starting on a joining word."""
        k = _OUTPUT_INDEX[output]
        a, b = self.prediction.spans[int(self.prediction.winner[k])]  # the window the score came from
        contrib = self.prediction.contributions(k)[a:b]
        width = min(QUOTE_TOKENS, len(contrib))
        start = a + int(np.argmax(np.convolve(contrib, np.ones(width), mode="valid")))
        spans = self.prediction.token_spans[start : start + width]
        lo, hi = spans[0][0], spans[-1][1]
        if hi <= lo:
            return ""
        sentence = next((m for m in CLAUSE.finditer(self.text) if m.end() >= (lo + hi) // 2), None)
        bounds = (sentence.start(), sentence.end()) if sentence else (0, len(self.text))
        words = list(WORD.finditer(self.text, *bounds))
        if len(words) > QUOTE_WORDS:
            words = _clause_words(self.text, words, lo, hi)
        words = _trimmed(words)
        return self.text[words[0].start() : words[-1].end()].strip(" ,.;:!?\"'—–-") if words else ""


def _clause_words(text: str, words: list[re.Match[str]], lo: int, hi: int) -> list[re.Match[str]]:
    """The clause (split at commas, dashes and joining words) the run lo..hi is centred in, with the
    other clauses the run touches while they fit in QUOTE_WORDS; cut at words when one is longer."""
    cuts = {w.start() for w in words if JOINER.fullmatch(w.group().lower())}
    cuts |= {w.end() for w in words if w.group()[-1] in ",:;" or w.group() in ("-", "–", "—")}
    pieces: list[list[re.Match[str]]] = [[]]
    for w in words:
        if w.start() in cuts and pieces[-1]:
            pieces.append([])
        pieces[-1].append(w)
        if w.end() in cuts:
            pieces.append([])
    pieces = [p for p in pieces if p]
    centre = (lo + hi) // 2
    at = next((i for i, p in enumerate(pieces) if p[-1].end() >= centre), len(pieces) - 1)
    first = last = at
    for i in sorted(range(len(pieces)), key=lambda i: abs(i - at)):  # the touched neighbours, nearest first
        touched = pieces[i][-1].end() > lo and pieces[i][0].start() < hi
        if (
            touched
            and i in (first - 1, last + 1)
            and sum(len(p) for p in pieces[min(first, i) : max(last, i) + 1]) <= QUOTE_WORDS
        ):
            first, last = min(first, i), max(last, i)
    chosen = [w for p in pieces[first : last + 1] for w in p]
    if len(chosen) > QUOTE_WORDS:  # one long clause: the words around the run, within it
        inside = [i for i, w in enumerate(chosen) if w.end() > lo and w.start() < hi] or [0]
        start = max(0, min(inside[0], inside[-1] - QUOTE_WORDS + 1))
        chosen = chosen[start : start + QUOTE_WORDS]
    return chosen


def _trimmed(words: list[re.Match[str]]) -> list[re.Match[str]]:
    """Without joining words at the start or words that leave the phrase hanging at the end."""
    while len(words) > 1 and not _ends_sentence(words[-1]) and _dangling(words[-1].group()):
        words = words[:-1]
    while len(words) > 1 and JOINER.fullmatch(words[0].group().lower().strip(",")):
        words = words[1:]
    return words


def _ends_sentence(word: re.Match[str]) -> bool:
    """The word closes its sentence ("...with this."), so ending the quote there leaves nothing hanging."""
    return word.group()[-1] in ".!?" or not word.string[word.end() :].strip()


def _dangling(word: str) -> bool:
    """A word a quote must not end on: a joining word, an article, a preposition, "it's"."""
    bare = word.lower().strip(",;:—–-")
    return not bare or bool(JOINER.fullmatch(bare) or TRAILING.fullmatch(bare))


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
