"""Review language: does a review speak of care and understanding, or of competence only?

A deliberately simple, inspectable word list (docs/audit.md), with a short negation window
so "nobody listened" is not counted as care.
"""

from __future__ import annotations

import re
from typing import Final, Literal

Category = Literal["care", "competence_only", "neither"]
CATEGORIES: Final[tuple[Category, ...]] = ("care", "competence_only", "neither")

CARE_TERMS: Final[tuple[str, ...]] = (
    "care",
    "cared",
    "cares",
    "caring",
    "understood",
    "understanding",
    "understand",
    "listened",
    "listen",
    "listening",
    "listens",
    "empathy",
    "empathetic",
    "compassion",
    "compassionate",
    "kind",
    "kindness",
    "patient",
    "patience",
    "felt heard",
    "reassured",
    "reassuring",
    "took the time",
    "made me feel",
    "considerate",
    "supportive",
    "sympathetic",
    "warm",
)
COMPETENCE_TERMS: Final[tuple[str, ...]] = (
    "professional",
    "professionally",
    "efficient",
    "efficiently",
    "quick",
    "quickly",
    "fast",
    "prompt",
    "promptly",
    "on time",
    "punctual",
    "knowledgeable",
    "competent",
    "skilled",
    "expert",
    "thorough",
    "reliable",
    "fair price",
)
NEGATIONS: Final[frozenset[str]] = frozenset(
    {"not", "no", "never", "nobody", "didn't", "didnt", "don't", "dont", "wasn't", "wasnt", "without", "nor"}
)
NEGATION_WINDOW = 3  # words before a term that can negate it

_WORD = re.compile(r"[a-z']+")


def _pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(t) + (r"(?! of)" if t == "kind" else "") for t in terms)
    return re.compile(rf"\b(?:{alternatives})\b")


_CARE = _pattern(CARE_TERMS)
_COMPETENCE = _pattern(COMPETENCE_TERMS)


def _mentions(pattern: re.Pattern[str], text: str) -> bool:
    for match in pattern.finditer(text):
        before = _WORD.findall(text[: match.start()])[-NEGATION_WINDOW:]
        if not NEGATIONS.intersection(before):
            return True
    return False


def classify(text: str) -> Category:
    """`care` if it speaks of care or understanding; `competence_only` if only of competence; else `neither`."""
    lowered = text.lower().replace("’", "'")
    if _mentions(_CARE, lowered):
        return "care"
    if _mentions(_COMPETENCE, lowered):
        return "competence_only"
    return "neither"
