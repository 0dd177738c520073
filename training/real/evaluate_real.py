"""The engine on the annotated real set: whole dialogues through the live pipeline.

Each annotated dialogue is fed to `Engine.analyze` exactly as a call would be (so patterns,
context and the agent's previous turn all count); each turn's output is compared with its
gold labels. CaSiNo has two negotiators and no agent: it is fed twice, once with each
negotiator as the customer, and each one's turns are scored from the run where they were.

Figures (per set, and per source):
* customer nine-state macro-F1, over the states with at least one gold positive in the set
  (a state with no positive has no F1; `states` says how many counted);
* customer six-state macro-F1 over GoEmotions' states, the comparison with the baseline;
* agent thirteen-behaviour micro-F1 and macro-F1 (macro over behaviours present);
* missed-cue F1 (positive class: missed) on the agent turns of whole conversations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from empathy_engine.events import CallStarted, Utterance
from empathy_engine.taxonomy import BEHAVIOURS, STATES
from training.corpora import GOEMOTIONS_STATES
from training.real.labels import Label, dialogue_of, text_of, units


@dataclass(frozen=True, slots=True)
class Reading:
    """What a recogniser said of one annotated turn."""

    label: Label
    predicted: frozenset[str]
    missed_cue: bool | None = None


def _events(source: str, dialogue: str, customer_side: str | None) -> list[object]:
    d = dialogue_of(source, dialogue)
    events: list[object] = [CallStarted(f"{source}|{dialogue}")]
    for t in d.turns:
        speaker = t.speaker if customer_side is None else ("customer" if t.who == customer_side else "agent")
        events.append(Utterance(speaker, t.text))  # type: ignore[arg-type]
    return events


def engine_readings(
    engine: object, labels: Iterable[Label], advance: Callable[[int], None] = lambda n: None
) -> list[Reading]:
    """Run every annotated dialogue through the engine; one Reading per labelled turn."""
    out: list[Reading] = []
    for (source, dialogue), labs in units(labels).items():
        by_turn = {lab.turn: lab for lab in labs}
        sides: Sequence[str | None] = (None,)
        if source == "casino":
            sides = tuple(sorted({t.who for t in dialogue_of(source, dialogue).turns}))
        for side in sides:
            result = engine.analyze(_events(source, dialogue, side)).to_dict()  # type: ignore[attr-defined]
            turns = dialogue_of(source, dialogue).turns
            for i, turn in enumerate(result["turns"]):
                lab = by_turn.get(i)
                if lab is None or (side is not None and turns[i].who != side):
                    continue
                if lab.speaker == "customer":
                    out.append(Reading(lab, frozenset(turn.get("detected", ()))))
                else:
                    out.append(Reading(lab, frozenset(turn.get("behaviours", ())), bool(turn.get("missed_cue"))))
        advance(len(labs))
    return out


def text_readings(predict: Callable[[list[str]], list[frozenset[str]]], labels: Sequence[Label]) -> list[Reading]:
    """Readings from a turn-by-turn text classifier (the baseline): no context, customer turns only."""
    customer = [lab for lab in labels if lab.speaker == "customer"]
    return [Reading(lab, p) for lab, p in zip(customer, predict([text_of(lab) for lab in customer]), strict=True)]


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


def _counts(readings: Sequence[Reading], name: str) -> tuple[int, int, int]:
    tp = sum(name in r.predicted and name in r.label.labels for r in readings)
    fp = sum(name in r.predicted and name not in r.label.labels for r in readings)
    fn = sum(name not in r.predicted and name in r.label.labels for r in readings)
    return tp, fp, fn


def customer_scores(readings: Sequence[Reading], names: Sequence[str] = STATES) -> dict[str, float]:
    rows = [r for r in readings if r.label.speaker == "customer"]
    out: dict[str, float] = {"n": len(rows)}
    present = []
    for name in names:
        tp, fp, fn = _counts(rows, name)
        if tp + fn:
            present.append(name)
            out[f"f1/{name}"] = round(_f1(tp, fp, fn), 4)
        out[f"positives/{name}"] = tp + fn
    out["macro_f1"] = round(float(np.mean([out[f"f1/{n}"] for n in present])), 4) if present else 0.0
    out["states"] = len(present)
    return out


def agent_scores(readings: Sequence[Reading]) -> dict[str, float]:
    rows = [r for r in readings if r.label.speaker == "agent"]
    out: dict[str, float] = {"n": len(rows)}
    totals = np.zeros(3, int)
    present = []
    for name in BEHAVIOURS:
        counts = _counts(rows, name)
        totals += counts
        if counts[0] + counts[2]:
            present.append(name)
            out[f"f1/{name}"] = round(_f1(*counts), 4)
        out[f"positives/{name}"] = counts[0] + counts[2]
    out["micro_f1"] = round(_f1(*totals.tolist()), 4)
    out["macro_f1"] = round(float(np.mean([out[f"f1/{n}"] for n in present])), 4) if present else 0.0
    judged = [r for r in rows if r.missed_cue is not None and r.label.missed_cue is not None]
    tp = sum(bool(r.missed_cue and r.label.missed_cue) for r in judged)
    fp = sum(bool(r.missed_cue and not r.label.missed_cue) for r in judged)
    fn = sum(bool(not r.missed_cue and r.label.missed_cue) for r in judged)
    out["missed_cue_f1"] = round(_f1(tp, fp, fn), 4)
    out["missed_cue_positives"] = tp + fn
    return out


def unseen_ids(dev: Iterable[Label], train: Iterable[Label]) -> set[str]:
    """Dev turns whose words never occur in the train split. STAR's wizards pick from a few
    hundred templates, so many dev agent turns are copies of train turns: figures on these
    alone say how the engine reads words it was not trained on."""
    seen = {" ".join(text_of(lab).lower().split()) for lab in train}
    return {lab.id for lab in dev if " ".join(text_of(lab).lower().split()) not in seen}


def scores(readings: Sequence[Reading], prefix: str, unseen: set[str] | None = None) -> dict[str, float]:
    """Flat figures for one recogniser on one set: overall, per source, and (given `unseen`)
    on the turns whose text is not in the train split."""
    out: dict[str, float] = {}
    groups: dict[str, list[Reading]] = {"all": list(readings)}
    if unseen is not None:
        groups["unseen"] = [r for r in readings if r.label.id in unseen]
    for r in readings:
        groups.setdefault(f"source/{r.label.source}", []).append(r)
    for group, rows in groups.items():
        key = f"{prefix}/{group}"
        if any(r.label.speaker == "customer" for r in rows):
            out.update({f"{key}/customer/{k}": v for k, v in customer_scores(rows).items()})
            out.update({f"{key}/customer6/{k}": v for k, v in customer_scores(rows, GOEMOTIONS_STATES).items()})
        if any(r.label.speaker == "agent" for r in rows):
            out.update({f"{key}/agent/{k}": v for k, v in agent_scores(rows).items()})
    return out
