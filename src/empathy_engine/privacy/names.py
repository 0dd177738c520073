"""People's names, from the phrases that introduce them: "my name is ...", "this is ... calling",
"am I speaking with ...", titles ("Mrs. Okafor"), "the name on the card is ...".

No NER model: the names a call carries nearly always come in one of these frames, and a model
would have to ship inside the package. A name said with no frame ("tell Dave I said hi") is missed
(docs/security.md says so).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from empathy_engine.privacy.entities import Entity
from empathy_engine.privacy.numbers import index_at

if TYPE_CHECKING:
    from empathy_engine.privacy.numbers import Token
    from empathy_engine.privacy.redactor import Found

#: Words that are never part of a name after a trigger (so "this is the third time" masks nothing).
STOP = frozenset(
    """a an the and or but so if of to from in on at by for with about regarding over up down out off into
    i i'm im me my mine you your yours he him his she her hers we us our they them their it it's its this that
    these those there here what which who whom whose when where why how is am are was were be been being do does
    did have has had having will would can could should may might must shall not no nor yes yeah yep ok okay
    sure um uh er hmm well just really very still also too again already calling call called speaking
    here there someone somebody anyone anybody everyone nobody one calling from trying looking wondering getting
    having going sorry fine good great happy glad afraid home back sir maam ma'am madam miss mister mr mrs ms dr
    technician tech manager supervisor agent customer owner homeowner tenant landlord renter wife husband mom dad
    mother father son daughter neighbor neighbour the company office dispatcher plumber electrician contractor
    last first name number card account phone email address on calling about because since like right now then
    than as all any some more most much many few new old other another same such only own
    you're we're they're i've you've we've i'll you'll we'll i'd you'd we'd they'd that's there's he's she's don't
    can't won't didn't
    isn't wasn't doesn't haven't hasn't couldn't wouldn't shouldn't aren't let's what's here's who's
    angry upset mad sick tired busy done frustrated worried scared stuck fed away fine annoyed concerned unhappy
    disappointed ready free available late early stressed nervous desperate confused alone hoping serious
    said told asked gave put sent called came went took got wanted promised transferred hung kept says tells
    gonna wanna gotta let let's please thanks thank hi hello hey bye goodbye morning afternoon evening
    furnace heater boiler ac unit water leak pipe toilet sink drain panel breaker outlet system thermostat
    monday tuesday wednesday thursday friday saturday sunday today tomorrow tonight yesterday january february
    march april may june july august september october november december christmas
    carrier trane lennox rheem goodman bryant york amana ruud kohler moen nest honeywell ecobee""".split()
)
#: After these, the next words are a name whatever their case.
STRONG = (
    "my name is", "my name's", "name is", "name's", "names is", "first name is", "last name is", "full name is",
    "speaking with", "speak with", "speak to", "talking to", "talking with", "talk to", "spoke with", "spoke to",
    "talked to", "talked with", "ask for", "asking for", "name on the card is", "name on the account is",
    "account holder is", "card holder is", "cardholder is", "under the name", "under the name of", "goes by",
    "mr", "mrs", "ms", "mister", "missus", "miz", "dr", "doctor",
)  # fmt: skip
#: After these, the next words are a name only if capitalised mid-text or followed by "calling"...
WEAK = ("this is", "i am", "i'm", "im", "thanks", "thank you", "hi", "hello", "hey", "bye")
#: After these, a capitalised word is a name ("my husband Greg"); lower case ("my father sits") is not.
RELATIVES = (
    "husband wife son daughter mom mother dad father neighbor neighbour brother sister tenant landlord partner aunt "
    "uncle grandson granddaughter"
).split()
RELATION = tuple(f"{who} {r}" for who in ("my", "our", "his", "her") for r in RELATIVES)
STRONG_KIND, WEAK_KIND, RELATION_KIND = 0, 1, 2


def _index(*groups: tuple[tuple[str, ...], int]) -> dict[str, list[tuple[tuple[str, ...], int]]]:
    """Trigger phrases by their first word, longest first: a turn is scanned once, word by word."""
    out: dict[str, list[tuple[tuple[str, ...], int]]] = {}
    for phrases, kind in groups:
        for phrase in phrases:
            words = tuple(phrase.split())
            out.setdefault(words[0], []).append((words, kind))
    for entries in out.values():
        entries.sort(key=lambda e: -len(e[0]))
    return out


TRIGGERS = _index((STRONG, STRONG_KIND), (WEAK, WEAK_KIND), (RELATION, RELATION_KIND))
SKIP = frozenset({".", ",", "-"})
TITLES = frozenset({"mr", "mrs", "ms", "mister", "missus", "miz", "dr", "doctor"})
TITLE_MID = re.compile(r"[a-z,;]\s+[A-Z][a-z]")
FOLLOWS = frozenset("calling here speaking".split())
#: After a lower-case name these follow only if the word before is not a verb or an adjective.
LOOSE_FOLLOWS = frozenset("from with at over".split())
NOT_NAME_END = re.compile(r"(?:ing|ed|ly|ful|ous|ive|less|able)$")
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*$")


def find(text: str, tokens: list[Token], expecting: bool) -> list[Found]:
    """Every name span in `text`. `expecting`: the agent just asked for a name, so a short answer is one."""
    from empathy_engine.privacy.redactor import Found

    out: list[Found] = []
    mixed = bool(TITLE_MID.search(text))  # cased text: a capitalised word inside a sentence
    lows = [t.low for t in tokens]
    for i, low in enumerate(lows):
        for phrase, kind in TRIGGERS.get(low, ()):
            if tuple(lows[i : i + len(phrase)]) != phrase:
                continue
            after = i + len(phrase)
            # "Mrs. Okafor", "Thanks, Maria" - but a full stop after anything but a title ends the frame.
            skip = SKIP if phrase[0] in TITLES else SKIP - {"."}
            while after < len(tokens) and tokens[after].low in skip:
                after += 1
            if after < len(tokens):
                found = _name_words(tokens, tokens[after].start, kind == STRONG_KIND, mixed or kind == RELATION_KIND)
                if found:
                    out.append(Found(Entity.NAME, found[0].start, found[-1].end))
            break
    if expecting and not out and len(tokens) <= 8:
        lead = re.match(
            r"\s*(?:(?:yeah|yes|sure|um|uh|it's|it is|that's|that is|that would be|its|this is|i'm|im|my name is)"
            r"[\s,]+)*",
            text,
            re.IGNORECASE,
        )
        words = _name_words(tokens, lead.end() if lead else 0, True, mixed)
        if words:
            out.append(Found(Entity.NAME, words[0].start, words[-1].end))
    if out:
        out.extend(_again(text, tokens, out))
    return out


def _again(text: str, tokens: list[Token], names: list[Found]) -> list[Found]:
    """The same name said again in the turn without a frame ("it's Earl, Earl Sorensen")."""
    from empathy_engine.privacy.redactor import Found

    said = {t.low for f in names for t in tokens if f.start <= t.start < f.end}
    out: list[Found] = []
    for i, tok in enumerate(tokens):
        if tok.low not in said or any(f.start <= tok.start < f.end for f in names):
            continue
        end = tok.end
        for nxt in tokens[i + 1 : i + 3]:  # and a surname after it ("Earl, Earl Sorensen")
            if nxt.low in STOP or not WORD.match(nxt.text) or not nxt.text[0].isupper():
                break
            end = nxt.end
        out.append(Found(Entity.NAME, tok.start, end))
    return out


def _name_words(tokens: list[Token], at: int, strong: bool, mixed: bool) -> list[Token]:
    """Up to three name-like words starting at character `at` (none when the frame does not hold)."""
    first = index_at(tokens, at)
    following = tokens[first : first + 4]
    words: list[Token] = []
    for tok in following[:3]:
        if tok.low in STOP or not WORD.match(tok.text) or len(tok.text) < 2:
            break
        if mixed and words and not tok.text[0].isupper():
            break  # in cased text a surname is capitalised too
        if mixed and not strong and not tok.text[0].isupper():
            break
        words.append(tok)
    if not words:
        return []
    if not strong and not mixed:
        nxt = following[len(words)] if len(words) < len(following) else None
        if nxt is None or nxt.low not in FOLLOWS | LOOSE_FOLLOWS:
            return []
        if nxt.low in LOOSE_FOLLOWS and (len(words) > 1 or NOT_NAME_END.search(words[0].low)):
            return []
    return words
