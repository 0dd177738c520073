"""`empathy learn fit/evaluate/simulate` and `--policy` on analyze, on real files through the real CLI.

The fit test's world is written here, not by the loop's simulator: per state one phrasing truly
eases the customer more often, and the fitted policy must prefer it."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from empathy_engine.demo import CALLS
from empathy_engine.learning.policy import Policy

DEMO = Path(__file__).resolve().parents[2] / "src" / "empathy_engine" / "demo" / "calls"
#: (state, step) -> (variant, true rate of easing): the better variant differs per state.
TRUTH = {
    ("frustration", "validate"): {"frustration/validate#aaaaaa": 0.65, "frustration/validate#bbbbbb": 0.40},
    ("worry", "reassure"): {"worry/reassure#cccccc": 0.35, "worry/reassure#dddddd": 0.60},
}


def empathy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "empathy_engine", *args], capture_output=True, text=True, check=False)


def _score(intensity: float) -> float:
    return 1 / (1 + math.exp(-(intensity - 0.33) * 8.0 / 0.67)) if intensity else 0.05


def _call(i: int, rng: np.random.Generator) -> tuple[dict[str, Any], bool]:
    (state, step), truth = list(TRUTH.items())[i % 2]
    variant = list(truth)[int(rng.integers(0, 2))]
    eased = bool(rng.random() < truth[variant])
    card = {"id": f"{state}/{step}", "state": state, "source": "playbook", "variant": variant, "propensity": 0.5}
    turns = [
        {"index": 0, "speaker": "customer", "states": {state: _score(0.8)}, "cues": [{**card, "followed": True}]},
        {"index": 1, "speaker": "agent", "behaviours": ["validate"]},
        {"index": 2, "speaker": "customer", "states": {state: _score(0.3 if eased else 0.85)}, "cues": []},
    ]
    return {"id": f"other-{i}", "turns": turns, "policy": "none", "context": "default"}, eased


def test_learn_fit_prefers_what_truly_worked_in_a_world_it_does_not_know(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    results, outcomes = tmp_path / "results.jsonl", tmp_path / "outcomes.csv"
    with results.open("w") as r, outcomes.open("w", newline="") as o:
        writer = csv.writer(o)
        writer.writerow(["call_id", "csat", "resolved", "referral", "review_text"])
        for i in range(3000):
            call, eased = _call(i, rng)
            r.write(json.dumps(call) + "\n")
            if rng.random() < 0.05:  # a few answer the survey
                writer.writerow([call["id"], 5 if eased else 2, "", "", ""])
    policy = tmp_path / "policy.json"
    fitted = empathy("learn", "fit", str(results), "--outcomes", str(outcomes), "-o", str(policy))
    assert fitted.returncode == 0, fitted.stderr
    loaded = Policy.load(policy)
    for (state, step), truth in TRUTH.items():
        odds = loaded.probabilities(state, step, "default")
        assert max(odds, key=odds.__getitem__) == max(truth, key=truth.__getitem__)
        assert min(odds.values()) >= loaded.floor - 1e-12
    header = json.loads(policy.read_text())["header"]
    assert header["adopt"] is True and header["holdout"]["difference"]["lo"] > 0
    assert header["data"][0]["sha256"] and header["version"] == loaded.version
    evaluated = empathy("learn", "evaluate", str(results), "--policy", str(policy), "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    figures = json.loads(evaluated.stdout)
    assert figures["adopt"] is True and figures["new"]["value"] > figures["logging"]["value"]


def test_learn_policy_on_analyze_is_used_stamped_and_replayed_identically(tmp_path: Path) -> None:
    calls = [str(DEMO / f"{name}.json") for name in CALLS]
    logged = tmp_path / "logged.jsonl"
    first = empathy("analyze", *calls, "-f", "jsonl")
    assert first.returncode == 0, first.stderr
    logged.write_text(first.stdout)
    results = [json.loads(line) for line in first.stdout.splitlines()]
    assert {r["policy"] for r in results} == {"none"}
    cards = [c for r in results for t in r["turns"] for c in t.get("cues", [])]
    assert cards and all(c["variant"].startswith(c["id"] + "#") and 0 < c["propensity"] <= 1 for c in cards)
    policy = tmp_path / "policy.json"
    fitted = empathy("learn", "fit", str(logged), "-o", str(policy))
    assert fitted.returncode in (0, 1), fitted.stderr  # four calls: too few to beat, so adopt: false (exit 1)
    assert "adopt" in json.loads(policy.read_text())["header"]
    with_policy = [empathy("analyze", *calls, "-f", "jsonl", "--policy", str(policy)) for _ in range(2)]
    assert with_policy[0].stdout == with_policy[1].stdout  # a replay with the same policy is identical
    version = Policy.load(policy).version
    assert {json.loads(line)["policy"] for line in with_policy[0].stdout.splitlines()} == {version}


def test_learn_broken_policy_is_a_clear_error_naming_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "empathy-policy/1", "header": {"floor": 2}, "choices": {}}))
    for args in (["analyze", str(DEMO / "cost_worry.json")], ["audit", str(DEMO)], ["bench", "--calls", "4"]):
        out = empathy(*args, "--policy", str(bad))
        assert out.returncode == 2 and f"{bad}: header.floor" in out.stderr and "Traceback" not in out.stderr, args


def test_learn_simulate_writes_figures_and_the_regret_plot(tmp_path: Path) -> None:
    out = empathy("learn", "simulate", "--seeds", "3", "--calls", "2000", "-o", str(tmp_path))
    assert out.returncode == 0, out.stderr
    found = json.loads((tmp_path / "simulation.json").read_text())
    world, null = found["world"], found["null"]
    assert world["seeds"] == 3 and set(world["regret"]) == {"loop", "uniform", "epsilon_greedy"}
    assert world["total_regret_mean"]["loop"] < world["total_regret_mean"]["uniform"]
    assert 0 <= null["declared_winner_share"] <= 1 and null["world"]["gap"] == 0
    assert (tmp_path / "regret.png").read_bytes()[:4] == b"\x89PNG"
    assert "null world" in out.stdout
