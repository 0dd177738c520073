"""The redactor, entity by entity, on written, spoken and recogniser text, and on the near-misses
that must stay as they are (prices, temperatures, model numbers, a company's address)."""

from __future__ import annotations

import logging

import pytest

from empathy_engine.privacy import CallRedaction, redact_text
from empathy_engine.privacy import logs as privacy_logs
from empathy_engine.privacy.dialogue import PIECES_DEFAULT
from empathy_engine.privacy.numbers import luhn

MASKED = [
    ("my card is 4111 1111 1111 1111", "my card is [CARD_NUMBER]"),
    ("its 4242-4242-4242-4242 thanks", "its [CARD_NUMBER] thanks"),
    ("four one one one one one one one one one one one one one one one", "[CARD_NUMBER]"),
    ("four eight nine one... uh... double two seven three... oh nine five five... one two one four", "[CARD_NUMBER]"),
    ("the cvv is 737", "the cvv is [CVV]"),
    ("security code on the back is eight oh two", "security code on the back is [CVV]"),
    ("it expires 08/27", "it expires [EXPIRY]"),
    ("expiration is oh six twenty nine", "expiration is [EXPIRY]"),
    ("my pin is double five six seven", "my pin is [PIN]"),
    ("routing 021000021 and account 2384910023", "routing [ROUTING_NUMBER] and account [BANK_ACCOUNT]"),
    ("my social is 219-09-9999", "my social is [SSN]"),
    ("last four of my social is 8830", "last four of my social is [SSN]"),
    ("I was born march fourteenth nineteen eighty five", "I was born [DATE_OF_BIRTH]"),
    ("date of birth 03/14/1985", "date of birth [DATE_OF_BIRTH]"),
    ("call me at (312) 555-0142", "call me at [PHONE]"),
    ("best number is six one four five five five two two nine oh", "best number is [PHONE]"),
    ("send it to grace.whitfield@comcast.net", "send it to [EMAIL]"),
    ("email is k dot o dot nguyen at gmail dot com", "email is [EMAIL]"),
    ("we're at 88 Old Mill Rd, the blue house", "we're at [ADDRESS], the blue house"),
    ("service address is twelve forty juniper lane", "service address is [ADDRESS]"),
    ("my name is maria lopez and the furnace is out", "my name is [NAME] and the furnace is out"),
    ("Hi, this is Dana from Cool Air", "Hi, this is [NAME] from Cool Air"),
    ("this is john calling about the water heater", "this is [NAME] calling about the water heater"),
    ("Thanks, Mrs. Okafor", "Thanks, Mrs. [NAME]"),
    ("the lockbox code is 4 4 1 2", "the lockbox code is [ACCESS_CODE]"),
    ("gate code is star 2 7 1 9 pound", "gate code is star [ACCESS_CODE] pound"),
    ("the Wi-Fi password is Riverbend!88", "the Wi-Fi password is [ACCESS_CODE]"),
]
NEAR_MISSES = [
    "It's a SEER 16 Trane, model XR16, about 12 years old.",
    "model number GSX140361 serial 1809A12345",
    "you quoted me $4,250 for the furnace and now it's $5,100?",
    "thermostat says 62 but it's set to 70, and it's 90 degrees upstairs",
    "can the tech come between 2 and 4 tomorrow, I'm free after 10:30",
    "error code 33 is flashing on the furnace board",
    "we have a 200 amp panel and the 20 amp breaker keeps tripping",
    "your office is at 200 Commerce Blvd right? I can drop the check off",
    "the warranty expires in 2027 I think",
    "my account has been with you since 2009",
    "call back on 1-800-555-0199",
    "this is the third time I'm calling and this is ridiculous",
    "give me one second, oh no, not again",
    "the 2 way valve is leaking and there are 3 houses down the road with the same problem",
    "It's Tuesday and the tech still hasn't come",
    "Alright, thank you. Talk to you Monday then.",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_redactor_masks_each_entity_by_type(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_redactor_leaves_near_misses_alone(text: str) -> None:
    assert redact_text(text) == text


def test_redactor_is_idempotent_so_replaying_stored_text_changes_nothing() -> None:
    for text, _ in MASKED:
        once = redact_text(text)
        assert redact_text(once) == once


def test_redactor_luhn_tells_a_card_from_a_long_number() -> None:
    assert luhn("4111111111111111") and not luhn("4111111111111112")
    # Written, with no context word: a number that fails the checksum is not taken for a card.
    sticker = "the number on the sticker is 4111 1111 1111 1112"
    assert redact_text(sticker) == sticker


def _call(turns: list[tuple[str, str]]) -> list[str]:
    redaction = CallRedaction()
    return [redaction.turn(speaker, text)[0] for speaker, text in turns]


def test_redactor_masks_a_card_number_read_over_several_turns() -> None:
    said = _call(
        [
            ("agent", "Okay, go ahead with the card number whenever you're ready."),
            ("customer", "okay four one one one"),
            ("customer", "one one one one, one one one one"),
            ("customer", "and 1111"),
            ("customer", "we have 2 dogs by the way"),  # the answer window is over
            ("agent", "And the security code on the back?"),
            ("customer", "one two three"),
        ]
    )
    assert said[1:4] == ["okay [CARD_NUMBER]", "[CARD_NUMBER]", "and [CARD_NUMBER]"]
    assert said[4] == "we have 2 dogs by the way"
    assert said[6] == "[CVV]"


def test_redactor_state_rebuilds_from_the_masked_turns() -> None:
    # A restart replays the stored (masked) turns: the state must come out the same.
    turns = [("agent", "What's your social?"), ("customer", "four five seven"), ("customer", "five five")]
    stored = _call(turns)
    replay = CallRedaction()
    for (speaker, _), text in zip(turns, stored, strict=True):
        assert replay.turn(speaker, text)[0] == text
    live = CallRedaction()
    for speaker, text in turns:
        live.turn(speaker, text)
    state = ("expecting", "turns_left", "stalls_left", "started")
    assert [getattr(replay, a) for a in state] == [getattr(live, a) for a in state]


def test_redactor_a_partial_utterance_does_not_move_the_call_on() -> None:
    redaction = CallRedaction()
    redaction.turn("agent", "Can I get the PIN?")
    for _ in range(5):
        assert redaction.turn("customer", "nine nine", advance=False)[0] == "[PIN]"
    assert (redaction.turns_left, redaction.started) == (PIECES_DEFAULT, False)


def test_redactor_an_agent_remark_is_not_a_question() -> None:
    said = _call([("agent", "Your card was declined."), ("customer", "we have 3 kids at home")])
    assert said[1] == "we have 3 kids at home"


def test_redactor_log_lines_and_tracebacks_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    privacy_logs.install()
    log = logging.getLogger("empathy_engine.test")
    with caplog.at_level(logging.INFO):
        log.info("customer said %s", "my card is 4111 1111 1111 1111")
        try:
            raise ValueError("bad turn: my social is 219-09-9999")
        except ValueError:
            log.exception("failed")
    assert "4111 1111" not in caplog.text and "219-09-9999" not in caplog.text
    assert "[CARD_NUMBER]" in caplog.text and "[SSN]" in caplog.text and "ValueError" in caplog.text
