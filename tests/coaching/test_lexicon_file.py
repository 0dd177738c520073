"""A user lexicon file: extends and overrides the shipped one; a broken entry names its line and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from empathy_engine.coaching.explainer import Explainer
from empathy_engine.coaching.lexicon import LexiconError, load_lexicon
from empathy_engine.results import CustomerTurn
from empathy_engine.taxonomy import STATES

FRUSTRATED = CustomerTurn(
    1, {s: 0.99 if s == "frustration" else 0.01 for s in STATES}, ("frustration",), "frustration", 0.7, ()
)

OURS = """\
version: 1
entries:
  # ours: a regional phrase the shipped lexicon lacks
  - id: fit_to_be_tied_local
    kind: idiom
    phrases: ["madder than a wet hen"]
    signals: [frustration]
    means: "'Madder than a wet hen' means very angry: let them finish, then act"
  # ours replaces the shipped line for "you people"
  - id: you_people
    kind: idiom
    phrases: ["you people"]
    signals: [frustration, distrust]
    means: "Our house line: 'you people' means they feel like a number"
  # and we never want this one
  - id: to_be_honest
    disabled: true
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ours.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_user_file_extends_overrides_and_switches_off(tmp_path: Path) -> None:
    shipped = {e.id: e for e in load_lexicon()}
    merged = {e.id: e for e in load_lexicon(write(tmp_path, OURS))}
    assert "fit_to_be_tied_local" in merged and "fit_to_be_tied_local" not in shipped
    assert merged["you_people"].means == "Our house line: 'you people' means they feel like a number"
    assert "to_be_honest" in shipped and "to_be_honest" not in merged
    assert len(merged) == len(shipped)  # one added, one switched off, the rest kept as shipped
    explainer = Explainer(list(merged.values()))
    said = explainer.explain(FRUSTRATED, "I'm madder than a wet hen right now", None)
    assert said is not None and said.entry_id == "fit_to_be_tied_local"
    assert explainer.explain(FRUSTRATED, "To be honest, I'm upset", None) is None
    said = explainer.explain(FRUSTRATED, "you people never call back", None)
    assert said is not None and said.line.startswith("Our house line")


def test_the_environment_names_the_file_when_no_path_is_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPATHY_LEXICON", str(write(tmp_path, OURS)))
    assert "fit_to_be_tied_local" in {e.id for e in load_lexicon()}


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        # a regular expression where a phrase goes: line 5, and what to write instead
        (
            "version: 1\nentries:\n  - id: x\n    kind: idiom\n    phrases: ['(you|ya) people+']\n"
            "    signals: [frustration]\n    means: m\n",
            5,
            "not a word, a/b or [word]",
        ),
        # a state the taxonomy does not have
        (
            "version: 1\nentries:\n  - id: x\n    kind: idiom\n    phrases: [you people]\n"
            "    signals: [anger]\n    means: m\n",
            6,
            "signals[0]",
        ),
        # an entry without the line to show
        (
            "version: 1\nentries:\n  - id: x\n    kind: idiom\n    phrases: [you people]\n    signals: [frustration]\n",
            3,
            "means: Field required",
        ),
        # the same id twice
        (
            "version: 1\nentries:\n  - {id: x, kind: idiom, phrases: [a b], signals: [frustration], means: m}\n"
            "  - {id: x, kind: idiom, phrases: [c d], signals: [frustration], means: m}\n",
            4,
            "entries[1].id: 'x' is used twice",
        ),
        # a line too long for a card, or more than one line
        (
            "version: 1\nentries:\n  - id: x\n    kind: idiom\n    phrases: [you people]\n"
            "    signals: [frustration]\n    means: '" + "long " * 40 + "'\n",
            7,
            "at most 160 characters",
        ),
        # an optional last word, which could never matter
        (
            "version: 1\nentries:\n  - id: x\n    kind: idiom\n    phrases: ['forget it [then]']\n"
            "    signals: [dejection]\n    means: m\n",
            5,
            "ends in an optional word",
        ),
        # not YAML at all
        ("version: 1\nentries:\n  - id: [x\n", 4, "not valid YAML"),
        ("- just a list\n", 1, "a lexicon is a mapping"),
        ("version: 1\nentries:\n  - &a {id: x}\n  - *a\n", 4, "aliases"),
    ],
    ids=[
        "regex",
        "unknown-state",
        "no-means",
        "duplicate-id",
        "long-line",
        "optional-last",
        "bad-yaml",
        "list",
        "alias",
    ],
)
def test_a_broken_file_names_its_line_and_the_fix(tmp_path: Path, text: str, line: int, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(LexiconError) as caught:
        load_lexicon(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}:"), message
    assert expected in message, message


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="cannot read the lexicon"):
        load_lexicon(tmp_path / "missing.yaml")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("version: 1\nentries: []\n# caf\xe9\n".encode("latin-1"))
    with pytest.raises(LexiconError, match="not UTF-8"):
        load_lexicon(latin)
