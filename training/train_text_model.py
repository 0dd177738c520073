"""Train the bundled text model: fine-tune a MiniLM teacher, distil it into a static-embedding CNN.

    python training/train_text_model.py --base-model DIR --out src/empathy_engine/models/text-emotion-v2

Steps (each printed as it runs):
1. Teacher: all-MiniLM-L6-v2 fine-tuned on GoEmotions (mapped to our six states it covers)
   plus the domain corpus (customer states and agent behaviours), with a label mask so a
   dataset only teaches the outputs it labels.
2. Transfer set: every training text plus K noisy variants (masked words, dropped words,
   speech-recognition style lower case without punctuation, sub-spans), labelled by the teacher.
3. Student: MiniLM's tokenizer, a static embedding per word piece (initialised by running each
   word piece through the base model, as model2vec does, then PCA), a width-3 convolution,
   max+mean pooling and a small MLP; trained on the teacher's probabilities and the gold labels.
4. Calibration: per-output thresholds maximising F1 on the calibration split (never dev).
5. Export: numpy arrays + meta.json, loaded by empathy_engine.perception.text_model.

Runs on a GPU in minutes and on CPU in hours; `--limit` makes a smoke run of a few seconds.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from empathy_engine.taxonomy import BEHAVIOURS, STATES  # noqa: E402
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
    stack,
)
from training.metrics import best_thresholds, macro_f1  # noqa: E402


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------- data


@dataclass
class Splits:
    train: list[Example]
    calibration: list[Example]
    goemotions_dev: list[Example]
    domain_dev: list[Example]
    agent_dev: list[Example]


def build_splits(goemotions: Path, limit: int | None) -> Splits:
    ge_train = load_goemotions(goemotions, "train")
    ge_dev = load_goemotions(goemotions, "dev")
    customer, agent = load_domain()
    if limit:
        rnd = random.Random(0)
        ge_train = rnd.sample(ge_train, min(limit, len(ge_train)))
        ge_dev = ge_dev[:limit]
    train = [e for e in ge_train if goemotions_split(e) == "train"]
    calibration = [e for e in ge_train if goemotions_split(e) == "calibration"]
    domain = customer + agent
    train += [e for e in domain if domain_split(e) == "train"]
    calibration += [e for e in domain if domain_split(e) == "calibration"]
    return Splits(
        train=train,
        calibration=calibration,
        goemotions_dev=ge_dev,
        domain_dev=[e for e in customer if domain_split(e) == "dev"],
        agent_dev=[e for e in agent if domain_split(e) == "dev"],
    )


WORD = re.compile(r"\S+")
PUNCT = re.compile(r"[^\w\s']")


def augment(text: str, rnd: random.Random) -> str:
    """One noisy variant of a text, as in Tang et al. (2019): the teacher labels it afresh."""
    words = WORD.findall(text)
    if not words:
        return text
    if rnd.random() < 0.35:  # speech-recognition style: no case, no punctuation
        words = [PUNCT.sub("", w).lower() for w in words]
        words = [w for w in words if w]
    out = []
    for w in words:
        r = rnd.random()
        if r < 0.10:
            out.append("[MASK]")
        elif r < 0.18:
            continue
        else:
            out.append(w)
    if len(out) > 4 and rnd.random() < 0.25:  # a sub-span
        n = rnd.randint(max(2, len(out) // 2), len(out))
        start = rnd.randint(0, len(out) - n)
        out = out[start : start + n]
    return " ".join(out) or text


# ---------------------------------------------------------------- encoding


def encode(tokenizer: Tokenizer, texts: list[str], max_len: int, special: bool) -> tuple[torch.Tensor, torch.Tensor]:
    encodings = tokenizer.encode_batch(texts, add_special_tokens=special)
    ids = torch.zeros((len(texts), max_len), dtype=torch.long)
    mask = torch.zeros((len(texts), max_len), dtype=torch.bool)
    for i, enc in enumerate(encodings):
        seq = enc.ids[:max_len]
        if not seq:
            seq = [tokenizer.token_to_id("[UNK]")]
        ids[i, : len(seq)] = torch.tensor(seq)
        mask[i, : len(seq)] = True
    return ids, mask


def masked_bce(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    loss = nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    return (loss * mask).sum() / mask.sum().clamp(min=1.0)


# ---------------------------------------------------------------- teacher


class Teacher(nn.Module):
    def __init__(self, base_model: Path) -> None:
        super().__init__()
        from transformers import BertModel

        self.encoder = BertModel.from_pretrained(str(base_model)).float()
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(self.encoder.config.hidden_size, len(OUTPUTS))

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=ids, attention_mask=mask.long()).last_hidden_state
        m = mask.unsqueeze(-1).float()
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.head(self.dropout(pooled))


def batches(n: int, size: int, shuffle: bool, rnd: random.Random) -> list[list[int]]:
    order = list(range(n))
    if shuffle:
        rnd.shuffle(order)
    return [order[i : i + size] for i in range(0, n, size)]


def train_teacher(args: argparse.Namespace, tok: Tokenizer, train: list[Example], device: str) -> Teacher:
    rnd = random.Random(args.seed)
    # Domain rows are few beside GoEmotions: repeat them so the teacher learns their labels.
    rows = [e for e in train for _ in range(args.domain_repeat if e.source != "goemotions" else 1)]
    texts, targets, mask = stack(rows)
    ids, att = encode(tok, texts, args.teacher_len, special=True)
    y, ym = torch.tensor(targets), torch.tensor(mask)
    model = Teacher(args.base_model).to(device)
    steps = args.teacher_epochs * math.ceil(len(rows) / args.teacher_batch)
    opt = torch.optim.AdamW(model.parameters(), lr=args.teacher_lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, s / max(1, steps // 10)) * max(0.0, (steps - s) / steps)
    )
    model.train()
    step = 0
    for epoch in range(args.teacher_epochs):
        total = 0.0
        for batch in batches(len(rows), args.teacher_batch, True, rnd):
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
                logits = model(ids[batch].to(device), att[batch].to(device))
            loss = masked_bce(logits.float(), y[batch].to(device), ym[batch].to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
            step += 1
            if args.max_steps and step >= args.max_steps:
                break
        log(f"teacher epoch {epoch + 1}: loss {total / max(1, step):.4f}")
    return model


@torch.no_grad()
def teacher_probs(
    model: Teacher, tok: Tokenizer, texts: list[str], args: argparse.Namespace, device: str
) -> np.ndarray:
    model.eval()
    out = []
    for start in range(0, len(texts), args.infer_batch):
        ids, att = encode(tok, texts[start : start + args.infer_batch], args.teacher_len, special=True)
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
            logits = model(ids.to(device), att.to(device))
        out.append(torch.sigmoid(logits.float()).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, len(OUTPUTS)), np.float32)


@torch.no_grad()
def static_embeddings(base_model: Path, tok: Tokenizer, dim: int, device: str) -> np.ndarray:
    """model2vec-style: each word piece run alone through the base model, then PCA to `dim`."""
    from transformers import BertModel

    encoder = BertModel.from_pretrained(str(base_model)).float().to(device).eval()
    vocab = tok.get_vocab_size()
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    vectors = []
    for start in range(0, vocab, 2048):
        ids = torch.arange(start, min(vocab, start + 2048))
        batch = torch.stack([torch.full_like(ids, cls), ids, torch.full_like(ids, sep)], dim=1).to(device)
        hidden = encoder(input_ids=batch).last_hidden_state  # (n, 3, H)
        vectors.append(hidden.mean(1).float().cpu())
    x = torch.cat(vectors)
    x = x - x.mean(0)
    _, _, v = torch.linalg.svd(x, full_matrices=False)
    reduced = x @ v[:dim].T
    return (reduced / reduced.std()).numpy().astype(np.float32)


# ---------------------------------------------------------------- student


class Student(nn.Module):
    """The exported architecture; empathy_engine.perception.text_model runs the same maths."""

    def __init__(self, embeddings: np.ndarray, hidden: int, head: int, width: int = 3) -> None:
        super().__init__()
        self.embed = nn.Embedding.from_pretrained(torch.tensor(embeddings), freeze=False)
        self.width = width
        self.conv = nn.Linear(width * embeddings.shape[1], hidden)
        self.fc1 = nn.Linear(2 * hidden, head)
        self.fc2 = nn.Linear(head, len(OUTPUTS))
        self.dropout = nn.Dropout(0.2)

    def features(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask.unsqueeze(-1).float()
        x = self.embed(ids) * m  # padding is zero, as at the text edges at run time
        half = self.width // 2
        padded = nn.functional.pad(x, (0, 0, half, self.width - 1 - half))
        t = ids.shape[1]
        windows = torch.cat([padded[:, i : i + t] for i in range(self.width)], dim=-1)
        h = torch.relu(self.conv(windows)) * m
        mean = h.sum(1) / m.sum(1).clamp(min=1.0)
        return torch.cat([h.max(1).values, mean], dim=-1)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        z = torch.relu(self.fc1(self.dropout(self.features(ids, mask))))
        return self.fc2(z)


def train_student(
    args: argparse.Namespace,
    tok: Tokenizer,
    embeddings: np.ndarray,
    texts: list[str],
    soft: np.ndarray,
    hard: np.ndarray,
    hard_mask: np.ndarray,
    device: str,
) -> Student:
    rnd = random.Random(args.seed)
    torch.manual_seed(args.seed)
    ids, att = encode(tok, texts, args.student_len, special=False)
    s, h, hm = torch.tensor(soft), torch.tensor(hard), torch.tensor(hard_mask)
    model = Student(embeddings, args.hidden, args.head).to(device)
    opt = torch.optim.Adam(
        [
            {"params": model.embed.parameters(), "lr": args.student_lr * 0.5},
            {"params": [p for n, p in model.named_parameters() if not n.startswith("embed")]},
        ],
        lr=args.student_lr,
    )
    steps = args.student_epochs * math.ceil(len(texts) / args.student_batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda st: max(0.05, (steps - st) / steps))
    model.train()
    step = 0
    for epoch in range(args.student_epochs):
        total, count = 0.0, 0
        for batch in batches(len(texts), args.student_batch, True, rnd):
            b_ids, b_att = ids[batch].to(device), att[batch].to(device)
            logits = model(b_ids, b_att)
            loss = nn.functional.binary_cross_entropy_with_logits(logits, s[batch].to(device))
            loss = loss + args.gold_weight * masked_bce(logits, h[batch].to(device), hm[batch].to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
            count += 1
            step += 1
            if args.max_steps and step >= args.max_steps:
                break
        log(f"student epoch {epoch + 1}: loss {total / max(1, count):.4f}")
    return model.eval()


@torch.no_grad()
def student_probs(
    model: Student, tok: Tokenizer, texts: list[str], args: argparse.Namespace, device: str
) -> np.ndarray:
    out = []
    for start in range(0, len(texts), args.infer_batch):
        ids, att = encode(tok, texts[start : start + args.infer_batch], args.student_len, special=False)
        out.append(torch.sigmoid(model(ids.to(device), att.to(device))).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, len(OUTPUTS)), np.float32)


# ---------------------------------------------------------------- evaluation and export


def evaluate(thresholds: np.ndarray, splits: Splits, dev_probs: dict[str, np.ndarray]) -> dict[str, float]:
    """Macro-F1 on each dev set, over the outputs that set labels."""
    metrics: dict[str, float] = {}
    for name, (examples, names) in {
        "goemotions_dev": (splits.goemotions_dev, GOEMOTIONS_STATES),
        "domain_dev": (splits.domain_dev, STATES),
        "agent_dev": (splits.agent_dev, BEHAVIOURS),
    }.items():
        if not examples:
            continue
        _, targets, mask = stack(examples)
        pred = dev_probs[name] >= thresholds
        for key, value in macro_f1(pred, targets, mask, OUTPUTS, names).items():
            metrics[f"{name}/{key}"] = value
    return metrics


def export(
    model: Student,
    thresholds: np.ndarray,
    out: Path,
    tokenizer_file: Path,
    meta: dict[str, object],
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    np.save(out / "embeddings.npy", state["embed.weight"].astype(np.float16))
    clipped = np.clip(thresholds, 1e-4, 1 - 1e-4)
    np.savez(
        out / "weights.npz",
        conv_w=state["conv.weight"].T.astype(np.float32),
        conv_b=state["conv.bias"].astype(np.float32),
        w1=state["fc1.weight"].T.astype(np.float32),
        b1=state["fc1.bias"].astype(np.float32),
        w2=state["fc2.weight"].T.astype(np.float32),
        b2=state["fc2.bias"].astype(np.float32),
        threshold_logit=np.log(clipped / (1 - clipped)).astype(np.float32),
        # v3's context path (training/train_v3.py): the previous turn's pooled features -> head
        **({"w1_ctx": state["ctx.weight"].T.astype(np.float32)} if "ctx.weight" in state else {}),
    )
    shutil.copyfile(tokenizer_file, out / "tokenizer.json")
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--base-model", type=Path, required=True, help="all-MiniLM-L6-v2 folder (config, safetensors, tokenizer.json)"
    )
    p.add_argument("--goemotions", type=Path, default=DEFAULT_GOEMOTIONS)
    p.add_argument("--out", type=Path, required=True, help="model folder to write")
    p.add_argument("--name", default="text-emotion-v2")
    p.add_argument("--limit", type=int, default=0, help="use only N GoEmotions rows (smoke runs)")
    p.add_argument("--max-steps", type=int, default=0, help="stop each training loop after N steps (smoke runs)")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--teacher-epochs", type=int, default=3)
    p.add_argument("--teacher-batch", type=int, default=32)
    p.add_argument("--teacher-lr", type=float, default=5e-5)
    p.add_argument("--teacher-len", type=int, default=64)
    p.add_argument("--domain-repeat", type=int, default=4)
    p.add_argument("--augment", type=int, default=10, help="noisy variants per training text")
    p.add_argument("--dim", type=int, default=256)
    p.add_argument(
        "--variants",
        nargs="+",
        default=["384:256:6"],
        help="student shapes to train, each hidden:head:epochs; with several, each goes to OUT/<variant>",
    )
    p.add_argument("--student-batch", type=int, default=256)
    p.add_argument("--student-lr", type=float, default=2e-3)
    p.add_argument("--student-len", type=int, default=64)
    p.add_argument("--gold-weight", type=float, default=0.5)
    p.add_argument("--infer-batch", type=int, default=512)
    p.add_argument(
        "--save-teacher-labels",
        type=Path,
        help="also write the transfer set and its teacher probabilities to this folder",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    log(f"device {device}; torch {torch.__version__}")
    tokenizer_file = args.base_model / "tokenizer.json"
    tok = Tokenizer.from_file(str(tokenizer_file))
    tok.no_padding()
    tok.no_truncation()

    splits = build_splits(args.goemotions, args.limit or None)
    log(
        f"train {len(splits.train)}, calibration {len(splits.calibration)}, goemotions dev "
        f"{len(splits.goemotions_dev)}, domain dev {len(splits.domain_dev)}, agent dev {len(splits.agent_dev)}"
    )

    teacher = train_teacher(args, tok, splits.train, device)

    rnd = random.Random(args.seed)
    repeat = {"goemotions": 1}
    transfer_texts: list[str] = []
    hard_rows: list[Example] = []
    for e in splits.train:
        for _ in range(repeat.get(e.source, args.domain_repeat)):
            transfer_texts.append(e.text)
            hard_rows.append(e)
        for _ in range(args.augment * repeat.get(e.source, args.domain_repeat)):
            transfer_texts.append(augment(e.text, rnd))
            hard_rows.append(Example(e.text, e.targets, e.mask * 0, e.source))  # variants: teacher only
    _, hard, hard_mask = stack(hard_rows)
    log(f"transfer set: {len(transfer_texts)} texts; labelling with the teacher")
    soft = teacher_probs(teacher, tok, transfer_texts, args, device)
    if args.save_teacher_labels:
        args.save_teacher_labels.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(args.save_teacher_labels / "soft.npz", soft=np.round(soft * 255).astype(np.uint8))
        with gzip.open(args.save_teacher_labels / "texts.txt.gz", "wt", encoding="utf-8") as f:
            f.writelines(t.replace("\n", " ") + "\n" for t in transfer_texts)

    cal_texts, cal_targets, cal_mask = stack(splits.calibration)
    dev_texts = {
        "goemotions_dev": [e.text for e in splits.goemotions_dev],
        "domain_dev": [e.text for e in splits.domain_dev],
        "agent_dev": [e.text for e in splits.agent_dev],
    }
    t_cal = teacher_probs(teacher, tok, cal_texts, args, device)
    t_thr = best_thresholds(t_cal, cal_targets, cal_mask)
    t_dev = {k: teacher_probs(teacher, tok, v, args, device) for k, v in dev_texts.items()}
    teacher_metrics = evaluate(t_thr, splits, t_dev)
    log(f"teacher: {json.dumps(teacher_metrics)}")

    log("static embeddings from the base model")
    embeddings = static_embeddings(args.base_model, tok, args.dim, device)
    del teacher
    domain_files = sorted(DOMAIN_DIR.glob("*.jsonl"))
    for variant in args.variants:
        hidden, head, epochs = (int(x) for x in variant.split(":"))
        vargs = argparse.Namespace(**{**vars(args), "hidden": hidden, "head": head, "student_epochs": epochs})
        log(f"student {variant} (hidden:head:epochs)")
        student = train_student(vargs, tok, embeddings, transfer_texts, soft, hard, hard_mask, device)
        s_cal = student_probs(student, tok, cal_texts, args, device)
        s_thr = best_thresholds(s_cal, cal_targets, cal_mask)
        s_dev = {k: student_probs(student, tok, v, args, device) for k, v in dev_texts.items()}
        student_metrics = evaluate(s_thr, splits, s_dev)
        calibration_f1 = macro_f1(s_cal >= s_thr, cal_targets, cal_mask, OUTPUTS, OUTPUTS)["macro_f1"]
        log(f"student {variant}: calibration macro-F1 {calibration_f1}; {json.dumps(student_metrics)}")
        meta = {
            "name": args.name,
            "version": int(args.name.rsplit("-v", 1)[1]) if "-v" in args.name else 1,
            "architecture": (
                f"wordpiece -> static embeddings {args.dim} -> conv3 {hidden} -> max+mean -> mlp {head} -> sigmoid"
            ),
            "outputs": list(OUTPUTS),
            "customer_outputs": list(STATES),
            "agent_outputs": list(BEHAVIOURS),
            "unk_id": tok.token_to_id("[UNK]"),
            "thresholds": [round(float(t), 3) for t in s_thr],
            "training": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(vargs).items() if k != "out"},
            "data": {
                "goemotions_train_sha256": file_sha256(args.goemotions / "train.tsv"),
                "goemotions_dev_sha256": file_sha256(args.goemotions / "dev.tsv"),
                **{f"domain/{f.name}_sha256": file_sha256(f) for f in domain_files},
                "counts": {
                    "train": len(splits.train),
                    "calibration": len(splits.calibration),
                    "transfer": len(transfer_texts),
                    "goemotions_dev": len(splits.goemotions_dev),
                    "domain_dev": len(splits.domain_dev),
                    "agent_dev": len(splits.agent_dev),
                },
            },
            "metrics": {
                "student": {"calibration/macro_f1": calibration_f1, **student_metrics},
                "teacher": teacher_metrics,
            },
        }
        out = args.out if len(args.variants) == 1 else args.out / variant.replace(":", "-")
        export(student, s_thr, out, tokenizer_file, meta)
        log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
