"""What a cue policy costs a live turn: the coach's `card_for` with and without one, same process.

    python benchmarks/cue_choice.py [--cards 5000] [--rounds 6]

A policy with an entry for every step and context of the shipped playbook; a named customer on a
holiday (two equally personal phrasings to draw between). Rounds alternate between the two
coaches so a busy machine slows both alike; prints the median and best microseconds per card.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from empathy_engine.coaching.choice import CONTEXTS, variant_id
from empathy_engine.coaching.coach import Coach, CoachMemory
from empathy_engine.coaching.playbook import load_playbook
from empathy_engine.learning.policy import Policy
from empathy_engine.perception.context import CallFacts
from empathy_engine.results import CustomerTurn, Evidence
from empathy_engine.taxonomy import STATES


def full_policy(path: Path) -> Policy:
    """Favour each step's first phrasing, floor for the others, in every context."""
    choices = {}
    for state, steps in load_playbook().states.items():
        for step in steps.steps:
            variants = [variant_id(f"{state}/{step.id}", text) for text in step.say]
            odds = {v: (0.02 if i else 1 - 0.02 * (len(variants) - 1)) for i, v in enumerate(variants)}
            choices[f"{state}/{step.id}"] = {c: odds for c in CONTEXTS}
    Policy(choices, 0.02).save(path)
    return Policy.load(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    playbook, fingerprint = load_playbook(), np.eye(8, dtype=np.float32)[0]
    with tempfile.TemporaryDirectory() as folder:
        policy = full_policy(Path(folder) / "policy.json")
    scores = {s: (0.95 if s == "frustration" else 0.05) for s in STATES}
    turn = CustomerTurn(1, scores, ("frustration",), "frustration", 0.8, (Evidence("frustration", "ugh", "text"),))  # type: ignore[arg-type]
    facts = CallFacts(name="Dana", occasion="Christmas Day")
    coaches = {"no policy": Coach(playbook), "policy": Coach(playbook, chooser=policy)}
    timings: dict[str, list[float]] = {name: [] for name in coaches}
    for _ in range(args.rounds):
        for name, coach in coaches.items():
            start = time.perf_counter()
            for i in range(args.cards):
                coach.card_for(turn, "ugh", fingerprint, CoachMemory(facts, call_id=f"call-{i}"))
            timings[name].append((time.perf_counter() - start) / args.cards * 1e6)
    for name, values in timings.items():
        print(f"{name:>9}: median {statistics.median(values):.1f} µs, best {min(values):.1f} µs per card_for")


if __name__ == "__main__":
    main()
