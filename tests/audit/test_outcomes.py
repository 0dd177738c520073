"""The outcomes and reviews CSV formats: what is accepted, and bad rows listed with their line."""

from __future__ import annotations

from pathlib import Path

from empathy_engine.audit.language import classify
from empathy_engine.audit.outcomes import Outcome, Review, read_outcomes, read_reviews
from empathy_engine.audit.records import FailedInput


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_outcomes_accepts_blanks_flags_and_a_byte_order_mark(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "o.csv",
        "\ufeffCall_ID,CSAT,Resolved,Referral,Review_Text,extra\nc1,5,Yes,0,They cared,x\nc2,,,,,\n\n",
    )
    rows = list(read_outcomes(path))
    assert rows == [
        Outcome("c1", 5, True, False, "They cared", "care"),
        Outcome("c2", None, None, None, "", None),
    ]


def test_outcomes_bad_rows_are_listed_with_their_line_and_skipped(tmp_path: Path) -> None:
    text = "call_id,csat,resolved,referral\nc1,7,yes,no\nc2,4,maybe,no\n,3,yes,no\nc3,4.5,yes,no\nc4,4,yes,yes\n"
    rows = list(read_outcomes(_write(tmp_path, "o.csv", text)))
    failures = [r for r in rows if isinstance(r, FailedInput)]
    assert [f.where for f in failures] == [f"{tmp_path}/o.csv:{n}" for n in (2, 3, 4, 5)]
    assert "csat" in failures[0].reason and "'7'" in failures[0].reason
    assert "resolved" in failures[1].reason
    assert "call_id" in failures[2].reason
    assert [r.call_id for r in rows if isinstance(r, Outcome)] == ["c4"]


def test_outcomes_without_a_call_id_column_fail_as_a_file(tmp_path: Path) -> None:
    (failure,) = read_outcomes(_write(tmp_path, "o.csv", "id,csat\nc1,5\n"))
    assert isinstance(failure, FailedInput)
    assert "no column call_id" in failure.reason and "expected columns" in failure.reason


def test_outcomes_invalid_utf8_is_reported_after_the_good_rows(tmp_path: Path) -> None:
    rows = list(read_outcomes(_write(tmp_path, "o.csv", b"call_id,csat\nc1,5\n" + b"c2,\xff\n" * 5000)))
    assert isinstance(rows[-1], FailedInput) and "UTF-8" in rows[-1].reason


def test_reviews_dates_ratings_and_language(tmp_path: Path) -> None:
    text = "customer_id,date,rating,text\nc1,2025-09-14,5,They listened.\nc2,2025-09-15T10:00:00,,Quick fix\n"
    assert list(read_reviews(_write(tmp_path, "r.csv", text))) == [
        Review("c1", "2025-09-14", 5, "They listened.", "care"),
        Review("c2", "2025-09-15", None, "Quick fix", "competence_only"),
    ]


def test_reviews_bad_date_is_listed(tmp_path: Path) -> None:
    rows = list(read_reviews(_write(tmp_path, "r.csv", "customer_id,date,rating,text\nc1,14/09/2025,5,ok\n")))
    assert isinstance(rows[0], FailedInput) and "date" in rows[0].reason and rows[0].where.endswith(":2")


def test_language_care_competence_and_negation() -> None:
    assert classify("She really listened and understood how worried I was") == "care"
    assert classify("Professional and kind") == "care"  # care wins when both are there
    assert classify("Professional, efficient, on time.") == "competence_only"
    assert classify("Nobody listened to me.") == "neither"  # negated
    assert classify("They did not care at all, but the tech was quick") == "competence_only"
    assert classify("kind of slow, and expensive") == "neither"
    assert classify("It got fixed.") == "neither"
