"""The coach on hand-made turns: paths, steps, one card per turn, follow-through, safety, context."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from empathy_engine.coaching.coach import Coach, CoachMemory
from empathy_engine.coaching.exemplars import Exemplar, ExemplarLibrary
from empathy_engine.coaching.playbook import load_playbook
from empathy_engine.events import CallStarted, CustomerProfile, PriorContact
from empathy_engine.perception.context import CallFacts, call_facts
from empathy_engine.results import CustomerTurn, Evidence
from empathy_engine.taxonomy import NEGATIVE_STATES, STATES

PLAYBOOK = load_playbook()
FP = np.eye(8, dtype=np.float32)[0]


def turn(*states: str, index: int = 0, quote: str = "the words") -> CustomerTurn:
    scores = {s: (0.9 if s in states else 0.05) for s in STATES}
    evidence = tuple(Evidence(s, quote, "text") for s in states)  # type: ignore[arg-type]
    return CustomerTurn(index, scores, tuple(states) or ("neutral",), (states or ("neutral",))[0], 0.8, evidence)  # type: ignore[arg-type]


def fresh(facts: CallFacts | None = None) -> CoachMemory:
    return CoachMemory(facts or CallFacts())


@pytest.mark.parametrize("state", NEGATIVE_STATES)
def test_coach_walks_each_state_path_step_by_step(state: str) -> None:
    coach, memory = Coach(PLAYBOOK), fresh()
    path = PLAYBOOK.states[state]  # type: ignore[index]
    for step in path.steps:
        card = coach.card_for(turn(state), "text", FP, memory)
        assert card is not None and card.id == f"{state}/{step.id}" and card.state == state
        assert card.do.startswith(step.do) and card.say and card.avoid
        assert coach.on_agent((step.expects[0],), memory) == (card.id, True)
    assert coach.card_for(turn(state), "text", FP, memory) is None  # the whole path is walked


def test_coach_unfollowed_card_stays_and_followed_card_never_repeats() -> None:
    coach, memory = Coach(PLAYBOOK), fresh(CallFacts(name="Dana"))
    first = coach.card_for(turn("frustration"), "text", FP, memory)
    assert coach.on_agent(("informational",), memory) == ("frustration/validate", False)
    again = coach.card_for(turn("frustration"), "text", FP, memory)
    assert first is not None and again is not None and again.id == first.id
    assert again.say != first.say  # a second showing rotates the phrasing
    coach.on_agent(("validate",), memory)
    after = coach.card_for(turn("frustration"), "text", FP, memory)
    assert after is not None and after.id == "frustration/apologize"


def test_coach_one_card_per_turn_by_priority() -> None:
    coach, memory = Coach(PLAYBOOK), fresh()
    card = coach.card_for(turn("frustration", "urgency", "confusion"), "text", FP, memory)
    assert card is not None and card.state == "urgency"  # urgency's priority (1) beats frustration (3)
    assert card.priority == PLAYBOOK.states["urgency"].priority


def test_coach_agent_doing_several_steps_at_once_advances_the_path() -> None:
    coach, memory = Coach(PLAYBOOK), fresh()
    coach.card_for(turn("frustration"), "text", FP, memory)
    coach.on_agent(("validate", "apologize"), memory)
    card = coach.card_for(turn("frustration"), "text", FP, memory)
    assert card is not None and card.id == "frustration/action_plan"


def test_coach_no_card_for_calm_or_happy_turns() -> None:
    coach, memory = Coach(PLAYBOOK), fresh()
    assert coach.card_for(turn(), "my address is 12 Elm Street", FP, memory) is None
    assert coach.card_for(turn("satisfaction"), "thanks so much", FP, memory) is None


def test_coach_safety_outranks_everything_and_stays_until_acted_on() -> None:
    coach, memory = Coach(PLAYBOOK), fresh(CallFacts(name="Dana"))
    card = coach.card_for(turn("frustration", "urgency"), "ugh and now I smell gas in the kitchen", FP, memory)
    assert card is not None and card.id == "safety/gas" and card.priority == 0 and card.source == "safety"
    assert "out of the house" in card.say and card.say.startswith("Dana")
    assert card.why == "smell gas"
    assert coach.on_agent(("informational",), memory) == ("safety/gas", False)
    still = coach.card_for(turn("frustration"), "how long will you be?", FP, memory)
    assert still is not None and still.id == "safety/gas"
    coach.on_agent(("urgency_ack", "action_plan"), memory)
    after = coach.card_for(turn("frustration"), "how long will you be?", FP, memory)
    assert after is not None and after.id == "frustration/validate"


@pytest.mark.parametrize(
    ("text", "hazard"),
    [
        ("the CO alarm is beeping", "carbon_monoxide"),
        ("there's a burning smell from the panel", "burning"),
        ("the outlet was sparking", "sparking"),
        ("sewage is backing up into the tub", "sewage"),
        ("water is dripping onto the breaker panel", "water_near_electrics"),
    ],
)
def test_coach_recognises_each_safety_emergency(text: str, hazard: str) -> None:
    card = Coach(PLAYBOOK).card_for(turn(), text, FP, fresh())
    assert card is not None and card.id == f"safety/{hazard}"


EST = timezone(timedelta(hours=-5))


def test_coach_personalises_from_notes_prior_contacts_and_holiday() -> None:
    christmas = datetime(2025, 12, 25, 7, 40, tzinfo=EST)
    call = CallStarted(
        "c",
        started_at=christmas,
        customer=CustomerProfile(
            name="Dana Reyes",
            notes=("worries about her elderly mother",),
            prior_contacts=(PriorContact("no heat", "tech no-show", christmas - timedelta(days=5)),),
        ),
    )
    facts = call_facts(call)
    assert facts.values() == {
        "name": "Dana", "person": "your mother", "relation": "mother", "occasion": "Christmas Day", "issue": "no heat"
    }
    coach, memory = Coach(PLAYBOOK), fresh(facts)
    urgent = coach.card_for(turn("urgency"), "text", FP, memory)
    assert urgent is not None and "mother" in urgent.do and "your mother" in urgent.say
    coach.on_agent(("urgency_ack",), memory)
    distrust = coach.card_for(turn("distrust"), "text", FP, memory)
    assert distrust is not None and "named window" in distrust.do and "named technician" in distrust.say
    coach.on_agent(("apologize",), memory)
    frustrated = coach.card_for(turn("frustration"), "text", FP, memory)
    assert frustrated is not None and "first call about no heat" in frustrated.say
    coach.on_agent(("validate",), memory)
    assert "Christmas Day" in (coach.card_for(turn("worry"), "text", FP, memory) or urgent).say


def test_coach_night_and_weekend_occasions() -> None:
    night = call_facts(CallStarted("c", started_at=datetime(2025, 3, 4, 2, 10, tzinfo=EST)))
    weekend = call_facts(CallStarted("c", started_at=datetime(2025, 3, 8, 11, 0, tzinfo=EST)))
    assert night.occasion == "the middle of the night" and weekend.occasion == "the weekend"
    card = Coach(PLAYBOOK).card_for(turn("urgency"), "text", FP, fresh(night))
    assert card is not None and "the middle of the night" in card.say


def test_coach_uses_a_close_exemplar_and_falls_back_to_the_playbook() -> None:
    proven = Exemplar("cost_anxiety", "acknowledge_budget", "is this going to cost a lot?",
                      "I know money's tight right now, so let's find the option that fits.", "call-7#3", FP)
    coach = Coach(PLAYBOOK, ExemplarLibrary([proven]))
    close = coach.card_for(turn("cost_anxiety"), "text", FP, fresh())
    assert close is not None and close.source == "exemplar" and close.say == proven.agent
    assert close.exemplar == "call-7#3"
    far = coach.card_for(turn("cost_anxiety"), "text", np.eye(8, dtype=np.float32)[1], fresh())
    assert far is not None and far.source == "playbook" and far.say != proven.agent
