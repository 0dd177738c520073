"""`empathy analyze --explain [--lexicon FILE]` as a user runs it: a real process, real files."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_analyze import DEMO, run

RESIGNED = str(DEMO / "resigned_customer.json")
GUESS_LINE = "'I guess it's fine' usually means it isn't: ask what would make it right"


def explained(stdout: str) -> list[str]:
    return [
        c["explain"]
        for line in stdout.splitlines()
        for t in json.loads(line)["turns"]
        for c in t.get("cues", [])
        if "explain" in c
    ]


def test_explain_puts_the_line_on_the_cards_and_only_with_the_flag() -> None:
    on = run(RESIGNED, "--explain", "--format", "jsonl")
    assert on.returncode == 0, on.stderr
    assert GUESS_LINE in explained(on.stdout)
    off = run(RESIGNED, "--format", "jsonl")
    assert off.returncode == 0 and explained(off.stdout) == []
    text = run(RESIGNED, "--explain", "--format", "text")
    assert f"means: {GUESS_LINE}" in text.stdout  # the text timeline shows it under the card


def test_lexicon_file_overrides_a_shipped_line(tmp_path: Path) -> None:
    ours = tmp_path / "ours.yaml"
    ours.write_text(
        "version: 1\nentries:\n  - id: guess_its_fine\n    kind: understatement\n"
        '    phrases: ["i guess that\'s fine"]\n    signals: [dejection]\n'
        "    means: \"House line: 'fine' is not fine, ask again\"\n"
    )
    out = run(RESIGNED, "--explain", "--lexicon", str(ours), "--format", "jsonl")
    assert out.returncode == 0, out.stderr
    lines = explained(out.stdout)
    assert "House line: 'fine' is not fine, ask again" in lines and GUESS_LINE not in lines


def test_a_broken_lexicon_is_a_clear_error_naming_its_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nentries:\n  - id: x\n    kind: idiom\n    phrases: ['you (people)+']\n"
                      "    signals: [frustration]\n    means: m\n")  # fmt: skip
    out = run(RESIGNED, "--explain", "--lexicon", str(broken))
    assert out.returncode == 2
    assert f"lexicon: {broken}:5: entries[0].phrases" in out.stderr
    assert "Traceback" not in out.stderr
