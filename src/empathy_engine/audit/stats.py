"""Intervals that keep the audit honest: Wilson for rates, a call-level bootstrap for empathy scores."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

Z95 = 1.959963984540054
BOOTSTRAP_DRAWS = 2000
BOOTSTRAP_SEED = 20240601  # fixed, so the same audit gives the same report


@dataclass(frozen=True, slots=True)
class Estimate:
    """A value with its 95% interval and the count it rests on."""

    value: float | None
    lo: float | None
    hi: float | None
    n: int

    def to_dict(self) -> dict[str, float | int | None]:
        r = _round
        return {"value": r(self.value), "lo": r(self.lo), "hi": r(self.hi), "n": self.n}


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def wilson(k: int, n: int, z: float = Z95) -> Estimate:
    """Share k/n with its Wilson score interval (right at 0, at n, and for small n)."""
    if n <= 0:
        return Estimate(None, None, None, 0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), n)


def ratio_bootstrap(pairs: Mapping[tuple[int, int], int], draws: int = BOOTSTRAP_DRAWS) -> Estimate:
    """Pooled ratio sum(a)/sum(j) over calls, with a 95% percentile bootstrap that resamples calls.

    `pairs` counts calls by (answered, judged): a sufficient, mergeable summary of the calls, so the
    bootstrap needs no per-call list. Turns within a call are not independent; calls are.
    """
    items = [(a, j, c) for (a, j), c in sorted(pairs.items()) if j > 0 and c > 0]
    n = sum(c for _, _, c in items)
    if n == 0:
        return Estimate(None, None, None, 0)
    answered = sum(a * c for a, _, c in items)
    judged = sum(j * c for _, j, c in items)
    value = answered / judged
    if len(items) == 1:
        return Estimate(value, value, value, n)
    import numpy as np

    rng = np.random.default_rng(BOOTSTRAP_SEED)
    counts = np.array([c for _, _, c in items], dtype=float)
    draws_ = rng.multinomial(n, counts / counts.sum(), size=draws)
    num = draws_ @ np.array([a for a, _, _ in items], dtype=float)
    den = draws_ @ np.array([j for _, j, _ in items], dtype=float)
    ratios = num[den > 0] / den[den > 0]
    lo, hi = np.percentile(ratios, [2.5, 97.5])
    return Estimate(value, float(lo), float(hi), n)


def mean_interval(total: float, total_sq: float, n: int, z: float = Z95) -> Estimate:
    """Mean with a normal-approximation interval, from mergeable sums."""
    if n <= 0:
        return Estimate(None, None, None, 0)
    mean = total / n
    if n == 1:
        return Estimate(mean, None, None, 1)
    var = max(0.0, (total_sq - n * mean * mean) / (n - 1))
    half = z * math.sqrt(var / n)
    return Estimate(mean, mean - half, mean + half, n)


def histogram_quantile(hist: Mapping[int, int], q: float, width: float) -> float | None:
    """The q-quantile of values binned as `int(value // width)`, read at the bin's middle."""
    n = sum(hist.values())
    if n == 0:
        return None
    target = q * n
    seen = 0
    for b in sorted(hist):
        seen += hist[b]
        if seen >= target:
            return (b + 0.5) * width
    return (max(hist) + 0.5) * width
