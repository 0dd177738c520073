"""Recorded outcomes and reviews: two simple CSV formats (docs/audit.md), read row by row.

outcomes.csv  call_id, csat, resolved, referral, review_text   (one row per surveyed call)
reviews.csv   customer_id, date, rating, text                  (one row per public review)

A bad row is reported (file, line, reason) and skipped; a file that cannot be read at all is
reported once. Nothing is held in memory: rows go straight to the audit's join store.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from empathy_engine.audit.language import Category, classify
from empathy_engine.audit.records import FailedInput

OUTCOME_COLUMNS = ("call_id", "csat", "resolved", "referral", "review_text")
REVIEW_COLUMNS = ("customer_id", "date", "rating", "text")
_REQUIRED = {"outcomes": ("call_id",), "reviews": ("customer_id", "date")}
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


@dataclass(frozen=True, slots=True)
class Outcome:
    call_id: str
    csat: int | None
    resolved: bool | None
    referral: bool | None
    text: str
    category: Category | None  # None when there is no review text


@dataclass(frozen=True, slots=True)
class Review:
    customer_id: str
    day: str  # YYYY-MM-DD
    rating: int | None
    text: str
    category: Category


def _flag(value: str, column: str) -> bool | None:
    v = value.strip().lower()
    if not v:
        return None
    if v in _YES:
        return True
    if v in _NO:
        return False
    raise ValueError(f"column {column}: expected yes or no (or true/false, 1/0, or blank), got {value!r}")


def _rating(value: str, column: str) -> int | None:
    v = value.strip()
    if not v:
        return None
    try:
        n = int(float(v))
    except (ValueError, OverflowError):  # "nine", "nan", "1e400" (inf), a 5,000-digit number
        raise ValueError(f"column {column}: expected a whole number 1-5, got {value[:40]!r}") from None
    if not 1 <= n <= 5 or float(v) != n:
        raise ValueError(f"column {column}: expected a whole number 1-5, got {value[:40]!r}")
    return n


def _day(value: str) -> str:
    v = value.strip()
    try:
        return (datetime.fromisoformat(v).date() if "T" in v or " " in v else date.fromisoformat(v)).isoformat()
    except ValueError:
        raise ValueError(f"column date: expected a date like 2025-09-14, got {value!r}") from None


def _rows(path: Path, kind: str) -> Iterator[tuple[int, dict[str, str]] | FailedInput]:
    """(line number, row by lower-case column name), or the reason the file or a row is unreadable."""
    expected = OUTCOME_COLUMNS if kind == "outcomes" else REVIEW_COLUMNS
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = [h.strip().lower() for h in next(reader, [])]
            missing = [c for c in _REQUIRED[kind] if c not in header]
            if missing:
                yield FailedInput(
                    str(path), f"{kind} CSV has no column {', '.join(missing)}; expected columns: {', '.join(expected)}"
                )
                return
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) > len(header):
                    yield FailedInput(f"{path}:{reader.line_num}", f"{len(row)} fields, the header has {len(header)}")
                    continue
                yield reader.line_num, dict(zip(header, row + [""] * (len(header) - len(row)), strict=True))
    except UnicodeDecodeError as e:
        yield FailedInput(
            str(path), f"invalid UTF-8 at byte {e.start}; save the file as UTF-8 (rows before it were read)"
        )
    except csv.Error as e:
        yield FailedInput(str(path), f"malformed CSV: {e}")
    except OSError as e:
        yield FailedInput(str(path), f"cannot read: {e.strerror or e}")


def read_outcomes(path: Path) -> Iterator[Outcome | FailedInput]:
    for item in _rows(path, "outcomes"):
        if isinstance(item, FailedInput):
            yield item
            continue
        line, row = item
        try:
            call_id = row["call_id"].strip()
            if not call_id:
                raise ValueError("column call_id: is empty")
            text = row.get("review_text", "").strip()
            yield Outcome(
                call_id,
                _rating(row.get("csat", ""), "csat"),
                _flag(row.get("resolved", ""), "resolved"),
                _flag(row.get("referral", ""), "referral"),
                text,
                classify(text) if text else None,
            )
        except ValueError as e:
            yield FailedInput(f"{path}:{line}", str(e), row.get("call_id") or None)


def read_reviews(path: Path) -> Iterator[Review | FailedInput]:
    for item in _rows(path, "reviews"):
        if isinstance(item, FailedInput):
            yield item
            continue
        line, row = item
        try:
            customer = row["customer_id"].strip()
            if not customer:
                raise ValueError("column customer_id: is empty")
            text = row.get("text", "").strip()
            yield Review(customer, _day(row["date"]), _rating(row.get("rating", ""), "rating"), text, classify(text))
        except ValueError as e:
            yield FailedInput(f"{path}:{line}", str(e))
