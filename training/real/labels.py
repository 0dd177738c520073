"""The annotated real set: labels by reference (source|dialogue|turn), text read from ../shared.

Label files live in training/data/real/labels/<pass>/*.jsonl, one line per turn:
``{"id": "star|1935|6", "labels": ["frustration"]}``, agent turns with ``"missed_cue": bool``.
`sample.jsonl` beside them says which split (train/dev, by dialogue) each turn belongs to.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from empathy_engine.taxonomy import BEHAVIOURS, STATES
from training.real.sources import REPO, Dialogue, index

REAL_DIR = REPO / "training" / "data" / "real"
LABELS_DIR = REAL_DIR / "labels"


@dataclass(frozen=True, slots=True)
class Label:
    source: str
    dialogue: str
    turn: int
    speaker: str
    split: str
    labels: tuple[str, ...]
    missed_cue: bool | None = None

    @property
    def id(self) -> str:
        return f"{self.source}|{self.dialogue}|{self.turn}"


def _sample() -> dict[str, dict[str, object]]:
    rows = {}
    for line in (REAL_DIR / "sample.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        rows[f"{r['source']}|{r['dialogue']}|{r['turn']}"] = r
    return rows


def load_pass(name: str = "pass1", directory: Path = LABELS_DIR) -> dict[str, Label]:
    """Every label of one annotation pass, checked against the sample and the taxonomy."""
    sample = _sample()
    out: dict[str, Label] = {}
    for file in sorted((directory / name).glob("*.jsonl")):
        for lineno, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            r = json.loads(line)
            ref = sample.get(r["id"])
            if ref is None:
                raise ValueError(f"{file}:{lineno}: {r['id']!r} is not in sample.jsonl")
            allowed = STATES if ref["speaker"] == "customer" else BEHAVIOURS
            bad = [x for x in r["labels"] if x not in allowed]
            if bad or not r["labels"]:
                raise ValueError(f"{file}:{lineno}: labels {r['labels']!r} (allowed: {', '.join(allowed)})")
            out[r["id"]] = Label(
                str(ref["source"]),
                str(ref["dialogue"]),
                int(ref["turn"]),  # type: ignore[call-overload]
                str(ref["speaker"]),
                str(ref["split"]),
                tuple(r["labels"]),
                r.get("missed_cue"),
            )
    return out


def units(labels: Iterable[Label]) -> dict[tuple[str, str], list[Label]]:
    """Labels grouped by dialogue, in turn order."""
    grouped: dict[tuple[str, str], list[Label]] = {}
    for lab in labels:
        grouped.setdefault((lab.source, lab.dialogue), []).append(lab)
    return {k: sorted(v, key=lambda x: x.turn) for k, v in sorted(grouped.items())}


def dialogue_of(source: str, dialogue: str) -> Dialogue:
    return index(source)[dialogue]


def previous_turn(lab: Label) -> str:
    """The turn this one answers (empty for the first turn and for single queries)."""
    if lab.turn == 0:
        return ""
    return dialogue_of(lab.source, lab.dialogue).turns[lab.turn - 1].text


def text_of(lab: Label) -> str:
    return dialogue_of(lab.source, lab.dialogue).turns[lab.turn].text
