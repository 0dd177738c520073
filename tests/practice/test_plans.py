"""The parts of a coaching plan that need no audit run: file names, scenario choice, the trend."""

from __future__ import annotations

from empathy_engine.practice.plans import file_name, history, scenarios_for
from empathy_engine.practice.scenario import builtin_scenarios


def test_plan_file_names_are_safe_and_never_shared() -> None:
    assert file_name("a-11") == "plan-a-11.json"
    assert file_name("a/1") != file_name("a_1")
    for hostile in ("../../etc/passwd", "..", "a\\b", "x" * 500):
        name = file_name(hostile)
        assert "/" not in name and "\\" not in name and name.startswith("plan-") and len(name) < 110


def test_the_scenarios_chosen_train_the_most_missed_state_first() -> None:
    scenarios = builtin_scenarios()
    chosen = scenarios_for(["confusion", "cost_anxiety"], scenarios)
    assert chosen[0] == "jargon_confused"  # trains both
    assert all({"confusion", "cost_anxiety"} & set(scenarios[s].trains) for s in chosen)
    assert 1 <= len(chosen) <= 3
    assert scenarios_for([], scenarios) == []


def test_the_history_is_in_time_order_per_agent_and_scenario() -> None:
    records = [
        {"agent": "a-1", "scenario": "co_alarm", "score": 70, "at": "2026-12-03T10:00:00+00:00"},
        {"agent": "a-1", "scenario": "co_alarm", "score": 10, "at": "2026-12-01T10:00:00+00:00"},
        {"agent": "a-2", "scenario": "co_alarm", "score": 50, "at": "2026-12-02T10:00:00+00:00"},
    ]
    rows = history(records)
    assert rows[0] == {"agent": "a-1", "scenario": "co_alarm", "runs": 2, "first": 10, "last": 70, "best": 70,
                       "change": 60, "last_at": "2026-12-03T10:00:00+00:00"}  # fmt: skip
    assert rows[1]["agent"] == "a-2" and rows[1]["change"] == 0
