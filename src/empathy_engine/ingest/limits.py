"""Limits every parser of outside input shares: JSON depth, number size, text characters, call ids.

Every JSON document that comes from outside (conversation files, stream events, telephony
frames, REST bodies) is read with `load_json`, so one rule holds everywhere: at most
`MAX_DEPTH` levels of nesting, numbers of at most `MAX_NUMBER_CHARS` characters, no NaN or
Infinity, and no string with a NUL character or an unpaired surrogate (neither can be stored in
PostgreSQL, and a surrogate cannot even be written out as UTF-8). A document that breaks a rule
raises `JsonLimitError` with a message that says which rule and what to send instead; callers turn
it into their own error (an `InputError`, a `ProtocolError`, a `WireError`, an HTTP 400).

Call ids go into URLs, logs, file names and the database: `CALL_ID` is the one rule for every
source (stream and REST paths, Twilio callSid, AudioHook conversationId, conversation files, the
store), checked with `is_call_id`.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Call ids go into URLs, logs and the database: keep them plain. (`$` here is for pydantic's
#: pattern engine; Python code checks with `is_call_id`, which uses fullmatch so a trailing
#: newline is not let through.)
CALL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$")
BAD_CALL_ID = "a call id is 1-200 letters, digits and . _ : @ - characters, starting with a letter or digit"

#: Deeper than any document we read needs (a conversation file is 6 levels); far below the
#: interpreter's recursion limit, so nesting is refused before it can crash anything.
MAX_DEPTH = 64
#: A number longer than this is not a time, a count or a score: it is refused, not converted
#: (Python refuses ints over 4,300 digits with a bare ValueError; floats over ~309 digits are inf).
MAX_NUMBER_CHARS = 100

_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")
#: What a NUL or a surrogate looks like in JSON text: an escape, or (bytes read with surrogatepass,
#: or a str built with one) the character itself. Text with neither cannot hold one, so its strings
#: need not be walked; these checks are C-speed scans, a walk of every string is not.
_BAD_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_BAD_ESCAPE_BYTES = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_SURROGATE_BYTES = re.compile(rb"\xed[\xa0-\xbf]")


def _may_hold_bad_chars(text: str | bytes) -> bool:
    if isinstance(text, bytes):
        if b"\x00" in text[:4] or text[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return True  # UTF-16 or UTF-32, which json.loads also reads: walk every string
        if b"\xed" in text and _SURROGATE_BYTES.search(text):
            return True
        return b"\\u" in text and _BAD_ESCAPE_BYTES.search(text) is not None
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return True  # a raw surrogate
    return "\\u" in text and _BAD_ESCAPE.search(text) is not None


class JsonLimitError(ValueError):
    """A JSON document that breaks one of the limits above; the message names the rule and the fix."""


def is_call_id(value: object) -> bool:
    """True when `value` obeys the call-id rule (`CALL_ID`); the whole string must match."""
    return isinstance(value, str) and CALL_ID.fullmatch(value) is not None


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonLimitError(f"a number of {len(text)} digits; numbers may have at most {MAX_NUMBER_CHARS}")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonLimitError(f"a number of {len(text)} characters; numbers may have at most {MAX_NUMBER_CHARS}")
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise JsonLimitError(f"the number {text[:40]} is too large for a 64-bit float; send a finite number")
    return value


def _constant(name: str) -> Any:
    raise JsonLimitError(f"{name} is not a JSON number; send a finite number or null")


def load_json(text: str | bytes) -> Any:
    """`json.loads` under the limits above. Raises `json.JSONDecodeError` for malformed JSON,
    `UnicodeDecodeError` for bytes that are not UTF-8 and `JsonLimitError` for a broken limit."""
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except RecursionError:  # deeper than the interpreter allows: certainly deeper than MAX_DEPTH
        raise JsonLimitError(f"JSON nested too deeply; at most {MAX_DEPTH} levels") from None
    strings = _may_hold_bad_chars(text)
    brackets = text.count(b"[") + text.count(b"{") if isinstance(text, bytes) else text.count("[") + text.count("{")
    if strings or brackets > MAX_DEPTH:  # otherwise it can be neither too deep nor hold a bad character
        check_value(value, strings)
    return value


def check_value(value: Any, strings: bool = True) -> None:
    """Depth and (when `strings`) characters of a parsed JSON value, iteratively: no recursion to exhaust."""
    if isinstance(value, str):
        if strings:
            check_text(value)
        return
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise JsonLimitError(f"JSON nested too deeply; at most {MAX_DEPTH} levels")
        if isinstance(item, dict):
            if strings:
                for key in item:
                    check_text(key)
            children = item.values()
        else:
            children = item
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
            elif strings and isinstance(child, str):
                check_text(child)


def check_text(text: str) -> None:
    """Refuse a NUL character or an unpaired surrogate, saying where in the string it is."""
    bad = _BAD_CHARS.search(text)
    if bad is None:
        return
    what = "a NUL character (\\u0000)" if bad.group() == "\x00" else "an unpaired UTF-16 surrogate"
    raise JsonLimitError(f"a string has {what} at position {bad.start()}; remove it (it cannot be stored)")
