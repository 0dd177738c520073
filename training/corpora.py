"""Training and evaluation corpora: GoEmotions (mapped to our states) and the domain corpus.

GoEmotions is read from ../shared/data/goemotions and never copied into the repo.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from empathy_engine.taxonomy import BEHAVIOURS, STATES

REPO = Path(__file__).resolve().parents[1]
DOMAIN_DIR = REPO / "training" / "data" / "domain"
DEFAULT_GOEMOTIONS = REPO.parent / "shared" / "data" / "goemotions"

#: Outputs of the text model: nine customer states, then thirteen agent behaviours.
OUTPUTS: tuple[str, ...] = tuple(STATES) + tuple(BEHAVIOURS)
N_STATES = len(STATES)

#: GoEmotions label -> our state. Documented in training/MODEL_CARD.md. Labels not listed
#: (caring, desire, embarrassment, realization, remorse, surprise) map to no state: such a
#: comment is a negative example for all six states GoEmotions covers.
GOEMOTIONS_TO_STATE: dict[str, str] = {
    "anger": "frustration",
    "annoyance": "frustration",
    "disapproval": "frustration",
    "disgust": "frustration",
    "confusion": "confusion",
    "curiosity": "confusion",
    "fear": "worry",
    "nervousness": "worry",
    "sadness": "dejection",
    "disappointment": "dejection",
    "grief": "dejection",
    "admiration": "satisfaction",
    "amusement": "satisfaction",
    "approval": "satisfaction",
    "excitement": "satisfaction",
    "gratitude": "satisfaction",
    "joy": "satisfaction",
    "love": "satisfaction",
    "optimism": "satisfaction",
    "pride": "satisfaction",
    "relief": "satisfaction",
    "neutral": "neutral",
}
#: The six states GoEmotions covers; the other three are only labelled in the domain corpus.
GOEMOTIONS_STATES: tuple[str, ...] = (
    "frustration",
    "confusion",
    "worry",
    "dejection",
    "satisfaction",
    "neutral",
)


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled text. `mask[k]` says whether output k is labelled for this text."""

    text: str
    targets: np.ndarray  # float32 (len(OUTPUTS),)
    mask: np.ndarray  # float32 (len(OUTPUTS),)
    source: str  # "goemotions" | "domain-customer" | "domain-agent" | "real:<set>"
    #: The turn this one answers (v3 reads a turn with it); "" when there is none.
    context: str = ""


def hash_fraction(text: str, salt: str = "split-v1") -> float:
    """A stable number in [0, 1) from the text: splits never depend on file order."""
    digest = hashlib.sha256((salt + text.strip().lower()).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def load_goemotions(path: Path, split: str) -> list[Example]:
    labels = (path / "labels.txt").read_text().split()
    out = []
    for line in (path / f"{split}.tsv").read_text(encoding="utf-8").splitlines():
        text, ids, _ = line.split("\t")
        targets = np.zeros(len(OUTPUTS), np.float32)
        mask = np.zeros(len(OUTPUTS), np.float32)
        for state in GOEMOTIONS_STATES:
            mask[OUTPUTS.index(state)] = 1.0
        for label_id in ids.split(","):
            state = GOEMOTIONS_TO_STATE.get(labels[int(label_id)])
            if state:
                targets[OUTPUTS.index(state)] = 1.0
        out.append(Example(text, targets, mask, "goemotions"))
    return out


def _load_jsonl(files: Iterable[Path], field: str, names: Sequence[str], source: str) -> list[Example]:
    out = []
    seen: set[tuple[str, str]] = set()
    for file in sorted(files):
        for lineno, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            # The same words after a different turn are a different example ("Great." after
            # bad news vs after good news): de-duplicate on both.
            key = (row.get("context", "").strip().lower(), row["text"].strip().lower())
            if key in seen:
                continue
            seen.add(key)
            targets = np.zeros(len(OUTPUTS), np.float32)
            mask = np.zeros(len(OUTPUTS), np.float32)
            for name in names:
                mask[OUTPUTS.index(name)] = 1.0
            for label in row[field]:
                if label not in names:
                    raise ValueError(f"{file}:{lineno}: unknown label {label!r}")
                targets[OUTPUTS.index(label)] = 1.0
            out.append(Example(row["text"], targets, mask, source, row.get("context", "")))
    return out


def load_domain(directory: Path = DOMAIN_DIR) -> tuple[list[Example], list[Example]]:
    """Customer and agent turns of the domain corpus (all splits)."""
    customer = _load_jsonl(directory.glob("customer_*.jsonl"), "labels", STATES, "domain-customer")
    agent = _load_jsonl(directory.glob("agent_*.jsonl"), "behaviours", BEHAVIOURS, "domain-agent")
    return customer, agent


def domain_split(example: Example) -> str:
    """70 % train, 10 % calibration (thresholds, model choice), 20 % dev (only ever reported)."""
    h = hash_fraction(example.text)
    return "train" if h < 0.70 else "calibration" if h < 0.80 else "dev"


def goemotions_split(example: Example) -> str:
    """GoEmotions train is split 90/10 into train and calibration; its dev stays dev."""
    return "train" if hash_fraction(example.text) < 0.90 else "calibration"


def stack(examples: Sequence[Example]) -> tuple[list[str], np.ndarray, np.ndarray]:
    texts = [e.text for e in examples]
    if not examples:
        return texts, np.zeros((0, len(OUTPUTS)), np.float32), np.zeros((0, len(OUTPUTS)), np.float32)
    return texts, np.stack([e.targets for e in examples]), np.stack([e.mask for e in examples])


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
