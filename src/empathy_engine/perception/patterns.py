"""ConversationPatternPerceiver: what the shape of the conversation says about a customer turn.

These are the patterns of ../shared/TAXONOMY.md that a sentence classifier cannot see on its
own: the same complaint again, "still"/"third time", short flat acceptance after bad news,
a question straight after an explanation, jargon echoed back.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from empathy_engine.events import CallStarted
from empathy_engine.perception import fusion_weights
from empathy_engine.perception.fusion_weights import PatternWeights
from empathy_engine.perception.signals import Signal

RECURRENCE = re.compile(
    r"\b(again|still|keeps? (on )?\w+ing|every (single )?time|(second|third|fourth|fifth|2nd|3rd|4th|5th|"
    r"another) (time|call)|already (called|told|explained|paid)|same (thing|problem|issue)|"
    r"how many (more )?times)\b",
    re.I,
)
BROKEN_PROMISE = re.compile(
    r"\b(last time|no[- ]?show|nobody (showed|came)|no ?one (showed|came)|never (showed|came|called)|"
    r"didn'?t (show|come|call)|you (said|promised)|supposed to (come|be here|call))\b",
    re.I,
)
ACCEPTANCE = re.compile(
    r"^\W*(ok(ay)?|fine|sure|alright|all right|i guess|guess so|whatever|if you say so|that'?s fine|"
    r"it'?s fine|no it'?s fine|yeah|oh|i'?ll (just )?wait|we'?ll manage|never ?mind)\b",
    re.I,
)
BAD_NEWS = re.compile(
    r"\b(earliest|not until|unfortunately|fully booked|booked (up|solid)|can'?t|cannot|won'?t be able|"
    r"no (one|openings|availability|techs?)|next (week|month|available)|(\d+|few|couple( of)?) (days|weeks)|"
    r"backordered|back[- ]ordered|out of stock|not covered|isn'?t covered|extra charge|additional fee)\b",
    re.I,
)
QUESTION_START = re.compile(r"^\W*(wait|so|what|why|how|which|sorry|huh|um|uh|do i|does|is|are|should|can)\b", re.I)
WORD = re.compile(r"[a-z][a-z'-]+", re.I)
STOPWORDS = frozenset(
    "the a an and or but so to of in on at for with your you we our it is that this be will can then "
    "just if its it's i i'm me my they them there here what when how do does not no yes".split()
)

REPEAT_SIMILARITY = 0.93  # cosine of the text model's pooled features
EXPLANATION_WORDS = 15
REMEMBERED_TURNS = 6  # earlier customer turns a repeat is looked for in


@dataclass(frozen=True, slots=True)
class Context:
    """The part of the conversation the patterns look at (bounded, so live state stays small)."""

    last_agent_text: str | None
    earlier_customer: Sequence[tuple[str, np.ndarray]]  # (text, fingerprint), oldest first


@dataclass(slots=True)
class ConversationWindow:
    """What the patterns keep of one call: the agent's last words and the customer's latest turns."""

    last_agent_text: str | None = None
    earlier_customer: deque[tuple[str, np.ndarray]] = field(default_factory=lambda: deque(maxlen=REMEMBERED_TURNS))

    def context(self) -> Context:
        return Context(self.last_agent_text, tuple(self.earlier_customer))

    def customer(self, text: str, fingerprint: np.ndarray) -> None:
        self.earlier_customer.append((text[:200], fingerprint.astype(np.float16)))  # half size: only compared
        self.last_agent_text = None  # the next customer turn no longer answers the agent

    def agent(self, text: str) -> None:
        self.last_agent_text = text[:2000]


def _first(regex: re.Pattern[str], text: str) -> str | None:
    m = regex.search(text)
    return m.group(0) if m else None


class ConversationPatternPerceiver:
    """Signals from a customer turn read against the turns before it."""

    def __init__(self, weights: PatternWeights | None = None) -> None:
        self.weights = weights or fusion_weights.bundled().patterns

    def new_call(self, call: CallStarted) -> ConversationWindow:
        return ConversationWindow()

    def perceive(self, text: str, fingerprint: np.ndarray, context: Context) -> tuple[Signal, ...]:
        w = self.weights
        signals: list[Signal] = []
        if quote := _first(RECURRENCE, text):
            signals.append(Signal("frustration", w.recurrence_frustration, "pattern", quote))
        if quote := _first(BROKEN_PROMISE, text):
            signals.append(Signal("distrust", w.broken_promise_distrust, "pattern", quote))
            signals.append(Signal("frustration", w.broken_promise_frustration, "pattern", quote))
        words = WORD.findall(text)
        for earlier, earlier_print in context.earlier_customer:
            if len(words) >= 4 and float(fingerprint @ earlier_print.astype(np.float32)) >= REPEAT_SIMILARITY:
                signals.append(Signal("frustration", w.repeat_frustration, "pattern", f"repeats: {earlier[:60]}"))
                break
        agent = context.last_agent_text
        if agent:
            signals.extend(self._after_agent(text, words, agent))
        return tuple(signals)

    def _after_agent(self, text: str, words: list[str], agent: str) -> list[Signal]:
        w = self.weights
        signals = []
        if len(words) <= 8 and ACCEPTANCE.search(text) and (news := _first(BAD_NEWS, agent)):
            # Short, flat acceptance of bad news is how dejection sounds on a call.
            signals.append(Signal("dejection", w.resigned_dejection, "pattern", f"{text.strip()} (after: {news})"))
        agent_words = WORD.findall(agent)
        is_question = text.rstrip().endswith("?") or bool(QUESTION_START.search(text))
        if is_question and len(agent_words) >= EXPLANATION_WORDS:
            signals.append(Signal("confusion", w.question_confusion, "pattern", text.strip()[:80]))
        jargon = {w.lower() for w in agent_words if len(w) > 5 and w.lower() not in STOPWORDS}
        echoed = [w for w in words if w.lower() in jargon]
        if is_question and echoed and len(words) <= 6:
            signals.append(Signal("confusion", w.echo_confusion, "pattern", f"{text.strip()} (echoes: {echoed[0]})"))
        return signals
