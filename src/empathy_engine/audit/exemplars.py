"""`empathy exemplars build`: keep the agent answers from analysed calls that worked.

A batch job over stored calls, so it lives on the audit side: it reads the turn results the
pipeline already produced (the customer turn's fingerprint travels on its insight), and never
runs the text model a second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import cast

from empathy_engine.coaching.exemplars import Exemplar, ExemplarLibrary
from empathy_engine.events import CallStarted, Event, Utterance
from empathy_engine.pipeline import Engine
from empathy_engine.results import AgentTurn, ConversationResult, CustomerInsight
from empathy_engine.taxonomy import CustomerState

IMPROVEMENT = 0.15  # the state's score must fall at least this much over the next customer turns
LOOKAHEAD = 2  # customer turns after the answer in which the improvement must show


def build_exemplars(engine: Engine, conversations: Iterable[list[Event]]) -> ExemplarLibrary:
    found: list[Exemplar] = []
    for events in conversations:
        if not events or not isinstance(events[0], CallStarted):
            continue
        texts = [e.text for e in events if isinstance(e, Utterance)]
        found.extend(harvest(engine.analyze(events), texts))
    return ExemplarLibrary(found)


def harvest(result: ConversationResult, texts: Sequence[str]) -> Iterator[Exemplar]:
    """Agent turns that followed a card and after which the customer's state eased.
    `texts`: the words of each turn, in the order of `result.turns`."""
    turns = result.turns
    for i, turn in enumerate(turns[:-1]):
        if not isinstance(turn, CustomerInsight) or not turn.cues or turn.fingerprint is None:
            continue
        card, answer = turn.cues[0], turns[i + 1]
        if card.safety or not isinstance(answer, AgentTurn) or not set(answer.behaviours) & set(card.expects):
            continue
        state = cast(CustomerState, card.state)  # not a safety card, so one of the customer states
        later = [t for t in turns[i + 2 :] if isinstance(t, CustomerInsight)][:LOOKAHEAD]
        before = turn.states.get(state, 0.0)
        if later and min(t.states.get(state, 0.0) for t in later) <= before - IMPROVEMENT:
            step = card.id.split("/", 1)[1]
            yield Exemplar(card.state, step, texts[i], texts[i + 1], f"{result.id}#{i + 1}", turn.fingerprint)
