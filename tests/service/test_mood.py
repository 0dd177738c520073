"""The mood at a glance and the board's order: safety first, then the strongest negative
state, then worsening calls; the current card is the first card of the latest customer turn."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from empathy_engine.events import CallStarted
from empathy_engine.service.live import LiveCall, board_frame
from empathy_engine.service.mood import Mood, mentions_safety
from empathy_engine.store.calls import TurnRecord


def customer(primary: str, score: float, cues: list[dict[str, Any]] | None = None, **more: Any) -> dict[str, Any]:
    states = {s: 0.02 for s in ("frustration", "urgency", "worry", "satisfaction", "neutral")}
    states[primary] = score
    detected = [primary] if score >= 0.5 else ["neutral"]
    return {
        "speaker": "customer",
        "states": states,
        "detected": detected,
        "primary": detected[0],
        "intensity": 0.9 if score >= 0.5 else 0.0,
        "evidence": [{"state": primary, "quote": "q", "source": "text"}],
        "cues": cues or [],
        **more,
    }


def card(card_id: str, state: str, source: str = "playbook") -> dict[str, Any]:
    return {
        "id": card_id,
        "state": state,
        "why": "w",
        "do": "d",
        "say": "s",
        "avoid": [],
        "priority": 1,
        "source": source,
        "followed": None,
    }


def test_mood_trend_follows_the_strongest_negative_state() -> None:
    mood = Mood()
    mood.add("customer", "a", customer("frustration", 0.6))
    assert mood.trend == "new"
    mood.add("agent", "b", {"speaker": "agent", "behaviours": ["none"]})
    mood.add("customer", "c", customer("frustration", 0.95))
    assert mood.trend == "worsening" and mood.to_dict()["delta"] == 0.35
    mood.add("customer", "d", customer("frustration", 0.9))
    assert mood.trend == "steady"
    mood.add("customer", "e", customer("satisfaction", 0.9))
    assert mood.trend == "improving" and mood.strength == 0.0
    assert mood.to_dict()["history"] == [0.6, 0.95, 0.9, 0.02]


def test_mood_current_card_is_the_first_card_of_the_latest_customer_turn() -> None:
    mood = Mood()
    mood.add(
        "customer", "a", customer("frustration", 0.9, [card("frustration/validate", "frustration"), card("x", "worry")])
    )
    assert mood.card is not None and mood.card["id"] == "frustration/validate"
    mood.add("agent", "b", {"speaker": "agent", "follow_through": {"card": "frustration/validate", "followed": True}})
    assert mood.card["id"] == "frustration/validate"  # an agent turn does not replace the card
    mood.add("customer", "c", customer("neutral", 0.1))
    assert mood.card is None
    assert mood.last_card is not None and mood.last_card["id"] == "frustration/validate"  # what the board shows


def test_mood_safety_from_a_safety_card_or_an_escalation_sticks() -> None:
    mood = Mood()
    mood.add("customer", "gas", customer("urgency", 0.9, [card("safety/gas", "safety", "safety")]))
    assert mood.safety
    mood.add("customer", "ok", customer("satisfaction", 0.9))
    assert mood.safety and mood.risk >= 10
    bot = Mood()
    bot.add("customer", "x", customer("worry", 0.7, escalation={"at_turn": 0, "reason": "safety_emergency"}))
    assert bot.safety and bot.escalation["reason"] == "safety_emergency"
    assert mentions_safety({"reasons": ["asked_for_human", "safety_emergency"]})
    assert not mentions_safety({"reason": "asked_for_human"})


def live(call_id: str, *results: dict[str, Any]) -> LiveCall:
    call = LiveCall("default", call_id, {"id": call_id}, CallStarted(call_id))
    for result in results:
        call.mood.add(result["speaker"], "text", result)
    return call


def test_board_sorts_safety_first_then_strength_then_worsening() -> None:
    calm = live("calm", customer("neutral", 0.1))
    steady = live("steady", customer("frustration", 0.8), customer("frustration", 0.8))
    worsening = live("worsening", customer("frustration", 0.55), customer("frustration", 0.8))
    strong = live("strong", customer("frustration", 0.99))
    danger = live("danger", customer("neutral", 0.1, [card("safety/co", "safety", "safety")]))
    frame = board_frame([calm, steady, worsening, strong, danger])
    assert [row["call_id"] for row in frame["calls"]] == ["danger", "strong", "worsening", "steady", "calm"]
    assert frame["total"] == 5 and frame["calls"][0]["safety"] is True
    assert frame["calls"][2]["trend"] == "worsening"


def agent(card_id: str, followed: bool) -> dict[str, Any]:
    return {
        "speaker": "agent",
        "behaviours": ["action_plan"],
        "follow_through": {"card": card_id, "followed": followed},
    }


def test_safety_clears_only_when_the_agent_follows_the_safety_card() -> None:
    mood = Mood()
    mood.add("customer", "gas", customer("urgency", 0.9, [card("safety/gas", "safety", "safety")]))
    mood.add("agent", "account number?", agent("safety/gas", False))
    mood.add("agent", "other card", agent("frustration/validate", True))  # not the safety card
    assert mood.safety and not mood.safety_handled
    mood.add("agent", "get out now", agent("safety/gas", True))
    assert not mood.safety and mood.safety_handled and mood.risk < 10
    assert mood.to_dict()["safety_handled"] is True
    mood.add("customer", "sparks", customer("worry", 0.9, [card("safety/sparking", "safety", "safety")]))
    assert mood.safety and not mood.safety_handled  # a new hazard flags the call again


def test_safety_from_an_escalation_without_a_card_clears_when_the_agent_follows_the_next_card() -> None:
    mood = Mood()
    mood.add("customer", "x", customer("worry", 0.7, escalation={"reason": "safety_emergency"}))
    mood.add("customer", "fine", customer("satisfaction", 0.9))
    assert mood.safety  # sounding satisfied is not handling it
    mood.add("agent", "I'm sending someone now", agent("worry/reassure", True))
    assert not mood.safety and mood.safety_handled


def test_board_drops_calls_whose_connection_dropped_after_the_grace() -> None:
    held, dropped, old = live("held"), live("dropped"), live("old")
    dropped.dropped_at = time.monotonic()
    old.dropped_at = time.monotonic() - 61
    frame = board_frame([held, dropped, old], dropped_grace_s=60)
    assert sorted(row["call_id"] for row in frame["calls"]) == ["dropped", "held"] and frame["total"] == 2
    assert len(board_frame([held, dropped, old])["calls"]) == 3  # no grace: they stay until they end


def test_a_restored_call_keeps_its_start_and_the_time_its_state_began() -> None:
    started = datetime(2026, 1, 5, 9, 0, 0)  # naive, as SQLite gives it back: stored in UTC
    turn = TurnRecord(0, "customer", "text", 2.0, customer("frustration", 0.9), received_at=started.replace(minute=1))
    restored = LiveCall.restore("default", "r-1", {}, CallStarted("r-1"), [turn], created_at=started)
    row = board_frame([restored])["calls"][0]
    assert row["started"] == datetime(2026, 1, 5, 9, 0, tzinfo=UTC).timestamp()
    assert row["state_since"] == datetime(2026, 1, 5, 9, 1, tzinfo=UTC).timestamp()
    assert row["connected"] is False
