"""Annotated review-queue lines (`empathy feedback export`, docs/learning.md "Agents' feedback") as
training turns beside the annotated real set.

The export gives one JSON line per customer turn agents called a "wrong read", with `labels`
null; an annotator sets `labels` to the states the customer really showed (the GUIDE.md
vocabulary). This reads such a file: lines still null are skipped, bad labels are an error that
names the file and line. The split follows the real set's rule, by dialogue (a call here):
dev when sha1("feedback|<call id>") % 3 == 0. The file holds customers' (redacted) words, so,
like ../shared/data, it stays outside the repository.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from empathy_engine.taxonomy import STATES
from training.real.sample import is_dev


@dataclass(frozen=True, slots=True)
class QueueTurn:
    """One annotated customer turn from the queue: its words, the agent's before them, its labels."""

    source: str
    dialogue: str
    turn: int
    split: str
    text: str
    previous: str
    labels: tuple[str, ...]
    engine_read: tuple[str, ...]  # what the engine detected, which the agents called wrong

    @property
    def id(self) -> str:
        return f"{self.source}|{self.dialogue}|{self.turn}"


def read_annotated(path: Path) -> tuple[list[QueueTurn], int]:
    """The annotated turns of a queue file, and how many lines are not annotated yet."""
    turns: list[QueueTurn] = []
    waiting = 0
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            labels = r["labels"]
            source, dialogue, turn = str(r["source"]), str(r["dialogue"]), int(r["turn"])
            text, previous = str(r["text"]), r.get("agent_before") or ""
            engine_read = tuple(r.get("engine", {}).get("detected") or ())
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(
                f"{path}:{lineno}: not a review-queue line ({e}); write it with empathy feedback export"
            ) from None
        if labels is None:
            waiting += 1
            continue
        bad = [x for x in labels if x not in STATES] if isinstance(labels, list) else [labels]
        if bad or not labels:
            raise ValueError(f"{path}:{lineno}: labels {labels!r}; use one or more of {', '.join(STATES)}")
        split = "dev" if is_dev(source, dialogue) else "train"
        turns.append(QueueTurn(source, dialogue, turn, split, text, str(previous), tuple(labels), engine_read))
    return turns, waiting
