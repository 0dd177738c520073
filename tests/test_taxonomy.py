"""The label names are a public contract: they must be exactly those of ../shared/TAXONOMY.md."""

from __future__ import annotations

import re

import pytest

from empathy_engine.taxonomy import BEHAVIOURS, ESCALATION_REASONS, NEGATIVE_STATES, RESPONSES, STATES
from tests.conftest import SHARED

TAXONOMY = SHARED / "TAXONOMY.md"


def _table(section: str) -> list[str]:
    text = TAXONOMY.read_text()
    body = text.split(section, 1)[1].split("\n## ", 1)[0]
    return [n for n in re.findall(r"^\| ([a-z_]+) \|", body, flags=re.M) if n not in {"state", "behaviour", "reason"}]


@pytest.mark.skipif(not TAXONOMY.exists(), reason="../shared/TAXONOMY.md is not beside the repo")
def test_taxonomy_names_match_the_contract() -> None:
    assert tuple(_table("## Customer states")) == STATES
    assert tuple(_table("## Agent behaviours")) == BEHAVIOURS
    assert tuple(_table("## Escalation reasons")) == ESCALATION_REASONS


def test_taxonomy_every_negative_state_has_responses() -> None:
    assert set(RESPONSES) == set(NEGATIVE_STATES)
    assert all(set(r) <= set(BEHAVIOURS) for r in RESPONSES.values())
