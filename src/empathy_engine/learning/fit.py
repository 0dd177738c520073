"""`empathy learn fit`: logged cards and their rewards -> a cue policy (docs/learning.md, "Fit").

Per (state, step) and per context, each variant's success rate gets a Beta(1 + sum r, 1 + sum (1 - r))
posterior (r in [0, 1]; a Beta-Bernoulli model, the one Thompson sampling uses). The policy
shows each variant with its posterior probability of being the best (P(best), by a seeded Monte
Carlo at fit time, so a live turn only looks the number up), mixed with a floor so that none
falls to zero: p = floor + (1 - k * floor) * P(best) for k variants.

The "default" entry of a step pools every context; a context gets its own entry once it has
MIN_CONTEXT_CARDS cards for the step. Before a policy is adopted, it is fitted on 70% of the calls
and its SNIPS estimate on the other 30% must beat the logging policy (the interval of the
difference above 0); the policy written is then refitted on all calls.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from empathy_engine.learning.estimators import Comparison, compare
from empathy_engine.learning.policy import DEFAULT_FLOOR, Policy
from empathy_engine.learning.rewards import CallOutcome, Card, reward

MONTE_CARLO = 4000
MIN_CONTEXT_CARDS = 50
HOLDOUT = 0.3
#: A winner is declared only when P(best) >= this and the 95% interval of its gap to the runner-up clears 0.
WINNER_P_BEST = 0.95


@dataclass(frozen=True, slots=True)
class Scored:
    """A card with its reward (cards whose reward is missing are not scored)."""

    card: Card
    reward: float


def scored(cards: Iterable[Card], outcomes: Mapping[str, CallOutcome], kind: str) -> list[Scored]:
    out = []
    for card in cards:
        r = reward(card, outcomes.get(card.call_id), kind)
        if r is not None:
            out.append(Scored(card, r))
    return out


def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.blake2b("|".join(parts).encode(), digest_size=8).digest(), "big")


def posterior_samples(successes: np.ndarray, failures: np.ndarray, seed: int, draws: int = MONTE_CARLO) -> np.ndarray:
    """(draws, k) samples of each variant's success rate from its Beta(1 + s, 1 + f) posterior."""
    rng = np.random.default_rng(seed)
    return rng.beta(1.0 + successes, 1.0 + failures, size=(draws, len(successes)))


def p_best(samples: np.ndarray) -> np.ndarray:
    """Each variant's posterior probability of being the best (ties split evenly)."""
    wins = np.bincount(np.argmax(samples, axis=1), minlength=samples.shape[1])
    return wins / samples.shape[0]


def with_floor(best: np.ndarray, floor: float) -> np.ndarray:
    """floor + (1 - k floor) P(best); uniform when k variants cannot all get the floor."""
    k = len(best)
    if k * floor >= 1:
        return np.full(k, 1.0 / k)
    return floor + (1 - k * floor) * best


def winner(samples: np.ndarray) -> int | None:
    """The variant declared best, or None (the conservative rule: P(best) >= WINNER_P_BEST and the
    95% interval of its gap to the next best variant above 0)."""
    if samples.shape[1] < 2:
        return None
    best = p_best(samples)
    top = int(np.argmax(best))
    if best[top] < WINNER_P_BEST:
        return None
    others = np.delete(samples, top, axis=1).max(axis=1)
    return top if np.percentile(samples[:, top] - others, 2.5) > 0 else None


def fit_choices(
    rows: Sequence[Scored], floor: float = DEFAULT_FLOOR, min_context: int = MIN_CONTEXT_CARDS
) -> tuple[dict[str, dict[str, dict[str, float]]], dict[str, dict[str, object]]]:
    """The policy's choices and, per step, the figures behind them (cards, rates, P(best), winner)."""
    groups: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        groups[(row.card.key, "default")][row.card.variant].append(row.reward)
        if row.card.context != "default":
            groups[(row.card.key, row.card.context)][row.card.variant].append(row.reward)
    choices: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    figures: dict[str, dict[str, object]] = defaultdict(dict)
    for (key, context), by_variant in sorted(groups.items()):
        n = sum(len(v) for v in by_variant.values())
        if context != "default" and n < min_context:
            continue
        variants = sorted(by_variant)
        s = np.array([sum(by_variant[v]) for v in variants])
        f = np.array([len(by_variant[v]) for v in variants]) - s
        samples = posterior_samples(s, f, _seed(key, context))
        probs = with_floor(p_best(samples), floor)
        probs = probs / probs.sum()  # exact sum 1 after floating point
        choices[key][context] = {v: float(p) for v, p in zip(variants, probs, strict=True)}
        won = winner(samples)
        figures[key][context] = {
            "cards": n,
            "variants": {
                v: {"cards": len(by_variant[v]), "mean_reward": round(float(np.mean(by_variant[v])), 4)}
                for v in variants
            },
            "winner": variants[won] if won is not None else None,
        }
    return dict(choices), dict(figures)


def target_probabilities(policy: Policy, cards: Sequence[Card]) -> np.ndarray:
    """For each logged card, the probability `policy` gives the variant shown, among the variants
    logged for that step (the cards do not say which phrasings each call could fill; see the docs)."""
    seen: dict[str, set[str]] = defaultdict(set)
    for c in cards:
        seen[c.key].add(c.variant)
    out = np.empty(len(cards))
    for i, c in enumerate(cards):
        odds = policy.probabilities(c.state, c.step, c.context)
        weights = {v: max(odds.get(v, policy.floor), policy.floor) if odds else 1.0 for v in seen[c.key]}
        out[i] = weights[c.variant] / sum(weights.values())
    return out


def evaluate(policy: Policy, rows: Sequence[Scored], seed: int = 0) -> Comparison:
    """SNIPS of `policy` on logged, scored cards against the logging policy, with intervals."""
    cards = [r.card for r in rows]
    index: dict[str, int] = {}
    call = np.array([index.setdefault(c.call_id, len(index)) for c in cards], dtype=np.int64)
    r = np.array([x.reward for x in rows], dtype=float)
    p = np.array([c.propensity for c in cards], dtype=float)
    return compare(r, p, target_probabilities(policy, cards), call, seed=seed)


def in_holdout(call_id: str) -> bool:
    """A stable 30% of calls, by a hash of the call id, kept out of the fit the adoption test uses."""
    return _seed("holdout", call_id) % 1000 < HOLDOUT * 1000


@dataclass(frozen=True, slots=True)
class FitResult:
    policy: Policy
    holdout: Comparison | None  # None: too few held-out cards to test
    figures: dict[str, dict[str, object]]

    @property
    def adopt(self) -> bool:
        return self.holdout is not None and self.holdout.beats


def fit(rows: Sequence[Scored], floor: float = DEFAULT_FLOOR, header: Mapping[str, object] | None = None) -> FitResult:
    """Fit on 70% of the calls, test on the rest (SNIPS vs logging), then refit on all of them."""
    train = [r for r in rows if not in_holdout(r.card.call_id)]
    test = [r for r in rows if in_holdout(r.card.call_id)]
    trial, _ = fit_choices(train, floor)
    comparison = evaluate(Policy(trial, floor), test) if len(test) >= 2 and trial else None
    choices, figures = fit_choices(rows, floor)
    adopt = comparison is not None and comparison.beats
    meta = {**(header or {}), "adopt": adopt, "holdout": comparison.to_dict() if comparison else None}
    return FitResult(Policy(choices, floor, {**meta, "figures": figures}), comparison, figures)
