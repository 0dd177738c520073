"""Redaction across a call's turns: after the agent asks for a card number (a CVV, an SSN, a PIN,
an access code...), what the customer says over the next few turns is read as that, so a number
said in pieces ("four one one one" ... "two two two two") is masked piece by piece.

The state is only what the agent last asked and how many customer turns are left, and both come
from the turns as stored (masked), so replaying a call's stored turns rebuilds it exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from empathy_engine.privacy.entities import CONTEXT, Entity
from empathy_engine.privacy.redactor import Found, redact_turn

#: How many customer turns after the question still read as its answer.
ANSWER_TURNS = 3
#: What an agent asks for, by entity: narrower than the context words (an agent who mentions "your
#: account" is not asking for a bank account number).
ASKS: tuple[tuple[Entity, str], ...] = (
    (Entity.CVV, dict(CONTEXT)[Entity.CVV]),
    (Entity.EXPIRY, r"expir\w*|exp date|valid (?:thru|through)"),
    (Entity.ROUTING_NUMBER, r"routing|aba|transit number"),
    (Entity.BANK_ACCOUNT, r"account number|bank account|checking account|savings account|account and routing"),
    (Entity.SSN, r"social security|social|ssn"),
    (Entity.PIN, r"pin(?: number| code)?"),
    (Entity.DATE_OF_BIRTH, r"date of birth|birth ?date|birthday|dob"),
    (Entity.ACCESS_CODE, dict(CONTEXT)[Entity.ACCESS_CODE] + r"|code to get in\w*|(?:a|the|any) code\b(?!\s+on\s+the)"),
    (Entity.PHONE, r"phone|best number|call ?back number|number to reach|cell|mobile|contact number"),
    (Entity.CARD_NUMBER, r"card number|number on the card|long number|credit card|debit card|card you|which card"
     r"|the card|your card|visa|master ?card|amex"),
    (Entity.NAME, r"your name|the name|name on the|first and last|last name|full name|spell (?:your|the|that)"
     r"|who am i speaking|who i'm speaking|who do i have"),
    (Entity.EMAIL, r"e-?mail"),
    (Entity.ADDRESS, r"address|where (?:do you live|is the property)|service location|street"),
)
ASK_RE = re.compile(r"\b(?:" + "|".join(rf"(?P<{e.value}>(?:{words})\b)" for e, words in ASKS) + ")")  # lower case
#: An agent turn asks when it has one of these (not "your card was declined").
REQUEST = re.compile(
    r"\?|\b(?:can|could|may|would) (?:i|you)\b|\b(?:what's|what is|read|give|provide|tell|confirm|verify|need|go ahead"
    r"|let me (?:get|have)|i'll (?:need|take)|ready for|ready when|whenever you're ready|and the|then the|last)\b",
    re.IGNORECASE,
)


def asked_for(agent_text: str) -> Entity | None:
    """The entity an agent turn asks the customer for (the last one named), if it asks."""
    if not REQUEST.search(agent_text):
        return None
    last = None
    for m in ASK_RE.finditer(agent_text.lower()):
        last = m.lastgroup
    return Entity(last) if last else None


@dataclass(slots=True)
class CallRedaction:
    """One call's redactor: feed it every turn in order (it lives with the call's session)."""

    expecting: Entity | None = None
    turns_left: int = 0

    def turn(self, speaker: str, text: str, advance: bool = True) -> tuple[str, list[Found]]:
        """The turn masked. `advance=False`: a partial utterance, read without moving the call on."""
        if speaker != "customer":
            masked, found = redact_turn(text)
            if advance and (asked := asked_for(masked)) is not None:
                self.expecting, self.turns_left = asked, ANSWER_TURNS
            return masked, found
        expecting = self.expecting if self.turns_left > 0 else None
        masked, found = redact_turn(text, expecting)
        if advance and self.turns_left > 0:
            self.turns_left -= 1
            if self.turns_left == 0:
                self.expecting = None
        return masked, found
