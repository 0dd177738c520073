"""Runs of digits in what people write and say: "4111-1111", "four one one one", "double five",
"oh eight twenty seven", "nineteen eighty five", recogniser text with no punctuation.

A run is the text span it covers and the digits it spells, so the redactor can mask the span by
what the digits are (a card number, a PIN) without caring how they were said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

UNITS = {
    "zero": 0, "oh": 0, "o": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9,
}  # fmt: skip
TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
TENS = {"twenty": 2, "thirty": 3, "forty": 4, "fourty": 4, "fifty": 5, "sixty": 6, "seventy": 7, "eighty": 8,
        "ninety": 9}  # fmt: skip
ORDINALS = {
    "first": 1, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
    "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}  # fmt: skip
MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
         "november", "december")
    )
}  # fmt: skip
MONTHS.update({"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
               "oct": 10, "nov": 11, "dec": 12})  # fmt: skip
REPEAT = {"double": 2, "triple": 3}
#: Inside a run these join its pieces ("4111-1111", "four one dash two", "the 3rd of May").
JOINERS = {"-", "dash", "/", ",", ".", "and", "of", "the", "slash", "hyphen", "space", "star", "pound", "hash", "#",
           "*", "uh", "um", "er", "erm"}  # fmt: skip

TOKEN = re.compile(r"[A-Za-z0-9]+(?:'[a-z]+)?|[.,/-]+|[^\sA-Za-z0-9]")
PUNCT_JOIN = frozenset(".,/-")
ORDINAL_DIGITS = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)$", re.IGNORECASE)


class Token(NamedTuple):  # a tuple: made for every word of every turn, so it must be cheap
    text: str
    low: str
    start: int
    end: int


@dataclass(slots=True)
class Run:
    """Digits said or written together, and the text span they cover."""

    start: int
    end: int
    digits: str
    tokens: list[Token]
    spoken: bool = False  # some digit was a word ("four", "oh", "double")
    month: bool = False  # a month name is part of it (a date)
    ordinal: bool = False  # it ends in an ordinal ("5th", "fifth"): a street or a day, not a house number
    separators: str = ""  # the written separators inside it ("-", "/", ...), in order

    @property
    def shape(self) -> str:
        """The written run with each digit as "d": "ddd-dd-dddd" for a written SSN."""
        return "".join("d" * len(t.text) if t.text.isdigit() else t.text for t in self.tokens if t.low not in WORDS)


WORDS = set(UNITS) | set(TEENS) | set(TENS) | set(ORDINALS) | set(REPEAT) | {"hundred"}


def tokens_of(text: str, low: str | None = None) -> list[Token]:
    """The words, numbers and marks of `text` (`low`: text.lower(), when the caller has it)."""
    low = text.lower() if low is None else low
    if len(low) != len(text):  # a few non-ASCII letters change length when lowered: lower each token
        return [Token(m.group(), m.group().lower(), m.start(), m.end()) for m in TOKEN.finditer(text)]
    # One span() per match and tuple.__new__ instead of Token(...): this runs for every word of
    # every turn, and the shortcut took the tokeniser from 42 to 27 µs a turn.
    out: list[Token] = []
    for m in TOKEN.finditer(text):
        start, end = m.span()
        out.append(_new_token(Token, (m.group(), low[start:end], start, end)))
    return out


_new_token = tuple.__new__


def index_at(tokens: list[Token], at: int) -> int:
    """The index of the first token that starts at or after character `at` (a binary search)."""
    lo, hi = 0, len(tokens)
    while lo < hi:
        mid = (lo + hi) // 2
        if tokens[mid].start < at:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _value(tok: Token, following: Token | None) -> tuple[str, bool] | None:
    """The digits one token spells on its own (None: not a number), and whether it was a word."""
    low = tok.low
    if low.isdigit():
        return low, False
    if m := ORDINAL_DIGITS.match(low):
        return m.group(1), False
    if low in ("oh", "o"):
        # "oh" is a digit only next to other digits; on its own it is "oh, right".
        return ("0", True) if following is None or _is_number(following) else None
    if low in UNITS:
        return str(UNITS[low]), True
    if low in TEENS:
        return str(TEENS[low]), True
    if low in ORDINALS:
        return str(ORDINALS[low]), True
    return None


def _past_joiners(tokens: list[Token], j: int) -> Token | None:
    """The first token after position j that is not a joiner ("four one... uh... double two")."""
    for tok in tokens[j + 1 : j + 5]:
        if not _joins(tok):
            return tok
    return None


def _joins(tok: Token) -> bool:
    return tok.low in JOINERS or set(tok.low) <= PUNCT_JOIN


def is_number(tok: Token) -> bool:
    return _is_number(tok)


def _is_number(tok: Token) -> bool:
    low = tok.low
    return low.isdigit() or low in WORDS or (low[0].isdigit() and bool(ORDINAL_DIGITS.match(low)))


def number_runs(tokens: list[Token]) -> list[Run]:
    """Every run of number tokens, joiners allowed between them, month names allowed next to them."""
    runs: list[Run] = []
    i, n = 0, len(tokens)
    while i < n:
        low = tokens[i].low
        if not (low[0].isdigit() or low in WORDS or low in MONTHS or low in ("oh", "o")):
            i += 1  # most words start nothing: skip them without building a run
            continue
        run, i = _run_from(tokens, i)
        if run is not None:
            runs.append(run)
    return runs


def _starts(tokens: list[Token], i: int) -> bool:
    """Whether a run starts at token i: a number, a month before a day ("March of 1949"), an "oh"
    that is a zero (next to digits, or closing the turn) rather than "oh, right"."""
    n = len(tokens)
    first = tokens[i]
    nxt0 = tokens[i + 1] if i + 1 < n else None
    dated = nxt0 is not None and (_is_number(nxt0) or nxt0.low == "second")
    if nxt0 is not None and nxt0.low == "of" and i + 2 < n and _is_number(tokens[i + 2]):
        dated = True
    if not (_is_number(first) or (first.low in MONTHS and dated)):
        return False
    return first.low not in ("oh", "o") or (nxt0 is None and i > 0) or (nxt0 is not None and _is_number(nxt0))


def _run_from(tokens: list[Token], i: int) -> tuple[Run | None, int]:
    """The run starting at token i (None when none starts there) and the index after it."""
    if not _starts(tokens, i):
        return None, i + 1
    n = len(tokens)
    first = tokens[i]
    run = Run(first.start, first.end, "", [])
    j = i
    while j < n:
        tok = tokens[j]
        nxt = tokens[j + 1] if j + 1 < n else None
        if tok.low in MONTHS and (run.digits or j == i):  # a month starts a run only where it was checked above
            run.digits += f"{MONTHS[tok.low]:02d}"
            run.month = True
        elif tok.low in REPEAT and nxt is not None and (v := _value(nxt, None)) is not None and len(v[0]) == 1:
            run.digits += v[0] * REPEAT[tok.low]
            run.spoken = True
            run.tokens.append(tok)
            tok = nxt
            j += 1
        elif tok.low in ("oh", "o") and run.digits:
            run.digits += "0"  # "... five six oh": a zero at the end of a number too
            run.spoken = True
        elif tok.low == "second" and (run.month or (nxt is not None and nxt.low == "of")):
            run.digits += "2"  # "July second", not "one second"
        elif tok.low in TENS:
            unit = _unit(nxt, run)
            run.digits += str(TENS[tok.low]) + (unit[0] if unit else "0")
            run.spoken = True
            if unit:
                run.tokens.append(tok)
                tok = nxt  # type: ignore[assignment]
                j += 1
        elif tok.low == "hundred" and run.digits:
            run.digits += (
                "" if nxt is not None and nxt.low in TENS else ("0" if nxt is not None and nxt.low in UNITS else "00")
            )
            run.spoken = True
        elif (v := _value(tok, nxt)) is not None:
            run.digits += v[0]
            run.spoken = run.spoken or v[1]
        elif (
            _joins(tok)
            and run.digits
            and (after := _past_joiners(tokens, j)) is not None
            and (_is_number(after) or after.low in MONTHS)
        ):
            if not tok.low.isalpha():
                run.separators += tok.text
        else:
            break
        run.tokens.append(tok)
        run.end = tok.end
        j += 1
    last = run.tokens[-1].low if run.tokens else ""
    run.ordinal = last in ORDINALS or bool(ORDINAL_DIGITS.match(last))
    if not run.digits:
        return None, max(j, i + 1)
    return run, max(j, i + 1)


def _unit(tok: Token | None, run: Run) -> tuple[str, bool] | None:
    """The unit after a tens word ("twenty seven", "twenty first", "May twenty second")."""
    if tok is None or tok.low in ("oh", "o"):
        return None
    if tok.low in UNITS:
        return str(UNITS[tok.low]), True
    if tok.low in ORDINALS and ORDINALS[tok.low] < 10:
        return str(ORDINALS[tok.low]), True
    if tok.low == "second" and run.month:
        return "2", True
    return None


def luhn(digits: str) -> bool:
    """The card-number checksum (ISO/IEC 7812): written card numbers pass it, most other numbers do not."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0
