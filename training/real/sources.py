"""Real and crowd-written text from ../shared/data, read in place as dialogues of turns.

Nothing here is ever copied into the repo: an annotation refers to a turn by
(source, dialogue id, turn index), and `index` finds the words again in ../shared.
Turn indices count only the turns people said, in order (for STAR: the user's `utter` and
the wizard's `utter`/`pick_suggestion` events; instructions and database calls are skipped).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"

#: Every source in the annotated real set, with its licence (NOTICE names the authors).
SOURCES: dict[str, str] = {
    "star": "MIT",
    "taskmaster4": "CC BY 4.0",
    "casino": "CC BY 4.0",
    "natcs": "CDLA-Permissive-2.0",
    "banking77": "CC BY 4.0",
    "clinc150": "CC BY 3.0",
    "xed": "CC BY 4.0",
}


@dataclass(frozen=True, slots=True)
class Turn:
    speaker: str  # "customer" or "agent" (CaSiNo's two negotiators are both "customer")
    text: str
    who: str = ""  # the source's own speaker name, kept for readers (CaSiNo: which negotiator)


@dataclass(frozen=True, slots=True)
class Dialogue:
    source: str
    id: str
    turns: tuple[Turn, ...]
    #: Model-independent hints used only to stratify the sample (e.g. STAR's "act annoyed"
    #: instruction, a banking intent); never shown to annotators, never used as labels.
    hints: tuple[str, ...] = ()


def _star(root: Path) -> Iterator[Dialogue]:
    with (root / "star" / "dialogues.jsonl").open(encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            turns: list[Turn] = []
            hints: list[str] = []
            for e in d["Events"]:
                agent, action, text = e.get("Agent"), e.get("Action"), (e.get("Text") or "").strip()
                if agent == "UserGuide" and action == "instruct":
                    low = text.lower()
                    hints += [w for w in ("confused", "concerned", "annoy", "grumpy", "worried") if w in low]
                elif text and agent == "User" and action == "utter":
                    turns.append(Turn("customer", text, "User"))
                elif text and agent == "Wizard" and action in ("utter", "pick_suggestion"):
                    turns.append(Turn("agent", text, "Wizard"))
            for q in d.get("WizardQuestionnaire") or []:
                if "aggressive or annoyed" in q.get("Question", "") and q.get("Answer") is True:
                    hints.append("wizard_saw_annoyed")
            yield Dialogue("star", str(d["DialogueID"]), tuple(turns), tuple(sorted(set(hints))))


def _taskmaster4(root: Path) -> Iterator[Dialogue]:
    for path in sorted((root / "taskmaster4").glob("data_*.json")):
        for d in json.loads(path.read_text(encoding="utf-8")):
            turns = tuple(
                Turn("customer" if u["speaker"] == "user" else "agent", u["text"].strip(), u["speaker"])
                for u in d["utterances"]
                if u.get("text", "").strip()
            )
            yield Dialogue("taskmaster4", d["conversation_id"], turns)


def _casino(root: Path) -> Iterator[Dialogue]:
    for split in ("train", "valid", "test"):
        for d in json.loads((root / "casino" / f"casino_{split}.json").read_text(encoding="utf-8")):
            turns = tuple(
                Turn("customer", m["text"].strip(), m["id"])
                for m in d["chat_logs"]
                if m["text"].strip() and m["text"] not in ("Submit-Deal", "Accept-Deal", "Reject-Deal", "Walk-Away")
            )
            yield Dialogue("casino", f"{split}:{d['dialogue_id']}", turns)


def _natcs(root: Path) -> Iterator[Dialogue]:
    for part in ("development", "test-banking", "test-finance"):
        with (root / "natcs" / part / "test-utterances.jsonl").open(encoding="utf-8") as f:
            for line in f:
                u = json.loads(line)
                yield Dialogue("natcs", u["utterance_id"], (Turn("customer", u["utterance"].strip()),), (u["intent"],))


def _banking77(root: Path) -> Iterator[Dialogue]:
    for split in ("train", "test"):
        with (root / "banking77" / f"{split}.csv").open(encoding="utf-8", newline="") as f:
            for i, row in enumerate(csv.DictReader(f)):
                yield Dialogue(
                    "banking77", f"{split}:{i}", (Turn("customer", row["text"].strip()),), (row["category"],)
                )


def _clinc150(root: Path) -> Iterator[Dialogue]:
    data = json.loads((root / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    for split in ("train", "val", "test", "oos_train", "oos_val", "oos_test"):
        for i, (text, intent) in enumerate(data[split]):
            yield Dialogue("clinc150", f"{split}:{i}", (Turn("customer", text.strip()),), (intent,))


def _xed(root: Path) -> Iterator[Dialogue]:
    with (root / "xed" / "en-annotated.tsv").open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            text, _, labels = line.rstrip("\n").partition("\t")
            if text.strip():
                yield Dialogue("xed", f"annotated:{i}", (Turn("customer", text.strip()),), ("emotion",))
    with (root / "xed" / "neu_en.txt").open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            _, _, text = line.rstrip("\n").partition("\t")
            if text.strip():
                yield Dialogue("xed", f"neutral:{i}", (Turn("customer", text.strip()),), ("neutral",))


_READERS = {
    "star": _star,
    "taskmaster4": _taskmaster4,
    "casino": _casino,
    "natcs": _natcs,
    "banking77": _banking77,
    "clinc150": _clinc150,
    "xed": _xed,
}


def dialogues(source: str, root: Path = SHARED) -> Iterator[Dialogue]:
    """Every dialogue of one source, in the source's own order."""
    if not (root / source).is_dir():
        raise FileNotFoundError(f"{root / source}: missing; this needs ../shared/data/{source} beside the repo")
    return _READERS[source](root)


@cache
def index(source: str, root: Path = SHARED) -> dict[str, Dialogue]:
    """One source's dialogues by id (read once per process)."""
    return {d.id: d for d in dialogues(source, root)}
