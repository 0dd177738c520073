"""Reading CRM text by meaning: what a prior contact's outcome says, and whether a note names
someone at risk.

CRM exports word the same fact a hundred ways ("tech no-show", "technician did not arrive",
"appt missed by contractor", "cust waited all day, nobody came"), so fixed patterns miss most of
them. This is a small trained reader instead: hashed word 1-2-grams and character 3-5-grams of
the text, and a linear model per question (softmax over outcome kinds; logistic for
vulnerability), fitted by training/train_crm.py on hand-labelled CRM phrases
(training/data/context/), with the old fixed patterns kept as a recall floor (these are
safety signals: a wording the reader has not learnt must still count). numpy only; a phrase
takes microseconds.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from empathy_engine.perception import vulnerability

MODEL = "crm-v1"
#: Recall floors under the trained reader: the wordings it must never miss, whatever it learnt.
UNRESOLVED = re.compile(
    r"no[- ]?show|didn'?t show|never (came|showed|arrived)|not (fixed|resolved)|unresolved|"
    r"came back|return(ed)? visit|callback|still (broken|not|leaking)|cancel+ed|missed",
    re.I,
)
NO_SHOW = re.compile(r"no[- ]?show|didn'?t show|never (came|showed|arrived)|missed", re.I)
OUTCOMES = ("failed_visit", "unresolved", "resolved", "other")
_WORD = re.compile(r"[a-z0-9']+")


def features(text: str, buckets: int) -> dict[int, float]:
    """Hashed, L2-normalised counts of word 1-2-grams and character 3-5-grams (within words).

    crc32 rather than Python's hash(): the same bucket in every process and in training."""
    words = _WORD.findall(text.lower())
    grams = [f"w:{w}" for w in words] + [f"b:{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    for w in words:
        padded = f"<{w}>"
        grams += [f"c:{padded[i : i + n]}" for n in (3, 4, 5) for i in range(len(padded) - n + 1)]
    counts: dict[int, float] = {}
    for g in grams:
        k = zlib.crc32(g.encode()) % buckets
        counts[k] = counts.get(k, 0.0) + 1.0
    norm = float(np.sqrt(sum(v * v for v in counts.values()))) or 1.0
    return {k: v / norm for k, v in counts.items()}


@dataclass(frozen=True, slots=True)
class CrmReader:
    buckets: int
    outcome_w: np.ndarray  # (buckets, len(OUTCOMES))
    outcome_b: np.ndarray
    vulnerable_w: np.ndarray  # (buckets,)
    vulnerable_b: float

    @classmethod
    def load(cls, directory: Path) -> CrmReader:
        meta = json.loads((directory / "meta.json").read_text())
        with np.load(directory / "weights.npz") as w:
            return cls(
                int(meta["buckets"]),
                w["outcome_w"].astype(np.float32),
                w["outcome_b"].astype(np.float32),
                w["vulnerable_w"].astype(np.float32),
                float(w["vulnerable_b"]),
            )

    def unresolved(self, text: str) -> bool:
        """The contact left the problem open: a failed visit, or a visit that did not fix it."""
        return self.outcome(text) in ("failed_visit", "unresolved") or bool(UNRESOLVED.search(text))

    def failed_visit(self, text: str) -> bool:
        """The company did not turn up (no-show, missed window, cancelled on the day)."""
        return self.outcome(text) == "failed_visit" or bool(NO_SHOW.search(text))

    def outcome(self, text: str) -> str:
        """The kind of a prior contact's outcome: failed_visit, unresolved, resolved or other."""
        f = features(text, self.buckets)
        if not f:
            return "other"
        idx = np.fromiter(f, dtype=np.int64)
        logits = np.fromiter(f.values(), dtype=np.float32) @ self.outcome_w[idx] + self.outcome_b
        return OUTCOMES[int(np.argmax(logits))]

    def vulnerable(self, note: str) -> bool:
        """Whether a note says someone in the household is at particular risk (elderly, infant,
        illness, medical equipment, a pet that needs warmth)."""
        return self._vulnerable(note) or bool(vulnerability.IN_NOTES.search(note))

    def _vulnerable(self, note: str) -> bool:
        f = features(note, self.buckets)
        if not f:
            return False
        idx = np.fromiter(f, dtype=np.int64)
        return float(np.fromiter(f.values(), dtype=np.float32) @ self.vulnerable_w[idx]) + self.vulnerable_b > 0.0


@cache
def bundled() -> CrmReader:
    with resources.as_file(resources.files("empathy_engine") / "models" / MODEL) as path:
        return CrmReader.load(Path(path))
