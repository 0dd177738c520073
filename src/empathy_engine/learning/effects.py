"""The audit's "What builds trust here": per state and step, each phrasing's effect, claimed only
when its interval clears 0 (docs/learning.md, "In the audit").

The tally is mergeable (a Counter of (state/step, variant, measure) -> count), so the audit's
map-reduce folds it like its other counts. The effect of a variant is its eased rate minus the
rate of the step's other variants, with a Wald interval widened (Bonferroni) for the number of
variants compared at once; the variants were drawn at random per card (coaching/choice.py), so
within a step the difference is causal, not a correlation.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from statistics import NormalDist
from typing import Any

from empathy_engine.learning.rewards import Card

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
        if c.followed is not None:
            out[(c.key, c.variant, "followed_of")] += 1
            out[(c.key, c.variant, "followed")] += int(c.followed)
    return out


def effects(counts: Counter[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """Per step (sorted), each variant's eased rate, followed rate and effect against the others."""
    steps: dict[str, dict[str, dict[str, int]]] = {}
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


def _variant(variant: str, m: dict[str, int], all_: dict[str, dict[str, int]], z: float) -> dict[str, Any]:
    judged, eased = m.get("judged", 0), m.get("eased", 0)
    rest_judged = sum(o.get("judged", 0) for v, o in all_.items() if v != variant)
    rest_eased = sum(o.get("eased", 0) for v, o in all_.items() if v != variant)
    row: dict[str, Any] = {
        "variant": variant,
        "cards": m.get("cards", 0),
        "eased": round(eased / judged, 4) if judged else None,
        "followed": round(m.get("followed", 0) / m["followed_of"], 4) if m.get("followed_of") else None,
        "effect": None,
        "claim": None,
    }
    if judged >= MIN_CARDS and rest_judged >= MIN_CARDS:
        p1, p2 = eased / judged, rest_eased / rest_judged
        half = z * math.sqrt(max(p1 * (1 - p1), 1e-9) / judged + max(p2 * (1 - p2), 1e-9) / rest_judged)
        diff = p1 - p2
        row["effect"] = {"value": round(diff, 4), "lo": round(diff - half, 4), "hi": round(diff + half, 4)}
        row["claim"] = "better" if diff - half > 0 else "worse" if diff + half < 0 else None
    return row
