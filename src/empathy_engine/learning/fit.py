"""`empathy learn fit`: logged cards and their rewards -> a cue policy (docs/learning.md, "Fit").

Per (state, step) and per context, each variant's success rate gets a Beta(1 + sum r, 1 + sum (1 - r))
posterior (r in [0, 1]; a Beta-Bernoulli model, the one Thompson sampling uses). The policy
shows each variant with its posterior probability of being the best (P(best), by a seeded Monte
Carlo at fit time, so a live turn only looks the number up), mixed with a floor so that none
falls to zero: p = floor + (1 - k * floor) * P(best) for k variants.

Each context's evidence is its own cards plus the step's cards in every context, the latter
scaled down to at most PRIOR_CARDS cards (`shrunk`): a context borrows strength until its own
cards outweigh it. A context the policy has no entry for uses the "default" entry. The choice
odds use a sharpened posterior (SHARPEN). A winner is only declared by `ips_winner`.

Before a policy is adopted, it is fitted on 70% of the calls
and its SNIPS estimate on the other 30% must beat the logging policy (the interval of the
difference above 0); the policy written is then refitted on all calls.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from empathy_engine.learning.estimators import Comparison, compare
from empathy_engine.learning.policy import DEFAULT_FLOOR, Policy
from empathy_engine.learning.rewards import CallOutcome, Card, reward

MONTE_CARLO = 4000
#: Choice odds come from a posterior whose variance is scaled by this (counts divided by it): the
#: "alpha < 1" of Chapelle & Li (2011), which explores less than plain Thompson sampling and lost
#: less in their and our simulations (docs/learning.md). Declaring a winner uses the plain posterior.
SHARPEN = 0.25
#: A context's prior is the step's evidence in every context, worth at most this many cards.
PRIOR_CARDS = 50
HOLDOUT = 0.3
#: The chance of a false winner over everything judged at once (see `ips_winner`).
WINNER_ERROR = 0.05


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


def shrunk(wins: np.ndarray, cards: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Per context (along `axis`): its own wins and cards plus the pooled ones over all contexts,
    scaled down to at most PRIOR_CARDS cards per variant: contexts borrow strength until their own
    evidence outweighs it (empirical-Bayes shrinkage)."""
    pooled_wins, pooled_cards = wins.sum(axis=axis, keepdims=True), cards.sum(axis=axis, keepdims=True)
    scale = np.minimum(1.0, PRIOR_CARDS / np.maximum(pooled_cards, 1.0))
    return wins + scale * pooled_wins, cards + scale * pooled_cards


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


def weighted_means(sums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each variant's inverse-propensity-weighted mean reward and its variance, from the sums
    (..., 5): sum w, sum w r, sum w^2, sum w^2 r, sum w^2 r^2 over the cards that showed it, w = 1 / propensity.

    The weighted (Hajek) mean, sum w r / sum w, counts each card as often as the variant was
    unlikely to be shown: periods and contexts where the logging policy seldom showed it weigh as
    much as those where it often did, so a drifting base rate under a changing policy does not
    make a variant look better (its plain success rate would). Its variance is
    sum w^2 (r - mean)^2 / (sum w)^2."""
    w, wr, w2, w2r, w2r2 = np.moveaxis(sums, -1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = wr / w
        variance = (w2r2 - 2 * mean * w2r + mean**2 * w2) / w**2
    return mean, np.maximum(variance, 0.0)


def weight_sums(propensity: np.ndarray, reward: np.ndarray) -> np.ndarray:
    """The five sums `weighted_means` reads, per card (last axis)."""
    w = 1.0 / propensity
    return np.stack([w, w * reward, w * w, w * w * reward, w * w * reward * reward], axis=-1)


def clear_winner(mean: np.ndarray, variance: np.ndarray, tests: int) -> np.ndarray:
    """Over the last axis (variants): is the top variant ahead of every other one, each difference's
    normal interval (Bonferroni over `tests` x the others) above 0? Where no, the result is False."""
    k = mean.shape[-1]
    safe = np.nan_to_num(mean, nan=-np.inf)
    top = np.argmax(safe, axis=-1)[..., None]
    gap = np.take_along_axis(mean, top, -1) - mean
    spread = np.sqrt(np.take_along_axis(variance, top, -1) + variance)
    z = NormalDist().inv_cdf(1 - WINNER_ERROR / (max(1, tests) * (k - 1)) / 2)
    with np.errstate(invalid="ignore"):
        ahead = np.where(np.arange(k) == top, True, np.nan_to_num(gap - z * spread, nan=-1.0) > 0)
    return np.asarray(ahead.all(axis=-1) & np.isfinite(safe).all(axis=-1), dtype=bool)


def ips_winner(variants: Sequence[str], rows: Sequence[Scored], tests: int = 1) -> str | None:
    """The variant declared best among `rows` (one step and context), or None: the top weighted
    mean (`weighted_means`) ahead of every other variant with the difference's interval above 0,
    Bonferroni over `tests` x the others: a false winner at most WINNER_ERROR of the time over
    everything judged at once."""
    if len(variants) < 2:
        return None
    sums = np.zeros((len(variants), 5))
    for r in rows:
        sums[variants.index(r.card.variant)] += weight_sums(np.array(r.card.propensity), np.array(r.reward))
    mean, variance = weighted_means(sums)
    if (sums[:, 0] == 0).any() or not clear_winner(mean, variance, tests):
        return None
    return variants[int(np.argmax(mean))]


def fit_choices(
    rows: Sequence[Scored], floor: float = DEFAULT_FLOOR
) -> tuple[dict[str, dict[str, dict[str, float]]], dict[str, dict[str, object]]]:
    """The policy's choices and, per step and context, the figures behind them (cards, rates, winner)."""
    groups: dict[str, list[Scored]] = defaultdict(list)
    for row in rows:
        groups[row.card.key].append(row)
    judged = [g for g in groups.values() if len({r.card.variant for r in g}) > 1]  # a lone variant wins nothing
    tests = sum(len({r.card.context for r in g} | {"default"}) for g in judged)
    choices: dict[str, dict[str, dict[str, float]]] = {}
    figures: dict[str, dict[str, object]] = {}
    for key, group in sorted(groups.items()):
        choices[key], figures[key] = _fit_step(key, group, floor, tests)
    return choices, figures


def _fit_step(
    key: str, rows: Sequence[Scored], floor: float, tests: int
) -> tuple[dict[str, dict[str, float]], dict[str, object]]:
    """One step: per context (the "default" one first), each variant's choice probability."""
    variants = sorted({r.card.variant for r in rows})
    contexts = ["default", *sorted({r.card.context for r in rows} - {"default"})]
    wins, cards = np.zeros((len(contexts), len(variants))), np.zeros((len(contexts), len(variants)))
    for r in rows:
        c, v = contexts.index(r.card.context), variants.index(r.card.variant)
        wins[c, v] += r.reward
        cards[c, v] += 1
    wins_s, cards_s = shrunk(wins, cards, axis=0)
    choices: dict[str, dict[str, float]] = {}
    figures: dict[str, object] = {}
    for c, context in enumerate(contexts):
        s, f = wins_s[c], cards_s[c] - wins_s[c]
        sharp = posterior_samples(s / SHARPEN, f / SHARPEN, _seed(key, context))
        probs = with_floor(p_best(sharp), floor)
        choices[context] = {v: float(p) for v, p in zip(variants, probs / probs.sum(), strict=True)}
        won = ips_winner(variants, [r for r in rows if r.card.context == context], tests)
        figures[context] = {
            "cards": int(cards[c].sum()),
            "variants": {
                v: {"cards": int(cards[c, k]), "mean_reward": round(float(wins[c, k] / cards[c, k]), 4)}
                for k, v in enumerate(variants)
                if cards[c, k]
            },
            "winner": won,
        }
    return choices, figures


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
