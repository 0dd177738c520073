"""Fit the fusion's weights (src/empathy_engine/models/fusion-v1) and evaluate them against the hand-set ones.

    .venv/bin/python training/fit_fusion.py [--adopt hand-set|fitted] [--write]

What the labelled data we have can and cannot fit:

- The domain corpus (training/data/domain/) labels single customer turns from their words
  alone. That fits the weights of the patterns a single turn carries ("again", "still",
  "last time nobody showed up"): the turn goes through the real text model, pattern perceiver
  and `fuse`, and each weight is chosen to minimise the log-loss of the nine states on the
  corpus's calibration split (the text model was trained on its train split, so its readings
  there are over-confident); the dev split is only ever reported.
- It cannot fit the tracker's carry-over and decay, the patterns that need the turn before
  (repeats, resignation after bad news, questions after an explanation), or the call-header
  weights: those need customer states labelled in whole conversations, and a turn labelled
  without its call cannot show what the call adds. They stay hand-set until such labels exist.
- The escalation set (training/data/escalation/) is for evaluation only (its README: do not
  train or tune thresholds on it), so nothing here reads it.

`--write` writes weights.json (the adopted set; hand-set unless `--adopt fitted`) and
meta.json with both sets' figures, so the choice and its evidence stay together.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from empathy_engine.perception.fusion_weights import FusionWeights  # noqa: E402
from empathy_engine.perception.patterns import Context, ConversationPatternPerceiver  # noqa: E402
from empathy_engine.perception.text import TextEmotionPerceiver, TextReading  # noqa: E402
from empathy_engine.perception.text_model import TextModel  # noqa: E402
from empathy_engine.state.tracker import fuse  # noqa: E402
from empathy_engine.taxonomy import STATES  # noqa: E402
from training.corpora import DOMAIN_DIR, Example, domain_split, file_sha256, load_domain  # noqa: E402

OUT = REPO / "src" / "empathy_engine" / "models" / "fusion-v1"
FITTED = ("recurrence_frustration", "broken_promise_distrust", "broken_promise_frustration")
GRID = np.round(np.arange(0.0, 3.01, 0.1), 2)
ROUNDS = 3
NO_CONTEXT = Context(None, ())

DESCRIPTIONS = {
    "tracker.context_decay": "per customer turn, the share of the call-header signals that still counts",
    "tracker.max_context": "the most all call-header signals together may move one state's log-odds",
    "tracker.carry": "share of last turn's confident negative log-odds that carries into this turn",
    "tracker.carry_cap": "the most log-odds of last turn's state that can carry over",
    "tracker.against_neutral": "share of the strongest emotional signal taken off 'neutral'",
    "patterns.recurrence_frustration": "'again', 'still', 'third time' -> frustration",
    "patterns.broken_promise_distrust": "'last time nobody showed up', 'you promised' -> distrust",
    "patterns.broken_promise_frustration": "the same words -> frustration",
    "patterns.repeat_frustration": "the same complaint as an earlier turn -> frustration",
    "patterns.resigned_dejection": "short flat acceptance straight after bad news -> dejection",
    "patterns.question_confusion": "a question straight after a long explanation -> confusion",
    "patterns.echo_confusion": "the agent's jargon echoed back as a question -> confusion",
    "context.holiday_urgency": "a call on a public holiday -> urgency",
    "context.weekend_urgency": "a call at the weekend -> urgency",
    "context.night_urgency": "a call at night (22:00-05:59) -> urgency",
    "context.emergency_service_urgency": "an emergency service (water damage, restoration) -> urgency",
    "context.vulnerable_note_worry": "a CRM note naming someone vulnerable -> worry",
    "context.unresolved_frustration": "an unresolved earlier contact about the issue -> frustration",
    "context.no_show_distrust": "an earlier contact where nobody came -> distrust",
    "context.unresolved_distrust": "another unresolved earlier contact -> distrust",
}


def readings(text: TextEmotionPerceiver, examples: Sequence[Example]) -> tuple[list[TextReading], np.ndarray]:
    """The text model's reading of each customer turn, and the turns' state labels."""
    return [text.read(e.text) for e in examples], np.stack([e.targets[: len(STATES)] for e in examples])


def figures(weights: FusionWeights, data: tuple[list[TextReading], np.ndarray]) -> dict[str, float]:
    """Mean log-loss of the nine states, macro-F1 of detection (score >= 0.5), turns a fitted pattern moves."""
    reads, labels = data
    patterns = ConversationPatternPerceiver(weights.patterns)
    scores, fired = [], 0
    for reading in reads:
        signals = patterns.perceive(reading.text, reading.prediction.fingerprint, NO_CONTEXT)
        fired += bool(signals)
        turn = fuse(reading, signals, (), 0, None, 0, None, weights.tracker)
        scores.append([turn.states[s] for s in STATES])
    p = np.clip(np.asarray(scores), 1e-6, 1 - 1e-6)
    loss = -np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p))
    pred = p >= 0.5
    f1s = []
    for k in range(len(STATES)):
        tp = float(np.sum(pred[:, k] & (labels[:, k] == 1)))
        denominator = float(np.sum(pred[:, k]) + np.sum(labels[:, k] == 1))
        if np.sum(labels[:, k]) > 0:
            f1s.append(2 * tp / denominator if denominator else 0.0)
    return {"log_loss": round(float(loss), 4), "macro_f1": round(float(np.mean(f1s)), 4), "turns": len(reads),
            "turns_with_a_pattern": fired}  # fmt: skip


def with_patterns(weights: FusionWeights, **values: float) -> FusionWeights:
    return replace(weights, patterns=replace(weights.patterns, **values))


def fit(start: FusionWeights, data: tuple[list[TextReading], np.ndarray]) -> FusionWeights:
    """Coordinate descent over GRID, one fitted weight at a time, ROUNDS times (log-loss is smooth in each)."""
    best = start
    for _ in range(ROUNDS):
        for name in FITTED:
            losses = [(figures(with_patterns(best, **{name: float(v)}), data)["log_loss"], float(v)) for v in GRID]
            best = with_patterns(best, **{name: min(losses)[1]})
    return best


def flat(weights: FusionWeights) -> dict[str, float]:
    """Every weight under its dotted name ("tracker.carry"), as meta.json lists them."""
    return {f"{part}.{k}": v for part, values in weights.to_dict().items() for k, v in values.items()}


def meta(
    hand: FusionWeights, fitted: FusionWeights, results: dict[str, Any], adopted: str, text_model: str
) -> dict[str, Any]:
    files = sorted(DOMAIN_DIR.glob("customer_*.jsonl"))
    return {
        "name": "fusion-v1",
        "version": 1,
        "script": "training/fit_fusion.py",
        "adopted": adopted,
        "weights": flat(hand if adopted == "hand-set" else fitted),
        "what": DESCRIPTIONS,
        "fitted": list(f"patterns.{n}" for n in FITTED),
        "fitted_values": {f"patterns.{n}": getattr(fitted.patterns, n) for n in FITTED},
        "hand_set_values": {f"patterns.{n}": getattr(hand.patterns, n) for n in FITTED},
        "not_fitted_because": "the tracker's carry-over and decay, the patterns that need the turn before and the "
        "call-header weights need customer states labelled in whole conversations; the domain corpus labels single "
        "turns from their words alone, and the escalation set is for evaluation only (its README)",
        "data": {f.name: {"sha256": file_sha256(f), "rows": len(f.read_text().splitlines())} for f in files},
        "fit_split": "calibration (training.corpora.domain_split)",
        "held_out_split": "dev (training.corpora.domain_split)",
        "text_model": text_model,
        "metrics": results,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--adopt", choices=("hand-set", "fitted"), default="hand-set")
    parser.add_argument("--write", action="store_true", help=f"write weights.json and meta.json to {OUT}")
    args = parser.parse_args(argv)
    hand = FusionWeights.from_dict("fusion-v1", json.loads((OUT / "weights.json").read_text()))
    if (OUT / "meta.json").exists():  # start from the hand-set values even after fitted ones were adopted
        recorded = json.loads((OUT / "meta.json").read_text())
        hand = with_patterns(hand, **{k.split(".", 1)[1]: v for k, v in recorded["hand_set_values"].items()})
    model = TextModel.bundled()
    text = TextEmotionPerceiver(model)
    customer, _ = load_domain()
    calibration = readings(text, [e for e in customer if domain_split(e) == "calibration"])
    dev = readings(text, [e for e in customer if domain_split(e) == "dev"])
    fitted = fit(hand, calibration)
    results = {
        "metric": "mean binary log-loss of the nine customer states (lower is better); macro-F1 of detection",
        "hand_set": {"calibration": figures(hand, calibration), "dev": figures(hand, dev)},
        "fitted": {"calibration": figures(fitted, calibration), "dev": figures(fitted, dev)},
    }
    record = meta(hand, fitted, results, args.adopt, model.directory.name)
    print(json.dumps({k: record[k] for k in ("hand_set_values", "fitted_values", "metrics")}, indent=2))
    if args.write:
        adopted = hand if args.adopt == "hand-set" else fitted
        (OUT / "weights.json").write_text(json.dumps(adopted.to_dict(), indent=2) + "\n")
        (OUT / "meta.json").write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
