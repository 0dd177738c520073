"""text-emotion-v3 reads a turn with the turn it answers, through the whole pipeline."""

from __future__ import annotations

from typing import Any

import pytest

from empathy_engine import Engine
from empathy_engine.events import CallStarted, Utterance
from empathy_engine.pipeline import EngineSettings

OPENING = ("customer", "My furnace stopped working last night.")
FLOODING = "Water is pouring through the ceiling onto the outlets!"
ROUTINE = "I'd like to book my annual furnace tune-up sometime next month."


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(EngineSettings(model="text-emotion-v3"))


def _last(engine: Engine, *turns: tuple[str, str]) -> dict[str, Any]:
    events = [CallStarted("ctx"), *(Utterance(speaker, text) for speaker, text in turns)]  # type: ignore[arg-type]
    return engine.analyze(events).to_dict()["turns"][-1]


def test_v3_reads_context(engine: Engine) -> None:
    assert engine.text.model.reads_context


@pytest.mark.parametrize(
    ("bad_news", "good_news", "reply"),
    [
        (
            "The earliest we can get a technician out is a week from Thursday.",
            "Good news, we can be there in an hour.",
            "Great.",
        ),
        ("That part is back-ordered, three weeks at least.", "All done, and there's no charge for today.", "Perfect."),
    ],
)
def test_same_words_read_differently_after_bad_and_good_news(
    engine: Engine, bad_news: str, good_news: str, reply: str
) -> None:
    after_bad = _last(engine, OPENING, ("agent", bad_news), ("customer", reply))
    after_good = _last(engine, OPENING, ("agent", good_news), ("customer", reply))
    assert after_bad["detected"] != after_good["detected"]
    assert "satisfaction" not in after_bad["detected"]
    assert "satisfaction" in after_good["detected"]
    assert after_good["states"]["satisfaction"] > after_bad["states"]["satisfaction"]


def test_agent_behaviours_depend_on_the_customer_turn_they_answer(engine: Engine) -> None:
    """The same agent words are read against what they answer: after flooding they act on it."""
    reply = "Okay, we can have someone out there tonight."
    text = engine.text
    after_flood = text.read(reply, text.context(text.read(FLOODING)))
    after_routine = text.read(reply, text.context(text.read(ROUTINE)))
    assert (after_flood.behaviour_scores != after_routine.behaviour_scores).any()
    urgent = _last(engine, ("customer", FLOODING), ("agent", reply))
    assert urgent["missed_cue"] is False
    assert {"urgency_ack", "action_plan"} & set(urgent["behaviours"])
