"""Every built-in scenario, played through the real engine by a scripted empathetic agent and a
scripted poor one: the empathetic agent scores clearly higher and the customer takes another path."""

from __future__ import annotations

import re

import pytest

from empathy_engine.pipeline import Engine
from empathy_engine.practice.report import session_report
from empathy_engine.practice.scenario import builtin_scenarios
from empathy_engine.practice.session import PracticeSession, play
from empathy_engine.taxonomy import STATES
from tests.conftest import SHARED
from tests.practice.scripts import GOOD, POOR, good_reply

SCENARIOS = builtin_scenarios()
#: "Clearly above": the empathetic agent beats the poor one by at least this many points of 100.
CLEAR_MARGIN = 40
CLASSICS = ("christmas_furnace", "flooded_basement", "cost_pensioner", "resigned_fine", "jargon_confused",
            "co_alarm", "repeat_supervisor")  # fmt: skip


def play_empathetic(engine: Engine, scenario_id: str) -> PracticeSession:
    """The empathetic agent reads the card as it comes up, so it is played turn by turn."""
    session = PracticeSession(engine, SCENARIOS[scenario_id])
    prompt = session.start()
    while session.outcome is None:
        prompt = session.reply(good_reply(scenario_id, session.beat, prompt.card.say if prompt.card else None))
    return session


@pytest.mark.parametrize("scenario_id", sorted(SCENARIOS))
def test_an_empathetic_agent_scores_clearly_above_a_poor_one_and_the_customer_path_differs(
    engine: Engine, scenario_id: str
) -> None:
    good = session_report(play_empathetic(engine, scenario_id))
    poor = session_report(play(engine, SCENARIOS[scenario_id], POOR))
    assert good["score"] >= poor["score"] + CLEAR_MARGIN, (good["score"], poor["score"])
    assert good["outcome"] == "resolved"
    assert poor["outcome"] in ("hung_up", "escalated")
    assert good["customer_lines"][1:] != poor["customer_lines"][1:]
    assert poor["skill"] is not None and poor["skill"]["do"]


def test_there_are_at_least_twelve_scenarios_with_the_classic_cases_and_every_state() -> None:
    assert len(SCENARIOS) >= 12
    assert set(CLASSICS) <= set(SCENARIOS)
    taxonomy = (SHARED / "TAXONOMY.md").read_text(encoding="utf-8")
    section = taxonomy.split("## Customer states")[1].split("\n## ")[0]
    states = re.findall(r"^\| (\w+) \|", section, re.M)
    assert set(states) - {"state"} == set(STATES)
    played = set().union(*(s.states() for s in SCENARIOS.values()))
    assert played >= set(STATES), set(STATES) - played
    assert set(GOOD) == set(SCENARIOS)  # every scenario has its scripted empathetic agent


def test_a_fee_first_raises_frustration_and_validation_calms(engine: Engine) -> None:
    scenario = SCENARIOS["christmas_furnace"]
    fee = play(engine, scenario, [POOR[0]])
    assert fee.exchanges[0].branch == "worse" and fee.exchanges[0].missed_cue
    assert fee.lines[1] == " ".join(scenario.beats[0].worse.split())
    assert "frustration" in fee.last.detected  # type: ignore[union-attr]
    calm = play_empathetic(engine, "christmas_furnace")
    assert calm.exchanges[0].branch == "better" and calm.exchanges[0].followed
    assert calm.lines[1] == " ".join(scenario.beats[0].better.split())


def test_ignoring_the_co_alarm_repeats_the_safety_step(engine: Engine) -> None:
    scenario = SCENARIOS["co_alarm"]
    session = play(engine, scenario, ["Can I get your account number first?", "Let me check the schedule."])
    assert [e.branch for e in session.exchanges] == ["safety", "safety"]
    assert all(e.card is not None and e.card.id == "safety/carbon_monoxide" for e in session.exchanges)
    assert session.lines[1] == scenario.safety_repeat
    assert session.current is not None and session.current.card is not None
    assert session.current.card.id == "safety/carbon_monoxide"  # the safety card is still up


def test_the_turn_limit_ends_the_call_and_replies_after_the_end_are_refused(engine: Engine) -> None:
    scenario = SCENARIOS["routine_tuneup"].model_copy(update={"patience": 10, "turn_limit": 3})
    session = play(engine, scenario, ["Hmm."] * 10)
    assert len(session.exchanges) == 3
    assert session.outcome == scenario.give_up.outcome
    with pytest.raises(ValueError, match="ended"):
        session.reply("hello?")


def test_what_the_session_keeps_is_masked(engine: Engine) -> None:
    session = play(engine, SCENARIOS["routine_tuneup"], ["Sure, my card is 4111 1111 1111 1111, call 555-867-5309."])
    reply = session.exchanges[0].reply
    assert "4111" not in reply and "867-5309" not in reply
    assert "4111" not in str(session_report(session))


def test_an_exam_report_still_says_what_the_playbook_would_have_said(engine: Engine) -> None:
    report = session_report(play(engine, SCENARIOS["co_alarm"], POOR[:1]), exam=True)
    assert report["exam"] is True
    assert report["replies"][0]["card_shown"] is False
    assert report["replies"][0]["playbook"]["card"] == "safety/carbon_monoxide"
