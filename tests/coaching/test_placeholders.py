"""No `{placeholder}` ever reaches a user: every phrasing of the whole shipped playbook (steps,
hazards, riders; say, do and avoid), rendered for calls with and without each context field,
through the coach itself."""

from __future__ import annotations

import itertools
import re
from typing import Any

import numpy as np
import pytest

from empathy_engine.coaching.coach import Coach, CoachMemory
from empathy_engine.coaching.phrasing import render
from empathy_engine.coaching.playbook import KNOWN_PLACEHOLDERS, PLACEHOLDER, load_playbook
from empathy_engine.perception.context import CallFacts
from empathy_engine.results import CustomerTurn, Evidence
from empathy_engine.taxonomy import STATES

PLAYBOOK = load_playbook()
FP = np.eye(8, dtype=np.float32)[0]
SAMPLE = {"name": "Dana", "relation": "mother", "occasion": "Christmas Day", "issue": "no heat"}
#: Every combination of known and unknown context fields ({person} follows {relation}).
FACTS = [
    CallFacts(**{k: (SAMPLE[k] if k in chosen else None) for k in SAMPLE})
    for n in range(len(SAMPLE) + 1)
    for chosen in itertools.combinations(SAMPLE, n)
]
#: What a customer says that raises each shipped hazard's card.
HAZARD_WORDS = {
    "gas": "I can smell gas in the kitchen",
    "carbon_monoxide": "the carbon monoxide alarm keeps going off",
    "burning": "there's a burning smell from the outlet",
    "sparking": "the socket is sparking",
    "sewage": "sewage is coming up through the drain",
    "water_near_electrics": "water is dripping onto the breaker panel",
}
CLUMSY = re.compile(r"\s[,.!?:;]|,\s*[,.!?:;]|\s{2}|^[\s,.;:!?—-]|\{|\}")


def _texts() -> list[str]:
    """Every text of the playbook a card can show."""
    texts: list[str] = []
    for path in PLAYBOOK.states.values():
        texts += path.avoid
        for step in path.steps:
            texts += [step.do, *step.say, *step.avoid]
    for hazard in PLAYBOOK.safety:
        texts += [hazard.do, hazard.say, *hazard.avoid]
    for rider in PLAYBOOK.riders.values():
        texts += [rider.do, rider.say]
    return texts


def test_the_playbook_uses_every_placeholder_so_the_test_below_sees_them_all() -> None:
    used = {name for text in _texts() for name in PLACEHOLDER.findall(text)}
    assert used == KNOWN_PLACEHOLDERS


@pytest.mark.parametrize("facts", FACTS, ids=lambda f: "+".join(f.values()) or "no-facts")
def test_every_playbook_text_renders_without_braces(facts: CallFacts) -> None:
    for text in _texts():
        out = render(text, facts.values())
        assert out and not CLUMSY.search(out), (text, out)


def _turn(state: str) -> CustomerTurn:
    scores: dict[Any, float] = {s: (0.99 if s == state else 0.05) for s in STATES}
    return CustomerTurn(0, scores, (state,), state, 0.9, (Evidence(state, "the words", "text"),))  # type: ignore[arg-type]


def _card_texts(card: Any) -> list[str]:
    return [card.do, card.say, *card.avoid]


@pytest.mark.parametrize("facts", FACTS, ids=lambda f: "+".join(f.values()) or "no-facts")
def test_every_card_the_coach_shows_is_free_of_placeholders(facts: CallFacts) -> None:
    coach = Coach(PLAYBOOK)
    for state, path in PLAYBOOK.states.items():
        for shown in range(max(len(step.say) for step in path.steps) + 1):  # every rotation of the phrasings
            memory = CoachMemory(facts, shown={f"{state}/{s.id}": shown for s in path.steps})
            for step in path.steps:
                card = coach.card_for(_turn(state), "the words", FP, memory)
                assert card is not None
                for text in _card_texts(card):
                    assert "{" not in text and "}" not in text, (card.id, text)
                coach.on_agent((step.expects[0],), memory)
    for hazard in PLAYBOOK.safety:
        card = coach.card_for(_turn("urgency"), HAZARD_WORDS[hazard.id], FP, CoachMemory(facts))
        assert card is not None and card.id == f"safety/{hazard.id}"
        assert all("{" not in t and "}" not in t for t in _card_texts(card)), card.id


def test_a_playbook_whose_phrasings_all_need_a_missing_fact_still_renders_clean() -> None:
    assert render("{name}, how is {person} and what happened with {issue} on {occasion}?", {}) == (
        "How is everyone at home and what happened with this on today?"
    )
    assert render("Sorry, {name}, {name}!", {}) == "Sorry!"
    assert render("Literal {braces} and } stray {", {}) == "Literal and stray"


def test_no_placeholder_reaches_the_results_of_calls_without_customer_facts(engine: Any) -> None:
    from empathy_engine.demo import CALLS, load_call

    for name in CALLS:
        call = load_call(name).model_dump(mode="json")
        call["customer"] = {}  # no name, no notes, no prior contacts: every placeholder unknown
        call["started_at"] = None
        for turn in engine.analyze(call).to_dict()["turns"]:
            for card in turn.get("cues", []):
                for text in (card["do"], card["say"], *card["avoid"]):
                    assert "{" not in text and "}" not in text, (name, card["id"], text)
