"""CSV import of CRM notes and prior contacts: one fact per row, bad rows reported, good rows kept.

Columns (names case-insensitive, in any order; other columns are ignored, so a CRM export can
be sent as it is): customer_id (required), name, note, contact_at, contact_issue, contact_outcome.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from empathy_engine.ingest.live import is_call_id
from empathy_engine.store.customers import MAX_NOTE_CHARS, ContactRecord

COLUMNS = ("customer_id", "name", "note", "contact_at", "contact_issue", "contact_outcome")
#: A paced parse rests after every this many rows (about 6 ms of parsing on the 2-core machine).
PACE_ROWS = 1000
MAX_FIELD = MAX_NOTE_CHARS


class CsvError(ValueError):
    """The file as a whole cannot be imported (no header, no customer_id column, not UTF-8)."""


@dataclass(slots=True)
class CustomerFacts:
    name: str | None = None
    notes: list[str] = field(default_factory=list)
    contacts: list[ContactRecord] = field(default_factory=list)
    #: The line each note and contact was first given on, to report those the customer has no room for.
    lines: dict[str | ContactRecord, int] = field(default_factory=dict)


@dataclass(slots=True)
class ParsedCsv:
    rows: int = 0
    customers: dict[str, CustomerFacts] = field(default_factory=dict)
    errors: list[tuple[int, str]] = field(default_factory=list)


def parse_csv(data: bytes, pause: float = 0.0) -> ParsedCsv:
    """The file's rows read and checked. `pause`: after every PACE_ROWS rows the parse sleeps this
    many times as long as they took. The server's import runs it in a thread, and a thread that
    parses holds the GIL the event loop needs: a 100,000-row file's 0.6 s of unpaced parsing
    held up every live call's turn."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CsvError(f"the file is not UTF-8 (invalid byte at {e.start}); save it as UTF-8 CSV") from None
    if "\x00" in text:  # PostgreSQL cannot store it; refused on every backend alike
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise CsvError(f"line {line} has a NUL character (0x00); remove it - no text field may contain one")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _read(_paced(reader, pause) if pause > 0 else reader)
    except csv.Error as e:  # a field over csv.field_size_limit() (128 KiB), mostly an unclosed quote
        raise CsvError(
            f"line {reader.line_num}: {e}; a field may have at most {MAX_FIELD} characters "
            "(an unclosed quote makes the rest of the file one field)"
        ) from None


class _paced:
    """The reader, resting `pause` times as long as each PACE_ROWS rows took (sleeping frees the GIL)."""

    def __init__(self, reader: Any, pause: float) -> None:
        self.reader, self.pause, self.began, self.rows = reader, pause, time.perf_counter(), 0

    @property
    def line_num(self) -> int:
        return int(self.reader.line_num)

    def __iter__(self) -> _paced:
        return self

    def __next__(self) -> list[str]:
        self.rows += 1
        if self.rows % PACE_ROWS == 0:
            time.sleep((time.perf_counter() - self.began) * self.pause)
            self.began = time.perf_counter()
        row: list[str] = next(self.reader)
        return row


def _read(reader: Any) -> ParsedCsv:
    header = next(reader, None)
    if not header:
        raise CsvError(f"the file is empty; the first line must name the columns: {', '.join(COLUMNS)}")
    names = [h.strip().lower() for h in header]
    if "customer_id" not in names:
        raise CsvError(f"no customer_id column in the header line ({', '.join(header)[:200]})")
    where = {c: names.index(c) for c in COLUMNS if c in names}
    out = ParsedCsv()
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        out.rows += 1
        values = {c: row[i].strip() if i < len(row) else "" for c, i in where.items()}
        problem = _check(values)
        if problem:
            out.errors.append((line, problem))
            continue
        facts = out.customers.setdefault(values["customer_id"], CustomerFacts())
        facts.name = values.get("name") or facts.name
        if note := values.get("note"):
            facts.notes.append(note)
            facts.lines.setdefault(note, line)
        if any(values.get(c) for c in ("contact_at", "contact_issue", "contact_outcome")):
            contact = ContactRecord(
                values.get("contact_at") or None, values.get("contact_issue", ""), values.get("contact_outcome", "")
            )
            facts.contacts.append(contact)
            facts.lines.setdefault(contact, line)
    return out


def _check(values: dict[str, str]) -> str | None:
    customer_id = values.get("customer_id", "")
    if not customer_id:
        return "customer_id is empty"
    if not is_call_id(customer_id):
        return f"customer_id {customer_id[:40]!r} has characters other than letters, digits and . _ : @ -"
    for column, value in values.items():
        if len(value) > MAX_FIELD:
            return f"{column} is {len(value)} characters; at most {MAX_FIELD}"
    at = values.get("contact_at")
    if at:
        try:
            datetime.fromisoformat(at)
        except ValueError:
            return f"contact_at {at[:40]!r} is not an ISO 8601 date-time (like 2025-12-20T10:00:00-05:00)"
    return None
