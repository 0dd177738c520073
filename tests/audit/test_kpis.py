"""Trust KPIs that join calls with each other, outcomes and reviews, against hand-computed values."""

from __future__ import annotations

from pathlib import Path

import pytest

from empathy_engine.audit.joins import JoinSettings, JoinStore, join_row
from empathy_engine.audit.outcomes import read_outcomes, read_reviews
from empathy_engine.audit.records import FailedInput
from tests.audit.helpers import record

# Customer A: hvac on day 1 and day 4 (a repeat within 7 days), hvac again on day 20 (16 days later: not).
# Customer B: plumbing on day 2, then hvac on day 3 (another service: not a repeat).
CALLS = [
    record("c1", "a1", "A", 1, "hvac", 0.9),
    record("c2", "a2", "A", 4, "hvac", 0.4),
    record("c3", "a1", "A", 20, "hvac", 0.6),
    record("c4", "a2", "B", 2, "plumbing", 0.3),
    record("c5", "a1", "B", 3, "hvac", None),
]
OUTCOMES = """call_id,csat,resolved,referral,review_text
c1,5,yes,yes,They really listened and understood.
c2,2,no,no,
c4,4,,,
zz,3,yes,no,
"""
REVIEWS = """customer_id,date,rating,text
A,2025-09-22,4,Professional and efficient.
B,2025-11-30,5,So kind and patient.
Z,2025-09-10,3,ok
"""


@pytest.fixture
def kpis(tmp_path: Path) -> dict:
    (tmp_path / "outcomes.csv").write_text(OUTCOMES)
    (tmp_path / "reviews.csv").write_text(REVIEWS)
    with JoinStore(JoinSettings("week", repeat_window_days=7, review_link_days=30)) as store:
        store.add_calls(join_row(r, "week") for r in CALLS)
        for o in read_outcomes(tmp_path / "outcomes.csv"):
            assert not isinstance(o, FailedInput)
            store.add_outcome(o)
        for rv in read_reviews(tmp_path / "reviews.csv"):
            assert not isinstance(rv, FailedInput)
            store.add_review(rv)
        return store.kpis()


def test_repeat_contact_same_customer_same_service_within_the_window(kpis: dict) -> None:
    # c3 (day 20) is the last call: its window is still open, so it is left out. Of c1, c2, c4, c5
    # only c1 was followed within 7 days by the same customer about the same service (c2).
    assert kpis["team"]["all"]["repeat_n"] == 4
    assert kpis["team"]["all"]["repeat_k"] == 1
    assert (kpis["agent"]["a1"]["repeat_n"], kpis["agent"]["a1"]["repeat_k"]) == (2, 1)  # c1, c5
    assert (kpis["agent"]["a2"]["repeat_n"], kpis["agent"]["a2"]["repeat_k"]) == (2, 0)  # c2, c4


def test_repeat_window_is_configurable(tmp_path: Path) -> None:
    with JoinStore(JoinSettings("week", repeat_window_days=2)) as store:
        store.add_calls(join_row(r, "week") for r in CALLS)
        team = store.kpis()["team"]["all"]
    assert (team["repeat_n"], team["repeat_k"]) == (4, 0)  # 3 days between c1 and c2 is now too long


def test_outcomes_csat_referral_and_resolved(kpis: dict) -> None:
    team = kpis["team"]["all"]
    assert team["csat_n"] == 3  # c1, c2, c4; the row for zz matches no audited call
    assert team["csat_sum"] == 5 + 2 + 4
    assert team["csat_satisfied"] == 2  # 5 and 4
    assert (team["referral_n"], team["referral_k"]) == (2, 1)
    assert (team["resolved_n"], team["resolved_k"]) == (2, 1)
    assert kpis["coverage"]["outcomes"] == 4 and kpis["coverage"]["outcomes_matched"] == 3


def test_review_language_care_vs_competence_and_its_link_to_empathy(kpis: dict) -> None:
    # Texts: c1's survey answer (care), A's review (competence only, linked to c3 two days before),
    # B's review (care, 88 days after B's last call: not linked), Z's review (neither, no calls).
    team = kpis["team"]["all"]
    assert (team["reviews_n"], team["care_k"], team["competence_k"]) == (4, 2, 1)
    assert kpis["coverage"]["review_texts"] == 4 and kpis["coverage"]["review_texts_linked"] == 2
    scores = kpis["language_scores"]
    assert scores["care"]["n"] == 1 and scores["care"]["sum"] == pytest.approx(0.9)  # c1
    assert scores["competence_only"]["n"] == 1 and scores["competence_only"]["sum"] == pytest.approx(0.6)  # c3
    assert kpis["band"]["high"]["care_k"] == 1  # c1 scored 0.9
    assert kpis["band"]["mid"]["competence_k"] == 1  # c3 scored 0.6
    assert kpis["band"]["unlinked"]["reviews_n"] == 2


def test_kpis_by_empathy_band(kpis: dict) -> None:
    assert kpis["band"]["high"]["csat_sum"] == 5  # c1 (0.9)
    assert kpis["band"]["low"]["csat_sum"] == 2 + 4  # c2 (0.4), c4 (0.3)


def test_failures_are_kept_in_order(tmp_path: Path) -> None:
    with JoinStore(JoinSettings()) as store:
        store.add_failure(FailedInput("a.jsonl:3", "bad speaker", "x"))
        store.add_failure(FailedInput("b.json", "malformed JSON"))
        assert [f.where for f in store.failures()] == ["a.jsonl:3", "b.json"]
        assert store.failed == 2
