"""A playbook text filled in for one call, so that no `{placeholder}` ever reaches an agent.

`fill` is strict: the text only when every placeholder is known. `render` always gives clean text:
what is known is filled, an unknown `{name}` is dropped with the comma around it ("I hear you,
{name}." -> "I hear you."), and any other unknown placeholder becomes a plain stand-in word. The
coach prefers phrasings `fill` can complete (docs/coaching.md, "Placeholders").
"""

from __future__ import annotations

import re

from empathy_engine.coaching.playbook import PLACEHOLDER

#: What an unknown placeholder other than {name} reads as: plain, true whatever the call.
STAND_INS = {"person": "everyone at home", "relation": "family", "occasion": "today", "issue": "this"}
_NAME_BETWEEN_COMMAS = re.compile(r",\s*\{name\}\s*,")
_NAME_FIRST = re.compile(r"^\s*\{name\}\s*[,:]?\s*")
_NAME_ELSEWHERE = re.compile(r",?\s*\{name\}")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,!?;:])")


def fill(text: str, values: dict[str, str]) -> str | None:
    """The text with its placeholders filled, or None when one of them is unknown for this call."""
    if any(n not in values for n in PLACEHOLDER.findall(text)):
        return None
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def _drop_name(text: str) -> str:
    starts_with_name = bool(_NAME_FIRST.match(text))
    text = _NAME_ELSEWHERE.sub("", _NAME_FIRST.sub("", _NAME_BETWEEN_COMMAS.sub(",", text)))
    return text[:1].upper() + text[1:] if starts_with_name else text


def render(text: str, values: dict[str, str]) -> str:
    """The text for this call, always without braces (see the module docstring)."""
    if filled := fill(text, values):
        return filled
    if "name" not in values:
        text = _drop_name(text)
    text = PLACEHOLDER.sub(lambda m: values.get(m.group(1)) or STAND_INS.get(m.group(1), ""), text)
    text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", re.sub(r"[{}]", "", text))
    return re.sub(r"\s{2,}", " ", text).strip()


def needs_only_name(text: str) -> bool:
    """True when the text can be said on any call: no placeholder but (droppable) {name}."""
    return set(PLACEHOLDER.findall(text)) <= {"name"}
