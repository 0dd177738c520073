"""Phrase matching for the idiom lexicon: recogniser-proof text and a tiny phrase language.

A customer's words arrive as typed chat ("I guess it's fine.") or as a recogniser's output
("uh i guess its fine"). Both are first reduced to one canonical form — lower case, letters and
digits only, contractions spelt out, fillers dropped — and lexicon phrases go through the very
same reduction, so a phrase written once matches every spelling of it.

The phrase language (docs/practice.md, "Lexicon files"):
  words         matched in order, with one extra word allowed between them in phrases of three
                words or more ("i'll just wait" matches "I'll just have to wait"... once)
  a/b           either word (or words: "it's/that's" is "it is" or "that is")
  [word]        an optional word (not last: a trailing optional word could never matter)
  ^             at the start: only at the start of the turn ("^great" is not "a great job")
  $             at the end: only at the end of the turn ("^whatever$" is the whole turn)
Words of four letters or more also match their -s/-es/-d/-ed/-ing forms. Matching is word by
word over the normalized turn (no regular expressions), so its cost is bounded by the phrase.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

#: How much of a turn is read: more than any spoken turn, so a pasted essay costs no more.
MAX_TEXT = 2000
#: Sounds a recogniser writes between words that carry no meaning for the lexicon.
FILLERS = frozenset({"uh", "uhh", "um", "umm", "uhm", "er", "erm", "ah", "ahh", "hmm", "hm", "mm", "mmm"})
#: Whole-word contractions and recogniser spellings, after apostrophes are gone ("cant", "gonna").
WORDS = {
    "cant": "can not", "cannot": "can not", "wont": "will not", "dont": "do not", "doesnt": "does not",
    "didnt": "did not", "isnt": "is not", "wasnt": "was not", "arent": "are not", "werent": "were not",
    "havent": "have not", "hasnt": "has not", "hadnt": "had not", "couldnt": "could not",
    "wouldnt": "would not", "shouldnt": "should not", "aint": "is not", "im": "i am", "ive": "i have",
    "youre": "you are", "youve": "you have", "theyre": "they are", "weve": "we have", "thats": "that is",
    "its": "it is", "whats": "what is", "theres": "there is", "heres": "here is", "hows": "how is",
    "gonna": "going to", "wanna": "want to", "gotta": "got to", "kinda": "kind of", "sorta": "sort of",
    "dunno": "do not know", "ya": "you", "yall": "you all", "cuz": "because",
    "ok": "okay", "alright": "all right", "youd": "you would", "itll": "it will", "thatll": "that will",
    "ill": "i will", "id": "i would", "youll": "you will", "theyll": "they will",
}  # fmt: skip
#: The words `words_of` respells or drops: a turn with none of them is taken as it is split.
RESPELT = frozenset(WORDS) | FILLERS
#: Contractions spelt out while their apostrophe still tells them apart ("i'll" is not "ill").
SPELT = {"n't": " not", "'ll": " will", "'re": " are", "'ve": " have", "'d": " would", "'m": " am"}
#: Starts with a character class, not `\b`: the scan skips to each apostrophe or "n" at C speed.
CONTRACTION = re.compile(r"n't\b|'(?:ll|re|ve|d|m)\b")
APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
#: Everything that is not a letter or a digit becomes a space, in one C pass (str.translate): the
#: ASCII punctuation and the typographic marks chat and transcripts use ("—", "…", quotes).
SPACES = str.maketrans({c: " " for c in '!"#$%&()*+,-./:;<=>?@[\\]^_{|}~\t\n\r\u2014\u2013\u2026\u201c\u201d\u00a0'})
#: Suffixes a word of four letters or more may carry and still match ("run around" / "runs around").
SUFFIXES = ("s", "es", "d", "ed", "ing")
#: Longer than any idiom; a phrase is the telling part of what is said, not a sentence.
MAX_PHRASE_WORDS = 12
INFLECTED_FROM = 4
TOKEN = re.compile(r"^\[?[a-z0-9'/]+\]?$")


def normalize(text: str) -> str:
    """`text` as the lexicon reads it: "Uh, I guess it's FINE..." -> "i guess it is fine"."""
    return " ".join(words_of(text))


def words_of(text: str) -> list[str]:
    """The words of `text` as the lexicon reads them (see `normalize`)."""
    text = text[:MAX_TEXT].lower().translate(APOSTROPHES)
    if "'" in text:  # recogniser text has none: skip the contraction pass
        text = text.replace("won't", "will not").replace("can't", "can not")  # before n't: not "wo not"
        text = CONTRACTION.sub(lambda m: SPELT[m.group(0)], text).replace("'", "")
    words = text.translate(SPACES).split()
    if RESPELT.isdisjoint(words):  # most written turns: nothing to respell or drop
        return words
    get = WORDS.get
    return " ".join([get(w, w) for w in words if w not in FILLERS]).split()


class PhraseError(ValueError):
    """A phrase the language cannot read; the message says what to write instead."""


Choice = tuple[frozenset[str], ...]  # one way to say a position: its words, each in all its forms


@dataclass(frozen=True, slots=True)
class Token:
    choices: tuple[Choice, ...]
    optional: bool


@dataclass(frozen=True, slots=True)
class Phrase:
    """One lexicon phrase, compiled to a word-by-word matcher over `words_of` output.

    Matching walks the turn's words, never backtracking beyond the phrase's own positions: its
    cost is (positions where the first word occurs) x (the phrase's length), whatever anyone
    writes, so no lexicon file can stall a call (the reason the playbook's patterns use RE2)."""

    text: str
    tokens: tuple[Token, ...]
    gap: bool  # one extra word allowed after each required word (phrases of three or more)
    at_start: bool
    at_end: bool
    #: For each required position, the words the turn must hold one of; most telling first.
    needs: tuple[frozenset[str], ...]
    first: frozenset[str]  # the words a match can start with
    span: int  # the most words a match can cover

    def search(self, words: list[str], turn: Turn | None = None) -> tuple[int, int] | None:
        """Where the phrase first matches in `words` (start, end), or None. `turn`: the same words
        as a `Turn`, for a turn many phrases are tried on. (The explainer only walks a phrase
        whose `needs` the turn holds; walking one whose words are missing just finds nothing.)"""
        turn = turn or Turn.of(words)
        if self.at_start:
            starts = [0]
        else:
            starts = turn.positions_of(self.first)
            if len(starts) > 1:  # "i ..." starts everywhere: only where its telling word follows close enough
                keys = turn.positions_of(self.needs[0])
                starts = [p for p in starts if _within(keys, p, p + self.span)]
        for start in starts:
            if (end := self._from(words, start)) is not None:
                return start, end
        return None

    def _from(self, words: list[str], start: int) -> int | None:
        n = len(words)
        at = {start}
        for i, token in enumerate(self.tokens):
            reached = {p + len(c) for p in at for c in token.choices if _fits(words, p, c)}
            if token.optional:
                reached |= at
            elif self.gap and i < len(self.tokens) - 1:
                reached |= {p + 1 for p in reached if p < n}  # the one word a customer slips in
            if not reached:
                return None
            at = reached
        ends = [p for p in at if p == n] if self.at_end else sorted(at)
        return ends[0] if ends else None


@dataclass(frozen=True, slots=True)
class Turn:
    """A turn's words, with the set of them and where each occurs, for every phrase tried on it."""

    words: list[str]
    present: frozenset[str]
    _positions: dict[str, list[int]]

    @classmethod
    def of(cls, words: list[str]) -> Turn:
        return cls(words, frozenset(words), {})

    def positions(self, word: str) -> list[int]:
        """Where `word` occurs, in order (found once a turn; list.index does the scanning, in C)."""
        found = self._positions.get(word)
        if found is None:
            found, at = [], -1
            try:
                while True:
                    at = self.words.index(word, at + 1)
                    found.append(at)
            except ValueError:
                self._positions[word] = found
        return found

    def positions_of(self, words: frozenset[str]) -> list[int]:
        """Where any of `words` occurs, in order."""
        hits = words & self.present
        if len(hits) == 1:
            return self.positions(next(iter(hits)))
        return sorted(p for w in hits for p in self.positions(w))


def _fits(words: list[str], at: int, choice: Choice) -> bool:
    if at + len(choice) > len(words):
        return False
    for j, forms_of in enumerate(choice):  # a plain loop: a generator in all() costs more than the tests
        if words[at + j] not in forms_of:
            return False
    return True


def compile_phrase(phrase: str) -> Phrase:
    """A lexicon phrase (see the module docstring) as a `Phrase`; PhraseError says what is wrong."""
    text = phrase.strip().lower().replace("-", " ")  # "no-show" is said, and recognised, as two words
    at_start, at_end = text.startswith("^"), text.endswith("$")
    raw = text.lstrip("^").rstrip("$").split()
    if not raw:
        raise PhraseError(f"phrase {phrase!r} has no words")
    if len(raw) > MAX_PHRASE_WORDS:
        raise PhraseError(f"phrase {phrase!r} has {len(raw)} words; at most {MAX_PHRASE_WORDS}: keep the telling part")
    for token in raw:
        if not TOKEN.match(token) or "//" in token or token.strip("[]").startswith("/") or token.endswith("/"):
            raise PhraseError(
                f"phrase {phrase!r}: {token!r} is not a word, a/b or [word]; "
                "write letters, digits and apostrophes only (no punctuation or regex)"
            )
    if raw[-1].startswith("["):
        raise PhraseError(f"phrase {phrase!r} ends in an optional word, which could never matter; drop it")
    tokens = tuple(Token(_choices(t.strip("[]"), phrase), t.startswith("[")) for t in raw)
    if all(t.optional for t in tokens):
        raise PhraseError(f"phrase {phrase!r} has only optional words; make one required")
    gap = sum(1 for t in tokens if not t.optional) >= 3
    span = sum(max(len(c) for c in t.choices) for t in tokens) + (len(tokens) if gap else 0)
    return Phrase(phrase, tokens, gap, at_start, at_end, _needs(tokens), _first(tokens), span)


def _within(sorted_positions: list[int], low: int, high: int) -> bool:
    i = bisect_left(sorted_positions, low)
    return i < len(sorted_positions) and sorted_positions[i] <= high


def _first(tokens: tuple[Token, ...]) -> frozenset[str]:
    found: set[str] = set()
    for token in tokens:
        found.update(w for choice in token.choices for w in choice[0])
        if not token.optional:
            break
    return frozenset(found)


def _choices(token: str, phrase: str) -> tuple[Choice, ...]:
    choices = []
    for option in token.split("/"):
        words = words_of(option)
        if not words:
            raise PhraseError(f"phrase {phrase!r}: {option!r} is only a filler word; drop it")
        choices.append(tuple(frozenset(forms(w)) for w in words))
    return tuple(choices)


def _needs(tokens: tuple[Token, ...]) -> tuple[frozenset[str], ...]:
    """For each required position, the words of which the turn must hold one wherever the phrase
    matches (each choice's most telling word, in all its forms), most telling position first: a
    cheap set test before matching, and the first is what the explainer indexes the phrase by."""
    needs = []
    for token in tokens:
        if token.optional:
            continue
        telling = [max(choice, key=lambda f: _telling(min(f, key=len))) for choice in token.choices]
        rank = min(_telling(min(f, key=len)) for f in telling)
        needs.append((rank, frozenset(w for f in telling for w in f)))
    needs.sort(key=lambda need: need[0], reverse=True)
    return tuple(words for _, words in needs)


def forms(word: str) -> tuple[str, ...]:
    """`word` and its -s/-es/-d/-ed/-ing forms when it has four letters or more ("run around" is
    written for "runs around" too)."""
    if len(word) >= INFLECTED_FROM and word.isalpha():
        return (word, *(word + suffix for suffix in SUFFIXES))
    return (word,)


#: Words so common that a phrase's key should be another one where it can.
COMMON = frozenset(
    "a an the i me my we our you your it is am are was be been that this there then than of to in on at "
    "for with and or but so not no do does did have has had will would can could just what how why all "
    "get got go going want know think really very".split()
)


def _telling(word: str) -> tuple[bool, int]:
    return (word not in COMMON, len(word))
