"""The entities the redactor masks, their masks, and the words that announce each one."""

from __future__ import annotations

import re
from enum import StrEnum


class Entity(StrEnum):
    CARD_NUMBER = "CARD_NUMBER"
    CVV = "CVV"
    EXPIRY = "EXPIRY"
    PIN = "PIN"
    BANK_ACCOUNT = "BANK_ACCOUNT"
    ROUTING_NUMBER = "ROUTING_NUMBER"
    SSN = "SSN"
    DATE_OF_BIRTH = "DATE_OF_BIRTH"
    PHONE = "PHONE"
    EMAIL = "EMAIL"
    ADDRESS = "ADDRESS"
    NAME = "NAME"
    ACCESS_CODE = "ACCESS_CODE"


def mask_of(entity: Entity) -> str:
    return f"[{entity.value}]"


#: Any mask this redactor writes: text that already holds one is left as it is (redaction is idempotent).
MASK = re.compile(r"\[(?:" + "|".join(e.value for e in Entity) + r")\]")

NUMBERISH = re.compile(r"(?:\[[A-Z_]+\]|[0-9])(?:[\s,.-]*(?:\[[A-Z_]+\]|[0-9]))*")


def unmasked_shape(text: str) -> str:
    """`text` with every mask and digit run as one "#": two maskings of one turn compare equal."""
    return NUMBERISH.sub("#", MASK.sub("#", text))


#: Words that say which entity the digits next to them are (Presidio's "context words"). Order
#: matters only for overlaps inside one alternation: the longer phrase is listed first.
CONTEXT: tuple[tuple[Entity, str], ...] = (
    (
        Entity.CVV,
        r"cvv2?|cvc|ccv|cid|security code|security number|three digits?|3 digits?|four digits? on the front"
        r"|(?:code|digits|numbers?) on the back|back of the card",
    ),
    (Entity.EXPIRY, r"expir\w*|exp date|exp\b|valid (?:thru|through|until)|good (?:thru|through)"),
    (Entity.ROUTING_NUMBER, r"routing|aba|transit number"),
    (Entity.BANK_ACCOUNT, r"account|acct|checking|savings"),
    (Entity.SSN, r"social security|social|ssn|ss number|tax id|taxpayer"),
    (Entity.PIN, r"pin(?: number| code)?"),
    (Entity.DATE_OF_BIRTH, r"date of birth|birth ?date|birthday|born|dob|d o b"),
    (
        Entity.ACCESS_CODE,
        r"lock ?box(?: code)?|(?:gate|alarm|garage(?: door)?|front door|back door|side door|door"
        r"|keypad|key ?pad|key|access|entry|entrance|disarm|building|security system|panel|opener|garage opener"
        r"|lock|deadbolt|smart lock) code|pass ?code|password|wi-?fi|wi fi|key ?pad|door ?code|entry ?code"
        r"|wireless|network key|code (?:to|for|on|at) (?:(?:get|getting) (?:in|into|through)(?: to)? |open(?:ing)? "
        r"|unlock\w* |enter(?:ing)? |disarm\w* |turn off |shut off )?(?:the |your |our |my )?(?:\w+ )?"
        r"(?:gate|garage|door|lock ?box|alarm|building|keypad|house|lock|entrance|entry|home|unit|apartment|panel|in)"
        r"|code to get in|(?:disarm|turn off|shut off) the alarm(?: with| it's| is)?",
    ),
    (
        Entity.PHONE,
        r"phone|cell|mobile|call ?back|reach (?:me|you|him|her)|text me|landline|contact number"
        r"|best number|telephone",
    ),
    (Entity.CARD_NUMBER, r"card|visa|master ?card|amex|american express|discover|credit|debit|long number"),
)
#: All of them in one pattern (one scan of a turn): the group's name is the entity.
#: Matched against lower-cased text (no IGNORECASE: three times faster), with the word boundary
#: tested once before the alternatives rather than once per alternative.
CONTEXT_RE = re.compile(r"\b(?:" + "|".join(rf"(?P<{e.value}>(?:{words})\b)" for e, words in CONTEXT) + ")")
