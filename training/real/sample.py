"""Draw the turns of the annotated real set, and write the annotators' reading batches.

    python training/real/sample.py                  # writes training/data/real/sample.jsonl
    python training/real/sample.py --batches DIR    # also the reading batches (text!) into DIR

The sample is deterministic (seeded) and model-independent: it never looks at what any of
our models predicts, so the dev split does not favour them. Whole dialogues are taken where a
source has dialogues (STAR, Taskmaster-4, CaSiNo), so every turn is read in context and agent
turns can be judged against the customer turn they answer. Rare emotional material is
over-sampled from each source's own metadata (STAR's "act annoyed/confused/concerned"
instructions and the wizard's "the user became annoyed" answer; BANKING77's card-lost,
declined and disputed intents; XED's emotion-annotated lines), which the datasheet states.

The split is by dialogue: a dialogue is dev when sha1("source|id") % 3 == 0 (about a third).
Batch files hold text from ../shared and must stay outside the repo.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from training.real.sources import REPO, Dialogue, dialogues  # noqa: E402

SAMPLE = REPO / "training" / "data" / "real" / "sample.jsonl"
SEED = 20261201
MAX_TURNS = 24  # longer STAR/CaSiNo dialogues are rare; they would fill a batch alone
ROUNDS = 2  # round 1: the first 9,109 turns; round 2 doubles the set

#: Customer turns wanted per source (agent turns come with STAR's and Taskmaster-4's dialogues).
CUSTOMER_TARGETS = {
    "star": 2000,
    "taskmaster4": 1050,
    "casino": 600,
    "natcs": 900,
    "banking77": 600,
    "clinc150": 400,
    "xed": 500,
}
#: Share of each source's quota drawn from its emotionally loaded stratum.
LOADED_SHARE = {"star": 0.5, "banking77": 0.5, "xed": 0.8, "clinc150": 0.25}
BANKING_LOADED = {
    "lost_or_stolen_card",
    "lost_or_stolen_phone",
    "compromised_card",
    "card_swallowed",
    "declined_card_payment",
    "declined_transfer",
    "declined_cash_withdrawal",
    "card_not_working",
    "card_payment_not_recognised",
    "cash_withdrawal_not_recognised",
    "direct_debit_payment_not_recognised",
    "extra_charge_on_statement",
    "wrong_amount_of_cash_received",
    "wrong_exchange_rate_for_cash_withdrawal",
    "transfer_not_received_by_recipient",
    "failed_transfer",
    "pending_transfer",
    "card_arrival",
    "Refund_not_showing_up",
    "request_refund",
    "reverted_card_payment?",
    "terminate_account",
}


def is_dev(source: str, dialogue: str) -> bool:
    return int(hashlib.sha1(f"{source}|{dialogue}".encode()).hexdigest(), 16) % 3 == 0


def loaded(d: Dialogue) -> bool:
    """Whether the source's own metadata says this dialogue carries emotion (stratum only)."""
    if d.source == "banking77":
        return bool(set(d.hints) & BANKING_LOADED)
    if d.source == "xed":
        return d.hints == ("emotion",)
    if d.source == "clinc150":
        return d.id.startswith("oos")
    return bool(d.hints)


@dataclass(frozen=True, slots=True)
class Unit:
    """What an annotator reads in one go: a whole dialogue (or one single-turn query)."""

    dialogue: Dialogue

    @property
    def customer_turns(self) -> int:
        return sum(t.speaker == "customer" for t in self.dialogue.turns)


def draw(source: str, rnd: random.Random, taken: set[str] = frozenset()) -> list[Unit]:  # type: ignore[assignment]
    """One round's dialogues of a source; `taken` (dialogue ids of earlier rounds) are skipped."""
    pool = [
        d
        for d in dialogues(source)
        if 1 <= len(d.turns) <= MAX_TURNS and any(t.speaker == "customer" for t in d.turns) and d.id not in taken
    ]
    rnd.shuffle(pool)
    target = CUSTOMER_TARGETS[source]
    if source not in LOADED_SHARE:  # no stratum: a plain random draw
        return take(pool, target)
    share = LOADED_SHARE[source]
    rich = take([d for d in pool if loaded(d)], round(target * share))
    return rich + take([d for d in pool if not loaded(d)], target - round(target * share))


def take(pool: list[Dialogue], customer_turns: int) -> list[Unit]:
    """Dialogues from the front of a shuffled pool until they hold enough customer turns."""
    taken: list[Unit] = []
    count = 0
    for d in pool:
        if count >= customer_turns:
            break
        taken.append(Unit(d))
        count += taken[-1].customer_turns
    return taken


def sample_rows(units: list[Unit], round_no: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for u in units:
        d = u.dialogue
        split = "dev" if is_dev(d.source, d.id) else "train"
        for i, t in enumerate(d.turns):
            row = {"source": d.source, "dialogue": d.id, "turn": i, "speaker": t.speaker, "split": split}
            rows.append({**row, "round": round_no})
    return rows


def render(u: Unit) -> str:
    d = u.dialogue
    lines = [f"=== {d.source}|{d.id}"]
    for i, t in enumerate(d.turns):
        who = "CUSTOMER" if t.speaker == "customer" else "AGENT"
        if d.source == "casino":
            who = f"CUSTOMER({'A' if t.who.endswith('1') else 'B'})"
        lines.append(f"[{d.source}|{d.id}|{i}] {who}: {t.text}")
    return "\n".join(lines)


def write_batches(units: list[Unit], out: Path, per_batch: int, rnd: random.Random) -> None:
    out.mkdir(parents=True, exist_ok=True)
    order = list(units)
    rnd.shuffle(order)  # every batch mixes sources, so no annotator sees only one
    batch: list[str] = []
    turns = 0
    n = 0
    for u in order:
        batch.append(render(u))
        turns += len(u.dialogue.turns)
        if turns >= per_batch:
            n += 1
            (out / f"batch_{n:02d}.txt").write_text("\n\n".join(batch) + "\n", encoding="utf-8")
            batch, turns = [], 0
    if batch:
        n += 1
        (out / f"batch_{n:02d}.txt").write_text("\n\n".join(batch) + "\n", encoding="utf-8")
    print(f"{n} batches in {out}")


def second_pass(units: list[Unit], rnd: random.Random, customers: int = 400, agents: int = 200) -> list[Unit]:
    """Whole units for the blind second pass: at least `customers` and `agents` turns, all sources."""
    order = list(units)
    rnd.shuffle(order)
    by_source: dict[str, list[Unit]] = {}
    for u in order:
        by_source.setdefault(u.dialogue.source, []).append(u)
    chosen: list[Unit] = []
    c = a = 0
    while c < customers or a < agents:
        for source in sorted(by_source):
            if by_source[source] and (c < customers or (a < agents and source in ("star", "taskmaster4"))):
                u = by_source[source].pop()
                chosen.append(u)
                c += u.customer_turns
                a += len(u.dialogue.turns) - u.customer_turns
    return chosen


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", type=Path, help="write the reading batches (text from ../shared) into this folder")
    ap.add_argument("--per-batch", type=int, default=450, help="turns per reading batch")
    ap.add_argument("--rounds", type=int, default=ROUNDS, help="sampling rounds (each adds the targets again)")
    args = ap.parse_args(argv)
    rows: list[dict[str, object]] = []
    taken: dict[str, set[str]] = {s: set() for s in CUSTOMER_TARGETS}
    for round_no in range(1, args.rounds + 1):
        # Round 1 keeps its original seed, so adding a round never changes earlier draws.
        rnd = random.Random(SEED if round_no == 1 else SEED + 100 * round_no)
        units = [u for source in CUSTOMER_TARGETS for u in draw(source, rnd, taken[source])]
        for u in units:
            taken[u.dialogue.source].add(u.dialogue.id)
        rows += sample_rows(units, round_no)
        if args.batches:
            folder = args.batches if round_no == 1 else args.batches / f"round{round_no}"
            write_batches(units, folder / "pass1", args.per_batch, rnd)
            if round_no == 1:
                blind = second_pass(units, random.Random(SEED + 1))
                write_batches(blind, folder / "pass2", 10_000, rnd)
    SAMPLE.parent.mkdir(parents=True, exist_ok=True)
    with SAMPLE.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    customer = sum(r["speaker"] == "customer" for r in rows)
    print(f"{len(rows)} turns ({customer} customer, {len(rows) - customer} agent) -> {SAMPLE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
