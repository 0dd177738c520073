"""The server's log lines: one JSON object a line (or text), each with the call and tenant it is about.

The call and tenant come from context variables that the stream, telephony and request code
bind as soon as they know them (`bind`): asyncio gives every connection's task its own copy,
so a line logged anywhere below a stream's handler names that stream's call without being
told. Masking is not done here: privacy/logs.py masks each record when it is made, so both
formatters only ever see masked text (the message, the arguments, the traceback).

What is logged at INFO never quotes a transcript (docs/operations.md, "Logs"): the service logs
events (a call restored, a delivery failed), not what was said.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

CALL_ID: ContextVar[str | None] = ContextVar("empathy_call_id", default=None)
TENANT_ID: ContextVar[str | None] = ContextVar("empathy_tenant_id", default=None)

#: Record attributes every record has: anything else a caller passed with `extra=` is kept as a field.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message", "where"}


def bind(*, tenant_id: str | None = None, call_id: str | None = None) -> None:
    """Name the tenant and/or call of every line logged from here on in this task (and tasks it starts)."""
    if tenant_id is not None:
        TENANT_ID.set(tenant_id)
    if call_id is not None:
        CALL_ID.set(call_id)


def _context(record: logging.LogRecord) -> dict[str, str]:
    """The call and tenant of a record: given with `extra=` or bound in the context."""
    out = {}
    for name, var in (("call_id", CALL_ID), ("tenant_id", TENANT_ID)):
        value = getattr(record, name, None) or var.get()
        if value:
            out[name] = str(value)
    return out


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, call_id and tenant_id
    when known, `exception` (the masked traceback) when there is one, and any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        out: dict[str, Any] = {
            "time": when.replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_context(record),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in out and not key.startswith("_"):
                out[key] = value
        if record.exc_info and record.exc_info[0] is not None:  # only without privacy/logs.py's masking
            record.exc_text = record.exc_text or self.formatException(record.exc_info)
        if record.exc_text:
            out["exception"] = record.exc_text
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """A readable line for a terminal: time, level, logger, [tenant/call], message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s%(where)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        context = _context(record)
        shown = "/".join(context[k] for k in ("tenant_id", "call_id") if k in context)
        record.where = f" [{shown}]" if shown else ""
        return super().format(record)


def chosen_format(setting: str) -> str:
    """`auto`: text for a person at a terminal, json for anything else (a service manager, a container)."""
    if setting != "auto":
        return setting
    return "text" if sys.stderr.isatty() else "json"


def uvicorn_log_config(setting: str, level: str) -> dict[str, Any]:
    """A logging configuration for uvicorn.Config(log_config=...): uvicorn's own loggers and the
    engine's (the root logger) all write through one formatter to stderr."""
    formatter = f"{__name__}.{'JsonFormatter' if chosen_format(setting) == 'json' else 'TextFormatter'}"
    handler = {"class": "logging.StreamHandler", "formatter": "chosen", "stream": "ext://sys.stderr"}
    quiet = {"handlers": [], "propagate": True}  # uvicorn's loggers write through the root's handler
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"chosen": {"()": formatter}},
        "handlers": {"stderr": handler},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {"uvicorn": quiet, "uvicorn.error": quiet, "uvicorn.access": quiet},
    }
