"""The CRM reader: prior-contact outcomes and customer notes read by meaning, not wording."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from empathy_engine.events import CallStarted, CustomerProfile, PriorContact
from empathy_engine.perception import crm
from empathy_engine.perception.context import call_facts, recent_unresolved

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone(timedelta(hours=-5)))


@pytest.mark.parametrize(
    ("outcome", "kind"),
    [
        ("tech no-show", "failed_visit"),
        ("Technician did not arrive.", "failed_visit"),
        ("customer waited all day, nobody came", "failed_visit"),
        ("still leaking after the repair", "unresolved"),
        ("repair completed, customer happy", "resolved"),
    ],
)
def test_crm_reader_reads_outcomes_by_meaning(outcome: str, kind: str) -> None:
    assert crm.bundled().outcome(outcome) == kind


def test_crm_reader_reads_vulnerable_notes_by_meaning() -> None:
    reader = crm.bundled()
    assert reader.vulnerable("lives with her 90 year old dad")
    assert reader.vulnerable("husband on a home oxygen machine")
    assert not reader.vulnerable("prefers text messages, gate code 4411")


def test_crm_reader_decides_the_call_facts() -> None:
    prior = PriorContact(issue="no heat", outcome="Technician did not arrive.", at=NOW - timedelta(days=4))
    fine = PriorContact(issue="tune-up", outcome="repair completed, customer happy", at=NOW - timedelta(days=9))
    call = CallStarted("c", started_at=NOW, customer=CustomerProfile(prior_contacts=(prior, fine)))
    assert recent_unresolved(call) == [prior]
    assert call_facts(call).no_show
    assert crm.bundled().outcome("") == "other"
