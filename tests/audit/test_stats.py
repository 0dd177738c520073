"""Intervals against published values and their basic properties."""

from __future__ import annotations

import pytest

from empathy_engine.audit.stats import histogram_quantile, mean_interval, ratio_bootstrap, wilson
from empathy_engine.audit.summary import state_line, tier_of


def test_wilson_matches_published_values() -> None:
    e = wilson(8, 10)  # Wilson 95%: 0.4902 - 0.9433
    assert e.value == 0.8
    assert e.lo == pytest.approx(0.4902, abs=1e-4)
    assert e.hi == pytest.approx(0.9433, abs=1e-4)
    e = wilson(0, 10)  # upper bound 0.2775, lower exactly 0
    assert (e.lo, round(e.hi, 4)) == (0.0, 0.2775)


def test_wilson_with_no_data_says_nothing() -> None:
    assert wilson(0, 0).to_dict() == {"value": None, "lo": None, "hi": None, "n": 0}


def test_wilson_narrows_with_more_data() -> None:
    few, many = wilson(5, 10), wilson(500, 1000)
    assert few.value == many.value == 0.5
    assert (many.hi - many.lo) < (few.hi - few.lo) / 5


def test_ratio_bootstrap_pools_answered_over_judged_and_resamples_calls() -> None:
    pairs = {(1, 2): 10, (2, 2): 5, (0, 3): 5}  # 20 calls: 10 + 10 + 0 answered of 20 + 10 + 15 judged
    e = ratio_bootstrap(pairs)
    assert e.value == pytest.approx(20 / 45)
    assert e.n == 20
    assert e.lo < e.value < e.hi
    assert ratio_bootstrap(pairs).to_dict() == e.to_dict()  # seeded: same audit, same report


def test_ratio_bootstrap_is_wider_for_fewer_calls() -> None:
    few = ratio_bootstrap({(1, 2): 2, (2, 2): 1, (0, 3): 1})
    many = ratio_bootstrap({(1, 2): 200, (2, 2): 100, (0, 3): 100})
    assert (many.hi - many.lo) < (few.hi - few.lo)


def test_ratio_bootstrap_edge_cases() -> None:
    assert ratio_bootstrap({}).value is None
    assert ratio_bootstrap({(0, 0): 4}).value is None  # calls with nothing judged do not count
    one = ratio_bootstrap({(1, 2): 3})  # every call alike: no spread to resample
    assert (one.value, one.lo, one.hi, one.n) == (0.5, 0.5, 0.5, 3)


def test_mean_interval_by_hand() -> None:
    e = mean_interval(total=2 + 4 + 6, total_sq=4 + 16 + 36, n=3)  # mean 4, sd 2, se 2/sqrt(3)
    assert e.value == 4
    assert e.hi - e.value == pytest.approx(1.959964 * 2 / 3**0.5, rel=1e-5)


def test_histogram_median_reads_the_bin_middle() -> None:
    assert histogram_quantile({0: 1, 2: 3, 5: 1}, 0.5, width=5) == 12.5  # the median falls in 10-15 s
    assert histogram_quantile({}, 0.5, width=5) is None


def _agent(value: float | None, lo: float | None, hi: float | None, calls: int) -> dict:
    return {"empathy": {"value": value, "lo": lo, "hi": hi, "n": calls}, "scored_calls": calls}


def test_tier_gives_a_verdict_only_when_the_interval_clears_the_team() -> None:
    assert tier_of(_agent(0.4, 0.35, 0.45, 50), team=0.6, min_calls=10) == "below team"
    assert tier_of(_agent(0.8, 0.7, 0.9, 50), team=0.6, min_calls=10) == "above team"
    assert tier_of(_agent(0.5, 0.3, 0.7, 50), team=0.6, min_calls=10) == "within noise"
    assert tier_of(_agent(0.1, 0.0, 0.2, 5), team=0.6, min_calls=10) == "too few calls"


def test_state_line_reads_like_a_qa_note() -> None:
    line = state_line("cost_anxiety", 7, 9, {"informational": 6, "none": 1})
    assert line["text"] == "misses cost anxiety in 7 of 9 calls: usually goes straight to facts or price"
    assert line["instead"] == "informational"
