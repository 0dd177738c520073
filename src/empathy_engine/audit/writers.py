"""Streamed outputs: the JSON document and the per-call CSV grow one call at a time.

Every output is written to a temporary file next to its destination and renamed over it only
when complete (`AtomicFile`), so an audit that stops part-way leaves no truncated JSON or CSV:
the destination holds either the whole new output or whatever it held before.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from empathy_engine.audit.records import CSV_COLUMNS, CallRecord, FailedInput

#: A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
#: (`=cmd|' /C calc'!A0`, `@SUM(...)`, a tab or CR before `=`): such cells get a leading `'`.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula (OWASP's advice).
    Numbers stay numbers; only text that starts like a formula is prefixed."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class AtomicFile:
    """A text file written under a temporary name in the destination's folder; `commit` renames
    it into place (atomic on POSIX), `discard` removes it."""

    def __init__(self, path: Path, newline: str | None = None) -> None:
        self.path = path
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        self.temp = Path(temp)
        self.f: IO[str] = os.fdopen(fd, "w", encoding="utf-8", newline=newline)

    def commit(self) -> None:
        self.f.flush()
        os.fsync(self.f.fileno())
        self.f.close()
        os.replace(self.temp, self.path)

    def discard(self) -> None:
        self.f.close()
        self.temp.unlink(missing_ok=True)


def write_atomically(path: Path, text: str) -> None:
    """The whole of `text` at `path`, or (on any failure) `path` as it was."""
    out = AtomicFile(path)
    try:
        out.f.write(text)
    except BaseException:
        out.discard()
        raise
    out.commit()


class JsonWriter:
    """`{"audit": ..., "calls": [...], "failed_inputs": [...], "summary": {...}}`, written as it goes."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.out = AtomicFile(path)
        self.f = self.out.f
        self.f.write('{"audit": ' + json.dumps(header, ensure_ascii=False) + ',\n"calls": [')
        self.first = True

    def lines(self, lines: Iterable[str]) -> None:
        """Calls already serialised (one JSON object each, as `CallRecord.to_dict` gives)."""
        for line in lines:
            self.f.write(("\n" if self.first else ",\n") + line)
            self.first = False

    def records(self, records: Iterable[CallRecord]) -> None:
        self.lines(json.dumps(r.to_dict(), ensure_ascii=False) for r in records)

    def close(self, failures: Iterable[FailedInput], summary: dict[str, Any]) -> None:
        self.f.write('\n],\n"failed_inputs": [')
        for i, failure in enumerate(failures):
            self.f.write(("\n" if i == 0 else ",\n") + json.dumps(failure.to_dict(), ensure_ascii=False))
        self.f.write('\n],\n"summary": ' + json.dumps(summary, ensure_ascii=False, indent=1) + "}\n")
        self.out.commit()

    def abort(self) -> None:
        self.out.discard()


class CsvWriter:
    """One row per audited call (columns: records.CSV_COLUMNS, documented in docs/audit.md)."""

    def __init__(self, path: Path) -> None:
        self.out = AtomicFile(path, newline="")
        self.w = csv.DictWriter(self.out.f, CSV_COLUMNS)
        self.w.writeheader()

    def rows(self, rows: Iterable[dict[str, Any]]) -> None:
        self.w.writerows({k: neutralise(v) for k, v in row.items()} for row in rows)

    def records(self, records: Iterable[CallRecord]) -> None:
        self.rows(r.csv_row() for r in records)

    def close(self) -> None:
        self.out.commit()

    def abort(self) -> None:
        self.out.discard()
