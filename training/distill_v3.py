"""Label unlabelled real text with the v3 teacher, for the student to learn from (distillation).

    .venv/bin/python training/distill_v3.py --teacher runs/teacher-v3     # ONNX int8: 15 min on 2 cores
    .venv/bin/python training/train_v3.py --soft runs/teacher-v3/soft.npz --out ...

The pool is every turn of the real sources in ../shared/data (STAR, Taskmaster-4, CaSiNo, NatCS,
BANKING77, CLINC150, XED; each with the turn it answers) and GoEmotions' train comments, less the
dialogues of the annotated dev split, the probe texts, and repeats of the same (context, turn).
Nobody labelled these turns: the teacher's probabilities are the targets, over the states for a
customer's turn and over the behaviours for an agent's.

The teacher runs here as the third candidate of issue 10 item 4, a small transformer in ONNX int8
on onnxruntime: it is exported (OUT/teacher.onnx), quantized (OUT/teacher.int8.onnx), and its
turn-level figures on the annotated real dev split and its cost per utterance on one thread are
written to OUT/onnx_int8.json. OUT/soft.npz holds the pool's rows by reference (source, dialogue,
turn; the text stays in ../shared) and the probabilities.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from empathy_engine.taxonomy import BEHAVIOURS, STATES  # noqa: E402
from training.baseline import progress  # noqa: E402
from training.corpora import DEFAULT_GOEMOTIONS, OUTPUTS, Example  # noqa: E402
from training.real.labels import REAL_DIR, load_pass  # noqa: E402
from training.real.sources import SOURCES, dialogues  # noqa: E402
from training.train_text_model import log  # noqa: E402
from training.train_v3 import normalised, probe_texts, real_example  # noqa: E402

SENTENCE_END = re.compile(r"[.!?]+(?:\s+|$)")


def dev_dialogues() -> set[tuple[str, str]]:
    rows = (json.loads(line) for line in (REAL_DIR / "sample.jsonl").read_text(encoding="utf-8").splitlines())
    return {(r["source"], str(r["dialogue"])) for r in rows if r["split"] == "dev"}


def _mask(speaker: str) -> np.ndarray:
    mask = np.zeros(len(OUTPUTS), np.float32)
    for name in STATES if speaker == "customer" else BEHAVIOURS:
        mask[OUTPUTS.index(name)] = 1.0
    return mask


def pool(goemotions: Path) -> tuple[list[Example], list[str]]:
    """The unlabelled rows (targets all zero until the teacher fills them) and their references."""
    held_out, dev = probe_texts(), dev_dialogues()
    seen: set[tuple[str, str]] = set()
    rows: list[Example] = []
    refs: list[str] = []
    zero = np.zeros(len(OUTPUTS), np.float32)

    def add(text: str, context: str, speaker: str, ref: str) -> None:
        key = (normalised(context), normalised(text))
        if not text.strip() or key in seen or key[1] in held_out:
            return
        seen.add(key)
        rows.append(Example(text, zero, _mask(speaker), "soft", context))
        refs.append(ref)

    for source in SOURCES:
        for d in dialogues(source):
            if (source, d.id) in dev:
                continue
            for i, turn in enumerate(d.turns):
                add(turn.text, d.turns[i - 1].text if i else "", turn.speaker, f"{source}|{d.id}|{i}")
    for i, line in enumerate((goemotions / "train.tsv").read_text(encoding="utf-8").splitlines()):
        add(line.split("\t")[0], "", "customer", f"goemotions|train|{i}")
    return rows, refs


def sentences(rows: list[Example]) -> int:
    return sum(max(1, len(SENTENCE_END.findall(e.text.strip()))) for e in rows)


def export_onnx(teacher_dir: Path) -> Path:
    """teacher.pt -> teacher.onnx -> teacher.int8.onnx (dynamic quantization of the matrices)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from training.baseline import base_model
    from training.train_text_model import Teacher

    fp32, int8 = teacher_dir / "teacher.onnx", teacher_dir / "teacher.int8.onnx"
    if int8.is_file():
        return int8
    model = Teacher(base_model())
    model.load_state_dict(torch.load(teacher_dir / "teacher.pt", map_location="cpu"))
    model.eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.bool)
    torch.onnx.export(
        model,
        (ids, mask),
        str(fp32),
        input_names=["ids", "mask"],
        output_names=["logits"],
        dynamic_axes={"ids": {0: "batch", 1: "pieces"}, "mask": {0: "batch", 1: "pieces"}, "logits": {0: "batch"}},
        dynamo=False,
        opset_version=17,
    )
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    return int8


class OnnxTeacher:
    """The int8 teacher on onnxruntime: probabilities of every output for (context, turn) rows."""

    def __init__(self, path: Path, threads: int) -> None:
        import onnxruntime as ort

        from training.teacher_v3 import pair_tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tok = pair_tokenizer(96)

    def probs(self, rows: list[Example], batch: int = 64, bar: bool = False) -> np.ndarray:
        from training.teacher_v3 import encode_pairs

        seqs = encode_pairs(self.tok, rows)
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
        out = np.zeros((len(rows), len(OUTPUTS)), np.float32)
        with progress() if bar else contextlib.nullcontext() as shown:
            task = shown.add_task("teacher labels", total=len(rows)) if shown else None
            for start in range(0, len(order), batch):
                chunk = order[start : start + batch]
                out[chunk] = self._batch([seqs[i] for i in chunk])
                if shown and task is not None:
                    shown.advance(task, len(chunk))
        return out

    def _batch(self, seqs: list[list[int]]) -> np.ndarray:
        width = max(len(s) for s in seqs)
        ids = np.zeros((len(seqs), width), np.int64)
        mask = np.zeros((len(seqs), width), np.bool_)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = s
            mask[i, : len(s)] = True
        (logits,) = self.session.run(None, {"ids": ids, "mask": mask})
        return 1.0 / (1.0 + np.exp(-logits))


def candidate_figures(teacher: OnnxTeacher, thresholds: np.ndarray) -> dict[str, object]:
    """The ONNX int8 transformer as a run-time candidate: accuracy on real dev, cost on one thread."""
    from training.teacher_v3 import figures

    dev = [real_example(lab) for lab in load_pass("pass1").values() if lab.split == "dev"]
    accuracy = figures(teacher.probs(dev), dev, thresholds)
    customer = [e for e in dev if e.mask[OUTPUTS.index(STATES[0])] > 0][:500]
    single = []
    for e in customer:
        started = time.perf_counter()
        teacher.probs([e], batch=1)
        single.append(time.perf_counter() - started)
    started = time.perf_counter()
    teacher.probs(customer, batch=64)
    batch_rate = len(customer) / (time.perf_counter() - started)
    return {
        "real_dev": accuracy,
        "p50_ms": round(1000 * float(np.percentile(single, 50)), 2),
        "p99_ms": round(1000 * float(np.percentile(single, 99)), 2),
        "batch_per_s": round(batch_rate, 1),
        "threads": 1,
        "turns_timed": len(customer),
    }


def soft_examples(path: Path, goemotions: Path = DEFAULT_GOEMOTIONS, outputs: Sequence[str] = OUTPUTS) -> list[Example]:
    """The labelled pool back as training rows: the words found again by reference in ../shared,
    the teacher's probabilities as targets (train_v3.py --soft) for `outputs` only; a row that
    teaches none of them is left out."""
    with np.load(path) as soft:
        probs = dict(zip(soft["refs"].tolist(), soft["probs"].astype(np.float32), strict=True))
    keep = np.array([o in outputs for o in OUTPUTS], np.float32)
    rows, refs = pool(goemotions)
    out = []
    for e, r in zip(rows, refs, strict=True):
        mask = e.mask * keep
        if r in probs and mask.any():
            out.append(Example(e.text, probs[r], mask, "soft", e.context))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--teacher", type=Path, default=REPO / "runs" / "teacher-v3", help="teacher_v3.py's --out")
    p.add_argument("--goemotions", type=Path, default=DEFAULT_GOEMOTIONS)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, default=0, help="label only this many rows (a smoke run)")
    args = p.parse_args(argv)
    int8 = export_onnx(args.teacher)
    thresholds = np.load(args.teacher / "thresholds.npy")
    one = OnnxTeacher(int8, threads=1)
    figures = candidate_figures(one, thresholds)
    (args.teacher / "onnx_int8.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    log(f"onnx int8 teacher: {json.dumps(figures)}")
    rows, refs = pool(args.goemotions)
    if args.limit:
        rows, refs = rows[: args.limit], refs[: args.limit]
    log(f"pool: {len(rows)} turns, about {sentences(rows)} sentences")
    started = time.time()
    probs = OnnxTeacher(int8, threads=args.threads).probs(rows, bar=True)
    log(f"labelled {len(rows)} turns in {(time.time() - started) / 60:.1f} min")
    np.savez_compressed(args.teacher / "soft.npz", refs=np.array(refs), probs=probs.astype(np.float16))
    log(f"wrote {args.teacher / 'soft.npz'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
