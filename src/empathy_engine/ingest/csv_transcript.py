"""CSV transcripts: one row per turn, many calls per file (docs/conversation-format.md, "CSV").

The header names the columns; `ReadOptions.columns` renames them (`--csv-columns speaker=Role`).
Rows of one call need not be next to each other; calls come out in the order they first appear.
A bad row fails its own call (file:line, column, fix) and every other call is still read.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from empathy_engine.ingest.conversation import InputError, Loaded
from empathy_engine.ingest.transcripts import (
    FormatError,
    ReadOptions,
    Segment,
    call_id_from,
    conversation_of,
    decode,
    loaded,
    speaker_of,
    text_of,
)

#: Column role -> the header it has unless `--csv-columns` renames it. speaker and text are required;
#: without call_id the whole file is one call (named after the file); the rest are optional.
COLUMNS: dict[str, str] = {
    "call_id": "call_id",
    "speaker": "speaker",
    "text": "text",
    "time": "time",
    "end": "end",
    "started_at": "started_at",
    "customer_name": "customer_name",
    "customer_id": "customer_id",
    "agent_id": "agent_id",
    "service": "service",
    "channel": "channel",
}
REQUIRED = ("speaker", "text")
CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:[.,]\d+)?)$")
TIME_FIX = "use seconds from the call start (12.5), mm:ss(.fff), hh:mm:ss(.fff) or an ISO 8601 date-time"


def columns_of(header: list[str], options: ReadOptions, name: str) -> dict[str, int]:
    """Column role -> index in the row, checked against the header (line 1)."""
    unknown = sorted(set(options.columns) - set(COLUMNS))
    if unknown:
        raise FormatError(name, f"--csv-columns names {unknown[0]!r}; the columns are {', '.join(COLUMNS)}")
    names = {**COLUMNS, **options.columns}
    index = {h.strip().lower(): i for i, h in enumerate(header)}
    found = {role: index[h.strip().lower()] for role, h in names.items() if h.strip().lower() in index}
    for role in REQUIRED:
        if role not in found:
            have = ", ".join(h.strip() for h in header) or "nothing"
            raise FormatError(
                f"{name}:1",
                f"no {names[role]!r} column (the {role}); the header has: {have}. Name yours with "
                f"--csv-columns {role}=YOUR_HEADER (docs/conversation-format.md, CSV)",
            )
    return found


def clock_of(value: str) -> float | datetime | None:
    """A time cell: seconds, mm:ss, hh:mm:ss (fractions allowed) or an ISO 8601 date-time; '' is None."""
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(value)
        return seconds
    if m := CLOCK.match(value):
        hours, minutes, secs = int(m.group(1) or 0), int(m.group(2)), float(m.group(3).replace(",", "."))
        return hours * 3600 + minutes * 60 + secs
    return datetime.fromisoformat(value)  # ValueError when it is not one either


@dataclass(slots=True)
class _Call:
    """The rows of one call read so far (or the first reason it cannot be read)."""

    line: int
    header: dict[str, Any] = field(default_factory=dict)
    segments: list[Segment] = field(default_factory=list)
    times: list[float | datetime | None] = field(default_factory=list)
    ends: list[float | datetime | None] = field(default_factory=list)
    error: FormatError | None = None


def _cell(row: list[str], cols: dict[str, int], role: str) -> str:
    i = cols.get(role)
    return row[i].strip() if i is not None and i < len(row) else ""


def _time(row: list[str], cols: dict[str, int], role: str, where: str) -> float | datetime | None:
    try:
        return clock_of(_cell(row, cols, role))
    except ValueError:
        raise FormatError(where, f"column {role}: {_cell(row, cols, role)[:40]!r} is not a time; {TIME_FIX}") from None


def _add_row(call: _Call, row: list[str], cols: dict[str, int], options: ReadOptions, where: str) -> None:
    fix = "use customer or agent, or map the name with --speaker NAME=customer (or =agent)"
    speaker = speaker_of(_cell(row, cols, "speaker"), options.speaker_names(), f"{where}: column speaker", fix)
    text = text_of(_cell(row, cols, "text"), f"{where}: column text")
    call.times.append(_time(row, cols, "time", where))
    call.ends.append(_time(row, cols, "end", where))
    if speaker is not None:
        call.segments.append(Segment(speaker, text))
    else:
        call.times.pop()
        call.ends.pop()
    for role in ("started_at", "customer_name", "customer_id", "agent_id", "service", "channel"):
        if (value := _cell(row, cols, role)) and role not in call.header:
            call.header[role] = value


def _seconds(values: list[float | datetime | None], origin: datetime | None, where: str) -> list[float | None]:
    """Times as seconds from the call start: date-times count from the call's first one."""
    out: list[float | None] = []
    for v in values:
        if isinstance(v, datetime):
            if origin is None or (v.tzinfo is None) != (origin.tzinfo is None):
                raise FormatError(where, f"times mix date-times and seconds; {TIME_FIX}")
            out.append(round(max(0.0, (v - origin).total_seconds()), 3))
        elif v is not None and origin is not None:
            raise FormatError(where, f"times mix date-times and seconds; {TIME_FIX}")
        else:
            out.append(v)
    return out


def _finish(call_id: str, call: _Call, name: str) -> dict[str, Any]:
    where = f"{name}:{call.line}"
    dated = [v for v in call.times if isinstance(v, datetime)]
    if len({v.tzinfo is None for v in dated}) > 1:
        raise FormatError(where, f"some times have a UTC offset and some do not; {TIME_FIX}")
    origin = min(dated) if dated else None
    times, ends = _seconds(call.times, origin, where), _seconds(call.ends, origin, where)
    segments = [Segment(s.speaker, s.text, t, e) for s, t, e in zip(call.segments, times, ends, strict=True)]
    h = call.header
    header: dict[str, Any] = {
        "started_at": h.get("started_at") or (origin.isoformat() if origin and origin.tzinfo else None),
        "service": h.get("service"),
        "channel": h.get("channel"),
        "customer": {k: v for k, v in (("name", h.get("customer_name")), ("id", h.get("customer_id"))) if v},
        "agent": {"id": h["agent_id"]} if h.get("agent_id") else None,
    }
    return conversation_of(call_id, segments, header)


def _rows(text: str, name: str) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) for every row after the header, in order; a broken row is a FormatError."""
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)  # the header says which one the file uses
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as e:
        raise FormatError(
            f"{name}:{reader.line_num}", f"not valid CSV: {e}; quote fields that hold the delimiter or a newline"
        ) from None


def read_csv(data: bytes, name: str, base: Path | None, options: ReadOptions) -> Iterator[Loaded | InputError]:
    """Every call in one CSV file's bytes, each as the JSON reader would give it."""
    calls: dict[str, _Call] = {}
    try:
        rows = _rows(decode(data, name), name)
        header = next(rows, None)
        if header is None:
            raise FormatError(name, "the file is empty; a CSV transcript starts with a header line")
        cols = columns_of(header[1], options, name)
    except FormatError as e:
        yield InputError(e.where, e.message)
        return
    broken = None
    try:
        for line, row in rows:
            if any(cell.strip() for cell in row):
                _take(calls, line, row, cols, options, name)
    except FormatError as e:  # the CSV itself breaks here: what came before is still read
        broken = InputError(e.where, e.message)
    if not calls and broken is None:
        broken = InputError(name, "no rows after the header; a CSV transcript has one row per turn")
    yield from _results(calls, name, base)
    if broken:
        yield broken


def _take(
    calls: dict[str, _Call], line: int, row: list[str], cols: dict[str, int], options: ReadOptions, name: str
) -> None:
    call_id = _cell(row, cols, "call_id") if "call_id" in cols else call_id_from(name)
    call = calls.setdefault(call_id or f"(line {line})", _Call(line))
    if call.error is None:
        try:
            _add_row(call, row, cols, options, f"{name}:{line}")
        except FormatError as e:
            call.error = e


def _results(calls: dict[str, _Call], name: str, base: Path | None) -> Iterator[Loaded | InputError]:
    for call_id, call in calls.items():
        if call.error is not None:
            yield InputError(call.error.where, call.error.message, call_id)
            continue
        if call_id.startswith("(line "):
            yield InputError(f"{name}:{call.line}", "column call_id is empty; give every row its call's id")
            continue
        try:
            obj = _finish(call_id, call, name)
        except FormatError as e:
            yield InputError(e.where, e.message, call_id)
            continue
        yield loaded(obj, f"{name}:{call.line}", base)
