"""Dev-set figures of the bundled text model, a TF-IDF baseline beside it, and the teacher's.

    .venv/bin/python training/evaluate.py [--goemotions DIR] [--json OUT]

What it measures (splits exactly as training/corpora.py defines them; dev is never tuned on):

* bundled: the shipped model (src/empathy_engine/models/text-emotion-v2), run through the
  numpy runtime, ``TextModel.bundled().predict(text).scores >= 0.5`` (calibrated thresholds
  are folded into the model, so 0.5 is each output's decision point);
* baseline: TF-IDF word 1-2 grams + one logistic regression per output (one-vs-rest,
  ``class_weight="balanced"``), trained on exactly the model's training rows (GoEmotions
  train portion + domain train portion), each output only on rows that label it
  (mask == 1), thresholds tuned per output on the calibration split;
* teacher: the fine-tuned MiniLM teacher, read from meta.json (measured during training;
  the teacher is not shipped, so it is not re-run here).

Dev sets: GoEmotions dev (the six states GoEmotions covers), domain customer dev (nine
states, with a breakdown by the writing style of each row) and domain agent dev (thirteen
behaviours). Also the bundled model's latency: mean microseconds per ``predict()`` call over
the domain dev texts.

On text someone else wrote (training/real/report.py): the whole engine on the annotated real
dev split (whole dialogues; overall, per source, and on the turns whose text is not in the
train split), the probe sets, and the model a user would pick instead — all-MiniLM-L6-v2
fine-tuned on GoEmotions alone (training/baseline.py) — beside the engine on the six states it
covers on every dev set. The baseline is trained on the first run (tens of minutes on CPU) and
cached under runs/baseline/. Needs ../shared/data beside the repo and the ``train`` extra
(torch, scikit-learn, the MiniLM package); without ../shared the real-text part is skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402

from empathy_engine.perception.text_model import DEFAULT_MODEL, TextModel  # noqa: E402
from empathy_engine.taxonomy import BEHAVIOURS, STATES  # noqa: E402
from training.corpora import (  # noqa: E402
    DEFAULT_GOEMOTIONS,
    DOMAIN_DIR,
    GOEMOTIONS_STATES,
    OUTPUTS,
    Example,
    domain_split,
    goemotions_split,
    load_domain,
    load_goemotions,
    stack,
)
from training.metrics import best_thresholds, f1_per_output, macro_f1  # noqa: E402
from training.real import report  # noqa: E402

STYLES: tuple[str, ...] = ("written", "asr", "nonnative", "understated")
#: dev set -> the outputs it labels
DEV_SETS: dict[str, tuple[str, ...]] = {
    "goemotions_dev": GOEMOTIONS_STATES,
    "domain_dev": tuple(STATES),
    "agent_dev": tuple(BEHAVIOURS),
}
TIMING_PASSES = 3

console = Console()


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


# ---------------------------------------------------------------- data


def check_goemotions(path: Path) -> None:
    missing = [name for name in ("train.tsv", "dev.tsv", "labels.txt") if not (path / name).is_file()]
    if missing:
        raise SystemExit(
            f"GoEmotions not found: {path.resolve()} lacks {', '.join(missing)}.\n"
            "Expected the folder of ../shared/data/README.md (train.tsv, dev.tsv, labels.txt); "
            "pass --goemotions DIR to point elsewhere."
        )


def domain_styles(directory: Path = DOMAIN_DIR) -> dict[str, str]:
    """Lower-cased stripped text -> style, with the same file order and de-duplication as corpora.py."""
    styles: dict[str, str] = {}
    for file in sorted(directory.glob("*.jsonl")):
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                styles.setdefault(row["text"].strip().lower(), row.get("style", "unknown"))
    return styles


def build(goemotions: Path) -> tuple[list[Example], list[Example], dict[str, list[Example]]]:
    """(train, calibration, dev sets) exactly as training/train_text_model.build_splits makes them."""
    ge_train = load_goemotions(goemotions, "train")
    ge_dev = load_goemotions(goemotions, "dev")
    customer, agent = load_domain()
    domain = customer + agent
    train = [e for e in ge_train if goemotions_split(e) == "train"]
    train += [e for e in domain if domain_split(e) == "train"]
    calibration = [e for e in ge_train if goemotions_split(e) == "calibration"]
    calibration += [e for e in domain if domain_split(e) == "calibration"]
    dev = {
        "goemotions_dev": ge_dev,
        "domain_dev": [e for e in customer if domain_split(e) == "dev"],
        "agent_dev": [e for e in agent if domain_split(e) == "dev"],
    }
    return train, calibration, dev


# ---------------------------------------------------------------- scoring


def score(
    pred: np.ndarray, targets: np.ndarray, mask: np.ndarray, prefix: str, names: Sequence[str]
) -> dict[str, float]:
    return {f"{prefix}/{k}": v for k, v in macro_f1(pred, targets, mask, OUTPUTS, names).items()}


def style_scores(
    pred: np.ndarray, targets: np.ndarray, mask: np.ndarray, styles: list[str], prefix: str
) -> dict[str, float]:
    """Domain dev macro-F1 per style, over the states with at least one gold positive in that style.

    A state with no positive in a small subset has no defined F1 (metrics.py would count it
    as 0), so it is left out of that style's mean; `n_states` says how many states counted.
    """
    out: dict[str, float] = {}
    idx = [OUTPUTS.index(s) for s in STATES]
    for style in STYLES:
        rows = np.array([s == style for s in styles])
        if not rows.any():
            continue
        f1 = f1_per_output(pred[rows], targets[rows], mask[rows])[idx]
        present = targets[rows][:, idx].sum(0) > 0
        out[f"{prefix}/style/{style}/macro_f1"] = round(float(f1[present].mean()), 4) if present.any() else 0.0
        out[f"{prefix}/style/{style}/n_states"] = int(present.sum())
        out[f"{prefix}/style/{style}/n"] = int(rows.sum())
    return out


def predict_example(model: TextModel, e: Example) -> np.ndarray:
    """A row's scores, read with the turn it answers when it has one and the model reads context."""
    context = model.predict(e.context).pooled if e.context and model.reads_context else None
    return model.predict(e.text, context).scores


def evaluate_bundled(model: TextModel, dev: dict[str, list[Example]], styles: list[str]) -> dict[str, float]:
    metrics: dict[str, float] = {}
    total = sum(len(v) for v in dev.values())
    with progress() as bar:
        task = bar.add_task("bundled model: dev sets", total=total)
        for name, examples in dev.items():
            _, targets, mask = stack(examples)
            scores = np.empty((len(examples), len(OUTPUTS)), np.float32)
            for i, e in enumerate(examples):
                scores[i] = predict_example(model, e)
                bar.advance(task)
            pred = scores >= 0.5
            metrics.update(score(pred, targets, mask, f"bundled/{name}", DEV_SETS[name]))
            if name == "domain_dev":
                metrics.update(style_scores(pred, targets, mask, styles, "bundled/domain_dev"))
    return metrics


def time_bundled(model: TextModel, texts: list[str]) -> dict[str, float]:
    """Mean (and p50/p95) microseconds per predict() call, after one warm-up pass."""
    for text in texts:
        model.predict(text)
    per_call: list[float] = []
    with progress() as bar:
        task = bar.add_task(f"bundled model: timing ({TIMING_PASSES} passes)", total=TIMING_PASSES * len(texts))
        for _ in range(TIMING_PASSES):
            for text in texts:
                start = time.perf_counter()
                model.predict(text)
                per_call.append(time.perf_counter() - start)
                bar.advance(task)
    us = np.asarray(per_call) * 1e6
    return {
        "bundled/latency_us/mean": round(float(us.mean()), 1),
        "bundled/latency_us/p50": round(float(np.percentile(us, 50)), 1),
        "bundled/latency_us/p95": round(float(np.percentile(us, 95)), 1),
        "bundled/latency_us/calls": int(us.size),
    }


def evaluate_baseline(
    train: list[Example], calibration: list[Example], dev: dict[str, list[Example]], styles: list[str]
) -> dict[str, float]:
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SystemExit("the baseline needs scikit-learn: pip install -e '.[train]'") from exc

    texts, targets, mask = stack(train)
    cal_texts, cal_targets, cal_mask = stack(calibration)
    with progress() as bar:
        task = bar.add_task("baseline: TF-IDF + logistic regression", total=len(OUTPUTS) + 2)
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        x = vectorizer.fit_transform(texts)
        x_cal = vectorizer.transform(cal_texts)
        x_dev = {name: vectorizer.transform([e.text for e in examples]) for name, examples in dev.items()}
        bar.advance(task)
        p_cal = np.zeros((len(cal_texts), len(OUTPUTS)), np.float32)
        p_dev = {name: np.zeros((len(examples), len(OUTPUTS)), np.float32) for name, examples in dev.items()}
        for k, output in enumerate(OUTPUTS):
            bar.update(task, description=f"baseline: {output}")
            rows = mask[:, k] > 0
            y = targets[rows, k]
            if rows.sum() == 0 or y.min() == y.max():  # nothing to learn: constant prediction
                constant = float(y[0]) if rows.any() else 0.0
                p_cal[:, k] = constant
                for name in p_dev:
                    p_dev[name][:, k] = constant
            else:
                clf = LogisticRegression(class_weight="balanced", max_iter=2000, solver="liblinear", random_state=0)
                clf.fit(x[rows], y)
                p_cal[:, k] = clf.predict_proba(x_cal)[:, 1]
                for name in p_dev:
                    p_dev[name][:, k] = clf.predict_proba(x_dev[name])[:, 1]
            bar.advance(task)
        bar.update(task, description="baseline: thresholds on calibration")
        thresholds = best_thresholds(p_cal, cal_targets, cal_mask)
        bar.advance(task)
    metrics: dict[str, float] = {"baseline/vocabulary": len(vectorizer.vocabulary_)}
    for name, examples in dev.items():
        _, d_targets, d_mask = stack(examples)
        pred = p_dev[name] >= thresholds
        metrics.update(score(pred, d_targets, d_mask, f"baseline/{name}", DEV_SETS[name]))
        if name == "domain_dev":
            metrics.update(style_scores(pred, d_targets, d_mask, styles, "baseline/domain_dev"))
    return metrics


# ---------------------------------------------------------------- report


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def print_tables(m: dict[str, float | str], dev: dict[str, list[Example]]) -> None:
    titles = {
        "goemotions_dev": "GoEmotions dev (6 states it covers)",
        "domain_dev": "Domain customer dev (9 states)",
        "agent_dev": "Domain agent dev (13 behaviours)",
    }
    for name, names in DEV_SETS.items():
        _, targets, mask = stack(dev[name])
        table = Table(title=f"{titles[name]}: {len(dev[name])} texts, F1", title_justify="left")
        table.add_column("output")
        table.add_column("positives", justify="right")
        for column in ("bundled", "baseline", "teacher*"):
            table.add_column(column, justify="right")
        for n in names:
            k = OUTPUTS.index(n)
            positives = int(targets[mask[:, k] > 0, k].sum())
            table.add_row(
                n, str(positives), *(fmt(m.get(f"{c}/{name}/f1/{n}")) for c in ("bundled", "baseline", "teacher"))
            )
        table.add_section()
        table.add_row(
            "[bold]macro-F1[/bold]",
            "",
            *(f"[bold]{fmt(m.get(f'{c}/{name}/macro_f1'))}[/bold]" for c in ("bundled", "baseline", "teacher")),
        )
        console.print(table)

    table = Table(
        title="Domain customer dev by style: macro-F1 over the states with a positive in that style",
        title_justify="left",
    )
    for column, justify in (
        ("style", "left"),
        ("texts", "right"),
        ("states", "right"),
        ("bundled", "right"),
        ("baseline", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for style in STYLES:
        key = f"domain_dev/style/{style}"
        if f"bundled/{key}/n" not in m:
            continue
        table.add_row(
            style,
            str(m[f"bundled/{key}/n"]),
            str(m[f"bundled/{key}/n_states"]),
            fmt(m.get(f"bundled/{key}/macro_f1")),  # type: ignore[arg-type]
            fmt(m.get(f"baseline/{key}/macro_f1")),  # type: ignore[arg-type]
        )
    console.print(table)
    console.print(
        f"bundled model latency: mean {m['bundled/latency_us/mean']:.0f} µs per predict() "
        f"(p50 {m['bundled/latency_us/p50']:.0f}, p95 {m['bundled/latency_us/p95']:.0f}) over "
        f"{m['bundled/latency_us/calls']} calls on the domain dev texts; {m['machine']}"
    )
    console.print(
        "* teacher: fine-tuned all-MiniLM-L6-v2, figures from meta.json (measured during training, not re-run). "
        "Bundled vs the figures recorded in meta.json at export: largest difference "
        f"{m['bundled/max_abs_diff_vs_recorded']:.4f}."
    )


def evaluate_real(
    model: TextModel, dev: dict[str, list[Example]], goemotions: Path, minilm: bool = True
) -> dict[str, float]:
    """The whole engine on the annotated real dev split and the probes, and the MiniLM baseline
    (trained once, then cached) on the six states it covers, on every dev set."""
    from empathy_engine import Engine
    from empathy_engine.pipeline import EngineSettings
    from training.baseline import load_or_train

    if not (REPO.parent / "shared" / "data" / "star").is_dir():
        console.print("[yellow]../shared/data not found: the real-text figures, probes and MiniLM baseline are skipped")
        return {}
    engine = Engine(EngineSettings(model=model.meta["name"]), model=model)
    real = report.real_dev()
    metrics: dict[str, float] = {"n/real_dev": len(real)}
    with progress() as bar:
        task = bar.add_task("engine: annotated real dev (whole dialogues)", total=len(real))
        metrics.update(report.engine_on_real(engine, real, lambda n: bar.advance(task, n)))
    metrics.update(report.text_model_on_real(engine, real))
    text_sets = {"goemotions_dev": dev["goemotions_dev"], "domain_dev": dev["domain_dev"]}
    metrics.update(report.engine_six_on_sets(lambda e: predict_example(model, e) >= 0.5, text_sets))
    with console.status("engine: probe sets"):
        metrics.update(report.probe_figures(engine))
    if not minilm:
        return metrics
    baseline = load_or_train(goemotions, log=console.print)
    with console.status("MiniLM baseline: dev sets"):
        metrics.update(report.baseline_on_sets(baseline, text_sets))
        metrics.update(report.baseline_on_real(baseline, real))
    return metrics


def machine() -> str:
    cpus = os.cpu_count() or 0
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        pass
    return f"{platform.machine()}, {cpus} CPU cores, Python {platform.python_version()}, numpy {np.__version__}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--goemotions", type=Path, default=DEFAULT_GOEMOTIONS, help="GoEmotions folder (default %(default)s)"
    )
    p.add_argument("--json", type=Path, help="also write every figure to this file as a flat JSON object")
    p.add_argument("--model", default=DEFAULT_MODEL, help="the bundled text model to measure (default %(default)s)")
    p.add_argument("--model-dir", type=Path, help="measure the model in this folder (a candidate not bundled)")
    p.add_argument(
        "--without-minilm", action="store_true", help="skip the MiniLM baseline (first trained: tens of minutes)"
    )
    args = p.parse_args(argv)
    check_goemotions(args.goemotions)
    started = time.perf_counter()

    with console.status("loading corpora"):
        train, calibration, dev = build(args.goemotions)
        by_text = domain_styles()
        styles = [by_text.get(e.text.strip().lower(), "unknown") for e in dev["domain_dev"]]
    console.print(
        f"train {len(train)}, calibration {len(calibration)}, " + ", ".join(f"{k} {len(v)}" for k, v in dev.items())
    )

    model = TextModel(args.model_dir) if args.model_dir else TextModel.bundled(args.model)
    metrics: dict[str, float | str] = {
        "model": model.meta["name"],
        "machine": machine(),
        "n/train": len(train),
        "n/calibration": len(calibration),
        **{f"n/{k}": len(v) for k, v in dev.items()},
    }
    metrics.update(evaluate_bundled(model, dev, styles))
    metrics.update(time_bundled(model, [e.text for e in dev["domain_dev"]]))
    metrics.update(evaluate_baseline(train, calibration, dev, styles))
    metrics.update({f"teacher/{k}": v for k, v in model.meta["metrics"]["teacher"].items()})
    recorded = model.meta["metrics"]["student"]
    diffs = [abs(float(metrics[f"bundled/{k}"]) - v) for k, v in recorded.items() if f"bundled/{k}" in metrics]
    metrics["bundled/max_abs_diff_vs_recorded"] = round(max(diffs), 4) if diffs else 0.0
    metrics["elapsed_s"] = round(time.perf_counter() - started, 1)

    metrics.update(evaluate_real(model, dev, args.goemotions, minilm=not args.without_minilm))
    metrics["elapsed_s"] = round(time.perf_counter() - started, 1)

    print_tables(metrics, dev)
    report.print_report(metrics, console)
    console.print(f"finished in {metrics['elapsed_s']:.0f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(metrics, indent=2) + "\n")
        console.print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
