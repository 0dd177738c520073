"""Escalation on the labelled bot conversations: exact turn, within one turn, false escalations.

    .venv/bin/python training/evaluate_escalation.py [--json OUT]

The set (training/data/escalation/) is split in two by a hash of the conversation id: the
`dev` half is the one we looked at while writing the rules; the `held-out` half was never
looked at, so its figures are the honest ones. "Within one turn" means at most one customer
turn early or late.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from empathy_engine.ingest.conversation import ConversationV1  # noqa: E402
from empathy_engine.perception.text_model import DEFAULT_MODEL  # noqa: E402
from empathy_engine.pipeline import Engine, EngineSettings  # noqa: E402
from training.corpora import hash_fraction  # noqa: E402

DATA = REPO / "training" / "data" / "escalation" / "bot_conversations.jsonl"


def customer_position(turns: list[dict[str, Any]], index: int | None) -> int | None:
    """The rank among customer turns of turn `index` (so "one turn" means one customer turn)."""
    if index is None:
        return None
    return sum(1 for t in turns[: index + 1] if t["speaker"] == "customer") - 1


def score(rows: list[dict[str, Any]]) -> dict[str, float]:
    should = [r for r in rows if r["gold_turn"] is not None]
    calm = [r for r in rows if r["gold_turn"] is None]
    exact = sum(r["pred_turn"] == r["gold_turn"] for r in should)
    near = sum(r["pred_turn"] is not None and abs(r["pred_pos"] - r["gold_pos"]) <= 1 for r in should)
    reason = sum(r["pred_reason"] == r["gold_reason"] for r in should)
    return {
        "conversations": len(rows),
        "exact_turn": round(exact / len(should), 3) if should else 0.0,
        "within_one_turn": round(near / len(should), 3) if should else 0.0,
        "reason_accuracy": round(reason / len(should), 3) if should else 0.0,
        "missed_escalation_rate": round(sum(r["pred_turn"] is None for r in should) / len(should), 3)
        if should
        else 0.0,
        "false_escalation_rate": round(sum(r["pred_turn"] is not None for r in calm) / len(calm), 3) if calm else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--show", choices=["dev", "none"], default="none", help="print each dev conversation")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="bundled text model (default %(default)s)")
    args = parser.parse_args(argv)
    engine = Engine(EngineSettings(model=args.model))
    rows = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        result = engine.analyze(ConversationV1.model_validate(obj).events()).to_dict()
        escalation = result["escalation"] or {}
        label = obj["label"]
        rows.append(
            {
                "id": obj["id"],
                "split": "dev" if hash_fraction(obj["id"], "escalation") < 0.5 else "held-out",
                "gold_turn": label["escalate_after_turn"],
                "gold_reason": label["reason"],
                "gold_pos": customer_position(obj["turns"], label["escalate_after_turn"]),
                "pred_turn": escalation.get("at_turn"),
                "pred_reason": escalation.get("reason"),
                "pred_pos": customer_position(obj["turns"], escalation.get("at_turn")),
            }
        )
    figures = {split: score([r for r in rows if r["split"] == split]) for split in ("dev", "held-out")}
    figures["all"] = score(rows)
    by_reason = Counter((r["gold_reason"], r["pred_reason"]) for r in rows if r["split"] == "held-out")
    if args.show == "dev":
        for r in rows:
            if r["split"] == "dev" and (r["pred_turn"], r["pred_reason"]) != (r["gold_turn"], r["gold_reason"]):
                print(f"{r['id']}: gold {r['gold_reason']}@{r['gold_turn']}  got {r['pred_reason']}@{r['pred_turn']}")
    print(f"{'':10} {'n':>4} {'exact':>7} {'±1 turn':>8} {'reason':>7} {'missed':>7} {'false esc.':>10}")
    for split, f in figures.items():
        print(
            f"{split:10} {f['conversations']:>4} {f['exact_turn']:>7.3f} {f['within_one_turn']:>8.3f} "
            f"{f['reason_accuracy']:>7.3f} {f['missed_escalation_rate']:>7.3f} {f['false_escalation_rate']:>10.3f}"
        )
    print("held-out (gold reason -> predicted):", dict(sorted(by_reason.items(), key=str)))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
