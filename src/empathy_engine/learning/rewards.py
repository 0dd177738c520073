"""What each card earned: the rewards the learning loop learns from (docs/learning.md, "Rewards").

Proximal, per card (from the results alone):
  eased     1 when, within the next two customer turns (up to the next one that shows a card of
            its own), the card's state eased: its intensity (taxonomy.intensity_of of its score)
            fell by at least EASE_DROP below the card's turn, or it was no longer detected; 0 when
            it did not; missing when no customer turn followed.
  followed  whether the agent's next turn did what the card asked (the results' `followed`).
Distal, per call (from the outcomes CSV, audit/outcomes.py columns, plus an optional
`repeat_contact` column): csat (CSAT >= 4), resolved, referral, no_repeat (no repeat contact).
A missing value is missing, never zero: a card whose reward is missing is left out of the fit.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from empathy_engine.results import AgentTurn, ConversationResult, CustomerInsight
from empathy_engine.taxonomy import intensity_of

#: How far a state's intensity must fall (on the 0.33 mild / 0.66 clear / 1.0 strong scale) to count as eased.
EASE_DROP = 0.15
#: Customer turns after the card within which the state must ease.
LOOKAHEAD = 2
SATISFIED_FROM = 4  # CSAT 4 or 5 of 5: the audit's "satisfied"
#: The rewards `learn fit`/`evaluate` can use; "auto": the mean of eased, csat and resolved, each where known.
REWARDS = ("auto", "eased", "followed", "csat", "resolved", "referral", "no_repeat")
MAX_LINE_BYTES = 16 * 1024 * 1024


class ResultsError(ValueError):
    """Results or outcomes that cannot be read; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Card:
    """One card shown: where, which variant with what probability, and what happened next."""

    call_id: str
    turn: int
    state: str
    step: str
    context: str
    variant: str
    propensity: float
    followed: bool | None
    eased: bool | None

    @property
    def key(self) -> str:
        return f"{self.state}/{self.step}"


@dataclass(frozen=True, slots=True)
class CallOutcome:
    csat: int | None = None
    resolved: bool | None = None
    referral: bool | None = None
    repeat_contact: bool | None = None


def eased(turns: Sequence[Mapping[str, Any]], at: int, state: str) -> bool | None:
    """Did `state` ease within LOOKAHEAD customer turns after turns[at]? None: no customer turn followed.

    The look stops at the first later turn that shows a card of its own: what the customer says
    after that card is that card's effect, not this one's (otherwise a phrasing the agent's words
    did not "follow" would be credited with the next card's success, since the path then repeats)."""
    later: list[Mapping[str, Any]] = []
    for t in turns[at + 1 :]:
        if t.get("speaker") != "customer":
            continue
        later.append(t)
        if len(later) == LOOKAHEAD or t.get("cues"):
            break
    before = float((turns[at].get("states") or {}).get(state, 0.0))
    return eased_scores(before, [float((t.get("states") or {}).get(state, 0.0)) for t in later])


def eased_scores(before: float, later: Sequence[float]) -> bool | None:
    """The definition on the state's scores: the card's turn, then the next LOOKAHEAD customer turns."""
    if not later:
        return None
    after = min(intensity_of(score) for score in later)
    return after == 0.0 or after <= intensity_of(before) - EASE_DROP


def typed_cards(result: ConversationResult) -> Iterator[Card]:
    """`cards_of` for the engine's own result (the audit's map step: no JSON in between)."""
    turns = result.turns
    for i, turn in enumerate(turns):
        if not isinstance(turn, CustomerInsight):
            continue
        later = [t for t in turns[i + 1 :] if isinstance(t, CustomerInsight)][:LOOKAHEAD]
        answer = turns[i + 1] if i + 1 < len(turns) and isinstance(turns[i + 1], AgentTurn) else None
        follow = answer.follow_through if isinstance(answer, AgentTurn) else None
        for card in turn.cues:
            if card.variant is None or card.propensity is None or card.source != "playbook":
                continue
            state, _, step = card.id.partition("/")
            before = turn.states.get(card.state, 0.0)  # type: ignore[call-overload]
            after = [t.states.get(card.state, 0.0) for t in later]  # type: ignore[call-overload]
            followed = follow[1] if follow is not None and follow[0] == card.id else None
            yield Card(
                result.id, turn.index, state, step, result.context or "default", card.variant, card.propensity,
                followed, eased_scores(before, after),
            )


def cards_of(result: Mapping[str, Any]) -> Iterator[Card]:
    """The learnable cards of one analyze result (docs/output-format.md): playbook cards with a variant
    and a propensity; safety cards and proven exemplar phrasings (never drawn) are left out."""
    turns = result.get("turns") or []
    context = str(result.get("context") or "default")
    for i, turn in enumerate(turns):
        for card in turn.get("cues") or ():
            variant, propensity = card.get("variant"), card.get("propensity")
            if variant is None or propensity is None or card.get("source", "playbook") != "playbook":
                continue
            state, _, step = str(card.get("id") or str(variant).split("#", 1)[0]).partition("/")
            followed = card.get("followed")
            yield Card(
                str(result["id"]), int(turn.get("index", i)), state, step, context, str(variant),
                float(propensity), None if followed is None else bool(followed), eased(turns, i, state),
            )


def reward(card: Card, outcome: CallOutcome | None, kind: str) -> float | None:
    """The card's reward in [0, 1] under `kind` (REWARDS); None when it is missing."""
    o = outcome or CallOutcome()
    distal = {
        "csat": None if o.csat is None else float(o.csat >= SATISFIED_FROM),
        "resolved": None if o.resolved is None else float(o.resolved),
        "referral": None if o.referral is None else float(o.referral),
        "no_repeat": None if o.repeat_contact is None else float(not o.repeat_contact),
    }
    proximal = {
        "eased": None if card.eased is None else float(card.eased),
        "followed": None if card.followed is None else float(card.followed),
    }
    if kind == "auto":
        known = [v for v in (proximal["eased"], distal["csat"], distal["resolved"]) if v is not None]
        return sum(known) / len(known) if known else None
    return {**proximal, **distal}[kind]


def read_results(paths: Sequence[Path]) -> Iterator[Card]:
    """The cards of analyze results (JSONL, one result a line; or a JSON list) and of audit JSON
    lines (records with `cards`). A line that is an error ({"id", "error"}) is skipped."""
    for path in paths:
        for where, obj in _objects(path):
            if not isinstance(obj, dict) or "error" in obj:
                continue
            if "turns" in obj and isinstance(obj["turns"], list):
                yield from _checked(cards_of, obj, where)
            elif "cards" in obj and isinstance(obj["cards"], list):
                yield from _checked(_audit_cards, obj, where)
            else:
                raise ResultsError(f"{where}: neither an analyze result (turns) nor an audit record (cards)")


def _checked(read: Any, obj: dict[str, Any], where: str) -> Iterator[Card]:
    try:
        yield from list(read(obj))
    except (KeyError, TypeError, ValueError) as e:
        problem = f"{type(e).__name__}: {e}"
        raise ResultsError(f"{where}: a card is malformed ({problem}); expected `empathy analyze` output") from None


def _audit_cards(record: Mapping[str, Any]) -> Iterator[Card]:
    for c in record["cards"]:
        yield Card(
            str(record["id"]), int(c["turn"]), str(c["state"]), str(c["step"]), str(c.get("context") or "default"),
            str(c["variant"]), float(c["propensity"]), c.get("followed"), c.get("eased"),
        )


def _objects(path: Path) -> Iterator[tuple[str, Any]]:
    """Each result in the file: JSONL (analyze), a JSON list (analyze -f json), or the audit's JSON
    document, whose `calls` it writes one a line (read so, memory stays flat)."""
    try:
        with path.open(encoding="utf-8") as f:
            first = f.readline()
            if first.startswith("[") or first.strip() == "{":  # analyze -f json: a list, or one indented object
                f.seek(0)
                if path.stat().st_size > MAX_LINE_BYTES * 4:
                    raise ResultsError(f"{path}: a JSON document over 64 MiB; write JSONL (`analyze -f jsonl`) instead")
                document = json.load(f)
                items = document if isinstance(document, list) else [document]
                yield from ((f"{path}[{i}]", o) for i, o in enumerate(items))
                return
            audit = first.startswith('{"audit"')
            for n, line in enumerate([first, *f] if not audit else f, 1 if not audit else 2):
                if len(line) > MAX_LINE_BYTES:
                    raise ResultsError(f"{path}:{n}: a line over {MAX_LINE_BYTES // 2**20} MiB")
                if audit and not line.startswith('{"id"'):
                    if line.startswith("]"):
                        return  # the end of `calls`: the failures and the summary follow
                    continue
                if line.strip():
                    yield f"{path}:{n}", _json_line(line.rstrip().removesuffix(","), f"{path}:{n}")
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}:{e.lineno}: not JSON ({e.msg}); give `empathy analyze` output") from None
    except UnicodeDecodeError:
        raise ResultsError(f"{path}: not UTF-8 text") from None
    except OSError as e:
        raise ResultsError(f"{path}: cannot read: {e.strerror}") from None


def _json_line(line: str, where: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as e:
        raise ResultsError(f"{where}: not JSON ({e.msg}); give `empathy analyze` output, one result a line") from None


def read_outcomes(paths: Sequence[Path]) -> tuple[dict[str, CallOutcome], list[str]]:
    """Per call id its outcome (the audit's outcomes CSV), and the rows that could not be read."""
    from empathy_engine.audit.outcomes import read_outcomes as audit_outcomes
    from empathy_engine.audit.records import FailedInput

    found: dict[str, CallOutcome] = {}
    problems: list[str] = []
    for path in paths:
        repeats = _repeat_column(path)
        for item in audit_outcomes(path):
            if isinstance(item, FailedInput):
                problems.append(f"{item.where}: {item.reason}")
                continue
            found[item.call_id] = CallOutcome(item.csat, item.resolved, item.referral, repeats.get(item.call_id))
    return found, problems


def _repeat_column(path: Path) -> dict[str, bool]:
    """The optional `repeat_contact` column (yes/no): did the customer contact us again within N days."""
    out: dict[str, bool] = {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                row = {(k or "").strip().lower(): (v or "") for k, v in row.items()}
                value = row.get("repeat_contact", "").strip().lower()
                if value in {"yes", "y", "true", "1", "no", "n", "false", "0"}:
                    out[row.get("call_id", "").strip()] = value in {"yes", "y", "true", "1"}
    except (OSError, UnicodeDecodeError, csv.Error):
        pass  # audit_outcomes reports the same file problem
    return out
