"""The bundled model reads a turn with the turn it answers, through the whole pipeline."""

from __future__ import annotations

import pytest

from empathy_engine import Engine
from empathy_engine.events import CallStarted, Utterance


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def _last(engine: Engine, *turns: tuple[str, str]) -> dict[str, object]:
    events = [CallStarted("ctx"), *(Utterance(speaker, text) for speaker, text in turns)]  # type: ignore[arg-type]
    return engine.analyze(events).to_dict()["turns"][-1]


def test_the_bundled_model_reads_context(engine: Engine) -> None:
    assert engine.text.model.reads_context


@pytest.mark.parametrize(
    ("bad_news", "good_news", "reply"),
    [
        ("The earliest we can get a technician out is a week from Thursday.", "Good news, a tech can be there within the hour.", "Great."),
        ("That part is back-ordered, so it'll be three weeks at least.", "All done, and there's no charge for today's visit.", "Perfect."),
    ],
)
def test_same_words_read_differently_after_bad_and_good_news(
    engine: Engine, bad_news: str, good_news: str, reply: str
) -> None:
    after_bad = _last(engine, ("customer", "My furnace stopped working last night."), ("agent", bad_news), ("customer", reply))
    after_good = _last(engine, ("customer", "My furnace stopped working last night."), ("agent", good_news), ("customer", reply))
    assert "satisfaction" not in after_bad["detected"]
    assert "satisfaction" in after_good["detected"]
    assert after_bad["states"]["satisfaction"] < after_good["states"]["satisfaction"]  # type: ignore[index]


def test_agent_behaviours_depend_on_the_customer_turn_they_answer(engine: Engine) -> None:
    """The same agent words score differently after an emergency and after a routine booking."""
    reply = "Okay, we can have someone out there tonight."
    urgent = _last(engine, ("customer", "Water is pouring through the ceiling onto the outlets!"), ("agent", reply))
    routine = _last(engine, ("customer", "I'd like to book my annual furnace tune-up sometime."), ("agent", reply))
    scores_urgent = engine.text.read(reply, engine.text.context(engine.text.read("Water is pouring through the ceiling onto the outlets!")))
    scores_routine = engine.text.read(reply, engine.text.context(engine.text.read("I'd like to book my annual furnace tune-up sometime.")))
    assert not (scores_urgent.behaviour_scores == scores_routine.behaviour_scores).all()
    assert urgent["missed_cue"] is False
    assert "urgency_ack" in urgent["behaviours"] or "action_plan" in urgent["behaviours"]
    assert routine["missed_cue"] is False
