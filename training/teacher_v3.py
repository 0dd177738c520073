"""Teacher v3: all-MiniLM-L6-v2 fine-tuned on every labelled set, reading a turn with the turn it answers.

    .venv/bin/python training/teacher_v3.py --out runs/teacher-v3       # 24 min on 2 CPU cores

The teacher is for training only (issue 10, item 4): it labels unlabelled real text
(training/distill_v3.py) so that the run-time student learns from far more real sentences than
people annotated. It is fitted on the same rows as text-emotion-v3 (GoEmotions train, the domain
corpus' train split, the annotated real set's train split; calibration parts held out for
thresholds; dev splits and probe texts never seen), with the previous turn as the first segment
of a sentence pair: ``[CLS] context [SEP] turn [SEP]``.

Writes OUT/teacher.pt (state dict), OUT/thresholds.npy and OUT/metrics.json: the teacher's
turn-level figures on the annotated real dev split and GoEmotions dev, beside the student's.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from empathy_engine.taxonomy import BEHAVIOURS, STATES  # noqa: E402
from training.baseline import base_model, length_batches, progress  # noqa: E402
from training.corpora import DEFAULT_GOEMOTIONS, GOEMOTIONS_STATES, OUTPUTS, Example, load_goemotions  # noqa: E402
from training.metrics import best_thresholds, macro_f1  # noqa: E402
from training.real.labels import load_pass  # noqa: E402
from training.train_text_model import Teacher, log, masked_bce  # noqa: E402
from training.train_v3 import build, real_example  # noqa: E402

#: The context is the end of the turn answered: its last words say what this turn answers.
CONTEXT_WORDS = 24


def pair_tokenizer(max_len: int) -> Tokenizer:
    tok = Tokenizer.from_file(str(base_model() / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=max_len, strategy="longest_first")
    return tok


def context_tail(context: str) -> str:
    words = context.split()
    return " ".join(words[-CONTEXT_WORDS:])


def encode_pairs(tok: Tokenizer, rows: list[Example]) -> list[list[int]]:
    pairs = [(context_tail(e.context), e.text) if e.context.strip() else e.text for e in rows]
    return [enc.ids for enc in tok.encode_batch(pairs, add_special_tokens=True)]


def padded(seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in seqs)
    ids = torch.zeros((len(seqs), width), dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.bool)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = True
    return ids, mask


def train(args: argparse.Namespace, rows: list[Example], tok: Tokenizer) -> Teacher:
    seqs = encode_pairs(tok, rows)
    y = torch.tensor(np.stack([e.targets for e in rows]))
    m = torch.tensor(np.stack([e.mask for e in rows]))
    rnd = random.Random(args.seed)
    model = Teacher(base_model())
    steps = args.epochs * math.ceil(len(rows) / args.batch)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, s / warm) * max(0.0, (steps - s) / steps))
    model.train()
    with progress() as bar:
        task = bar.add_task("teacher", total=steps)
        for epoch in range(args.epochs):
            total, count = 0.0, 0
            for batch in length_batches([len(s) for s in seqs], args.batch, rnd):
                ids, mask = padded([seqs[i] for i in batch])
                loss = masked_bce(model(ids, mask), y[batch], m[batch])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                total, count = total + loss.item(), count + 1
                bar.advance(task)
            log(f"teacher epoch {epoch + 1}/{args.epochs}: loss {total / max(1, count):.4f}")
    return model.eval()


@torch.no_grad()
def probabilities(model: Teacher, tok: Tokenizer, rows: list[Example], batch: int = 128) -> np.ndarray:
    seqs = encode_pairs(tok, rows)
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    out = np.zeros((len(rows), len(OUTPUTS)), np.float32)
    for start in range(0, len(order), batch):
        chunk = order[start : start + batch]
        out[chunk] = torch.sigmoid(model(*padded([seqs[i] for i in chunk]))).numpy()
    return out


def figures(probs: np.ndarray, rows: list[Example], thresholds: np.ndarray) -> dict[str, float]:
    """Customer nine-state macro-F1, agent behaviour micro- and macro-F1, on labelled turns."""
    pred = probs >= thresholds
    y = np.stack([e.targets for e in rows])
    m = np.stack([e.mask for e in rows])
    out = {"customer_macro_f1": macro_f1(pred, y, m, OUTPUTS, STATES)["macro_f1"]}
    agent = [OUTPUTS.index(b) for b in BEHAVIOURS]
    rows_a = m[:, agent[0]] > 0
    if rows_a.any():
        tp = float((pred[rows_a][:, agent] & (y[rows_a][:, agent] > 0)).sum())
        fp = float((pred[rows_a][:, agent] & (y[rows_a][:, agent] == 0)).sum())
        fn = float((~pred[rows_a][:, agent] & (y[rows_a][:, agent] > 0)).sum())
        out["agent_micro_f1"] = round(2 * tp / max(1.0, 2 * tp + fp + fn), 4)
        out["agent_macro_f1"] = macro_f1(pred, y, m, OUTPUTS, BEHAVIOURS)["macro_f1"]
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=REPO / "runs" / "teacher-v3")
    p.add_argument("--goemotions", type=Path, default=DEFAULT_GOEMOTIONS)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--max-len", type=int, default=96, help="word pieces of context + turn (default 96)")
    p.add_argument("--domain-repeat", type=int, default=2)
    p.add_argument("--real-repeat", type=int, default=2)
    p.add_argument("--exclude-source", default=None)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--limit", type=int, default=0, help="train on this many rows only (a smoke run)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    started = time.time()
    tok = pair_tokenizer(args.max_len)
    rows, calibration, _ = build(args)
    if args.limit:
        rows = random.Random(args.seed).sample(rows, min(args.limit, len(rows)))
        calibration = calibration[: args.limit]
    log(f"teacher: train {len(rows)} rows, calibration {len(calibration)}")
    model = train(args, rows, tok)
    args.out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), args.out / "teacher.pt")
    thresholds = best_thresholds(probabilities(model, tok, calibration), *_targets(calibration))
    np.save(args.out / "thresholds.npy", thresholds)
    real_dev = [real_example(lab) for lab in load_pass("pass1").values() if lab.split == "dev"]
    ge_dev = load_goemotions(args.goemotions, "dev")
    ge = macro_f1(probabilities(model, tok, ge_dev) >= thresholds, *_targets(ge_dev), OUTPUTS, GOEMOTIONS_STATES)
    metrics = {
        "real_dev": figures(probabilities(model, tok, real_dev), real_dev, thresholds),
        "goemotions_dev_macro_f1": ge["macro_f1"],
        "train_rows": len(rows),
        "minutes": round((time.time() - started) / 60, 1),
        "training": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
    }
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    log(json.dumps(metrics))
    return 0


def _targets(rows: list[Example]) -> tuple[np.ndarray, np.ndarray]:
    return np.stack([e.targets for e in rows]), np.stack([e.mask for e in rows])


if __name__ == "__main__":
    raise SystemExit(main())
