"""Hostile playbooks: a catastrophic regex runs in linear time, what RE2 cannot run is refused with
the file, line and pattern, and deep or aliased YAML is refused before it can crash or explode."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from empathy_engine.coaching.coach import Coach
from empathy_engine.coaching.playbook import PlaybookError, load_playbook
from tests.cli.test_analyze import DEMO, run
from tests.conftest import conversation


def _hazard(pattern: str) -> str:
    return f"version: 1\nsafety:\n  - id: evil\n    patterns: ['{pattern}']\n    do: Check\n    say: Checking\n"


def test_catastrophic_backtracking_pattern_does_not_hang(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text(_hazard("(a+)+$"))
    coach = Coach(load_playbook(path))
    hazard, patterns = next((h, p) for h, p in coach.hazards if h.id == "evil")
    text = "a" * 100_000 + "!"  # Python's re takes exponential time on this; RE2 is linear
    started = time.perf_counter()
    assert patterns[0].search(text) is None
    assert time.perf_counter() - started < 0.5
    assert patterns[0].search("aaaa") is not None


def test_a_user_pattern_fires_through_the_engine_case_insensitively(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text(_hazard(r"\bflood(ed|ing)?\b"))
    call = tmp_path / "call.json"
    call.write_text(json.dumps(conversation(("customer", "The basement is FLOODED and it keeps rising"))))
    out = run(str(call), "--format", "json", "--playbook", str(path))
    assert out.returncode == 0, out.stderr
    cues = [c["id"] for t in json.loads(out.stdout)["turns"] for c in t.get("cues", [])]
    assert "safety/evil" in cues


@pytest.mark.parametrize("pattern", [r"(a)\1", "(?=gas)gas", "(?<!no )gas"])
def test_patterns_re2_cannot_run_are_refused_naming_file_line_and_pattern(tmp_path: Path, pattern: str) -> None:
    path = tmp_path / "backref.yaml"
    path.write_text(_hazard(pattern))
    with pytest.raises(PlaybookError) as refused:
        load_playbook(path)
    message = str(refused.value)
    assert message.startswith(f"{path}:4: safety[0].patterns[0]: pattern {pattern!r} is not")
    assert "RE2" in message and "backreferences and lookarounds are not supported" in message


def test_deep_yaml_is_refused_with_the_line_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("version: 1\nstates: " + "[" * 50_000 + "]" * 50_000 + "\n")
    out = run(str(DEMO / "cost_worry.json"), "--playbook", str(path))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"{path}:2: nested too deeply; a playbook has at most 32 levels" in out.stderr


def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["version: 1", "a: &a [x, x, x, x, x, x, x, x, x]"]
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(PlaybookError, match=rf"{path}:3: YAML aliases \(\*a\) are not allowed"):
        load_playbook(path)


def test_huge_playbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("version: 1\n# " + "x" * 2_000_000 + "\n")
    with pytest.raises(PlaybookError, match="at most 1048576"):
        load_playbook(path)
