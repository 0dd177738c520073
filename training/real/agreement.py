"""Agreement between the two independent annotation passes, per label (Cohen's kappa).

    .venv/bin/python training/real/agreement.py [--json OUT]

Each label is a yes/no decision per turn; kappa is computed on the turns both passes labelled
(customer states on customer turns, behaviours and missed_cue on agent turns). A label that
neither pass ever used on the overlap has no kappa (printed as "—").
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from empathy_engine.taxonomy import BEHAVIOURS, STATES  # noqa: E402
from training.real.labels import Label, load_pass  # noqa: E402


def kappa(a: list[bool], b: list[bool]) -> float | None:
    """Cohen's kappa of two yes/no raters; None when chance agreement is total (no variation)."""
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pa, pb = sum(a) / n, sum(b) / n
    expected = pa * pb + (1 - pa) * (1 - pb)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1 - expected)


def agreement(first: dict[str, Label], second: dict[str, Label]) -> dict[str, float | int | None]:
    both = sorted(set(first) & set(second))
    out: dict[str, float | int | None] = {"n/turns": len(both)}
    for speaker, names in (("customer", STATES), ("agent", BEHAVIOURS)):
        ids = [i for i in both if first[i].speaker == speaker]
        out[f"n/{speaker}"] = len(ids)
        for name in names:
            a = [name in first[i].labels for i in ids]
            b = [name in second[i].labels for i in ids]
            k = kappa(a, b)
            out[f"kappa/{name}"] = None if k is None else round(k, 3)
            out[f"positives/{name}"] = sum(a) + sum(b)
        out[f"exact/{speaker}"] = round(
            sum(set(first[i].labels) == set(second[i].labels) for i in ids) / max(1, len(ids)), 3
        )
    # missed_cue only where both passes judged it (a missing judgement is not a "no")
    agents = [i for i in both if first[i].missed_cue is not None and second[i].missed_cue is not None]
    a, b = [bool(first[i].missed_cue) for i in agents], [bool(second[i].missed_cue) for i in agents]
    k = kappa(a, b)
    out["kappa/missed_cue"] = None if k is None else round(k, 3)
    out["positives/missed_cue"] = sum(a) + sum(b)
    for speaker, names in (("customer", STATES), ("agent", BEHAVIOURS)):
        values = [out[f"kappa/{n}"] for n in names if out[f"kappa/{n}"] is not None]
        out[f"mean_kappa/{speaker}"] = round(sum(values) / len(values), 3) if values else None  # type: ignore[arg-type]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    result = agreement(load_pass("pass1"), load_pass("pass2"))
    print(f"{result['n/turns']} turns labelled twice ({result['n/customer']} customer, {result['n/agent']} agent)")
    for speaker, names in (("customer", STATES), ("agent", (*BEHAVIOURS, "missed_cue"))):
        print(f"\n{speaker}: exact label-set agreement {result.get(f'exact/{speaker}', '—')}")
        for name in names:
            k = result[f"kappa/{name}"]
            pos = result.get(f"positives/{name}", "")
            print(f"  {name:24s} kappa {'—' if k is None else f'{k:.3f}':>6}   positives (both passes) {pos}")
        print(f"  mean kappa {result.get(f'mean_kappa/{speaker}')}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
