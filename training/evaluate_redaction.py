"""Redaction recall per entity and false positives per turn, each with its 95% (Wilson) interval.

Recall: on the generated set (training/pii/generate.py, seeded; never written to the repo) and
the hand-written hard cases (training/data/pii/hard_cases.jsonl), a labelled value counts as
caught when every character of it lies inside a masked span (`typed` also wants the right mask).
False positives: the share of turns in which anything is masked, on text that holds no PII:
the repo's domain corpus (training/data/domain) and real customer turns read in place from
../shared/data through training/real/sources.py (never copied), plus the hard near-misses.

    python training/evaluate_redaction.py [--n 4000] [--json runs/redaction.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from empathy_engine.audit.stats import wilson  # noqa: E402
from empathy_engine.privacy import CallRedaction, Found  # noqa: E402
from training.pii.generate import cases  # noqa: E402

HARD = REPO / "training" / "data" / "pii" / "hard_cases.jsonl"
DOMAIN = REPO / "training" / "data" / "domain"
REVIEWED = REPO / "training" / "data" / "pii" / "domain_reviewed.jsonl"
REAL_SOURCES = ("natcs", "star", "taskmaster4")
TARGETS = {"CARD_NUMBER": 1.0, "CVV": 1.0, "SSN": 1.0}  # every other entity: 0.95
STRIP = " \t,.;:!?'\"()-"


def covered(start: int, end: int, found: list[Found], text: str, entity: str | None = None) -> bool:
    """Every non-space character of text[start:end] inside a found span (of `entity`, if given)."""
    spans = [(f.start, f.end) for f in found if entity is None or f.entity.value == entity]
    return all(any(a <= i < b for a, b in spans) for i in range(start, end) if text[i] not in STRIP)


def score_case(case: dict[str, Any], tally: dict[str, Counter[str]], misses: list[dict[str, Any]]) -> int:
    """Run one case through a call's redactor; tally each labelled value. Returns its false-positive turns."""
    redaction = CallRedaction()
    results = [redaction.turn(t["speaker"], t["text"]) for t in case["turns"]]
    labelled: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for e in case["entities"]:
        turn, start = e["turn"], e["start"]
        end = start + len(e["value"])
        text = case["turns"][turn]["text"]
        found = results[turn][1]
        labelled[turn].append((start, end))
        hit = covered(start, end, found, text)
        tally[e["entity"]]["n"] += 1
        tally[e["entity"]]["masked"] += hit
        tally[e["entity"]]["typed"] += covered(start, end, found, text, e["entity"])
        if not hit:
            misses.append({"id": case["id"], "entity": e["entity"], "value": e["value"], "out": results[turn][0]})
    fp = 0
    for i, (_, found) in enumerate(results):
        if any(not any(a < f.end and f.start < b for a, b in labelled[i]) for f in found):
            fp += 1
    return fp


def recall(named: str, data: Iterable[dict[str, Any]]) -> dict[str, Any]:
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    misses: list[dict[str, Any]] = []
    turns = fp = utterances = 0
    for case in data:
        fp += score_case(case, tally, misses)
        turns += len(case["turns"])
        utterances += sum(1 for t in case["turns"] if t["speaker"] == "customer")
    per_entity = {}
    for entity in sorted(tally):
        t = tally[entity]
        per_entity[entity] = {
            "n": t["n"],
            "recall": wilson(t["masked"], t["n"]).to_dict(),
            "typed_recall": wilson(t["typed"], t["n"]).to_dict(),
            "target": TARGETS.get(entity, 0.95),
        }
    return {
        "set": named,
        "customer_utterances": utterances,
        "turns": turns,
        "entities": per_entity,
        "false_positive_turns": wilson(fp, turns).to_dict(),
        "misses": misses[:60],
    }


def domain_turns() -> Iterator[str]:
    for path in sorted(DOMAIN.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)["text"]


def real_turns(limit: int) -> Iterator[str]:
    """Customer turns of real and crowd-written service dialogues, read in place from ../shared."""
    from training.real.sources import SHARED, dialogues

    if not SHARED.exists():
        return
    for source in REAL_SOURCES:
        taken = 0
        try:
            for d in dialogues(source):
                for turn in d.turns:
                    if turn.speaker == "customer" and turn.text.strip() and taken < limit:
                        taken += 1
                        yield turn.text
                if taken >= limit:
                    break
        except (OSError, KeyError, ValueError) as e:
            print(f"  {source}: not read ({e})", file=sys.stderr)


def reviewed() -> dict[str, bool]:
    """The domain-corpus turns the redactor masks, each read by hand: does it really hold PII?"""
    rows = [json.loads(line) for line in REVIEWED.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {r["sha1"]: r["holds_pii"] for r in rows}


def false_positives(named: str, texts: Iterable[str], review: dict[str, bool] | None = None) -> dict[str, Any]:
    """Turns with anything masked. With `review` (hand verdicts by text hash), a masked turn that
    really holds PII (an agent saying their name, a customer's address) is not a false positive;
    one not reviewed counts as one. Without it, every masked turn counts (an upper bound)."""
    n = masked_turns = fp = 0
    kinds: Counter[str] = Counter()
    examples: list[str] = []
    for text in texts:
        n += 1
        masked, found = CallRedaction().turn("customer", text)
        if not found:
            continue
        masked_turns += 1
        kinds.update(f.entity.value for f in found)
        holds_pii = review.get(hashlib.sha1(text.encode()).hexdigest(), False) if review is not None else False
        if not holds_pii:
            fp += 1
            if len(examples) < 40:
                examples.append(masked)
    return {"set": named, "turns": n, "masked_turns": wilson(masked_turns, n).to_dict(),
            "false_positive_turns": wilson(fp, n).to_dict(), "by_entity": dict(kinds),
            "reviewed": review is not None, "examples": examples}  # fmt: skip


def _pct(e: dict[str, Any]) -> str:
    if e["value"] is None:
        return "n/a"
    return f"{e['value']:.4f} [{e['lo']:.4f}, {e['hi']:.4f}]"


def show(report: dict[str, Any]) -> None:
    for r in report["recall"]:
        print(f"\n== recall: {r['set']} ({r['customer_utterances']} customer utterances, {r['turns']} turns)")
        for entity, e in r["entities"].items():
            ok = "ok " if e["recall"]["value"] >= e["target"] else "LOW"
            print(f"  {ok} {entity:15s} n={e['n']:5d}  recall {_pct(e['recall'])}  typed {_pct(e['typed_recall'])}")
        print(f"  false-positive turns {_pct(r['false_positive_turns'])}")
        for m in r["misses"][:15]:
            print(f"    miss {m['entity']}: {m['value']!r} -> {m['out']!r}")
    for f in report["false_positives"]:
        how = "hand-reviewed" if f["reviewed"] else "every masked turn counted"
        print(f"\n== false positives: {f['set']} ({f['turns']} turns, {how}): {_pct(f['false_positive_turns'])}")
        print(f"   turns with anything masked: {_pct(f['masked_turns'])}  {f['by_entity']}")
        for ex in f["examples"][:12]:
            print(f"    {ex}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="generated cases (seeded)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--real", type=int, default=3000, help="customer turns per real source")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    generated = [c.to_dict() for c in cases(args.n, args.seed)]
    hard = [json.loads(line) for line in HARD.read_text(encoding="utf-8").splitlines() if line.strip()]
    report = {
        "recall": [recall("generated", generated), recall("hard cases", hard), recall("all", [*generated, *hard])],
        "false_positives": [
            false_positives("domain corpus", domain_turns(), reviewed()),
            false_positives("real customer turns (../shared)", real_turns(args.real)),
        ],
    }
    show(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
