"""Log lines masked like turns: a record's arguments, its message and its traceback text go through
the redactor when the record is made, so no handler (the server's, uvicorn's, a test's) ever holds
a card number that an exception message or a database error's parameters carried, nor a
credential that a debug dump of request headers carried (an API key, a session cookie, a ticket).

The arguments are masked in place, keeping the tuple's shape and the numbers' types: formatters
such as uvicorn's access formatter unpack `record.args` themselves and break on anything else.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Mapping
from typing import Any

from empathy_engine.privacy.redactor import redact_text

_installed = False
FRAME_DUMP = re.compile(r"^([<>] (?:TEXT|BINARY|CONT) ).*?( \[\d+ bytes\])$", re.DOTALL)
CREDENTIAL = "[CREDENTIAL]"
WITHHELD = "[WITHHELD]"  # an argument that was part of PII spread over several arguments
DIGIT = re.compile(r"\d")
#: Headers whose value is a credential, as a header line ("authorization: Bearer ...") or a pair.
SECRET_HEADERS = re.compile(
    r"(?im)\b((?:proxy-)?authorization|cookie|set-cookie|x-twilio-signature|x-api-key|signature-input|signature)"
    r"(\s*[:=]\s*|'\s*,\s*'|\"\s*,\s*\")[^\r\n'\"]*"
)
SECRET_HEADER_NAME = re.compile(
    r"(?i)^(?:(?:proxy-)?authorization|cookie|set-cookie|x-twilio-signature|x-api-key|signature-input|signature)$"
)
#: Credentials wherever they appear: an API key's shape, a bearer token, a ticket or session value.
SECRET_VALUES = (
    (re.compile(r"\bee_[A-Za-z0-9]+_[A-Za-z0-9_\-]+"), CREDENTIAL),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+"), r"\1 " + CREDENTIAL),
    (re.compile(r"(?i)([?&;]ticket=)[^&\s\"']*"), r"\1" + CREDENTIAL),
    (re.compile(r"(?i)\b(empathy_session=)[^;\s\"']*"), r"\1" + CREDENTIAL),
)
#: The %-conversions of a format string: masking the template must leave these exactly as they were.
CONVERSIONS = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[a-zA-Z%]")


def mask_credentials(text: str) -> str:
    """`text` with credential header values, API keys, bearer tokens, tickets and sessions masked."""
    text = SECRET_HEADERS.sub(lambda m: m.group(1) + m.group(2) + CREDENTIAL, text)
    for pattern, replacement in SECRET_VALUES:
        text = pattern.sub(replacement, text)
    return text


def mask_line(text: str) -> str:
    """One piece of log text with its PII and its credentials masked."""
    return redact_text(mask_credentials(text))


def _masked_arg(value: Any, secret: bool) -> Any:
    """One argument masked, its type kept where masking changes nothing (a number stays a number)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else str(value)
    masked = CREDENTIAL if secret else mask_line(text)
    return value if masked == text else masked


def _masked_args(args: Any) -> Any:
    if isinstance(args, Mapping):
        return {key: _masked_arg(value, False) for key, value in args.items()}
    if isinstance(args, tuple):
        out = []
        for i, value in enumerate(args):
            # "< %s: %s" with ("cookie", "empathy_session=..."): the value of a credential header.
            named = i > 0 and isinstance(args[i - 1], str) and bool(SECRET_HEADER_NAME.match(args[i - 1]))
            out.append(_masked_arg(value, named))
        return tuple(out)
    return args


def _mask_message(record: logging.LogRecord) -> None:
    """Mask the record's template and arguments in place; drop to a masked plain message only when
    PII spans the template and its arguments (so that no formatter is handed a raw value)."""
    if isinstance(record.msg, str):
        template = mask_line(record.msg)
        if CONVERSIONS.findall(template) == CONVERSIONS.findall(record.msg):
            record.msg = template
    if record.args:
        record.args = _masked_args(record.args)
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep what logging would have shown, masked
        record.msg, record.args = mask_line(str(record.msg)), ()
        return
    if FRAME_DUMP.match(message):
        # websockets' debug lines quote frames cut in the middle ("...11/29"): without the
        # words around it no redactor can tell what a number is, so the payload goes.
        record.msg, record.args = FRAME_DUMP.sub(r"\1[frame payload not logged]\2", message), ()
    elif (masked := mask_line(message)) != message:
        if isinstance(record.args, tuple) and _withheld(record, masked):
            return
        record.msg, record.args = masked, ()


def _withheld(record: logging.LogRecord, masked: str) -> bool:
    """PII spread over several arguments ("card %s %s"): each string argument with a digit or a
    credential in it is withheld, keeping the tuple's shape. False: that was not enough."""
    assert isinstance(record.args, tuple)
    args = record.args
    record.args = tuple(
        WITHHELD if isinstance(a, str) and (DIGIT.search(a) or mask_credentials(a) != a) else a for a in args
    )
    message = record.getMessage()
    if mask_line(message) == message:
        return True
    record.args = args
    return False


def install() -> None:
    """Mask every log record from now on (idempotent: a second call changes nothing)."""
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def masked(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        _mask_message(record)
        if record.exc_info and record.exc_info[0] is not None:
            text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_text = mask_line(text.rstrip("\n"))
            record.exc_info = None  # formatted (masked) above; never formatted again from the raw exception
        return record

    logging.setLogRecordFactory(masked)
    _installed = True
