"""Text model v3: the v2 student, reading each turn with the turn it answers, trained on real text.

    .venv/bin/python training/train_v3.py --out src/empathy_engine/models/text-emotion-v3

What changes from v2 (training/train_text_model.py):
1. Context: the previous turn's pooled features (the same embeddings and convolution) enter
   the head through a second matrix `w1_ctx`, initialised at zero so training starts from v2.
   At run time the pipeline hands each turn the previous turn's `pooled`, already computed
   when that turn was read: context costs one (2*hidden x head) product per turn.
2. Data: besides GoEmotions and the domain corpus (now with context rows), the annotated real
   set (training/data/real, train split only; its dev split is never seen here) with each
   turn's previous turn as context, repeated `--real-repeat` times.
3. Warm start from v2's weights (embeddings, convolution, head): v2's distillation from the
   MiniLM teacher is kept, and the gold labels move it where real text disagrees.
4. Calibration: per-output thresholds on a calibration split made of GoEmotions' and the
   domain corpus' calibration parts plus a sixth of the real train dialogues (by hash).

`--exclude-source S` leaves one real source out of training (leave-one-source-out figures).
`--soft runs/teacher-v3/soft.npz` adds some 217,000 unlabelled real turns with the v3 teacher's
probabilities as targets (training/teacher_v3.py, then training/distill_v3.py): distillation.
CPU: a few minutes per epoch on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer
from torch import nn

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from empathy_engine.taxonomy import BEHAVIOURS, STATES  # noqa: E402
from training.baseline import length_batches  # noqa: E402
from training.corpora import (  # noqa: E402
    DEFAULT_GOEMOTIONS,
    DOMAIN_DIR,
    GOEMOTIONS_STATES,
    OUTPUTS,
    Example,
    domain_split,
    file_sha256,
    goemotions_split,
    load_domain,
    load_goemotions,
)
from training.metrics import best_thresholds, macro_f1  # noqa: E402
from training.real.labels import LABELS_DIR, REAL_DIR, Label, load_pass, previous_turn, text_of  # noqa: E402
from training.train_text_model import Student, encode, log, masked_bce  # noqa: E402
from training.train_text_model import export as export_student  # noqa: E402

V2 = REPO / "src" / "empathy_engine" / "models" / "text-emotion-v2"
PROBES = REPO / "training" / "data" / "probes"


class ContextStudent(Student):
    """Student + the previous turn's pooled features into the head (zero at start: v2 exactly)."""

    def __init__(self, embeddings: np.ndarray, hidden: int, head: int) -> None:
        super().__init__(embeddings, hidden, head)
        self.ctx = nn.Linear(2 * hidden, head, bias=False)
        nn.init.zeros_(self.ctx.weight)

    def head(self, current: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """The head over pooled features of the turn and of the turn it answers."""
        return self.fc2(torch.relu(self.fc1(self.dropout(current)) + self.ctx(self.dropout(context))))

    def forward_ctx(
        self, ids: torch.Tensor, mask: torch.Tensor, cids: torch.Tensor, cmask: torch.Tensor
    ) -> torch.Tensor:
        return self.head(self.features(ids, mask), self.features(cids, cmask))  # zeros for an empty context


def load_v2(directory: Path) -> ContextStudent:
    embeddings = np.load(directory / "embeddings.npy").astype(np.float32)
    with np.load(directory / "weights.npz") as w:
        hidden, head = w["conv_w"].shape[1], w["w1"].shape[1]
        model = ContextStudent(embeddings, hidden, head)
        with torch.no_grad():
            model.conv.weight.copy_(torch.tensor(w["conv_w"].T))
            model.conv.bias.copy_(torch.tensor(w["conv_b"]))
            model.fc1.weight.copy_(torch.tensor(w["w1"].T))
            model.fc1.bias.copy_(torch.tensor(w["b1"]))
            model.fc2.weight.copy_(torch.tensor(w["w2"].T))
            model.fc2.bias.copy_(torch.tensor(w["b2"]))
    return model


def real_example(lab: Label) -> Example:
    names = STATES if lab.speaker == "customer" else BEHAVIOURS
    targets = np.zeros(len(OUTPUTS), np.float32)
    mask = np.zeros(len(OUTPUTS), np.float32)
    for name in names:
        mask[OUTPUTS.index(name)] = 1.0
    for name in lab.labels:
        targets[OUTPUTS.index(name)] = 1.0
    return Example(text_of(lab), targets, mask, f"real:{lab.source}", previous_turn(lab))


def real_calibration(lab: Label) -> bool:
    """A sixth of the real train dialogues calibrate thresholds (never the dev split)."""
    return int(hashlib.sha1(f"cal|{lab.source}|{lab.dialogue}".encode()).hexdigest(), 16) % 6 == 0


def probe_texts() -> set[str]:
    """The probes' judged turns (normalised): never trained on, even when a common phrase
    ("fine.", "forget it") was also written independently into a training corpus."""
    texts = set()
    for file in PROBES.glob("*.jsonl"):
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.add(normalised(json.loads(line)["conversation"]["turns"][-1]["text"]))
    return texts


def normalised(text: str) -> str:
    return " ".join(text.lower().split())


def build(args: argparse.Namespace) -> tuple[list[Example], list[Example], dict[str, list[Example]]]:
    held_out = probe_texts()
    ge_train = load_goemotions(args.goemotions, "train")
    customer, agent = load_domain()
    labels = [lab for lab in load_pass("pass1").values() if lab.source != args.exclude_source]
    real_train = [lab for lab in labels if lab.split == "train"]
    train = [e for e in ge_train if goemotions_split(e) == "train"]
    train += [e for e in customer + agent if domain_split(e) == "train"] * args.domain_repeat
    train += [real_example(lab) for lab in real_train if not real_calibration(lab)] * args.real_repeat
    calibration = [e for e in ge_train if goemotions_split(e) == "calibration"]
    calibration += [e for e in customer + agent if domain_split(e) == "calibration"]
    calibration += [real_example(lab) for lab in real_train if real_calibration(lab)]
    if getattr(args, "soft", None):
        from training.distill_v3 import soft_examples

        taught = args.soft_outputs.split(",") if args.soft_outputs else OUTPUTS
        if unknown := [o for o in taught if o not in OUTPUTS]:
            raise SystemExit(f"--soft-outputs: unknown {', '.join(unknown)}; the outputs are {', '.join(OUTPUTS)}")
        train += soft_examples(args.soft, args.goemotions, taught)
    train = [e for e in train if normalised(e.text) not in held_out]
    calibration = [e for e in calibration if normalised(e.text) not in held_out]
    dev = {
        "goemotions_dev": load_goemotions(args.goemotions, "dev"),
        "domain_dev": [e for e in customer if domain_split(e) == "dev"],
        "agent_dev": [e for e in agent if domain_split(e) == "dev"],
    }
    return train, calibration, dev


def tensors(tok: Tokenizer, rows: list[Example], max_len: int) -> tuple[torch.Tensor, ...]:
    ids, att = encode(tok, [e.text for e in rows], max_len, special=False)
    cids, catt = encode(tok, [e.context for e in rows], max_len, special=False)
    has_context = torch.tensor([bool(e.context.strip()) for e in rows])
    catt &= has_context.unsqueeze(1)  # an empty context stays all-padding (encode puts [UNK] there)
    cids = cids * catt
    y = torch.tensor(np.stack([e.targets for e in rows]))
    m = torch.tensor(np.stack([e.mask for e in rows]))
    return ids, att, cids, catt, y, m


def pooled_features(init: Path, rows: list[Example]) -> tuple[torch.Tensor, ...]:
    """`--head-only`: each row's pooled features (and its context's) from the frozen v2 encoder,
    computed once with the numpy runtime, exactly as the engine computes them at run time."""
    from empathy_engine.perception.text_model import TextModel

    encoder = TextModel(init)
    cache: dict[str, np.ndarray] = {}

    def pooled(text: str) -> np.ndarray:
        if text not in cache:
            cache[text] = encoder.predict(text).pooled.astype(np.float16).astype(np.float32)
        return cache[text]

    zero = np.zeros(2 * encoder.hidden, np.float32)
    f = torch.tensor(np.stack([pooled(e.text) for e in rows]))
    c = torch.tensor(np.stack([pooled(e.context) if e.context.strip() else zero for e in rows]))
    y = torch.tensor(np.stack([e.targets for e in rows]))
    m = torch.tensor(np.stack([e.mask for e in rows]))
    return f, c, y, m


@torch.no_grad()
def head_probabilities(model: ContextStudent, data: tuple[torch.Tensor, ...]) -> np.ndarray:
    model.eval()
    return torch.sigmoid(model.head(data[0], data[1])).numpy()


def train_head(args: argparse.Namespace, model: ContextStudent, data: tuple[torch.Tensor, ...]) -> ContextStudent:
    """Only the head learns (w1, b1, w1_ctx, w2, b2); embeddings and convolution stay v2's."""
    f, c, y, m = data
    rnd = random.Random(args.seed)
    params = [*model.fc1.parameters(), *model.ctx.parameters(), *model.fc2.parameters()]
    opt = torch.optim.Adam(params, lr=args.lr)
    for epoch in range(args.epochs):
        model.train()
        order = list(range(len(f)))
        rnd.shuffle(order)
        total, count = 0.0, 0
        for i in range(0, len(order), args.batch):
            b = order[i : i + args.batch]
            loss = masked_bce(model.head(f[b], c[b]), y[b], m[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, count = total + loss.item(), count + 1
        log(f"head epoch {epoch + 1}/{args.epochs}: loss {total / max(1, count):.4f}")
    return model.eval()


@torch.no_grad()
def probabilities(model: ContextStudent, data: tuple[torch.Tensor, ...], batch: int = 1024) -> np.ndarray:
    model.eval()
    ids, att, cids, catt = data[:4]
    out = [
        torch.sigmoid(
            model.forward_ctx(
                *trimmed(ids[i : i + batch], att[i : i + batch]), *trimmed(cids[i : i + batch], catt[i : i + batch])
            )
        )
        for i in range(0, len(ids), batch)
    ]
    return torch.cat(out).numpy()


def trimmed(ids: torch.Tensor, att: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch cut to its longest row: most turns are short, and padding to max_len would
    triple the CPU time (padding is zero and masked, so the result is the same)."""
    width = max(1, int(att.any(0).nonzero().max()) + 1) if att.any() else 1
    return ids[:, :width], att[:, :width]


def train(args: argparse.Namespace, model: ContextStudent, data: tuple[torch.Tensor, ...]) -> ContextStudent:
    ids, att, cids, catt, y, m = data
    rnd = random.Random(args.seed)
    lengths = att.sum(1).tolist()
    opt = torch.optim.Adam(
        [
            {"params": model.embed.parameters(), "lr": args.lr * 0.3},
            {"params": [p for n, p in model.named_parameters() if not n.startswith("embed")]},
        ],
        lr=args.lr,
    )
    steps = args.epochs * math.ceil(len(ids) / args.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.05, (steps - s) / steps))
    for epoch in range(args.epochs):
        model.train()
        total, count = 0.0, 0
        for b in length_batches(lengths, args.batch, rnd):
            logits = model.forward_ctx(*trimmed(ids[b], att[b]), *trimmed(cids[b], catt[b]))
            loss = masked_bce(logits, y[b], m[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total, count = total + loss.item(), count + 1
        log(f"epoch {epoch + 1}/{args.epochs}: loss {total / max(1, count):.4f}")
    return model.eval()


def export(model: ContextStudent, thresholds: np.ndarray, out: Path, meta: dict[str, object]) -> None:
    """v2's export; it also writes `w1_ctx` because the model has a context path."""
    export_student(model, thresholds, out, V2 / "tokenizer.json", meta)


def data_hashes(args: argparse.Namespace) -> dict[str, str]:
    files = [args.goemotions / "train.tsv", REAL_DIR / "sample.jsonl", *sorted(DOMAIN_DIR.glob("*.jsonl"))]
    files += sorted((LABELS_DIR / "pass1").glob("*.jsonl"))
    if args.soft:
        files.append(args.soft)
    return {str(f.relative_to(f.parents[1])): file_sha256(f) for f in files}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="model folder to write")
    p.add_argument("--name", default="text-emotion-v3")
    p.add_argument("--init", type=Path, default=V2, help="the v2 model folder to start from")
    p.add_argument("--goemotions", type=Path, default=DEFAULT_GOEMOTIONS)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=7e-4)
    p.add_argument("--max-len", type=int, default=64)
    p.add_argument("--domain-repeat", type=int, default=3)
    p.add_argument("--real-repeat", type=int, default=5)
    p.add_argument("--head-only", action="store_true", help="train only the head on frozen v2 features (fast)")
    p.add_argument("--exclude-source", default=None, help="leave this real source out (LOSO)")
    p.add_argument("--soft", type=Path, default=None, help="also learn the teacher's labels of unlabelled real text")
    p.add_argument(
        "--soft-outputs",
        default="",
        help="comma-separated outputs the teacher's labels teach (default: all); the others keep gold labels only",
    )
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--seed", type=int, default=13)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    tok = Tokenizer.from_file(str(args.init / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    train_rows, calibration, dev = build(args)
    log(f"train {len(train_rows)} rows, calibration {len(calibration)}")
    model = load_v2(args.init)
    if args.head_only:
        model = train_head(args, model, pooled_features(args.init, train_rows))

        def probs(rows: list[Example]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            d = pooled_features(args.init, rows)
            return head_probabilities(model, d), d[2].numpy(), d[3].numpy()
    else:
        model = train(args, model, tensors(tok, train_rows, args.max_len))

        def probs(rows: list[Example]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            d = tensors(tok, rows, args.max_len)
            return probabilities(model, d), d[4].numpy(), d[5].numpy()

    thresholds = best_thresholds(*probs(calibration))
    metrics: dict[str, float] = {}
    for name, names in (("goemotions_dev", GOEMOTIONS_STATES), ("domain_dev", STATES), ("agent_dev", BEHAVIOURS)):
        p_dev, targets, mask = probs(dev[name])
        pred = p_dev >= thresholds
        metrics.update({f"{name}/{k}": v for k, v in macro_f1(pred, targets, mask, OUTPUTS, names).items()})
    log(json.dumps({k: v for k, v in metrics.items() if "macro" in k}))
    v2_meta = json.loads((args.init / "meta.json").read_text())
    meta = {
        **{k: v2_meta[k] for k in ("outputs", "customer_outputs", "agent_outputs", "unk_id")},
        "name": args.name,
        "version": 3,
        "architecture": v2_meta["architecture"] + "; + previous turn's pooled features -> head (w1_ctx)",
        "reads_context": True,
        "init": v2_meta["name"],
        "training": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "data": {**data_hashes(args), "counts": {"train": len(train_rows), "calibration": len(calibration)}},
        "metrics": {"student": metrics, "teacher": v2_meta["metrics"].get("teacher", {})},
        "thresholds": [round(float(t), 4) for t in thresholds],
    }
    export(model, thresholds, args.out, meta)
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
