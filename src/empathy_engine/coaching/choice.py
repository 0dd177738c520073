"""Which phrasing a card shows: a seeded draw every card logs, so that every card is an experiment.

A *variant* is one phrasing of one playbook step, named from the playbook text (never from the
call): "frustration/validate#1a2b3c" is the step's id and a hash of the phrasing as written. The
coach draws among the phrasings it can complete for this call; a *chooser* (a fitted policy,
learning/policy.py) gives the odds, or, without one, every usable phrasing is equally likely. The
draw is seeded by (call id, turn index, policy version, card), so a replay shows the same cards,
and each card carries the probability it had (`propensity`), which off-policy estimates need.

This module is core (it imports nothing above coaching/); the policy is passed in as a Protocol.
See docs/learning.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Protocol

from empathy_engine.perception.context import CallFacts

#: The contexts a policy may tell apart, most specific first (a call maps to the first that holds).
CONTEXTS = ("vulnerable", "repeat", "night_or_holiday", "default")
#: What a card's policy version reads when no policy is loaded.
NO_POLICY = "none"


class Chooser(Protocol):
    """A policy: per (state, step, context) the probability of each variant it knows."""

    @property
    def version(self) -> str: ...

    @property
    def floor(self) -> float: ...

    def probabilities(self, state: str, step: str, context: str) -> Mapping[str, float]: ...


@lru_cache(maxsize=4096)  # a playbook has a few hundred phrasings; a live turn then only looks one up
def variant_id(card_id: str, text: str) -> str:
    """The stable id of a phrasing: the card's "<state>/<step>" and 6 hex digits of the text as written."""
    return f"{card_id}#{hashlib.blake2b(text.encode('utf-8'), digest_size=3).hexdigest()}"


def context_of(facts: CallFacts) -> str:
    """The call's context key: a vulnerable person named, else a repeat contact (an unresolved
    earlier issue), else out of hours (night, weekend or public holiday), else "default"."""
    if facts.vulnerable and facts.relation is not None:
        return "vulnerable"
    if facts.issue is not None:
        return "repeat"
    if facts.occasion is not None:
        return "night_or_holiday"
    return "default"


def uniform_draw(seed: str) -> float:
    """A number in [0, 1) from a seed string: blake2b, so it costs about a microsecond and never varies."""
    digest = hashlib.blake2b(seed.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def choose(
    variants: Sequence[str], odds: Mapping[str, float] | None, u: float, floor: float = 0.0
) -> tuple[int, float]:
    """The index drawn among `variants` for the uniform number `u`, and its probability.

    `odds`: the policy's probabilities (renormalised over the variants this call can use; a variant
    the policy does not know gets `floor`); None or all-zero: uniform."""
    if odds is None:
        weights = [1.0] * len(variants)
    else:
        weights = [max(float(odds.get(v, floor)), floor) for v in variants]
        if sum(weights) <= 0:
            weights = [1.0] * len(variants)
    total = sum(weights)
    edge = u * total
    running = 0.0
    for i, w in enumerate(weights):
        running += w
        if edge < running:
            return i, w / total
    last = max(i for i, w in enumerate(weights) if w > 0)  # u*total rounding up to total
    return last, weights[last] / total
