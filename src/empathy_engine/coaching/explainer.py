"""The idiom explainer: one line on what a customer's phrase usually means, when the engine agrees.

For agents whose first language is not American English: "I guess it's fine" read at face value
is a closed ticket; said flatly after bad news it is a customer giving up. The line is only shown
when the engine's own reading agrees (the entry's states, at its level; for sarcasm, bad news
just before), so a literal "the heater works fine now, thanks" stays quiet.

Cost: a turn is normalized once (coaching/phrases.py) and searched once with the whole lexicon
joined into one RE2 pattern; only a turn that hits is asked entry by entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from empathy_engine.coaching.coach import _any_of
from empathy_engine.coaching.lexicon import Entry, load_lexicon
from empathy_engine.coaching.phrases import normalize, phrase_pattern
from empathy_engine.coaching.playbook import compile_pattern
from empathy_engine.perception.patterns import BAD_NEWS
from empathy_engine.results import CustomerTurn
from empathy_engine.taxonomy import LEVELS, Level, level

RANK: dict[Level, int] = {name: i for i, (name, _) in enumerate(LEVELS)}


@dataclass(frozen=True, slots=True)
class _Compiled:
    entry: Entry
    phrases: Any  # one RE2 pattern for all of the entry's phrases
    unless: Any | None


@dataclass(frozen=True, slots=True)
class Explanation:
    entry_id: str
    line: str
    quote: str  # the customer's words that matched, as normalized


class Explainer:
    """The lexicon, compiled once and shared (read-only) by every call."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = [_Compiled(e, _joined(e.phrases), _joined(e.unless) if e.unless else None) for e in entries]
        # One pass for the common turn with no idiom in it. Built from the same patterns as the
        # entries, so it can only ever let through more, never less.
        self.any_phrase = _any_of([phrase_pattern(p) for e in entries for p in e.phrases])

    @classmethod
    def load(cls, path: str | Path | None = None) -> Explainer:
        return cls(load_lexicon(path))

    def explain(self, turn: CustomerTurn, text: str, agent_before: str | None) -> Explanation | None:
        """The line for this customer turn, or None: no phrase of the lexicon, a literal use, or an
        engine reading that does not agree. `agent_before`: the agent's turn just before, if any."""
        said = normalize(text)
        if not said or (self.any_phrase is not None and not self.any_phrase.search(said)):
            return None
        bad_news: bool | None = None  # read only when an entry asks for it
        best: tuple[int, Explanation] | None = None
        for compiled in self.entries:
            match = compiled.phrases.search(said)
            if match is None or (compiled.unless is not None and compiled.unless.search(said)):
                continue
            entry = compiled.entry
            if not _agrees(entry, turn):
                continue
            if entry.after == "bad_news":
                if bad_news is None:
                    bad_news = bool(agent_before and BAD_NEWS.search(agent_before[:2000]))
                if not bad_news:
                    continue
            quote = match.group(0).strip()
            if best is None or len(quote) > best[0]:  # the longest phrase is the most specific
                best = (len(quote), Explanation(entry.id, entry.means, quote))
        return best[1] if best else None


def _agrees(entry: Entry, turn: CustomerTurn) -> bool:
    """The engine reads one of the entry's states on this turn, at the entry's level or stronger."""
    floor = RANK[entry.at_least]
    return any(s in turn.detected and RANK[level(turn.intensity_of(s))] >= floor for s in entry.signals)


def _joined(phrases: list[str]) -> Any:
    return compile_pattern("|".join(f"(?:{phrase_pattern(p)})" for p in phrases))
