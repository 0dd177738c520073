"""A broken scenario is refused with its file, its line and the fix, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from empathy_engine.practice.scenario import ScenarioError, find_scenario, load_scenario_file, parse_scenario

GOOD = """\
id: tiny
title: A tiny scenario
trains: [frustration]
opening: This is the third time I've called.
beats:
  - state: frustration
    better: Okay, thank you.
    worse: This is ridiculous.
give_up:
  outcome: hung_up
  line: Bye.
"""


def test_a_valid_scenario_loads_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(GOOD)
    scenario = find_scenario(str(path))
    assert scenario.id == "tiny" and scenario.turn_limit == 8 and scenario.patience == 2


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("  - state: frustration", "  - state: frustrated"),
            r"x\.yaml:6: beats\[0\]\.state: unknown state 'frustrated'; use one of frustration",
        ),
        (
            ("    worse: This is ridiculous.", "    wrose: This is ridiculous."),
            r"x\.yaml:6: beats\[0\]\.worse: missing; add 'worse:'",
        ),
        (
            ("    better: Okay, thank you.", "    better: Okay.\n    behaviours: {budget_acknowledge: Thanks.}"),
            r"x\.yaml:8: beats\[0\]\.behaviours: unknown behaviour 'budget_acknowledge'",
        ),
        (
            ("  outcome: hung_up", "  outcome: hangup"),
            r"x\.yaml:10: give_up\.outcome: Input should be 'escalated' or 'hung_up'",
        ),
        (("id: tiny", "id: Tiny Scenario!"), r"x\.yaml:1: id: String should match pattern"),
        (
            ("trains: [frustration]", "trains: [frustration]\nturn_limit: 0"),
            r"x\.yaml:4: turn_limit: Input should be greater than or equal to 1",
        ),
        (("trains: [frustration]", "trains: [frustration]\ncolour: blue"), r"x\.yaml:4: colour: unknown field"),
    ],
)
def test_a_broken_scenario_names_its_file_line_and_the_fix(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(GOOD.replace(*change))
    with pytest.raises(ScenarioError, match=expected):
        load_scenario_file(path)


def test_fewer_turns_than_beats_is_refused_with_the_fix() -> None:
    with pytest.raises(ScenarioError, match=r"s\.yaml:1: scenario: turn_limit 1 is below the 2 beats; raise it"):
        beats = GOOD.split("beats:\n")[1].split("give_up")[0]
        parse_scenario(GOOD.replace("beats:\n", "turn_limit: 1\nbeats:\n" + beats), "s.yaml")


def test_not_yaml_aliases_and_size_are_refused_with_the_line() -> None:
    with pytest.raises(ScenarioError, match=r"s\.yaml:4: not valid YAML"):
        parse_scenario("id: x\ntitle: y\nbeats: [unclosed\n", "s.yaml")
    with pytest.raises(ScenarioError, match=r"s\.yaml:2: YAML aliases \(\*a\) are not allowed"):
        parse_scenario("x: &a [1]\ny: *a\n", "s.yaml")
    with pytest.raises(ScenarioError, match="at most"):
        parse_scenario("x: " + "a" * 70_000, "s.yaml")
    with pytest.raises(ScenarioError, match=r"s\.yaml:1: a scenario is a mapping"):
        parse_scenario("- just a list\n", "s.yaml")


def test_an_unknown_scenario_lists_the_built_in_ones() -> None:
    with pytest.raises(ScenarioError, match="no scenario 'nope': use one of .*co_alarm"):
        find_scenario("nope")
