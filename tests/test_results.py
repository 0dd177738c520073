"""The typed result and its JSON: stored results read back into the same types, once, at the edge."""

from __future__ import annotations

import json

import pytest

from empathy_engine.demo import CALLS, load_call
from empathy_engine.ingest.conversation import ConversationV1
from empathy_engine.pipeline import Engine
from empathy_engine.results import AgentTurn, ConversationResult, CustomerInsight
from tests.conftest import REPO


@pytest.mark.parametrize("name", CALLS)
def test_results_a_stored_result_reads_back_to_the_same_json(engine: Engine, name: str) -> None:
    stored = json.loads(json.dumps(engine.analyze(load_call(name).events()).to_dict()))
    assert ConversationResult.from_dict(stored).to_dict() == stored


def test_results_a_bot_calls_hand_over_and_a_cards_follow_through_survive_the_round_trip(engine: Engine) -> None:
    lines = (REPO / "training" / "data" / "escalation" / "bot_conversations.jsonl").read_text().splitlines()
    stored = [engine.analyze(ConversationV1.model_validate(json.loads(line)).events()).to_dict() for line in lines[:10]]
    for result in stored:
        again = ConversationResult.from_dict(result)
        assert again.bot and again.to_dict() == result
        assert (again.escalation is None) == (result["escalation"] is None)
    followed = [
        (turn, after)
        for result in map(ConversationResult.from_dict, stored)
        for turn, after in zip(result.turns, result.turns[1:], strict=False)
        if isinstance(turn, CustomerInsight) and turn.cues and isinstance(after, AgentTurn)
    ]
    assert followed and all(after.follow_through is not None for _, after in followed)


def test_results_the_fingerprint_travels_on_the_insight_but_never_in_the_json(engine: Engine) -> None:
    result = engine.analyze(load_call("cost_worry").events())
    customer = [t for t in result.turns if isinstance(t, CustomerInsight)]
    assert customer and all(t.fingerprint is not None for t in customer)
    assert "fingerprint" not in json.dumps(result.to_dict())
