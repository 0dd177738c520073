"""Log lines masked like turns: a record's message and its traceback text go through the redactor
when the record is made, so no handler (the server's, uvicorn's, a test's) ever holds a card number
that an exception message or a database error's parameters carried."""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

from empathy_engine.privacy.redactor import redact_text

_installed = False
FRAME_DUMP = re.compile(r"^([<>] (?:TEXT|BINARY|CONT) ).*?( \[\d+ bytes\])$", re.DOTALL)


def install() -> None:
    """Mask every log record from now on (idempotent: a second call changes nothing)."""
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def masked(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what logging would have shown, masked
            message = str(record.msg)
        if FRAME_DUMP.match(message):
            # websockets' debug lines quote frames cut in the middle ("...11/29"): without the
            # words around it no redactor can tell what a number is, so the payload goes.
            message = FRAME_DUMP.sub(r"\1[frame payload not logged]\2", message)
        record.msg, record.args = redact_text(message), ()
        if record.exc_info and record.exc_info[0] is not None:
            text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_text = redact_text(text.rstrip("\n"))
            record.exc_info = None  # formatted (masked) above; never formatted again from the raw exception
        return record

    logging.setLogRecordFactory(masked)
    _installed = True
