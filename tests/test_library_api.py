"""The library as a Python user calls it: `Engine.analyze` takes what a `.json` file holds, and a
speaker that is not exactly customer or agent is refused rather than read as the agent."""

from __future__ import annotations

import numpy as np
import pytest

from empathy_engine.demo import load_call
from empathy_engine.events import AudioChunk, CallStarted, Utterance
from empathy_engine.pipeline import Engine


def test_analyze_takes_a_dict_a_conversation_or_its_events_alike(engine: Engine) -> None:
    call = load_call("cost_worry")
    from_events = engine.analyze(call.events()).to_dict()
    assert engine.analyze(call).to_dict() == from_events
    assert engine.analyze(call.model_dump(mode="json")).to_dict() == from_events
    assert len(from_events["turns"]) == len(call.turns)


def test_analyze_a_bad_dict_names_the_field(engine: Engine) -> None:
    with pytest.raises(ValueError, match=r"field turns\[0\].speaker: input should be 'customer' or 'agent'"):
        engine.analyze({"id": "x", "turns": [{"speaker": "Customer", "text": "hi"}]})
    with pytest.raises(ValueError, match="field turns: is required"):
        engine.analyze({"id": "x"})


def test_analyze_something_that_is_not_events_is_a_type_error(engine: Engine) -> None:
    with pytest.raises(TypeError, match="expected a conversation or its events, got a tuple"):
        engine.analyze(load_call("cost_worry").model_dump().items())  # type: ignore[arg-type]


@pytest.mark.parametrize(("speaker", "hint"), [("Customer", "did you mean 'customer'?"), ("AGENT", "did you mean"),
                                               ("bot", ""), ("", "")])  # fmt: skip
def test_utterance_refuses_a_speaker_that_is_not_customer_or_agent(speaker: str, hint: str) -> None:
    with pytest.raises(ValueError, match="use 'customer' or 'agent'") as refused:
        Utterance(speaker, "My furnace is out.")  # type: ignore[arg-type]
    assert hint in str(refused.value)
    with pytest.raises(ValueError, match="AudioChunk speaker"):
        AudioChunk(speaker, np.zeros(80, dtype=np.float32), 0.0)  # type: ignore[arg-type]


def test_a_customer_turn_is_read_as_the_customer(engine: Engine) -> None:
    result = engine.analyze([CallStarted("c"), Utterance("customer", "This is ridiculous, third call this week!")])
    assert result.turns[0].to_dict()["speaker"] == "customer"
