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
Words of four letters or more also match their -s/-es/-d/-ed/-ing forms.
"""

from __future__ import annotations

import re

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
#: Contractions spelt out while their apostrophe still tells them apart ("i'll" is not "ill").
APOSTROPHE_FORMS = (
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"\bcan't\b"), "can not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"'m\b"), " am"),
)
APOSTROPHES = re.compile(r"[\u2019\u2018`\u00b4]")
NOT_WORD = re.compile(r"[^a-z0-9']+")
#: Suffixes a word of four letters or more may carry and still match ("run around" / "runs around").
SUFFIXES = "(?:s|es|d|ed|ing)?"
INFLECTED_FROM = 4
TOKEN = re.compile(r"^\[?[a-z0-9'/]+\]?$")


def normalize(text: str) -> str:
    """`text` as the lexicon reads it: "Uh, I guess it's FINE..." -> "i guess it is fine"."""
    text = APOSTROPHES.sub("'", text[:MAX_TEXT].lower())
    for form, spelt in APOSTROPHE_FORMS:
        text = form.sub(spelt, text)
    words: list[str] = []
    for word in NOT_WORD.sub(" ", text).replace("'", "").split():
        if word not in FILLERS:
            words.append(WORDS.get(word, word))
    return " ".join(words)


class PhraseError(ValueError):
    """A phrase the language cannot read; the message says what to write instead."""


def phrase_pattern(phrase: str) -> str:
    """The RE2 pattern (over normalized text) for one lexicon phrase (see the module docstring)."""
    text = phrase.strip().lower().replace("-", " ")  # "no-show" is said, and recognised, as two words
    anchored, ends = text.startswith("^"), text.endswith("$")
    tokens = text.lstrip("^").rstrip("$").split()
    if not tokens:
        raise PhraseError(f"phrase {phrase!r} has no words")
    for token in tokens:
        if not TOKEN.match(token) or "//" in token or token.strip("[]").startswith("/") or token.endswith("/"):
            raise PhraseError(
                f"phrase {phrase!r}: {token!r} is not a word, a/b or [word]; "
                "write letters, digits and apostrophes only (no punctuation or regex)"
            )
    if tokens[-1].startswith("["):
        raise PhraseError(f"phrase {phrase!r} ends in an optional word, which could never matter; drop it")
    required = sum(1 for t in tokens if not t.startswith("["))
    gap = "(?:[a-z0-9]+ )?" if required >= 3 else ""  # one inserted word: "i'll just [have to] wait"
    body = ""
    for i, token in enumerate(tokens):
        optional = token.startswith("[")
        choice = _choice(token.strip("[]"), phrase)
        last = i == len(tokens) - 1
        if optional:
            body += f"(?:{choice} )?"
        else:
            body += choice + ("" if last else " " + gap)
    start = "^" if anchored else "(?:^| )"
    return f"{start}{body}{'$' if ends else '(?: |$)'}"


def _choice(token: str, phrase: str) -> str:
    options = []
    for option in token.split("/"):
        words = normalize(option).split()
        if not words:
            raise PhraseError(f"phrase {phrase!r}: {option!r} is only a filler word; drop it")
        options.append(" ".join(_word(w) for w in words))
    return options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"


def _word(word: str) -> str:
    escaped = re.escape(word)
    return escaped + SUFFIXES if len(word) >= INFLECTED_FROM and word.isalpha() else escaped
