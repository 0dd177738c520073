"""A world the learning loop's code never sees: does the fitted policy prefer what truly worked?

Written apart from the loop and its simulator (issue 16, done-when 2). The world lives only here:
each phrasing (variant) the engine shows has a hidden chance of calming the customer, derived
from a hash of its id that nothing in src/ knows. Calls run through the real engine; the agent
says the card's phrase; the customer then calms or stays upset, as the hidden chance decides, in
words the engine reads for itself. Some customers answer a survey. The loop gets only the results
JSONL and the outcomes CSV, exactly what a user would give `empathy learn fit`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections import defaultdict
from pathlib import Path

from typer.testing import CliRunner

from empathy_engine.cli import app
from empathy_engine.events import CallStarted, Utterance
from empathy_engine.learning.policy import Policy
from empathy_engine.pipeline import Engine

OPENINGS = {
    "frustration": "This is ridiculous. I have called three times and nobody fixed my water heater. I am so fed up.",
    "cost_anxiety": "I'm on a fixed income and I'm really scared about how much this repair is going to cost me.",
    "confusion": "I don't understand what the technician meant by the heat exchanger. What does that even mean?",
    "urgency": "My furnace just died and it's freezing, I need someone out here today, as soon as possible.",
}
CALMED = "Okay, thank you, that really helps. I appreciate it."
#: Not calmed: the customer says it all again (the engine reads it as strongly as the first time).
STILL_UPSET = {state: ["No. " + line, line, "Listen. " + line] for state, line in OPENINGS.items()}
CALLS_PER_STATE = 400
MAX_CARDS = 4  # cards a call may walk through before the customer gives up
SURVEYED = 0.2  # a fifth of customers answer the survey


def true_chance(variant: str) -> float:
    """This world's hidden truth: how often a phrasing calms the customer (0.2 to 0.8)."""
    digest = hashlib.sha256(f"someone-else's-world:{variant}".encode()).digest()
    return 0.2 + 0.6 * int.from_bytes(digest[:8], "big") / 2**64


def _one_call(engine: Engine, call_id: str, state: str, rng: random.Random) -> tuple[dict, list[str], bool]:
    """One call: the customer opens upset; while a card is up the agent says it, and the customer
    calms (and the call winds down) with the hidden chance of the phrasing shown, or says again,
    in other words, that it is not better - so the agent walks on along the playbook's path."""
    session = engine.open(CallStarted(call_id=call_id))
    turns = [session.feed(Utterance("customer", OPENINGS[state], 1.0))]
    shown: list[str] = []
    calmed, t = False, 1.0
    for attempt in range(MAX_CARDS):
        cues = turns[-1].to_dict().get("cues") or []
        if not cues:
            break
        card = cues[0]
        shown.append(f"{card['id']}|{card['variant']}")
        t += 6.0
        turns.append(session.feed(Utterance("agent", card["say"], t)))
        calmed = rng.random() < true_chance(shown[-1])
        t += 6.0
        reply = CALMED if calmed else STILL_UPSET[state][attempt % len(STILL_UPSET[state])]
        turns.append(session.feed(Utterance("customer", reply, t)))
        if calmed:
            break
    return session.result(tuple(turns)).to_dict(), shown, calmed


def _run_world(tmp: Path) -> tuple[Path, Path, dict[str, set[str]]]:
    engine, rng = Engine(), random.Random(20261202)
    shown: dict[str, set[str]] = defaultdict(set)  # card id -> variants the engine chose among
    results, outcomes = tmp / "results.jsonl", tmp / "outcomes.csv"
    with results.open("w") as out, outcomes.open("w", newline="") as o:
        survey = csv.writer(o)
        survey.writerow(["call_id", "csat", "resolved", "referral", "review_text"])
        for state in OPENINGS:
            for n in range(CALLS_PER_STATE):
                call_id = f"world-{state}-{n}"
                result, cards, calmed = _one_call(engine, call_id, state, rng)
                out.write(json.dumps(result) + "\n")
                for key in cards:
                    card_id, variant = key.split("|")
                    shown[card_id].add(variant)
                if rng.random() < SURVEYED:
                    survey.writerow([call_id, 5 if calmed else 2, "yes" if calmed else "no", "", ""])
    return results, outcomes, shown


def test_the_fitted_policy_prefers_what_truly_worked_in_a_world_it_never_saw(tmp_path: Path) -> None:
    results, outcomes, shown = _run_world(tmp_path)
    policy_file = tmp_path / "policy.json"
    run = CliRunner().invoke(
        app, ["learn", "fit", str(results), "--outcomes", str(outcomes), "-o", str(policy_file)]
    )
    # It may judge the new policy not (yet) worth adopting (exit 1); it still writes what it learnt.
    assert run.exit_code in (0, 1) and policy_file.exists(), run.output
    policy = Policy.load(policy_file)
    judged = 0
    for card_id, variants in shown.items():
        if len(variants) < 2:
            continue  # nothing to choose between
        chances = sorted(((true_chance(f"{card_id}|{v}"), v) for v in variants), reverse=True)
        if chances[0][0] - chances[1][0] < 0.15:
            continue  # too close to tell apart from a few hundred calls
        state, step = card_id.split("/")
        preferred = policy.probabilities(state, step, "default")
        assert max(preferred, key=preferred.__getitem__) == chances[0][1], (card_id, chances, preferred)
        judged += 1
    assert judged >= 2, f"the world gave the loop too little to choose between: {dict(shown)}"
