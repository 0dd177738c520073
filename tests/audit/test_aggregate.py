"""The REDUCE step: merging is order-independent, partitions give the same answer, memory stays bounded."""

from __future__ import annotations

import pickle
import random
from dataclasses import replace

from empathy_engine.audit.aggregate import Aggregate
from empathy_engine.audit.tallies import band_of, period_of
from tests.audit.helpers import random_record


def _fold(records: list, period: str = "week") -> Aggregate:
    agg = Aggregate(period)
    for r in records:
        agg.add(r)
    return agg


def _records(n: int = 300, seed: int = 3) -> list:
    rng = random.Random(seed)
    return [random_record(rng, i) for i in range(n)]


def test_aggregate_order_does_not_matter() -> None:
    records = _records()
    expected = _fold(records).to_dict()
    shuffled = records[:]
    random.Random(1).shuffle(shuffled)
    assert _fold(shuffled).to_dict() == expected
    assert _fold(records[::-1]).to_dict() == expected


def test_aggregate_merge_of_partitions_equals_one_pass() -> None:
    records = _records()
    expected = _fold(records).to_dict()
    rng = random.Random(2)
    for _ in range(3):
        shuffled = records[:]
        rng.shuffle(shuffled)
        cuts = sorted(rng.sample(range(1, len(records)), 6))
        parts = [_fold(shuffled[a:b]) for a, b in zip([0, *cuts], [*cuts, len(records)], strict=True)]
        rng.shuffle(parts)
        # a tree of merges, as a distributed engine would do it
        while len(parts) > 1:
            parts = [parts[i].merge(parts[i + 1]) if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
        assert parts[0].to_dict() == expected


def test_aggregate_merge_with_an_empty_partition_is_a_no_op() -> None:
    records = _records(50)
    assert _fold(records).merge(Aggregate()).to_dict() == _fold(records).to_dict()
    assert Aggregate().merge(_fold(records)).to_dict() == _fold(records).to_dict()


def test_aggregate_refuses_to_merge_different_periods() -> None:
    try:
        Aggregate("week").merge(Aggregate("month"))
    except ValueError as e:
        assert "per-month" in str(e)
    else:
        raise AssertionError("merged a monthly aggregate into a weekly one")


def test_aggregate_memory_does_not_grow_with_the_number_of_calls() -> None:
    records = _records(300)
    small = len(pickle.dumps(_fold(records)))
    many = [replace(r, id=f"{r.id}-{k}") for k in range(10) for r in records]  # ten times the calls
    big = len(pickle.dumps(_fold(many)))
    assert big < small * 1.3


def test_aggregate_counts_match_the_records() -> None:
    records = _records()
    agg = _fold(records)
    assert agg.team.calls == len(records)
    assert agg.team.judged == sum(r.judged for r in records)
    assert agg.team.answered == sum(r.answered for r in records)
    assert agg.team.escalated == sum(r.escalated for r in records)
    assert sum(t.calls for t in agg.agents.values()) == len(records)
    assert sum(t.calls for t in agg.periods.values()) == len(records)
    assert sum(agg.team.pairs.values()) == sum(1 for r in records if r.judged)
    assert agg.misses.items == sorted(agg.misses.items, key=lambda m: m.key())


def test_period_of_weeks_months_days_and_undated() -> None:
    assert period_of("2025-09-01", "week") == "2025-W36"
    assert period_of("2025-12-29", "week") == "2026-W01"  # ISO weeks cross years
    assert period_of("2025-09-01", "month") == "2025-09"
    assert period_of("2025-09-01", "day") == "2025-09-01"
    assert period_of(None, "week") == "undated"


def test_band_cut_offs() -> None:
    assert [band_of(x) for x in (None, 0.0, 0.49, 0.5, 0.79, 0.8, 1.0)] == [
        "none", "low", "low", "mid", "mid", "high", "high"
    ]  # fmt: skip
