"""The reward definitions: "eased" within two customer turns, and the distal rewards with missing kept missing."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from empathy_engine.learning.rewards import EASE_DROP, CallOutcome, Card, ResultsError, eased, read_results, reward
from empathy_engine.taxonomy import STRONG_LOGIT, intensity_of


def score_at(intensity: float) -> float:
    """The score whose intensity (taxonomy.intensity_of) is `intensity` (0.33 mild ... 1.0 strong)."""
    logit = (intensity - 0.33) * STRONG_LOGIT / 0.67
    return 1 / (1 + math.exp(-logit))


def customer(frustration: float) -> dict[str, Any]:
    return {"speaker": "customer", "states": {"frustration": score_at(frustration) if frustration else 0.1}}


AGENT = {"speaker": "agent"}


def test_reward_score_helper_inverts_the_intensity_scale() -> None:
    assert intensity_of(score_at(0.8)) == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("later", "expected"),
    [
        ([0.8 - EASE_DROP - 0.01], True),  # fell by more than EASE_DROP on the next customer turn
        ([0.8 - EASE_DROP + 0.05, 0.8 - EASE_DROP - 0.05], True),  # ... or on the one after
        ([0.0], True),  # no longer detected
        ([0.75, 0.72], False),  # eased a little, not enough
        ([0.8, 0.9], False),  # got worse
        ([0.8, 0.8, 0.1], False),  # eased only on the third customer turn: too late
        ([], None),  # the call ended: missing, not a failure
    ],
)
def test_reward_eased_within_two_customer_turns(later: list[float], expected: bool | None) -> None:
    turns = [customer(0.8)]
    for value in later:
        turns += [AGENT, customer(value)]
    assert eased(turns, 0, "frustration") is expected


def test_reward_eased_stops_at_the_next_card_shown() -> None:
    # The next customer turn shows a card of its own: the turn after it is that card's effect.
    turns = [customer(0.8), AGENT, {**customer(0.8), "cues": [{"id": "frustration/apologize"}]}, AGENT, customer(0.0)]
    assert eased(turns, 0, "frustration") is False
    assert eased(turns, 2, "frustration") is True


CARD = Card("c1", 1, "frustration", "validate", "default", "frustration/validate#abc", 0.5, True, True)


def test_reward_kinds_keep_missing_values_missing() -> None:
    assert reward(CARD, None, "eased") == 1.0 and reward(CARD, None, "followed") == 1.0
    assert reward(CARD, None, "csat") is None  # no survey: missing, never zero
    assert reward(CARD, CallOutcome(csat=4), "csat") == 1.0 and reward(CARD, CallOutcome(csat=3), "csat") == 0.0
    assert reward(CARD, CallOutcome(resolved=False), "resolved") == 0.0
    assert reward(CARD, CallOutcome(repeat_contact=True), "no_repeat") == 0.0
    # auto: the mean of eased, csat and resolved where known
    assert reward(CARD, None, "auto") == 1.0
    assert reward(CARD, CallOutcome(csat=2, resolved=True), "auto") == pytest.approx(2 / 3)
    unknown = Card("c1", 1, "frustration", "validate", "default", "v", 0.5, None, None)
    assert reward(unknown, None, "auto") is None


def _result(call_id: str) -> dict[str, Any]:
    card = {"id": "frustration/validate", "state": "frustration", "variant": "frustration/validate#abc123",
            "propensity": 0.5, "source": "playbook", "followed": True}  # fmt: skip
    return {"id": call_id, "turns": [{**customer(0.8), "index": 0, "cues": [card]}, AGENT, customer(0.0)]}


def test_reward_reading_results_in_every_shape_analyze_writes(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps(_result("a"), indent=2))  # analyze -f json, one conversation
    many = tmp_path / "many.json"
    many.write_text(json.dumps([_result("b"), _result("c")], indent=2))
    lines = tmp_path / "r.jsonl"
    lines.write_text(json.dumps(_result("d")) + "\n" + json.dumps({"id": "x", "error": "unreadable"}) + "\n")
    cards = list(read_results([one, many, lines]))
    assert [c.call_id for c in cards] == ["a", "b", "c", "d"]
    assert all(c.eased is True and c.followed is True and c.key == "frustration/validate" for c in cards)
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(_result("e")) + "\n{oops\n")
    with pytest.raises(ResultsError, match=rf"{broken}:2: not JSON"):
        list(read_results([broken]))
