"""Exemplars: agent turns from your own calls that answered an emotional turn well.

The audit side collects them from analysed calls (audit/exemplars.py); `ExemplarLibrary.best` finds one that fits a new
situation closely (same state and step, similar customer words) so a card can use the
proven phrasing instead of the playbook's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from empathy_engine.ingest.limits import load_json

SIMILARITY = 0.80  # cosine of the text model's pooled features: "fits the situation closely"


@dataclass(frozen=True, slots=True)
class Exemplar:
    state: str
    step: str
    customer: str
    agent: str
    source: str  # "<call id>#<agent turn index>"
    fingerprint: np.ndarray  # unit vector, float32

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "step": self.step,
            "customer": self.customer,
            "agent": self.agent,
            "source": self.source,
            "fingerprint": [round(float(x), 4) for x in self.fingerprint],
        }


class ExemplarLibrary:
    def __init__(self, exemplars: Iterable[Exemplar] = ()) -> None:
        self.by_step: dict[tuple[str, str], list[Exemplar]] = {}
        for e in exemplars:
            self.by_step.setdefault((e.state, e.step), []).append(e)
        self._matrix = {key: np.stack([e.fingerprint for e in items]) for key, items in self.by_step.items()}

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_step.values())

    def best(self, state: str, step: str, fingerprint: np.ndarray) -> Exemplar | None:
        """The closest exemplar for this state and step, if it is close enough."""
        matrix = self._matrix.get((state, step))
        if matrix is None:
            return None
        sims = matrix @ fingerprint
        i = int(np.argmax(sims))
        return self.by_step[(state, step)][i] if sims[i] >= SIMILARITY else None

    @classmethod
    def load(cls, path: Path) -> ExemplarLibrary:
        items = []
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = load_json(line)  # a user's file: the limits of every outside input
                fp = np.asarray(row["fingerprint"], dtype=np.float32)
                items.append(
                    Exemplar(
                        row["state"],
                        row["step"],
                        row["customer"],
                        row["agent"],
                        row["source"],
                        fp / (np.linalg.norm(fp) or 1.0),
                    )
                )
            except (ValueError, KeyError, TypeError) as e:
                raise ValueError(f"{path}:{lineno}: not an exemplar line ({e})") from None
        return cls(items)

    def save(self, path: Path) -> None:
        with path.open("w", encoding="utf-8") as f:
            for items in self.by_step.values():
                for e in items:
                    f.write(json.dumps(e.to_json(), ensure_ascii=False) + "\n")
