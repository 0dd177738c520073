"""Probe sets: one per kind of reading error, each case a tiny conversation and what must hold.

    .venv/bin/python training/probes.py [--json OUT]

The cases (training/data/probes/*.jsonl, see its README) were written by hand for evaluation
only and are never trained on. Each case runs through the whole engine (`Engine.analyze`,
with the header's context) and passes when, on its last turn, at least one of `expect_any` is
detected (states on a customer turn, behaviours on an agent turn), none of `reject` is, and,
where given, `missed_cue` matches.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from empathy_engine.ingest.conversation import InputError, parse  # noqa: E402

PROBES = REPO / "training" / "data" / "probes"


@dataclass(frozen=True, slots=True)
class Outcome:
    id: str
    passed: bool
    got: tuple[str, ...]
    missed_cue: bool | None


def run_case(engine: Any, case: dict[str, Any], where: str) -> Outcome:
    loaded = parse(case["conversation"], where, None)
    if isinstance(loaded, InputError):
        raise SystemExit(f"{loaded}")
    last = engine.analyze(loaded.events()).to_dict()["turns"][-1]
    got = tuple(last.get("detected", last.get("behaviours", ())))
    ok = (not case["expect_any"] or bool(set(got) & set(case["expect_any"]))) and not set(got) & set(case["reject"])
    missed = last.get("missed_cue")
    if "missed_cue" in case:
        ok = ok and missed == case["missed_cue"]
    return Outcome(case["id"], ok, got, missed)


def run_probes(engine: Any, directory: Path = PROBES) -> dict[str, list[Outcome]]:
    """Outcomes per probe file (its stem), in file order."""
    out: dict[str, list[Outcome]] = {}
    for file in sorted(directory.glob("*.jsonl")):
        lines = file.read_text(encoding="utf-8").splitlines()
        out[file.stem] = [
            run_case(engine, json.loads(line), f"{file.name}:{n}") for n, line in enumerate(lines, 1) if line.strip()
        ]
    return out


def pass_rates(outcomes: dict[str, list[Outcome]]) -> dict[str, float]:
    figures: dict[str, float] = {}
    for name, cases in outcomes.items():
        figures[f"probe/{name}/pass_rate"] = round(sum(c.passed for c in cases) / max(1, len(cases)), 3)
        figures[f"probe/{name}/n"] = len(cases)
    return figures


def main(argv: list[str] | None = None) -> int:
    from empathy_engine import Engine

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path, help="write the pass rates to this file")
    ap.add_argument("--failures", action="store_true", help="list every failing case with what was read")
    args = ap.parse_args(argv)
    outcomes = run_probes(Engine())
    for name, cases in outcomes.items():
        passed = sum(c.passed for c in cases)
        print(f"{name:20s} {passed:3d}/{len(cases):3d}  {passed / max(1, len(cases)):6.1%}")
        if args.failures:
            for c in cases:
                if not c.passed:
                    print(
                        f"    {c.id}: read {', '.join(c.got) or '-'}"
                        + ("" if c.missed_cue is None else f", missed_cue {c.missed_cue}")
                    )
    if args.json:
        args.json.write_text(json.dumps(pass_rates(outcomes), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
