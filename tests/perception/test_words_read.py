"""Words the engine shows a person: "why" quotes are whole phrases, and a closing "anything else I
can help with?" is not an offer of a human (both bundled text models, real readings)."""

from __future__ import annotations

import re

import pytest

from empathy_engine.demo import CALLS, load_call
from empathy_engine.events import CallStarted, Utterance
from empathy_engine.perception.text import JOINER, QUOTE_WORDS, TRAILING
from empathy_engine.pipeline import Engine, EngineSettings
from empathy_engine.results import AgentTurn, CustomerInsight

MODELS = ("text-emotion-v2", "text-emotion-v3")
#: Long turns whose strongest words sit mid-clause (the first is the issue's own example).
LONG_TURNS = [
    "We saved up all year for the kids and we were all so excited and we stayed up, and now it's Christmas "
    "morning and it's fifty-two degrees in here and the furnace won't even click on.",
    "It's just, my insulin's in that fridge. Every time the breaker trips I worry it's been off for hours while "
    "I'm asleep. I've been setting alarms to check on it.",
    "This is the third time I have called about the same leak and nobody ever shows up when they say they will "
    "and I am honestly done with being told to wait at home all day for nothing.",
]


@pytest.fixture(scope="module", params=MODELS)
def engine(request: pytest.FixtureRequest) -> Engine:
    return Engine(EngineSettings(model=request.param))


def _quotes(engine: Engine) -> list[tuple[str, str]]:
    """(turn text, quote) for every text quote over the demo calls and the long turns."""
    calls = [load_call(name).events() for name in CALLS]
    calls += [[CallStarted(f"long-{i}"), Utterance("customer", text)] for i, text in enumerate(LONG_TURNS)]
    out = []
    for events in calls:
        utterances = [e for e in events if isinstance(e, Utterance)]
        for u, turn in zip(utterances, engine.analyze(events).turns, strict=True):
            if isinstance(turn, CustomerInsight):
                out += [(u.text, e.quote) for e in turn.evidence if e.source == "text"]
    return out


def test_why_quotes_are_cut_at_word_and_clause_boundaries(engine: Engine) -> None:
    quotes = _quotes(engine)
    assert len(quotes) > 20
    for text, quote in quotes:
        at = text.find(quote)
        assert at >= 0, (quote, text)
        before, after = text[at - 1 : at] if at else "", text[at + len(quote) : at + len(quote) + 1]
        assert not re.match(r"\w", before) and not re.match(r"\w", after), f"cut mid-word: {quote!r}"
        words = quote.split()
        assert len(words) <= QUOTE_WORDS
        last, first = words[-1].lower().strip(",;:"), words[0].lower()
        ends_sentence = re.match(r"\s*([.!?]|$)", text[at + len(quote) :]) is not None
        hangs = JOINER.fullmatch(last) or TRAILING.fullmatch(last)
        assert len(words) == 1 or ends_sentence or not hangs, f"hangs: {quote!r}"
        assert len(words) == 1 or not JOINER.fullmatch(first), f"starts on a joining word: {quote!r}"


CLOSINGS = [
    "Is there anything else I can help with?",
    "Is there anything else I can help you with today?",
    "I'm really glad you said something. I'll text you Keisha's details, and she'll call about half an hour "
    "before she gets there. Is there anything else I can help with?",
    "Yes, I can book a plumber for this afternoon.",
]


@pytest.mark.parametrize("closing", CLOSINGS)
def test_a_closing_question_is_not_an_offer_of_a_human(engine: Engine, closing: str) -> None:
    for before in ("That's so much better.", "My furnace is out and I want to talk to a real person!"):
        result = engine.analyze([CallStarted("c"), Utterance("customer", before), Utterance("agent", closing)])
        agent = result.turns[1]
        assert isinstance(agent, AgentTurn) and "offer_human" not in agent.behaviours


def test_a_real_handover_offer_is_still_read_as_one() -> None:
    engine = Engine(EngineSettings(model="text-emotion-v2"))
    for offer in ("Would you like me to transfer you to a supervisor?", "I can have someone from our billing team "
                  "call you.", "I can connect you with a technician now if you like."):  # fmt: skip
        result = engine.analyze([CallStarted("c"), Utterance("customer", "A person!"), Utterance("agent", offer)])
        agent = result.turns[1]
        assert isinstance(agent, AgentTurn) and "offer_human" in agent.behaviours, offer
