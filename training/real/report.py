"""`make eval`'s figures on text someone else wrote, with the baseline a user would pick beside them.

* The engine (the whole pipeline, `Engine.analyze` on whole dialogues) on the annotated real
  dev split, overall and per source.
* The MiniLM baseline (training/baseline.py: all-MiniLM-L6-v2 fine-tuned on GoEmotions alone)
  on the six states it covers, on every dev set: GoEmotions dev, the domain dev, the real dev.
  The engine's six-state figure on each set is computed the same way (its detected states,
  restricted to those six), so the two columns compare like with like.
* The probe sets (training/probes.py): pass rate per kind of reading error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from training.corpora import GOEMOTIONS_STATES, OUTPUTS, Example, stack
from training.metrics import macro_f1
from training.probes import pass_rates, run_probes
from training.real.evaluate_real import Reading, engine_readings, scores, text_readings, unseen_ids
from training.real.labels import Label, load_pass, previous_turn, text_of

SIX = [OUTPUTS.index(s) for s in GOEMOTIONS_STATES]


def real_dev() -> list[Label]:
    return [lab for lab in load_pass("pass1").values() if lab.split == "dev"]


def real_unseen(dev: Sequence[Label]) -> set[str]:
    return unseen_ids(dev, [lab for lab in load_pass("pass1").values() if lab.split == "train"])


def engine_on_real(engine: Any, labels: Sequence[Label], advance: Callable[[int], None]) -> dict[str, float]:
    return scores(engine_readings(engine, labels, advance), "engine/real_dev", real_unseen(labels))


def text_model_on_real(engine: Any, labels: Sequence[Label]) -> dict[str, float]:
    """The engine's text model alone on each customer turn (with the turn it answers when the
    model reads context): the like-for-like comparison with the baseline's one-turn reading."""
    text = engine.text

    customer = [lab for lab in labels if lab.speaker == "customer"]
    readings = []
    for lab in customer:
        previous = previous_turn(lab)
        answering = text.context(text.read(previous)) if previous else None
        scores_ = text.read(text_of(lab), answering).prediction.scores
        readings.append(
            Reading(lab, frozenset(s for s, k in zip(GOEMOTIONS_STATES, SIX, strict=True) if scores_[k] >= 0.5))
        )
    figures = scores(readings, "text_model/real_dev", real_unseen(labels))
    return {k: v for k, v in figures.items() if "/customer6/" in k}


def baseline_on_real(baseline: Any, labels: Sequence[Label]) -> dict[str, float]:
    def predict(texts: list[str]) -> list[frozenset[str]]:
        decided = baseline.predict(texts)
        return [frozenset(GOEMOTIONS_STATES[j] for j, k in enumerate(SIX) if row[k]) for row in decided]

    readings: list[Reading] = text_readings(predict, labels)
    figures = scores(readings, "minilm/real_dev", real_unseen(labels))
    return {k: v for k, v in figures.items() if "/customer6/" in k}


def six_state_f1(pred: np.ndarray, examples: Sequence[Example]) -> float:
    _, targets, mask = stack(examples)
    six_mask = np.zeros_like(mask)
    six_mask[:, SIX] = 1.0
    return macro_f1(pred, targets, mask * six_mask, OUTPUTS, GOEMOTIONS_STATES)["macro_f1"]


def baseline_on_sets(baseline: Any, sets: dict[str, list[Example]]) -> dict[str, float]:
    """The baseline's six-state macro-F1 on the text-only dev sets (GoEmotions, domain)."""
    return {
        f"minilm/{name}/customer6/macro_f1": six_state_f1(baseline.predict([e.text for e in rows]), rows)
        for name, rows in sets.items()
    }


def engine_six_on_sets(decide: Callable[[Example], np.ndarray], sets: dict[str, list[Example]]) -> dict[str, float]:
    """The engine's text model on the text-only dev sets, six states; `decide` gives a row's decisions."""
    out = {}
    for name, rows in sets.items():
        pred = np.stack([decide(e) for e in rows])
        out[f"engine/{name}/customer6/macro_f1"] = six_state_f1(pred, rows)
    return out


def probe_figures(engine: Any) -> dict[str, float]:
    return pass_rates(run_probes(engine))


def fmt(value: object) -> str:
    return "—" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def print_report(m: dict[str, Any], console: Console, before: dict[str, Any] | None = None) -> None:
    """The tables; `before` (figures of the previous model, if given) adds a column."""
    table = Table(title="Engine on the annotated real dev split (whole dialogues)", title_justify="left")
    for col in (
        "set",
        "customer turns",
        "9-state macro-F1",
        "6-state",
        "MiniLM 6-state",
        "agent turns",
        "agent micro-F1",
        "agent macro-F1",
        "missed-cue F1",
    ):
        table.add_column(col, justify="left" if col == "set" else "right")
    groups = ["all", "unseen"] + sorted({k.split("/")[3] for k in m if k.startswith("engine/real_dev/source/")})
    for g in groups:
        key = g if g in ("all", "unseen") else f"source/{g}"
        e = f"engine/real_dev/{key}"
        table.add_row(
            {"all": "all", "unseen": "text unseen in train"}.get(g, f"  {g}"),
            fmt(m.get(f"{e}/customer/n")),
            fmt(m.get(f"{e}/customer/macro_f1")),
            fmt(m.get(f"{e}/customer6/macro_f1")),
            fmt(m.get(f"minilm/real_dev/{key}/customer6/macro_f1")),
            fmt(m.get(f"{e}/agent/n")),
            fmt(m.get(f"{e}/agent/micro_f1")),
            fmt(m.get(f"{e}/agent/macro_f1")),
            fmt(m.get(f"{e}/agent/missed_cue_f1")),
        )
    console.print(table)
    table = Table(title="Six states GoEmotions covers: engine vs MiniLM fine-tuned on GoEmotions", title_justify="left")
    for col in ("dev set", "engine (whole pipeline)", "engine text model", "MiniLM baseline"):
        table.add_column(col, justify="left" if col == "dev set" else "right")
    for name, title in (
        ("goemotions_dev", "GoEmotions dev"),
        ("domain_dev", "domain customer dev"),
        ("real_dev", "annotated real dev"),
    ):
        key = "real_dev/all" if name == "real_dev" else name
        engine = fmt(m.get(f"engine/{key}/customer6/macro_f1"))
        text = fmt(m.get(f"text_model/{key}/customer6/macro_f1")) if name == "real_dev" else engine
        table.add_row(
            title, engine if name == "real_dev" else "—", text, fmt(m.get(f"minilm/{key}/customer6/macro_f1"))
        )
    console.print(table)
    table = Table(title="Probe sets (hand-written, never trained on): pass rate", title_justify="left")
    for col in ("probe", "cases", "pass rate") + (("before",) if before else ()):
        table.add_column(col, justify="left" if col == "probe" else "right")
    for k in sorted(k for k in m if k.startswith("probe/") and k.endswith("/pass_rate")):
        name = k.split("/")[1]
        row = [name, fmt(m.get(f"probe/{name}/n")), f"{m[k]:.1%}"]
        if before:
            row.append(f"{before[k]:.1%}" if k in before else "—")
        table.add_row(*row)
    console.print(table)
