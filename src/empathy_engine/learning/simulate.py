"""`empathy learn simulate`: a contact centre with known truths, to test the loop (docs/learning.md).

The world (per seed): STATES customer states, each with VARIANTS phrasings; each call has a context
(default, repeat, night_or_holiday, vulnerable) and CARDS cards. A variant's true success rate
(the customer's state eases) depends on the state and the context: in each state the best variant
beats the next by GAP (five points), and in the vulnerable context another variant is best. The
agent follows a card with probability COMPLIANCE; a card not followed has no variant effect. A few
customers (CSAT_RATE) answer a survey, a batch late; satisfaction rises with the call's successes.
The base rates drift (a random walk shared by all variants). The null world has no differences.

Three ways of choosing run in the same worlds: the loop (fit.py's model, refitted every BATCH
calls: P(best) with a floor), uniform, and epsilon-greedy. Everything is numpy over all seeds at
once, so 20 seeds of 20,000 calls take seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from empathy_engine.learning.fit import SHARPEN, clear_winner, shrunk, weight_sums, weighted_means
from empathy_engine.learning.policy import DEFAULT_FLOOR

STATES, VARIANTS, CONTEXTS, CARDS = 4, 3, 4, 2
CONTEXT_SHARE = np.array([0.55, 0.2, 0.15, 0.1])  # default, repeat, night_or_holiday, vulnerable
GAP, WORST = 0.05, -0.03  # best and worst variant against the middle one
COMPLIANCE, CSAT_RATE, DRIFT = 0.7, 0.03, 0.004
BATCH, DRAWS, EPSILON = 500, 1000, 0.1


@dataclass(frozen=True, slots=True)
class World:
    """True success rates (seeds, STATES, CONTEXTS, VARIANTS) before drift, and each state's best variant."""

    theta: np.ndarray
    best: np.ndarray  # (seeds, STATES, CONTEXTS)


def make_world(seeds: int, null: bool, rng: np.random.Generator) -> World:
    base = rng.uniform(0.35, 0.55, (seeds, STATES, 1, 1))
    offsets = np.zeros((seeds, STATES, CONTEXTS, VARIANTS))
    if not null:
        best = rng.integers(0, VARIANTS, (seeds, STATES))
        worst = (best + 1 + rng.integers(0, VARIANTS - 1, (seeds, STATES))) % VARIANTS
        for c in range(CONTEXTS):
            b = (best + 1) % VARIANTS if c == CONTEXTS - 1 else best  # the vulnerable context prefers another
            w = np.where(worst == b, best, worst)
            np.put_along_axis(offsets[:, :, c, :], b[..., None], GAP, axis=-1)
            np.put_along_axis(offsets[:, :, c, :], w[..., None], WORST, axis=-1)
    theta = base + offsets
    return World(theta, np.argmax(theta, axis=-1) if not null else np.full(theta.shape[:-1], -1))


@dataclass
class Ledger:
    """What the loop has seen: reward sums and card counts per (seed, state, context, variant)."""

    seeds: int
    wins: np.ndarray = field(init=False)
    cards: np.ndarray = field(init=False)

    weighted: np.ndarray = field(init=False)  # fit.weight_sums per variant, for fit.weighted_means

    def __post_init__(self) -> None:
        shape = (self.seeds, STATES, CONTEXTS, VARIANTS)
        self.wins, self.cards = np.zeros(shape), np.zeros(shape)
        self.weighted = np.zeros((*shape, 5))

    def pooled(self) -> tuple[np.ndarray, np.ndarray]:
        """Each context's own cards plus the state's cards in every context, shrunk to at most
        PRIOR_CARDS cards (fit.py: the pooled evidence is each context's prior)."""
        return shrunk(self.wins, self.cards, axis=2)


def loop_probs(ledger: Ledger, rng: np.random.Generator, floor: float = DEFAULT_FLOOR) -> np.ndarray:
    """The loop's policy: floor + (1 - k floor) P(best) under Beta(1 + wins, 1 + losses) posteriors."""
    wins, cards = ledger.pooled()
    a = SHARPEN
    samples = rng.beta(1 + wins / a, 1 + (cards - wins) / a, size=(DRAWS, *wins.shape))
    best = np.argmax(samples, axis=-1)
    p_best = np.stack([(best == k).mean(axis=0) for k in range(VARIANTS)], axis=-1)
    return floor + (1 - VARIANTS * floor) * p_best


def greedy_probs(ledger: Ledger, rng: np.random.Generator) -> np.ndarray:
    wins, cards = ledger.pooled()
    mean = (1 + wins) / (2 + cards) + rng.uniform(0, 1e-9, wins.shape)  # random tie-break
    top = np.argmax(mean, axis=-1)
    return EPSILON / VARIANTS + (1 - EPSILON) * (np.arange(VARIANTS) == top[..., None])


def uniform_probs(ledger: Ledger, rng: np.random.Generator) -> np.ndarray:
    return np.full(ledger.wins.shape, 1.0 / VARIANTS)


STRATEGIES = {"loop": loop_probs, "uniform": uniform_probs, "epsilon_greedy": greedy_probs}


def declares_winner(ledger: Ledger) -> np.ndarray:
    """Per seed: does the conservative rule (fit.ips_winner) name a winner in any state and context?"""
    mean, variance = weighted_means(ledger.weighted)
    declared = clear_winner(mean, variance, STATES * CONTEXTS) & (ledger.cards > 0).all(axis=-1)
    return np.asarray(declared.reshape(declared.shape[0], -1).any(axis=1), dtype=bool)


def _batch(
    world: World, drift: np.ndarray, probs: np.ndarray, rng: np.random.Generator, choice: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One batch of calls: state, context, (variant, eased) and propensity per card (seeds, BATCH,
    CARDS); regret per call."""
    seeds = world.theta.shape[0]
    context = rng.choice(CONTEXTS, size=(seeds, BATCH, 1), p=CONTEXT_SHARE).repeat(CARDS, axis=2)
    state = rng.integers(0, STATES, (seeds, BATCH, CARDS))
    seed_ix = np.arange(seeds)[:, None, None]
    pi = probs[seed_ix, state, context]  # (seeds, BATCH, CARDS, VARIANTS)
    variant = (choice.random((seeds, BATCH, CARDS, 1)) > pi.cumsum(axis=-1)).sum(axis=-1).clip(max=VARIANTS - 1)
    theta = np.clip(world.theta + drift[..., None, None], 0.01, 0.99)[seed_ix, state, context]
    followed = rng.random((seeds, BATCH, CARDS)) < COMPLIANCE
    middle = np.median(theta, axis=-1)  # a card not followed: no variant effect
    rate = np.where(followed, np.take_along_axis(theta, variant[..., None], -1)[..., 0], middle)
    eased = rng.random((seeds, BATCH, CARDS)) < rate
    regret = COMPLIANCE * (theta.max(axis=-1) - (pi * theta).sum(axis=-1))
    shown = np.take_along_axis(pi, variant[..., None], -1)[..., 0]  # each card's propensity
    return state, context, np.stack([variant, eased.astype(int)]), shown, regret.sum(axis=-1)


def _record(ledger: Ledger, state: np.ndarray, context: np.ndarray, variant: np.ndarray, shown: np.ndarray,
            reward: np.ndarray, before: np.ndarray | None = None) -> None:  # fmt: skip
    """Add a batch's cards to the ledger, or (`before`: their earlier rewards) update their rewards."""
    seed_ix = np.broadcast_to(np.arange(ledger.seeds)[:, None, None], state.shape)
    index = (seed_ix.ravel(), state.ravel(), context.ravel(), variant.ravel())
    old = np.zeros(state.shape) if before is None else before
    if before is None:
        np.add.at(ledger.cards, index, 1)
    np.add.at(ledger.wins, index, (reward - old).ravel())
    change = weight_sums(shown, reward) - weight_sums(shown, old) * (before is not None)
    np.add.at(ledger.weighted, index, change.reshape(-1, 5))


def _csat(outcome: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The change to each card's reward once its call's survey arrives: the reward becomes the mean of
    eased and satisfied ((eased + csat) / 2), for the few calls (CSAT_RATE) that answer."""
    eased = outcome[1].astype(float)
    seeds, calls, _ = eased.shape
    answered = rng.random((seeds, calls, 1)) < CSAT_RATE
    satisfied = rng.random((seeds, calls, 1)) < 0.2 + 0.6 * eased.mean(axis=-1, keepdims=True)
    return np.where(answered, (satisfied - eased) / 2, 0.0)


def run(strategy: str, world: World, drift: np.ndarray, seed: int, world_seed: int = 0) -> dict[str, np.ndarray]:
    """One strategy over `drift.shape[1]` batches of every seed's world: its regret per batch, whether
    its policy ranks each state's best variant first (default context), and null-world verdicts."""
    # Common random numbers: every strategy meets the same callers, contexts, compliance and luck
    # (`events`); only its own choices (`rng`) differ, so the strategies' regrets compare closely.
    rng, events = np.random.default_rng(seed), np.random.default_rng(world_seed)
    seeds, batches = drift.shape[:2]
    ledger = Ledger(seeds)
    regret, found = np.zeros((seeds, batches)), np.zeros((seeds, batches, STATES), dtype=bool)
    late: tuple[np.ndarray, ...] | None = None  # last batch's cards, whose surveys arrive now
    for t in range(batches):
        probs = STRATEGIES[strategy](ledger, rng)
        found[:, t] = np.argmax(probs[:, :, 0, :], axis=-1) == world.best[:, :, 0]
        state, context, outcome, shown, call_regret = _batch(world, drift[:, t], probs, events, rng)
        regret[:, t] = call_regret.sum(axis=1)
        eased = outcome[1].astype(float)
        _record(ledger, state, context, outcome[0], shown, eased)
        if late is not None:  # surveys arrive a batch late: only the reward changes, not the count
            state0, context0, variant0, shown0, eased0, delta = late
            _record(ledger, state0, context0, variant0, shown0, eased0 + delta, before=eased0)
        late = (state, context, outcome[0], shown, eased, _csat(outcome, events))
    return {"regret": regret, "found": found, "declared": declares_winner(ledger)}


def simulate(seeds: int = 20, calls: int = 20_000, null: bool = False, seed: int = 0) -> dict[str, Any]:
    """Every strategy in the same worlds; the figures as plain numbers (see `figures`)."""
    rng = np.random.default_rng(seed)
    world = make_world(seeds, null, rng)
    batches = max(1, calls // BATCH)
    drift = np.cumsum(rng.normal(0, DRIFT, (seeds, batches, STATES)), axis=1)
    names = ["loop"] if null else list(STRATEGIES)
    runs = {name: run(name, world, drift, seed + 1 + i, seed + 1000) for i, name in enumerate(names)}
    return figures(runs, seeds, batches, null)


def _band(x: np.ndarray) -> dict[str, list[float]]:
    """Median and the 10th-90th percentile band over seeds (axis 0), per batch."""
    lo, mid, hi = np.percentile(x, [10, 50, 90], axis=0)
    return {"p10": lo.round(2).tolist(), "median": mid.round(2).tolist(), "p90": hi.round(2).tolist()}


def figures(runs: dict[str, dict[str, np.ndarray]], seeds: int, batches: int, null: bool) -> dict[str, Any]:
    calls = [BATCH * (t + 1) for t in range(batches)]
    world = {
        "states": STATES, "variants": VARIANTS, "contexts": CONTEXTS, "cards_per_call": CARDS,
        "gap": 0 if null else GAP, "compliance": COMPLIANCE, "csat_rate": CSAT_RATE, "drift_sd_per_batch": DRIFT,
        "batch": BATCH,
    }
    out: dict[str, Any] = {"seeds": seeds, "calls": BATCH * batches, "null": null, "world": world, "calls_axis": calls}
    loop = runs["loop"]
    out["declared_winner_share"] = float(loop["declared"].mean())
    if null:
        return out
    share = loop["found"].mean(axis=(0, 2))  # over seeds and states
    found_by = next((calls[t] for t in range(batches) if (share[t:] >= 0.9).all()), None)
    out["found_best_share"] = share.round(3).tolist()
    out["found_best_90_within_calls"] = found_by
    out["regret"] = {name: _band(np.cumsum(r["regret"], axis=1)) for name, r in runs.items()}
    total = {name: r["regret"].sum(axis=1) for name, r in runs.items()}
    out["total_regret_mean"] = {name: round(float(v.mean()), 1) for name, v in total.items()}
    rng = np.random.default_rng(0)
    for other in ("uniform", "epsilon_greedy"):
        gap = total["loop"] - total[other]
        means = gap[rng.integers(0, seeds, (2000, seeds))].mean(axis=1)  # bootstrap over worlds
        lo, hi = np.percentile(means, [2.5, 97.5])
        out[f"loop_minus_{other}"] = {"mean": float(gap.mean()), "lo": float(lo), "hi": float(hi)}
        out[f"loop_below_{other}_share_of_seeds"] = float((gap < 0).mean())
    return out
