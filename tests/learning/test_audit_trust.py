"""The audit's "What builds trust here": effects per state, step and phrasing, claims only when the
interval clears 0; and the audit's JSON as input to `empathy learn fit`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from empathy_engine.learning.effects import MIN_CARDS, effects, tally
from empathy_engine.learning.rewards import Card

DEMO = Path(__file__).resolve().parents[2] / "src" / "empathy_engine" / "demo" / "calls"


def cards(variant: str, n: int, eased: int, key: tuple[str, str] = ("worry", "reassure")) -> list[Card]:
    return [Card(f"c-{variant}-{i}", 1, *key, "default", variant, 0.5, True, i < eased) for i in range(n)]


def test_effects_claim_only_when_the_interval_clears_zero() -> None:
    counts = tally(cards("a", 400, 280) + cards("b", 400, 160))  # 70% against 40%
    validate, act = ("frustration", "validate"), ("urgency", "act")
    counts += tally(cards("c", 300, 150, validate) + cards("d", 300, 152, validate))  # no real difference
    counts += tally(cards("e", MIN_CARDS - 1, MIN_CARDS - 1, act) + cards("f", 100, 10, act))
    by_step = {(s["state"], s["step"]): {v["variant"]: v for v in s["variants"]} for s in effects(counts)}
    worry = by_step[("worry", "reassure")]
    assert worry["a"]["claim"] == "better" and worry["b"]["claim"] == "worse"
    assert worry["a"]["effect"]["value"] == 0.3 and worry["a"]["effect"]["lo"] > 0
    assert worry["a"]["eased"] == 0.7 and worry["a"]["followed"] == 1.0
    same = by_step[("frustration", "validate")]
    assert same["c"]["claim"] is None and same["c"]["effect"]["lo"] < 0 < same["c"]["effect"]["hi"]
    assert by_step[("urgency", "act")]["e"]["effect"] is None  # too few cards to say anything
    counted = tally(cards("a", 3, 1))
    assert [counted[("worry/reassure", "a", m)] for m in ("cards", "judged", "eased", "followed_of", "followed")] == [
        3, 3, 1, 3, 3
    ]
    assert counted[("worry/reassure", "a", "w")] == 6.0  # 1 / propensity 0.5, three times


def test_audit_json_and_report_carry_cards_and_the_section(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "empathy_engine", "audit", str(DEMO), "--json", str(tmp_path / "a.json"),
         "--report", str(tmp_path / "r.html"), "--workers", "1"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    audit = json.loads((tmp_path / "a.json").read_text())
    assert audit["audit"]["policy"] == "none"
    logged = [c for call in audit["calls"] for c in call["cards"]]
    assert logged and all(c["variant"].startswith(f"{c['state']}/{c['step']}#") for c in logged)
    steps = audit["summary"]["what_builds_trust"]
    assert sum(v["cards"] for s in steps for v in s["variants"]) == len(logged)
    assert "What builds trust here" in (tmp_path / "r.html").read_text()
    policy = tmp_path / "p.json"
    fit = [sys.executable, "-m", "empathy_engine", "learn", "fit", str(tmp_path / "a.json"), "-o", str(policy)]
    fitted = subprocess.run(fit, capture_output=True, text=True, check=False)
    assert fitted.returncode in (0, 1) and (tmp_path / "p.json").exists(), fitted.stderr
    assert json.loads((tmp_path / "p.json").read_text())["header"]["cards"] <= len(logged)
