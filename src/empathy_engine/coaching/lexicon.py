"""The idiom lexicon: YAML shipped in the package, extended by a user file, validated with clear errors.

Each entry is a phrase an American customer uses that a second-language agent may take at face
value ("I guess it's fine", "you people", "Great." after bad news), what it usually means and
calls for, in one line, and what the engine must also read for the line to be shown.
See docs/practice.md, "Lexicon files".
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from empathy_engine.coaching.phrases import PhraseError, compile_phrase
from empathy_engine.coaching.playbook import PlaybookError, _check_structure, _line_of, read_user_file
from empathy_engine.taxonomy import Level

Kind = Literal[
    "understatement", "idiom", "sarcasm", "politeness", "resignation", "cost", "distrust", "confusion", "worry",
    "urgency",
]  # fmt: skip
NegativeState = Literal["frustration", "urgency", "confusion", "cost_anxiety", "worry", "dejection", "distrust"]
#: One short line: what a card has room for, and what an agent reads mid-call.
MAX_MEANS = 160
SHIPPED_NAME = "lexicon.yaml (shipped)"
#: libyaml when PyYAML has it (the shipped file parses in milliseconds instead of a second).
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LexiconError(PlaybookError):
    """A lexicon that cannot be used; the message names the file, the line and the field."""


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    kind: Kind
    #: How customers say it, in the phrase language of coaching/phrases.py.
    phrases: Annotated[list[str], Field(min_length=1)]
    #: What it usually means and what it calls for: one line, shown on the card.
    means: Annotated[str, Field(min_length=1, max_length=MAX_MEANS, pattern=r"^[^\n]+$")]
    #: The engine must read at least one of these states, at `at_least` or stronger.
    signals: Annotated[list[NegativeState], Field(min_length=1)]
    at_least: Level = "mild"
    #: "bad_news": only when the agent's turn just before brought bad news (sarcasm, resignation).
    after: Literal["bad_news"] | None = None
    #: Phrases that mark a literal use anywhere in the turn ("works fine now"): then quiet.
    unless: list[str] = []
    #: A user file switches a shipped entry off with `disabled: true` (its other fields may then be left out).
    disabled: bool = False

    @field_validator("phrases", "unless")
    @classmethod
    def _phrases_read(cls, phrases: list[str]) -> list[str]:
        for phrase in phrases:
            try:
                compile_phrase(phrase)
            except PhraseError as e:
                raise ValueError(str(e)) from None
        return phrases


class Lexicon(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    entries: list[Entry]


def shipped_text() -> str:
    return (resources.files("empathy_engine") / "coaching" / "lexicon.yaml").read_text(encoding="utf-8")


def load_lexicon(path: str | Path | None = None) -> list[Entry]:
    """The shipped entries, extended and overridden (by id) by `path` (or $EMPATHY_LEXICON), in
    order: shipped first, then the user's new ones. Entries `disabled` are left out."""
    path = path or os.environ.get("EMPATHY_LEXICON") or None
    entries = {e.id: e for e in _shipped()}
    if path is not None:
        file = Path(path)
        for entry in _parse(read_user_file(file, "lexicon", LexiconError), str(file), shipped=entries).entries:
            entries[entry.id] = entry
    return [e for e in entries.values() if not e.disabled]


@lru_cache(maxsize=1)
def _shipped() -> tuple[Entry, ...]:
    """Parsed once per process: every engine (and every test) shares the same shipped entries."""
    return tuple(_parse(shipped_text(), SHIPPED_NAME, checked=True).entries)


def _parse(text: str, name: str, shipped: dict[str, Entry] | None = None, checked: bool = False) -> Lexicon:
    """One lexicon file, validated where it is written, so an error names the file's own line.
    `checked`: our own file, whose size and shape need no guarding against."""
    try:
        if not checked:
            _check_structure(text, name, what="lexicon")
        data = yaml.load(text, Loader=_LOADER)
    except PlaybookError as e:
        raise LexiconError(str(e)) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        raise LexiconError(f"{where}: not valid YAML: {getattr(e, 'problem', e)}") from None
    if not isinstance(data, dict):
        raise LexiconError(f"{name}:1: a lexicon is a mapping with 'version: 1' and 'entries' (a list)")
    if shipped is not None:
        data = _with_shipped_fields(data, shipped)
    _check_unique_ids(data, name, text)
    try:
        return Lexicon.model_validate(data)
    except ValidationError as e:
        node = yaml.compose(text, Loader=_LOADER)  # only now: the lines, for the message
        raise LexiconError(_describe(e, name, node)) from None


def _with_shipped_fields(data: dict[str, Any], shipped: dict[str, Entry]) -> dict[str, Any]:
    """`- {id: you_people, disabled: true}` needs no other field: a disabled shipped entry keeps its own."""
    entries = data.get("entries")
    if not isinstance(entries, list):
        return data
    filled = []
    for entry in entries:
        base = shipped.get(str(entry.get("id"))) if isinstance(entry, dict) else None
        if base is not None and entry.get("disabled") is True:
            entry = {**base.model_dump(exclude_defaults=True), **entry}
        filled.append(entry)
    return {**data, "entries": filled}


def _check_unique_ids(data: dict[str, Any], name: str, text: str) -> None:
    """Two entries with one id: the second would silently replace the first, so it is an error at its line."""
    entries = data.get("entries")
    seen: set[str] = set()
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        entry_id = entry.get("id") if isinstance(entry, dict) else None
        if isinstance(entry_id, str) and entry_id in seen:
            line = _line_of(yaml.compose(text, Loader=_LOADER), ("entries", i))
            raise LexiconError(
                f"{name}:{line}: entries[{i}].id: {entry_id!r} is used twice; give each entry its own id"
            )
        if isinstance(entry_id, str):
            seen.add(entry_id)


def _describe(error: ValidationError, name: str, node: yaml.Node | None) -> str:
    lines = []
    for e in error.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
        line = _line_of(node, loc) if node is not None else None
        msg = e["msg"].removeprefix("Value error, ")
        lines.append(f"{name}:{line}: {where}: {msg}" if line else f"{name}: {where}: {msg}")
    return "\n".join(lines)
