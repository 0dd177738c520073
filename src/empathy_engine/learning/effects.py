"""The audit's "What builds trust here": per state and step, each phrasing's effect, claimed only
when its interval clears 0 (docs/learning.md, "In the audit").

The tally is mergeable (a Counter of (state/step, variant, measure) -> count or sum), so the
audit's map-reduce folds it like its other counts. The effect of a variant is its eased rate
minus that of the step's other variants, both weighted by 1 / propensity (fit.weighted_means:
fair under a policy whose odds changed or differ by context), with a normal interval widened
(Bonferroni) for the number of variants compared at once. The variants were drawn at random per
card (coaching/choice.py), so within a step the difference is causal, not a correlation.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from statistics import NormalDist
from typing import Any

import numpy as np

from empathy_engine.learning.fit import weighted_means
from empathy_engine.learning.rewards import Card

WEIGHTED = ("w", "wr", "w2", "w2r", "w2r2")
#: Variants with fewer cards than this are listed but get no effect.
MIN_CARDS = 20
ERROR = 0.05


def tally(cards: Iterable[Card]) -> Counter[tuple[str, str, str]]:
    """Counts per (state/step, variant): cards shown, cards with an eased verdict, eased, followed."""
    out: Counter[tuple[str, str, str]] = Counter()
    for c in cards:
        out[(c.key, c.variant, "cards")] += 1
        if c.eased is not None:
            out[(c.key, c.variant, "judged")] += 1
            out[(c.key, c.variant, "eased")] += int(c.eased)
            w, r = 1.0 / c.propensity, float(c.eased)  # fit.weight_sums, for the weighted effect
            for name, value in zip(WEIGHTED, (w, w * r, w * w, w * w * r, w * w * r * r), strict=True):
                out[(c.key, c.variant, name)] += value  # type: ignore[assignment]
        if c.followed is not None:
            out[(c.key, c.variant, "followed_of")] += 1
            out[(c.key, c.variant, "followed")] += int(c.followed)
    return out


def effects(counts: Counter[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """Per step (sorted), each variant's eased rate, followed rate and effect against the others."""
    steps: dict[str, dict[str, dict[str, float]]] = {}
    for (key, variant, measure), n in counts.items():
        steps.setdefault(key, {}).setdefault(variant, {})[measure] = n
    compared = sum(len(v) for v in steps.values() if len(v) > 1)
    z = NormalDist().inv_cdf(1 - ERROR / 2 / max(1, compared))
    out = []
    for key in sorted(steps):
        variants = steps[key]
        rows = [_variant(v, m, variants, z) for v, m in sorted(variants.items())]
        state, _, step = key.partition("/")
        out.append({"state": state, "step": step, "variants": rows})
    return out


def _variant(variant: str, m: dict[str, float], all_: dict[str, dict[str, float]], z: float) -> dict[str, Any]:
    judged, eased = int(m.get("judged", 0)), int(m.get("eased", 0))
    rest_judged = sum(o.get("judged", 0) for v, o in all_.items() if v != variant)
    followed_of = m.get("followed_of", 0)
    row: dict[str, Any] = {
        "variant": variant,
        "cards": int(m.get("cards", 0)),
        "eased": round(eased / judged, 4) if judged else None,
        "followed": round(m.get("followed", 0) / followed_of, 4) if followed_of else None,
        "effect": None,
        "claim": None,
    }
    if judged >= MIN_CARDS and rest_judged >= MIN_CARDS:
        mine = np.array([m.get(k, 0.0) for k in WEIGHTED])
        rest = np.array([sum(o.get(k, 0.0) for v, o in all_.items() if v != variant) for k in WEIGHTED])
        (p1, p2), (v1, v2) = weighted_means(np.stack([mine, rest]))
        diff, half = float(p1 - p2), z * math.sqrt(float(v1 + v2))
        row["effect"] = {"value": round(diff, 4), "lo": round(diff - half, 4), "hi": round(diff + half, 4)}
        row["claim"] = "better" if diff - half > 0 else "worse" if diff + half < 0 else None
    return row
