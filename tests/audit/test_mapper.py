"""The MAP step: one analysed call -> one CallRecord, checked against hand-worked calls."""

from __future__ import annotations

from empathy_engine.audit.mapper import ADVICE, audit_call, sentiment_of
from empathy_engine.taxonomy import NEGATIVE_STATES
from tests.audit.helpers import agent, customer, result, start, texts

CARD = {
    "id": "frustration/validate",
    "state": "frustration",
    "why": "out again",
    "do": "Validate the frustration",
    "say": "That's really frustrating.",
    "avoid": ["Calm down"],
    "priority": 1,
    "source": "playbook",
    "followed": False,
}


def _call(cues: list[dict] | None = None, **extra: object) -> tuple[list[dict], dict]:
    turns = [
        customer(0, 0.0, cues=cues, frustration=0.9),  # emotional: the reply misses it
        agent(1, ["informational"], True, 5.0),
        customer(2, 12.0, neutral=0.9),  # logistics
        agent(3, ["informational"], False, 15.0),
        customer(4, 20.0, cost_anxiety=0.8),  # emotional: answered
        agent(5, ["budget_ack"], False, 30.0),
        customer(6, 40.0, satisfaction=0.9),
    ]
    return turns, result("call-1", turns, **extra)


def test_audit_call_counts_judged_answered_and_misses() -> None:
    turns, res = _call()
    r = audit_call(start("call-1"), texts(turns), res, "calls.jsonl:1")
    assert (r.judged, r.answered, r.missed_cues) == (2, 1, 1)
    assert r.empathy_score == 0.5
    assert r.judged_states == ("frustration", "cost_anxiety")
    assert r.missed_states == ("frustration",)
    assert (r.agent, r.customer, r.day, r.service, r.where) == ("a-1", "c-1", "2025-09-01", "hvac", "calls.jsonl:1")


def test_audit_call_times_the_first_acknowledgement_from_the_first_emotional_turn() -> None:
    turns, res = _call()
    r = audit_call(start("call-1"), texts(turns), res)
    assert r.first_ack_s == 30.0  # the emotional turn at 0 s, the first answering reply at 30 s
    assert r.first_ack_replies == 2
    assert r.acknowledged is True


def test_audit_call_trajectory_and_sentiment() -> None:
    turns, res = _call()
    r = audit_call(start("call-1"), texts(turns), res)
    assert r.sentiment == (-0.9, 0.0, -0.8, 0.9)
    assert (r.sentiment_start, r.sentiment_end) == (-0.9, 0.9)
    assert (r.start, r.peak_state, r.end) == ("frustration", "frustration", "satisfaction")
    assert r.recovered is True


def test_audit_call_miss_quotes_the_customer_and_falls_back_to_the_taxonomy() -> None:
    turns, res = _call()
    miss = audit_call(start("call-1"), texts(turns), res).misses[0]
    assert (miss.turn, miss.customer_turn, miss.position, miss.t) == (1, 0, 0, 0.0)
    assert miss.state == "frustration" and miss.pending == ("frustration",)
    assert miss.quote == "words of turn 0" and miss.reply == "words of turn 1"
    assert miss.evidence == ("quote for frustration",)
    assert miss.behaviours == ("informational",)
    assert not miss.from_cues
    assert [a.state for a in miss.advice] == ["frustration"]
    assert miss.advice[0].do.startswith(ADVICE["frustration"])
    assert "apologize" in miss.advice[0].do  # the behaviours that would have answered it


def test_audit_call_miss_shows_the_cue_cards_when_coaching_ran() -> None:
    turns, res = _call(cues=[CARD])
    miss = audit_call(start("call-1"), texts(turns), res).misses[0]
    assert miss.from_cues
    (advice,) = miss.advice
    assert (advice.do, advice.say, advice.avoid, advice.followed) == (
        "Validate the frustration",
        "That's really frustrating.",
        ("Calm down",),
        False,
    )


def test_audit_call_best_moment_is_the_most_intense_answered_turn() -> None:
    turns, res = _call()
    best = audit_call(start("call-1"), texts(turns), res).best
    assert best is not None
    assert (best.turn, best.state, best.quote) == (5, "cost_anxiety", "words of turn 4")


def test_audit_call_counts_an_escalation_when_present() -> None:
    turns, res = _call(escalation={"at_turn": 3, "reason": "asked_for_human", "handoff": {"to": "queue"}})
    r = audit_call(start("call-1"), texts(turns), res)
    assert (r.escalated, r.escalation_reason, r.escalation_turn) == (True, "asked_for_human", 3)
    turns, res = _call(escalation=None)
    assert audit_call(start("call-1"), texts(turns), res).escalated is False


def test_audit_call_calm_call_has_no_score_and_no_verdict_on_recovery() -> None:
    turns = [customer(0, 0.0, neutral=0.9), agent(1, ["informational"], False, 3.0)]
    r = audit_call(start("call-2"), texts(turns), result("call-2", turns))
    assert (r.empathy_score, r.acknowledged, r.recovered, r.first_ack_s) == (None, None, None, None)


def test_audit_call_never_acknowledged() -> None:
    turns = [customer(0, 0.0, worry=0.8), agent(1, ["none"], True, 3.0), customer(2, 9.0, worry=0.7)]
    r = audit_call(start("call-3"), texts(turns), result("call-3", turns))
    assert (r.acknowledged, r.first_ack_s, r.recovered) == (False, None, False)


def test_sentiment_is_satisfaction_minus_the_strongest_negative_state() -> None:
    assert sentiment_of({"satisfaction": 0.7, "worry": 0.2, "frustration": 0.4}) == 0.3
    assert sentiment_of({"neutral": 1.0}) == 0.0


def test_advice_covers_every_state_that_asks_for_a_response() -> None:
    assert set(ADVICE) == set(NEGATIVE_STATES)
