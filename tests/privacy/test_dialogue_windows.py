"""The answer window across turns, driven turn by turn the way CallSession.hear drives it (a
partial before each final customer turn, advance=False): the cases a security review found stored
unmasked (a customer stalling before reading the card out, a card volunteered over two turns)."""

from __future__ import annotations

import re

import pytest

from empathy_engine.privacy import CallRedaction
from empathy_engine.privacy.dialogue import STALL_TURNS


def _heard(turns: list[tuple[str, str]]) -> list[str]:
    """The turns as stored, each customer turn heard first as a partial, then as a final."""
    redaction = CallRedaction()
    stored = []
    for speaker, text in turns:
        if speaker == "customer":
            redaction.turn(speaker, text, advance=False)
        stored.append(redaction.turn(speaker, text)[0])
    return stored


def _no_digits_left(stored: list[str]) -> bool:
    spelled = r"\b(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)\b"
    return not any(re.search(r"\d", t) or re.search(spelled, t) for t in stored)


STALLS = [("customer", "hold on"), ("customer", "let me find my wallet"), ("customer", "okay here it is")]
ASKS = [
    ("Can I get the card number?", "[CARD_NUMBER]"),
    ("And the three digits on the back?", "[CVV]"),
    ("Can you give me your social?", "[SSN]"),
    ("What's the account number?", "[BANK_ACCOUNT]"),
    ("And the routing number?", "[ROUTING_NUMBER]"),
    ("Could you tell me the PIN?", "[PIN]"),
    ("What's the gate code?", "[ACCESS_CODE]"),
]


@pytest.mark.parametrize(("ask", "mask"), ASKS)
def test_dialogue_turns_without_digits_do_not_use_up_the_window(ask: str, mask: str) -> None:
    pieces = [("customer", "four one one one"), *[("customer", "one one one one")] * 3]
    stored = _heard([("agent", ask), *STALLS, *pieces])
    if mask != "[ACCESS_CODE]":  # a short answer to a code ask may be a password: it is masked as one
        assert stored[1:4] == ["hold on", "let me find my wallet", "okay here it is"]
    assert stored[4:] == [mask] * 4


def test_dialogue_written_pieces_past_three_turns_are_all_masked() -> None:
    stored = _heard([("agent", "Go ahead with the card number."), *[("customer", "4111")] * 4])
    assert stored[1:] == ["[CARD_NUMBER]"] * 4


def test_dialogue_a_card_read_two_digits_a_turn_is_masked_to_the_end() -> None:
    stored = _heard([("agent", "What's the card number?"), *[("customer", "four one")] * 8])
    assert stored[1:] == ["[CARD_NUMBER]"] * 8


def test_dialogue_the_window_closes_at_an_answer_turn_without_digits() -> None:
    stored = _heard(
        [("agent", "Can I get the card number?"), ("customer", "4111 1111 1111 1111"),
         ("customer", "that's the one I use for everything"), ("customer", "we have 2 dogs and 3 cats by the way")]
    )  # fmt: skip
    assert stored[1] == "[CARD_NUMBER]"
    assert stored[2:] == ["that's the one I use for everything", "we have 2 dogs and 3 cats by the way"]


def test_dialogue_a_filler_between_pieces_keeps_the_window_open() -> None:
    stored = _heard(
        [("agent", "Card number please?"), ("customer", "four one one one"), ("customer", "uh sorry, hold on"),
         ("customer", "one one one one")]
    )  # fmt: skip
    assert stored[1:] == ["[CARD_NUMBER]", "uh sorry, hold on", "[CARD_NUMBER]"]


def test_dialogue_stalling_has_a_cap() -> None:
    stalls = [("customer", "still looking, it's in the truck")] * (STALL_TURNS + 1)
    stored = _heard([("agent", "Can I get the card number?"), *stalls, ("customer", "the unit is 1998 I think")])
    assert stored[-1] == "the unit is 1998 I think"


@pytest.mark.parametrize(
    "first",
    ["my card is 4111 1111", "okay the card, it's four one one one, one one one one", "my visa number is",
     "okay the card, it's"],
)  # fmt: skip
def test_dialogue_a_card_the_customer_volunteers_over_two_turns_is_masked(first: str) -> None:
    rest = "1111 1111" if first[-1].isdigit() else "one one one one, one one one one"
    stored = _heard([("customer", first), ("customer", rest), ("customer", rest)])
    assert stored[1:] == ["[CARD_NUMBER]", "[CARD_NUMBER]"]
    assert _no_digits_left(stored)


def test_dialogue_a_card_word_without_a_number_opens_nothing() -> None:
    stored = _heard([("customer", "my card was declined yesterday"), ("customer", "we were charged 250 twice")])
    assert stored[1] == "we were charged 250 twice"
