"""The idiom explainer: one line on what a customer's phrase usually means, when the engine agrees.

For agents whose first language is not American English: "I guess it's fine" read at face value
is a closed ticket; said flatly after bad news it is a customer giving up. The line is only shown
when the engine's own reading agrees (the entry's states, at its level; for sarcasm, bad news
just before), so a literal "the heater works fine now, thanks" stays quiet.

Cost: a turn is normalized once (coaching/phrases.py) and its words looked up once in an index of
the lexicon's key words; only the entries found there are asked, cheapest check first (the
engine's reading, then bad news, then the full phrase, word by word).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from empathy_engine.coaching.lexicon import Entry, load_lexicon
from empathy_engine.coaching.phrases import Phrase, Turn, compile_phrase, words_of
from empathy_engine.perception.patterns import BAD_NEWS
from empathy_engine.results import CustomerTurn
from empathy_engine.taxonomy import LEVELS, Level, level

RANK: dict[Level, int] = {name: i for i, (name, _) in enumerate(LEVELS)}


@dataclass(frozen=True, slots=True)
class _Compiled:
    entry: Entry
    phrases: tuple[Phrase, ...]
    unless: tuple[Phrase, ...]

    def search(self, turn: Turn, phrases: list[int]) -> tuple[int, int] | None:
        """Where the first of `phrases` (the entry's, by index) that matches does; None on none,
        or when one of the entry's `unless` phrases marks the turn as a literal use."""
        found = next((m for i in phrases if (m := self.phrases[i].search(turn.words, turn))), None)
        if found is None or any(p.search(turn.words, turn) for p in self.unless):
            return None
        return found


@dataclass(frozen=True, slots=True)
class Explanation:
    entry_id: str
    line: str
    quote: str  # the customer's words that matched, as normalized


class Explainer:
    """The lexicon, compiled once and shared (read-only) by every call."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = [_Compiled(e, _compiled(e.phrases), _compiled(e.unless)) for e in entries]
        # Which entries could match at all, by word: each phrase has key words the turn must hold
        # (coaching/phrases.py key_words), so the common turn with no idiom costs one dictionary
        # look-up per word, and a turn with one asks only its candidates for the full phrase. (One
        # RE2 pattern or RE2 set of the whole lexicon was measured first: its lazily built DFA made
        # unseen turns cost 0.2-1 ms at p50 and several ms at p99; see benchmarks/explainer.py.)
        self.by_word: dict[str, list[tuple[int, int, tuple[frozenset[str], ...]]]] = {}
        for index, compiled in enumerate(self.entries):
            for number, phrase in enumerate(compiled.phrases):
                for form in phrase.needs[0]:  # indexed by its most telling word, in every inflected form
                    self.by_word.setdefault(form, []).append((index, number, phrase.needs[1:]))
        self.keys = frozenset(self.by_word)
        self.signalled = frozenset(s for c in self.entries for s in c.entry.signals)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Explainer:
        return cls(load_lexicon(path))

    def explain(self, turn: CustomerTurn, text: str, agent_before: str | None) -> Explanation | None:
        """The line for this customer turn, or None: no phrase of the lexicon, a literal use, or an
        engine reading that does not agree. `agent_before`: the agent's turn just before, if any."""
        if not any(s in self.signalled for s in turn.detected):
            return None  # the cheapest check first: a calm or satisfied turn stops here
        words = words_of(text)
        indexed = Turn.of(words)
        candidates = self._candidates(indexed.present)
        if not candidates:
            return None
        # The reading's levels once a turn, not once an entry (an intensity is a logarithm away).
        read: dict[str, int] = {s: RANK[level(turn.intensity_of(s))] for s in turn.detected if s in self.signalled}
        bad_news: bool | None = None  # read only when an entry asks for it
        best: tuple[int, Explanation] | None = None
        for index in sorted(candidates):  # lexicon order: ties resolve alike
            compiled = self.entries[index]
            if not _agrees(compiled.entry, read):
                continue
            if compiled.entry.after == "bad_news":
                if bad_news is None:
                    bad_news = bool(agent_before and BAD_NEWS.search(agent_before[:2000]))
                if not bad_news:
                    continue
            phrases = candidates[index]
            match = compiled.search(indexed, sorted(phrases) if len(phrases) > 1 else list(phrases))
            if match is None:
                continue
            quote = " ".join(words[match[0] : match[1]])
            if best is None or len(quote) > best[0]:  # the longest phrase is the most specific
                best = (len(quote), Explanation(compiled.entry.id, compiled.entry.means, quote))
        return best[1] if best else None

    def _candidates(self, words: frozenset[str]) -> dict[int, set[int]]:
        """The entries, and which of their phrases, that have all their words in the turn (one
        look-up a key word, then set tests): only these can match, so only these are walked."""
        found: dict[int, set[int]] = {}
        for word in words & self.keys:  # the intersection runs in C; the loop sees only key words
            for index, number, needs in self.by_word[word]:
                for need in needs:  # a plain loop: a generator in all() costs more than the tests
                    if words.isdisjoint(need):
                        break
                else:
                    found.setdefault(index, set()).add(number)
        return found


def _agrees(entry: Entry, read: dict[str, int]) -> bool:
    """The engine reads one of the entry's states on this turn (`read`: state -> level rank), at
    the entry's level or stronger."""
    floor = RANK[entry.at_least]
    return any(read.get(s, -1) >= floor for s in entry.signals)


def _compiled(phrases: list[str]) -> tuple[Phrase, ...]:
    return tuple(compile_phrase(p) for p in phrases)
