"""The pipeline: live turn by turn and batch give one answer; nothing looks ahead."""

from __future__ import annotations

import json
from dataclasses import replace

from empathy_engine.demo import CALLS, load_call
from empathy_engine.events import CallStarted, Utterance
from empathy_engine.ingest.conversation import ConversationV1
from empathy_engine.pipeline import Engine
from tests.conftest import conversation


def test_pipeline_turn_by_turn_equals_batch(engine: Engine) -> None:
    for name in CALLS:
        events = load_call(name).events()
        batch = engine.analyze(events).to_dict()
        # Live: a fresh engine, each utterance arriving on its own as a wire message would.
        live_engine = Engine(model=engine.text.model)
        start = events[0]
        assert isinstance(start, CallStarted)
        session = live_engine.open(start)
        live_turns = []
        for event in events[1:]:
            if isinstance(event, Utterance):
                wire = json.loads(json.dumps({"speaker": event.speaker, "text": event.text, "t": event.t}))
                live_turns.append(session.feed(Utterance(**wire)))
        live = session.result(tuple(live_turns))
        assert live.to_dict() == batch
        # Live, a card's `followed` is unknown when it is shown; the next agent turn tells.
        assert all(c["followed"] is None for t in live_turns for c in t.to_dict().get("cues", []))


def test_pipeline_never_looks_ahead(engine: Engine) -> None:
    events = load_call("holiday_furnace").events()
    full = engine.analyze(events).to_dict()["turns"]
    cut = 5
    changed = events[: cut + 1] + [Utterance("customer", "actually everything is wonderful, thank you!")]
    prefix = engine.analyze(changed).to_dict()["turns"]
    assert prefix[:cut] == full[:cut]


def test_pipeline_missed_cue_and_empathy_score(engine: Engine) -> None:
    obj = conversation(
        ("customer", "This is the third time I'm calling. Nobody showed up yesterday and I took the day off work!"),
        ("agent", "What's the address on the account?"),
        ("customer", "How much is this going to cost me? I'm on a fixed income and I really can't afford much."),
        (
            "agent",
            "I completely understand, money is tight for a lot of people right now. Let's look at options "
            "that fit your budget before we talk numbers.",
        ),
    )
    result = engine.analyze(ConversationV1.model_validate(obj).events()).to_dict()
    first, miss, worry, answer = result["turns"]
    assert "frustration" in first["detected"]
    assert miss["missed_cue"] is True
    assert "cost_anxiety" in worry["detected"]
    assert "budget_ack" in answer["behaviours"] and answer["missed_cue"] is False
    assert result["summary"]["missed_cues"] == 1
    assert result["summary"]["empathy_score"] == 0.5


def test_pipeline_neutral_call_has_no_score(engine: Engine) -> None:
    obj = conversation(
        ("customer", "Hi, I'd like to book my annual furnace maintenance."), ("agent", "Sure, what day?")
    )
    result = engine.analyze(ConversationV1.model_validate(obj).events()).to_dict()
    assert result["turns"][0]["detected"] == ["neutral"]
    assert result["turns"][0]["intensity"] == 0.0
    assert result["summary"]["empathy_score"] is None
    assert result["summary"]["peak"] is None


def test_pipeline_context_moves_states_but_does_not_decide(engine: Engine) -> None:
    plain = conversation(("customer", "The basement has water coming in near the furnace."))
    night = {**plain, "started_at": "2025-03-04T02:10:00-05:00", "service": "water_damage"}
    base = engine.analyze(ConversationV1.model_validate(plain).events()).turns[0]
    urgent = engine.analyze(ConversationV1.model_validate(night).events()).turns[0]
    assert urgent.states["urgency"] > base.states["urgency"]
    logistics = {**night, "turns": [{"speaker": "customer", "text": "It's 14 Elm Street, unit B."}]}
    address = engine.analyze(ConversationV1.model_validate(logistics).events()).turns[0]
    assert address.detected == ("neutral",)


def test_pipeline_state_per_call_is_small(engine: Engine) -> None:
    events = load_call("holiday_furnace").events()
    start = events[0]
    assert isinstance(start, CallStarted)
    session = engine.open(replace(start, call_id="size"))
    for event in events[1:] * 5:
        if isinstance(event, Utterance):
            session.feed(event)
    assert session.state_bytes() < 50 * 1024


def test_pipeline_a_second_customer_turn_is_not_another_answer_to_the_agent(engine: Engine) -> None:
    obj = conversation(
        ("agent", "Unfortunately the earliest we have is next Wednesday."),
        ("customer", "Okay."),
        ("customer", "Okay, thanks, that works."),
    )
    turns = engine.analyze(ConversationV1.model_validate(obj).events()).turns
    second = turns[2]
    assert not any(e.source == "pattern" and e.state == "dejection" for e in second.evidence)
