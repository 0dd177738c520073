"""The off-policy estimators against values worked out by hand, and the adopt rule."""

from __future__ import annotations

import numpy as np
import pytest

from empathy_engine.learning.estimators import compare, doubly_robust, ips, snips
from empathy_engine.learning.fit import Scored, ips_winner, weight_sums, weighted_means
from empathy_engine.learning.rewards import Card

# Four logged cards, worked by hand:
#   reward r      1     0     1     0
#   logged p      0.5   0.5   0.25  0.75
#   new pi        1.0   0.5   0.5   0.25
#   w = pi / p    2     1     2     1/3
# IPS   = (2*1 + 1*0 + 2*1 + (1/3)*0) / 4                = 4 / 4        = 1.0
# SNIPS = (2 + 0 + 2 + 0) / (2 + 1 + 2 + 1/3)            = 4 / (16/3)   = 0.75
# DR with a reward model q (shown variant) = 0.6 0.4 0.5 0.5 and q under pi = 0.5 each:
#   0.5 + 2*(1 - 0.6) = 1.3;  0.5 + 1*(0 - 0.4) = 0.1;  0.5 + 2*(1 - 0.5) = 1.5;  0.5 + (1/3)*(0 - 0.5) = 1/3
#   DR = (1.3 + 0.1 + 1.5 + 1/3) / 4 = 3.2333... / 4 = 0.808333...
R = np.array([1.0, 0.0, 1.0, 0.0])
P = np.array([0.5, 0.5, 0.25, 0.75])
PI = np.array([1.0, 0.5, 0.5, 0.25])


def test_estimators_match_the_hand_computed_four_card_example() -> None:
    assert ips(R, P, PI) == pytest.approx(1.0)
    assert snips(R, P, PI) == pytest.approx(0.75)
    q, q_pi = np.array([0.6, 0.4, 0.5, 0.5]), np.full(4, 0.5)
    assert doubly_robust(R, P, PI, q, q_pi) == pytest.approx(3.2333333 / 4, abs=1e-6)


def test_estimators_of_the_logging_policy_itself_are_its_mean_and_no_difference() -> None:
    calls = np.array([0, 0, 1, 2])
    same = compare(R, P, P, calls)
    assert same.new.value == pytest.approx(0.5) and same.logging.value == pytest.approx(0.5)
    assert same.difference.value == pytest.approx(0.0) and same.difference.lo == pytest.approx(0.0)
    assert not same.beats  # no gain: never adopted


def test_estimators_adopt_only_when_the_difference_interval_clears_zero() -> None:
    rng = np.random.default_rng(1)
    n = 4000
    shown_good = rng.random(n) < 0.5  # logged uniformly over two variants
    r = (rng.random(n) < np.where(shown_good, 0.7, 0.3)).astype(float)
    p = np.full(n, 0.5)
    prefer_good = np.where(shown_good, 0.9, 0.1)
    calls = np.arange(n) // 2
    better = compare(r, p, prefer_good, calls)
    assert better.beats and better.difference.lo > 0.1  # true gain: 0.9*0.7 + 0.1*0.3 - 0.5 = 0.16
    assert better.new.lo < better.new.value < better.new.hi
    worse = compare(r, p, 1 - prefer_good, calls)
    assert not worse.beats and worse.difference.hi < 0


def test_estimators_weighted_mean_matches_the_hand_computed_example() -> None:
    # Variant A shown twice: (p 0.5, r 1) and (p 0.25, r 0): w = 2 and 4.
    #   mean = (2*1 + 4*0) / (2 + 4) = 1/3
    #   variance = (2^2 (1 - 1/3)^2 + 4^2 (0 - 1/3)^2) / 6^2 = (16/9 + 16/9) / 36 = 0.0987654...
    sums = weight_sums(np.array([0.5, 0.25]), np.array([1.0, 0.0])).sum(axis=0)
    mean, variance = weighted_means(sums)
    assert mean == pytest.approx(1 / 3) and variance == pytest.approx(32 / 9 / 36)


def _card(i: int, variant: str, p: float, r: float) -> Scored:
    return Scored(Card(f"c{i}", 1, "worry", "reassure", "default", variant, p, None, None), r)


def test_estimators_no_false_winner_when_the_base_rate_drifted_under_a_changing_policy() -> None:
    # Two equal variants. While the base rate was 0.3 the policy showed A 90% of the time; when it
    # rose to 0.7, B 90%. Plain success rates: A about 0.34, B about 0.66, a "clear" winner B.
    rng = np.random.default_rng(3)
    rows = []
    for i in range(20000):
        base, p_a = (0.3, 0.9) if i < 10000 else (0.7, 0.1)
        shown_a = rng.random() < p_a
        rows.append(_card(i, "A" if shown_a else "B", p_a if shown_a else 1 - p_a, float(rng.random() < base)))
    plain = {v: np.mean([r.reward for r in rows if r.card.variant == v]) for v in "AB"}
    assert plain["B"] - plain["A"] > 0.25
    assert ips_winner(["A", "B"], rows) is None  # weighted by 1 / propensity, both read about 0.5
    better = rows + [_card(20000 + i, "B", 0.5, 1.0) for i in range(3000)]
    assert ips_winner(["A", "B"], better) == "B"  # a real difference is still found
