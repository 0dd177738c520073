"""Streamed outputs: the JSON document and the per-call CSV grow one call at a time."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from empathy_engine.audit.records import CSV_COLUMNS, CallRecord, FailedInput


class JsonWriter:
    """`{"audit": ..., "calls": [...], "failed_inputs": [...], "summary": {...}}`, written as it goes."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.f: IO[str] = path.open("w", encoding="utf-8")
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
        self.f.close()


class CsvWriter:
    """One row per audited call (columns: records.CSV_COLUMNS, documented in docs/audit.md)."""

    def __init__(self, path: Path) -> None:
        self.f: IO[str] = path.open("w", encoding="utf-8", newline="")
        self.w = csv.DictWriter(self.f, CSV_COLUMNS)
        self.w.writeheader()

    def rows(self, rows: Iterable[dict[str, Any]]) -> None:
        self.w.writerows(rows)

    def records(self, records: Iterable[CallRecord]) -> None:
        self.rows(r.csv_row() for r in records)

    def close(self) -> None:
        self.f.close()
