"""Bot-to-human hand-over: each reason, calls that must not escalate, and the hand-over packet."""

from __future__ import annotations

from typing import Any

import pytest

from empathy_engine.ingest.conversation import ConversationV1
from empathy_engine.pipeline import Engine

BOT_OPENING = "Hi! I'm the Summit Heating assistant. How can I help today?"


def bot_call(*customer: str, bot: str = "I can help with that. What is your zip code?", **header: Any) -> dict:
    turns = [{"speaker": "agent", "text": BOT_OPENING}]
    for text in customer:
        turns += [{"speaker": "customer", "text": text}, {"speaker": "agent", "text": bot}]
    return {"id": "bot-1", "handled_by": "bot", "service": "hvac", **header, "turns": turns}


def analyze(engine: Engine, obj: dict) -> dict:
    return engine.analyze(ConversationV1.model_validate(obj).events()).to_dict()


@pytest.mark.parametrize(
    ("customer", "reason", "at_turn"),
    [
        (("my furnace is making a noise", "can I talk to a real person please"), "asked_for_human", 3),
        (("is there someone who can call me back?",), "asked_for_human", 1),
        (("hi, the heater is off", "I smell gas in the basement"), "safety_emergency", 3),
        (("the CO detector keeps beeping",), "safety_emergency", 1),
        (("I'm 87 and live alone and the heat is out, I'm very cold",), "safety_emergency", 1),  # no heat, vulnerable
        (
            ("My husband passed last month and I don't know what to do, the sink won't stop dripping",),
            "vulnerable_customer",
            1,
        ),
        (
            ("the furnace stopped", "if this isn't fixed today I'm cancelling my service plan"),
            "high_value_complaint",
            3,
        ),
        (("the furnace stopped", "I'm leaving a one-star review"), "high_value_complaint", 3),
    ],
)
def test_escalation_reasons(engine: Engine, customer: tuple[str, ...], reason: str, at_turn: int) -> None:
    result = analyze(engine, bot_call(*customer))
    assert result["escalation"]["reason"] == reason
    assert result["escalation"]["at_turn"] == at_turn
    assert result["turns"][at_turn]["escalation"] == result["escalation"]


def test_escalation_rising_frustration(engine: Engine) -> None:
    result = analyze(
        engine,
        bot_call(
            "my AC isn't cooling",
            "I already told you, it's not cooling and it's 90 degrees in here",
            "this is ridiculous, you're useless, I've been at this for twenty minutes!!",
        ),
    )
    assert result["escalation"]["reason"] in {"rising_frustration", "bot_not_understanding"}
    assert result["escalation"]["at_turn"] in {3, 5}


def test_escalation_bot_not_understanding(engine: Engine) -> None:
    result = analyze(
        engine,
        bot_call(
            "I need to reschedule my maintenance visit to next week",
            "no, I said I need to reschedule my maintenance visit to next week",
            "reschedule. my. maintenance. visit.",
            bot="Sorry, I didn't understand. Would you like to book a new repair?",
        ),
    )
    assert result["escalation"]["reason"] == "bot_not_understanding"


@pytest.mark.parametrize(
    "customer",
    [
        ("Hi, I'd like to book my annual furnace tune-up.", "Next Tuesday morning works.", "Great, thanks!"),
        ("What are your opening hours on Saturday?", "Perfect, thank you."),
        ("Can I pay my last invoice online?", "Got it, thanks."),
    ],
)
def test_escalation_calm_simple_requests_do_not_escalate(engine: Engine, customer: tuple[str, ...]) -> None:
    result = analyze(engine, bot_call(*customer, bot="Sure, I can help with that."))
    assert result["escalation"] is None
    assert not any(t.get("offer_human") for t in result["turns"])


def test_escalation_offers_a_human_before_the_customer_asks(engine: Engine) -> None:
    result = analyze(
        engine, bot_call("hmm the heater stopped working, that's a bit annoying", "ok, what time slots do you have?")
    )
    offers = [t["index"] for t in result["turns"] if t.get("offer_human")]
    assert offers == [1]


def test_escalation_handoff_packet(engine: Engine) -> None:
    obj = bot_call(
        "hi, I have a question about my booking",
        "the tech never showed up yesterday, get me a real person",
        customer={
            "name": "Dana Reyes",
            "notes": ["worries about her elderly mother"],
            "prior_contacts": [{"issue": "leak", "outcome": "tech no-show"}],
        },
    )
    handoff = analyze(engine, obj)["escalation"]["handoff"]
    first, second = handoff["summary"].split("\n")
    assert "Asked for a person" in second and "Second contact about leak" in second
    assert first.split(" ")[0] in {"Frustrated", "Distrustful"}
    assert set(handoff["states"]) >= {"frustration", "distrust", "neutral"}
    assert len(handoff["trajectory"]) == 2
    # The name is PII, masked when the call is read (privacy/): the packet greets without it.
    assert "name" not in handoff["context"] and handoff["context"]["person"] == "your mother"
    assert handoff["opening_line"].startswith("Hi, I'm taking over from our assistant")


def test_escalation_only_for_bot_calls(engine: Engine) -> None:
    human = {**bot_call("can I talk to a real person please"), "handled_by": "human"}
    result = analyze(engine, human)
    assert "escalation" not in result
    assert all("escalation" not in t for t in result["turns"])


def test_escalation_answering_the_bots_yes_no_questions_is_not_a_misunderstanding(engine: Engine) -> None:
    turns = [
        {"speaker": "agent", "text": "Hi! Is anyone in danger right now?"},
        {"speaker": "customer", "text": "No, nothing like that."},
        {"speaker": "agent", "text": "Is the unit making any unusual noises?"},
        {"speaker": "customer", "text": "No, it's just not cooling much."},
        {"speaker": "agent", "text": "Thanks. What is your zip code?"},
    ]
    result = analyze(engine, {"id": "bot-q", "handled_by": "bot", "turns": turns})
    assert result["escalation"] is None or result["escalation"]["reason"] != "bot_not_understanding"
