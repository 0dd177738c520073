"""Redaction across a call's turns: after the agent asks for a card number (a CVV, an SSN, a PIN,
an access code...), what the customer says next is read as that, so a number said in pieces
("four one one one" ... "two two two two") is masked piece by piece.

For the numbers, the answer window counts pieces, not turns: turns without digits before the first
piece ("hold on", "let me find my wallet") do not use it up, and it stays open while pieces keep
coming, until a turn that is neither a piece nor a filler, or a cap. A customer who names the
card (or whose turn ends in a masked number: "my card is 4111 1111") opens the same window, so
the second half said in the next turn is masked too.

The state comes only from the turns as stored (masked; a mask counts as a piece), so replaying a
call's stored turns rebuilds it exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import re2

from empathy_engine.privacy.entities import CONTEXT, Entity
from empathy_engine.privacy.redactor import Found, redact_turn

#: How many customer turns after the question still read as its answer, for what is said in words
#: (a name, an e-mail address, a street address).
ANSWER_TURNS = 3
#: Entities said in words: their window counts turns (ANSWER_TURNS), not pieces.
WORDED = frozenset({Entity.NAME, Entity.EMAIL, Entity.ADDRESS})
#: The most digit pieces one answer may take: a card read out two digits a turn still fits.
PIECES: dict[Entity, int] = {Entity.CARD_NUMBER: 12, Entity.BANK_ACCOUNT: 10, Entity.ROUTING_NUMBER: 8}
PIECES_DEFAULT = 6
#: Turns without digits ("hold on", "let me find my wallet", "okay here it is", "uh sorry") the
#: customer may take before or between the pieces; after the cap the window closes.
STALL_TURNS = 4
#: A turn of only these words is a pause inside an answer being read out, not the end of it.
FILLER = re.compile(
    r"^(?:[\s,.!?-]|uh|um|er|erm|hmm|mm|sorry|wait|hold on|hang on|one (?:sec|second|moment)|just a sec(?:ond)?"
    r"|okay|ok|yeah|yes|right|so|let me see|where was i|again|it's|its|is|the|next|then|and|after that)*$",
    re.IGNORECASE,
)
#: Masks that stand for digits: a turn holding one is a piece of a number being read out.
DIGIT_MASK = re.compile(r"\[(?:" + "|".join(e.value for e in Entity if e not in WORDED) + r")\]")
#: A customer turn that ends by naming the card ("okay the card, it's", "my visa number is"): the
#: number comes next.
CARD_ANNOUNCED = re.compile(
    r"\b(?:card|visa|master ?card|amex|discover|card number|long number)(?: number)?[\s,:-]*"
    r"(?:(?:is|it's|its|it is|goes|reads)[\s,:-]*)?$",
    re.IGNORECASE,
)
#: A customer turn that ends in a masked number: what follows may be the rest of it.
ENDS_IN_MASK = re.compile(r"\[(?P<entity>[A-Z_]+)\][\s,.!?-]*$")
DIGIT = re.compile(r"\d")
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
    (
        Entity.CARD_NUMBER,
        r"card number|number on the card|long number|credit card|debit card|card you|which card"
        r"|the card|your card|visa|master ?card|amex",
    ),
    (
        Entity.NAME,
        r"your name|the name|name on the|first and last|last name|full name|spell (?:your|the|that)"
        r"|who am i speaking|who i'm speaking|who do i have",
    ),
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


#: RE2 copies of REQUEST and ASK_RE, as filters: on every agent turn Python's `re` tried each of
#: their alternatives at each position (~0.2 ms a turn); RE2 answers "any match?" in one pass. They
#: match wherever the originals do (ASK_RE's one lookahead, which RE2 lacks, is dropped, so the
#: copy matches a little more), and the originals still decide.
_ANY_REQUEST = re2.compile("(?i)" + REQUEST.pattern)
_ANY_ASK = re2.compile(ASK_RE.pattern.replace(r"(?!\s+on\s+the)", ""))


def asked_for(agent_text: str) -> Entity | None:
    """The entity an agent turn asks the customer for (the last one named), if it asks."""
    low = agent_text.lower()
    if not _ANY_REQUEST.search(agent_text) or not _ANY_ASK.search(low) or not REQUEST.search(agent_text):
        return None
    last = None
    for m in ASK_RE.finditer(low):
        last = m.lastgroup
    return Entity(last) if last else None


@dataclass(slots=True)
class CallRedaction:
    """One call's redactor: feed it every turn in order (it lives with the call's session)."""

    expecting: Entity | None = None
    turns_left: int = 0  # pieces left (numbers) or turns left (WORDED entities)
    stalls_left: int = 0  # turns without digits still allowed
    started: bool = False  # a piece of the answer has come

    def turn(self, speaker: str, text: str, advance: bool = True) -> tuple[str, list[Found]]:
        """The turn masked. `advance=False`: a partial utterance, read without moving the call on."""
        if speaker != "customer":
            masked, found = redact_turn(text)
            if advance and (asked := asked_for(masked)) is not None:
                self.open(asked, started=False)
            return masked, found
        expecting = self.expecting if self.turns_left > 0 else None
        masked, found = redact_turn(text, expecting)
        if advance:
            if expecting is not None:
                self._answered(expecting, masked)
            self._volunteered(masked)
        return masked, found

    def open(self, entity: Entity, started: bool) -> None:
        """Read the next customer turns as `entity` (an agent asked, or the customer began it)."""
        self.expecting, self.started, self.stalls_left = entity, started, STALL_TURNS
        self.turns_left = ANSWER_TURNS if entity in WORDED else PIECES.get(entity, PIECES_DEFAULT)

    def close(self) -> None:
        self.expecting, self.turns_left, self.stalls_left, self.started = None, 0, 0, False

    def _answered(self, expecting: Entity, masked: str) -> None:
        """Move the window on past one customer turn read as (part of) the answer."""
        if expecting in WORDED:
            self.turns_left -= 1
        elif DIGIT.search(masked) or DIGIT_MASK.search(masked):
            self.started, self.turns_left = True, self.turns_left - 1
        elif (not self.started or FILLER.match(masked)) and self.stalls_left > 0:
            self.stalls_left -= 1  # "hold on", "let me find my wallet": the digits are still to come
        else:
            self.turns_left = 0  # an answer turn with no digits: the number is over
        if self.turns_left <= 0:
            self.close()

    def _volunteered(self, masked: str) -> None:
        """A customer turn that starts a number the next turns may finish ("my card is 4111 1111")."""
        if self.expecting is not None and self.started:
            return  # already reading a number out: its window goes on
        if (m := ENDS_IN_MASK.search(masked)) is not None and m.group("entity") in Entity.__members__:
            entity = Entity(m.group("entity"))
            if entity not in WORDED and entity != Entity.DATE_OF_BIRTH:
                self.open(entity, started=True)
        elif CARD_ANNOUNCED.search(masked):
            self.open(Entity.CARD_NUMBER, started=False)
