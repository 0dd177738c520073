"""One turn's PII, found and masked: the recognizers, in the manner of Presidio's pattern recognizers
(a pattern, the context words that say what it is, a validator such as Luhn), written for what is
said on a home-services call and for speech-recogniser text (no punctuation, words for numbers).

Presidio itself is not used: presidio-analyzer imports spaCy even for its pattern recognizers, its
e-mail recognizer fetches the public suffix list over the network on first use, and its pattern
recognizers took ~4 ms per utterance where this budget is 1 ms (docs/security.md, "Redaction").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from empathy_engine.privacy import names
from empathy_engine.privacy.entities import CONTEXT_RE, MASK, Entity, mask_of
from empathy_engine.privacy.numbers import Run, Token, index_at, is_number, luhn, number_runs, tokens_of


@dataclass(frozen=True, slots=True)
class Found:
    entity: Entity
    start: int
    end: int


#: A number followed by one of these is a quantity, not an identifier ("72 degrees", "$4,250", "3 ton").
UNIT_AFTER = frozenset(
    "dollars dollar bucks cents percent % degrees degree ° f amp amps volt volts v ton tons gallon gallons gal "
    "feet foot ft inch inches psi btu btus k seer minutes minute mins min hours hour hrs days day weeks week months "
    "month years year yrs o'clock am pm a.m p.m times people kids dogs cats units stories story square sq pounds "
    "lbs watt watts kw kwh mph miles mile ohms hz cfm gpm mm cm seconds sec x bedroom bedrooms bathrooms bath baths "
    "windows rooms zones floors calls visits percent grand thousand bucks second moment".split()
)
#: A number right after one of these labels is not the customer's ("SEER 16", "model 4400", "error code 33").
LABEL_BEFORE = frozenset(
    "seer model serial ticket invoice order confirmation reference ref case job quote estimate size r version "
    "room floor level step option press page item line part filter tank breaker circuit zone extension ext "
    "error fault flash flashes blink blinks diagnostic $ £ € permit license policy claim po lot tracking "
    "rma sku warranty aisle channel building route highway interstate exit suite zip postal".split()
)
PRICE = frozenset("$£€")
BUSINESS = re.compile(
    r"\b(?:(?:our|your) (?:office|shop|showroom|warehouse|store|branch|location|address|headquarters|depot)"
    r"|we're located|we are located|headquarters|head office|supply house"
    r"|hardware store|home depot|lowe's)\b",
    re.IGNORECASE,
)
STREET = re.compile(
    r"\s+((?:[A-Za-z][A-Za-z'.-]*\s+){1,3})(?:street|st|avenue|ave|road|rd|drive|dr|lane|ln|court|ct|boulevard"
    r"|blvd|way|place|pl|circle|cir|terrace|ter|parkway|pkwy|highway|hwy|trail|trl|loop|crescent|pike|alley|view"
    r"|glen|grove|heights|crossing|landing|hollow|bend)\b\.?"
    r"(?:,?\s+(?:apartment|apt|unit|suite|ste|number|no|#)\.?\s*#?\s*[A-Za-z0-9-]+)?",
    re.IGNORECASE,
)
STREET_STOP = frozenset(
    "the a an in on at down up of to from my your his her our their this that and or by is was houses blocks miles "
    "doors minutes hours off into out over it i you we they there here for with".split()
)
EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
SPOKEN_DOMAIN = re.compile(
    r"\bat\s+(?:(?!at\b)[a-z0-9-]+(?:\s+|\s*\.\s*|\s+dot\s+)){0,2}?(?!at\b)[a-z0-9-]+(?:\s+dot\s+|\s*\.\s*)"
    r"(?:com|net|org|edu|gov|us|io|co|biz|info|me|uk)\b",
    re.IGNORECASE,
)
EMAIL_STOP = frozenset("is it's its email e-mail address me my the at to send yeah yes sure um uh it that's".split())
EMAIL_JOIN = frozenset("dot underscore dash period . _ -".split())
#: "(312) 555-0142", "312.555.0142", and "(312)5550142": the area code in brackets needs no separator after it.
PHONE = re.compile(r"(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s*\d{3}[\s.-]?\d{4}|\(?\b\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4})\b")
PASSWORD = re.compile(
    r"\b(?:password|pass ?code)\b[^.?!]{0,40}?\b(?:it's|its|it is|says)\s+"
    r"|\b(?:password|pass ?code|network key)\s*(?:is|it's|its|:|=|would be)\s*"
    r"|\bwi-?fi(?: password)?\s+(?:is|it's|:)\s*",
    re.IGNORECASE,
)
PASSWORD_WORDS = ("pass", "wifi", "wi-fi", "wi fi", "network key")
DIGIT = re.compile(r"\d")
WEAK_EXPIRY = re.compile(r"\b(?:warranty|contract|membership|plan|permit|license|coupon|offer|promo|filter)\b", re.I)
WINDOW = 45  # characters before a number in which a context word counts
AFTER = re.compile(r"^\s*(?:is|that's|thats|it's|is for|for)\s+(?:my|the|our|your)?\s*$", re.IGNORECASE)
SENTENCE_END = re.compile(r"[.!?;]\s")

#: How many digits each entity has when context alone names it (fewer is a count or a time).
DIGITS: dict[Entity, tuple[int, int]] = {
    Entity.CARD_NUMBER: (3, 19), Entity.CVV: (3, 4), Entity.EXPIRY: (3, 6), Entity.PIN: (4, 8),
    Entity.SSN: (4, 9), Entity.ROUTING_NUMBER: (4, 9), Entity.BANK_ACCOUNT: (4, 17), Entity.DATE_OF_BIRTH: (2, 8),
    Entity.ACCESS_CODE: (3, 10), Entity.PHONE: (7, 11),
}  # fmt: skip


def redact_text(text: str) -> str:
    """`text` with its PII masked, read on its own (a CRM note, a log line)."""
    return redact_turn(text)[0]


def redact_turn(text: str, expecting: Entity | None = None) -> tuple[str, list[Found]]:
    """`text` masked, and what was found. `expecting`: what the agent just asked for (dialogue.py)."""
    found = find(text, expecting)
    if not found:
        return text, found
    parts: list[str] = []
    at = 0
    for f in found:
        parts.append(text[at : f.start])
        parts.append(mask_of(f.entity))
        at = f.end
    parts.append(text[at:])
    return "".join(parts), found


def find(text: str, expecting: Entity | None = None) -> list[Found]:
    """Every PII span in `text`, merged, in order."""
    low = text.lower()
    tokens = tokens_of(text, low)
    spans: list[Found] = []
    # Cheap substring checks first: most turns hold no "@", no digit, no password.
    if "@" in text:
        spans.extend(Found(Entity.EMAIL, m.start(), m.end()) for m in EMAIL.finditer(text))
    if " at " in low:
        spans.extend(_spoken_emails(text, tokens))
    if DIGIT.search(text):
        for m in PHONE.finditer(text):
            if not _labelled(text, m.start()) and re.sub(r"\D", "", m.group()).removeprefix("1")[:3] not in TOLL_FREE:
                spans.append(Found(Entity.PHONE, m.start(), m.end()))
    spans.extend(names.find(text, tokens, expecting == Entity.NAME))
    if expecting == Entity.ACCESS_CODE or any(w in low for w in PASSWORD_WORDS):
        spans.extend(_passwords(text, tokens, expecting == Entity.ACCESS_CODE))
    if expecting in DIGITS and len(tokens) == 1 and tokens[0].low in ("oh", "o"):
        spans.append(Found(expecting, tokens[0].start, tokens[0].end))  # the last digit of a number read out: a zero
    for run in number_runs(tokens):
        if any(s.start <= run.start < s.end for s in spans):
            continue
        if (street := _address(text, run)) is not None:
            spans.append(street)
            continue
        entity = _classify(text, run, tokens, expecting)
        if entity is not None:
            spans.append(Found(entity, run.start, run.end))
    return _merge(text, spans)


def _classify(text: str, run: Run, tokens: list[Token], expecting: Entity | None) -> Entity | None:
    """What a run of digits is, from its shape, its checksum, the words around it and what was asked."""
    if _quantity(text, run, tokens):
        return None
    n = len(run.digits)
    if run.separators == "." and not run.spoken:
        return None  # a decimal number (a price, a time stamp), never a card or an account
    named = _context(text, run)
    if n in (3, 4) and AREA_CODE.search(text, max(0, run.start - 15), run.start):
        return Entity.PHONE
    if named == Entity.CARD_NUMBER and "/" in run.separators and 3 <= n <= 6:
        named = Entity.EXPIRY
    if named == Entity.EXPIRY and WEAK_EXPIRY.search(text[max(0, run.start - WINDOW) : run.start]):
        named = None
    if YEAR.match(run.digits) and named not in (Entity.DATE_OF_BIRTH, Entity.EXPIRY) and _after_time_word(text, run):
        return None  # "with you since 2009"
    if named in (Entity.PHONE, None) and n in (10, 11):
        if run.digits.removeprefix("1")[:3] in TOLL_FREE:
            return None  # a company's 800 number, not the customer's
    if named is not None:
        low, high = DIGITS.get(named, (1, 99))
        if low <= n <= high or run.month:
            return named
    if 13 <= n <= 19 and (luhn(run.digits) or run.spoken):
        return Entity.CARD_NUMBER
    shape = run.shape
    if shape in ("ddd-dd-dddd", "ddd dd dddd") or (n == 9 and run.separators == "--"):
        return Entity.SSN
    if (n == 10 or (n == 11 and run.digits[0] == "1")) and (run.spoken or run.separators or n == 10):
        return Entity.PHONE
    if shape == "ddd-dddd":
        return Entity.PHONE
    if expecting is not None and expecting not in (Entity.NAME, Entity.EMAIL) and (n >= 2 or len(tokens) <= 4):
        return expecting  # one digit in a longer turn ("eight to five") is a time or a count, even in an answer
    return None


AREA_CODE = re.compile(r"\barea code\s*(?:is\s*)?$", re.IGNORECASE)
TOLL_FREE = frozenset({"800", "833", "844", "855", "866", "877", "888"})
YEAR = re.compile(r"^(?:19|20)\d\d$")
TIME_WORD = re.compile(r"\b(?:since|in|from|until|till|by|of|year|back in|around|circa)\s*$", re.IGNORECASE)


def _after_time_word(text: str, run: Run) -> bool:
    return bool(TIME_WORD.search(text, max(0, run.start - 12), run.start))


def _context(text: str, run: Run) -> Entity | None:
    """The nearest context word before the run (same sentence, within WINDOW), or one right after it
    ("4417 is my PIN"). Only the windows around a run are searched: most of a long turn never is."""
    best: Entity | None = None
    at = max(0, run.start - WINDOW - 30)
    before = text[at : run.start].lower()
    for m in CONTEXT_RE.finditer(before):
        if len(before) - m.end() <= WINDOW and m.lastgroup and not SENTENCE_END.search(before, m.end()):
            best = Entity(m.lastgroup)  # later matches are nearer
    if best is None:
        following = text[run.end : run.end + 40].lower()
        after = CONTEXT_RE.search(following)
        if after is not None and after.lastgroup and AFTER.match(following[: after.start()]):
            return Entity(after.lastgroup)
    return best


def _quantity(text: str, run: Run, tokens: list[Token]) -> bool:
    """A price, a measurement, a time or a labelled product number: not PII."""
    first = index_at(tokens, run.start)
    last = first + len(run.tokens) - 1
    if last + 1 < len(tokens):
        after = tokens[last + 1].low
        if after in UNIT_AFTER or after == ":" or (after == "%"):
            return True
    if first > 0 and tokens[first - 1].low in PRICE:
        return True
    return _labelled(text, run.start)


def _labelled(text: str, start: int) -> bool:
    """The word before (skipping "number", "#", "is") is a product or paperwork label."""
    before = re.findall(r"[A-Za-z]+|[$£€#:]", text[max(0, start - 30) : start])
    while before and before[-1].lower() in ("number", "no", "#", "is", ":", "num", "the", "of", "code"):
        if before[-1].lower() == "code" and len(before) > 1 and before[-2].lower() in ("error", "fault", "diagnostic"):
            return True
        before.pop()
    return bool(before) and before[-1].lower() in LABEL_BEFORE


def _address(text: str, run: Run) -> Found | None:
    """A house number and a street: "1423 Maple Street", "twelve oak drive apt 4" (not a business's)."""
    if run.ordinal and len(run.tokens) == 1:
        return None
    m = STREET.match(text, run.end)
    if m is None or any(w.lower() in STREET_STOP for w in m.group(1).split()):
        return None
    if BUSINESS.search(text, max(0, run.start - 60), run.start):
        return None
    return Found(Entity.ADDRESS, run.start, m.end())


def _spoken_emails(text: str, tokens: list[Token]) -> list[Found]:
    """ "bob dot smith at gmail dot com": the domain pattern, then the local part walked back."""
    out: list[Found] = []
    for m in SPOKEN_DOMAIN.finditer(text):
        before = tokens[max(0, index_at(tokens, m.start()) - 9) : index_at(tokens, m.start())]
        start = m.start()
        taken = 0
        for tok in reversed(before):
            if tok.low in EMAIL_STOP or taken >= 8 or not (tok.low.isalnum() or tok.low in EMAIL_JOIN):
                break
            start, taken = tok.start, taken + 1
        if taken:
            out.append(Found(Entity.EMAIL, start, m.end()))
    return out


#: A short answer to a code ask that starts with one of these is a pause ("hold on", "let me look").
STALL_START = frozenset("hold hang let wait just one give still where hmm uh um er okay ok sorry yeah".split())


def _passwords(text: str, tokens: list[Token], expecting: bool) -> list[Found]:
    """A Wi-Fi or alarm password said in words ("the wifi password is sunflower22")."""
    out: list[Found] = []
    starts = [m.end() for m in PASSWORD.finditer(text)]
    if expecting and not starts and len(tokens) <= 8 and tokens and tokens[0].low not in STALL_START:
        starts = [0]  # a short answer to "what's the code?" is the code, unless it is a pause
    for at in starts:
        first = index_at(tokens, at)
        taken = tokens[first : first + 4]
        words: list[Token] = []
        for tok in taken:
            if not tok.low[0].isalnum() or tok.low in names.STOP or is_number(tok):
                break  # numbers are left to the number runs, which read "zero one" as one code
            words.append(tok)
        if words:
            end = words[-1].end
            while end < len(text) and not text[end].isspace() and text[end] not in ",.;?":
                end += 1  # the rest of the password as written ("Riverbend!88")
            out.append(Found(Entity.ACCESS_CODE, words[0].start, end))
    return out


JOIN_GAP = re.compile(r"^[\s,./()\-]*(?:(?:and|dash|the|of|then|uh|um)[\s,./()\-]+)?$", re.IGNORECASE)


def _merge(text: str, spans: list[Found]) -> list[Found]:
    """Overlaps resolved (the longer wins), neighbours of one entity joined, existing masks left alone."""
    spans = [s for s in spans if not MASK.fullmatch(text, s.start, s.end)]
    spans.sort(key=lambda s: (s.start, -(s.end - s.start)))
    out: list[Found] = []
    for s in spans:
        if out and s.start < out[-1].end:
            prev = out[-1]
            if s.end > prev.end:
                out[-1] = Found(prev.entity, prev.start, s.end)
            continue
        if out and out[-1].entity == s.entity and JOIN_GAP.match(text[out[-1].end : s.start]):
            out[-1] = Found(s.entity, out[-1].start, s.end)
            continue
        out.append(s)
    return out
