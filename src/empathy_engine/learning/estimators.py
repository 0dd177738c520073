"""Off-policy estimates: what a new policy would have earned, from cards logged under another.

Each logged card i has a reward r_i, the probability p_i the logging policy gave the variant
shown, and the probability pi_i the new policy gives that same variant; w_i = pi_i / p_i.

  IPS    (1/n) sum w_i r_i                      unbiased, high variance
  SNIPS  sum w_i r_i / sum w_i                  self-normalised: a little bias, far steadier
  DR     (1/n) sum [ qpi_i + w_i (r_i - q_i) ]  q_i: a reward model's guess for the variant shown,
                                                qpi_i: its guess averaged over the new policy

Intervals are a bootstrap over calls (a call's cards share its customer and outcome), seeded, so
the same data give the same interval. See docs/learning.md, "Evaluate".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BOOTSTRAP = 1000
LEVEL = 0.95


@dataclass(frozen=True, slots=True)
class Interval:
    value: float
    lo: float
    hi: float

    @property
    def clears_zero(self) -> bool:
        return self.lo > 0 or self.hi < 0

    def to_dict(self) -> dict[str, float]:
        return {"value": round(self.value, 4), "lo": round(self.lo, 4), "hi": round(self.hi, 4)}


def ips(r: np.ndarray, p: np.ndarray, pi: np.ndarray) -> float:
    return float(np.mean(pi / p * r))


def snips(r: np.ndarray, p: np.ndarray, pi: np.ndarray) -> float:
    w = pi / p
    return float(np.sum(w * r) / np.sum(w))


def doubly_robust(r: np.ndarray, p: np.ndarray, pi: np.ndarray, q: np.ndarray, q_pi: np.ndarray) -> float:
    return float(np.mean(q_pi + pi / p * (r - q)))


@dataclass(frozen=True, slots=True)
class Comparison:
    """The new policy's SNIPS value, the logging policy's (its observed mean), and their difference."""

    new: Interval
    logging: Interval
    difference: Interval
    cards: int
    calls: int

    @property
    def beats(self) -> bool:
        """Adopt only when the interval of the difference lies wholly above 0."""
        return self.difference.lo > 0

    def to_dict(self) -> dict[str, object]:
        return {
            "estimator": "snips",
            "new": self.new.to_dict(),
            "logging": self.logging.to_dict(),
            "difference": self.difference.to_dict(),
            "cards": self.cards,
            "calls": self.calls,
            "adopt": self.beats,
        }


def compare(
    r: np.ndarray, p: np.ndarray, pi: np.ndarray, call: np.ndarray, reps: int = BOOTSTRAP, seed: int = 0
) -> Comparison:
    """SNIPS of the new policy against the logging policy's own mean reward, with a 95% interval
    for each and for the difference, from one bootstrap over calls (`call`: each card's call index)."""
    w = pi / p
    calls = int(call.max()) + 1 if len(call) else 0
    sums = np.stack([np.bincount(call, x, minlength=calls) for x in (w * r, w, r, np.ones_like(r))])
    new, logging = snips(r, p, pi), float(np.mean(r))
    rng = np.random.default_rng(seed)
    draws = np.empty((2, reps))
    for start in range(0, reps, 100):  # chunks: the weights matrix stays small however many calls
        n = min(100, reps - start)
        weights = rng.poisson(1.0, (n, calls)).astype(float)
        a, b, s, m = (weights @ sums.T).T  # per resample: sum w r, sum w, sum r, cards
        with np.errstate(invalid="ignore", divide="ignore"):
            draws[0, start : start + n], draws[1, start : start + n] = a / b, s / m
    ok = np.isfinite(draws).all(axis=0)
    draws = draws[:, ok]
    return Comparison(
        _interval(new, draws[0]), _interval(logging, draws[1]), _interval(new - logging, draws[0] - draws[1]),
        len(r), calls,
    )


def _interval(value: float, draws: np.ndarray) -> Interval:
    tail = (1 - LEVEL) / 2 * 100
    if len(draws) == 0:
        return Interval(value, float("nan"), float("nan"))
    lo, hi = np.percentile(draws, [tail, 100 - tail])
    return Interval(value, float(lo), float(hi))
