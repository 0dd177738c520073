"""Agents' verdicts adjusted for the call mix (audit/mix.py): an agent who takes only the hard calls
and does on them what the team does is not called below the team, though the raw score would
call it that; an agent who is truly worse still is."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from empathy_engine.audit.aggregate import Aggregate
from empathy_engine.audit.mix import MixTally
from empathy_engine.audit.roi import RoiInputs, calculate
from empathy_engine.audit.summary import SummarySettings, summarise
from tests.audit.helpers import record

JUDGED = 4  # emotional customer turns judged per call
EASY = ("neutral", False)  # a calm start, a first contact
HARD = ("frustration", True)  # an angry start, a repeat caller


def _calls(agent: str, kind: tuple[str, bool], n: int, answered: list[int]) -> list[Any]:
    """n calls of one kind, their answered counts cycling through `answered` (of JUDGED each)."""
    base = record("x", agent, "c-1", 1)
    start, repeat = kind
    return [
        replace(
            base,
            id=f"{agent}-{start}-{i}",
            start=start,
            repeat_caller=repeat,
            judged=JUDGED,
            answered=answered[i % len(answered)],
        )  # fmt: skip
        for i in range(n)
    ]


def _summary(records: list[Any]) -> dict[str, dict[str, Any]]:
    agg = Aggregate()
    for r in records:
        agg.add(r)
    kpis: dict[str, Any] = {"team": {}, "agent": {}, "period": {}, "band": {}}
    s = summarise(agg, kpis, SummarySettings(), calculate(RoiInputs()), 0)
    return {a["agent"]: a for a in s["agents"]}


def test_mix_hard_calls_done_as_well_as_the_team_are_not_below_the_team_and_worse_still_is() -> None:
    records = []
    for agent in ("t-1", "t-2", "t-3", "t-4"):  # the team: 90% on easy calls, 50% on hard ones
        records += _calls(agent, EASY, 30, [4, 4, 4, 3, 3]) + _calls(agent, HARD, 10, [3, 1])
    records += _calls("hard-taker", HARD, 40, [3, 1])  # only hard calls, done at the team's 50%
    records += _calls("worse", EASY, 30, [3, 2]) + _calls("worse", HARD, 10, [2, 0])  # 62% and 25%
    agents = _summary(records)

    hard = agents["hard-taker"]
    assert hard["tier_unadjusted"] == "below team"  # raw: 0.50 against a team of about 0.75
    assert hard["tier"] == "within noise"
    assert hard["mix_adjusted"]["ratio"]["lo"] < 1 < hard["mix_adjusted"]["ratio"]["hi"]
    worse = agents["worse"]
    assert worse["tier_unadjusted"] == "below team" and worse["tier"] == "below team"
    assert worse["mix_adjusted"]["ratio"]["hi"] < 1
    # (the team's own agents beat a team that includes "worse": not below it, adjusted or not)
    assert all(agents[a]["tier"] != "below team" != agents[a]["tier_unadjusted"] for a in ("t-1", "t-2", "t-3", "t-4"))


def test_mix_ratio_is_observed_over_expected_from_the_other_agents_rates() -> None:
    mix = MixTally()
    records = (
        _calls("a", EASY, 2, [4]) + _calls("b", EASY, 2, [2]) + _calls("a", HARD, 1, [1]) + _calls("b", HARD, 1, [3])
    )
    for r in records:
        mix.add(r)
    got = mix.adjusted("a", team_score=0.5)
    # a's expected: 2 easy calls x 4 judged x b's easy rate 2/4, plus 1 hard x 4 x b's hard rate 3/4 = 4 + 3
    assert (got["observed"], got["expected"], got["calls"]) == (9, 7.0, 3)
    assert got["ratio"]["value"] == round(9 / 7, 4) and got["ratio"]["lo"] <= 9 / 7 <= got["ratio"]["hi"]
    assert got["empathy"]["value"] == round(min(1.0, 9 / 7 * 0.5), 4)


def test_mix_calls_no_other_agent_had_are_left_out_and_counted() -> None:
    mix = MixTally()
    for r in _calls("a", EASY, 3, [4]) + _calls("a", HARD, 2, [1]) + _calls("b", EASY, 3, [2]):
        mix.add(r)
    got = mix.adjusted("a", team_score=None)
    assert (got["calls"], got["calls_left_out"], got["strata"]) == (3, 2, 2)
    assert got["empathy"]["value"] is None and got["ratio"]["value"] == 2.0
