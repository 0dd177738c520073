"""The audit's REDUCE step: one mergeable `Aggregate` of every call, per team, agent and period.

`Aggregate.add(record)` folds in one call; `Aggregate.merge(other)` folds in another partition.
Both are order-independent (tested), so the executor that produces the partitions (a process
pool here, a distributed engine later) can be swapped without touching this code.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from empathy_engine.audit.mix import MixTally
from empathy_engine.audit.records import CallRecord, Miss, Moment, plain
from empathy_engine.audit.tallies import CallBrief, StateTally, Tally, TopK, Trajectories, band_of, period_of
from empathy_engine.learning.effects import tally

MISSES_PER_AGENT_STATE = 2  # quotes kept behind each agent's misses of each state
TEAM_MISSES = 8
MOMENTS_PER_AGENT = 3
TEAM_MOMENTS = 6
WORST_CALLS_PER_AGENT = 3
TEAM_WORST_CALLS = 10


@dataclass(slots=True)
class Aggregate:
    """Everything the report needs, bounded by agents x periods x states, never by calls."""

    period: str = "week"
    team: Tally = field(default_factory=Tally)
    agents: dict[str, Tally] = field(default_factory=dict)
    periods: dict[str, Tally] = field(default_factory=dict)
    agent_periods: dict[tuple[str, str], Tally] = field(default_factory=dict)
    bands: dict[str, Tally] = field(default_factory=dict)
    states: StateTally = field(default_factory=StateTally)
    agent_states: dict[str, StateTally] = field(default_factory=dict)
    trajectories: Trajectories = field(default_factory=Trajectories)
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)
    services: Counter[str] = field(default_factory=Counter)
    misses: TopK[Miss] = field(default_factory=lambda: TopK(TEAM_MISSES))
    agent_misses: dict[tuple[str, str], TopK[Miss]] = field(default_factory=dict)
    moments: TopK[Moment] = field(default_factory=lambda: TopK(TEAM_MOMENTS))
    agent_moments: dict[str, TopK[Moment]] = field(default_factory=dict)
    worst: TopK[CallBrief] = field(default_factory=lambda: TopK(TEAM_WORST_CALLS))
    agent_worst: dict[str, TopK[CallBrief]] = field(default_factory=dict)
    first_day: str | None = None
    last_day: str | None = None
    #: Per (state/step, variant, measure) counts of the cards shown (learning/effects.py).
    variants: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    #: Scored calls by agent and call mix, for the mix-adjusted verdicts (audit/mix.py).
    mix: MixTally = field(default_factory=MixTally)

    def add(self, r: CallRecord) -> None:
        period = period_of(r.day, self.period)
        self.team.add(r)
        _get(self.agents, r.agent, Tally).add(r)
        _get(self.periods, period, Tally).add(r)
        _get(self.agent_periods, (r.agent, period), Tally).add(r)
        _get(self.bands, band_of(r.empathy_score), Tally).add(r)
        self.states.add(r)
        self.mix.add(r)
        _get(self.agent_states, r.agent, StateTally).add(r)
        self.trajectories.add(r)
        if r.start and r.end:
            self.transitions[(r.start, r.end)] += 1
        if r.cards:
            self.variants.update(tally(r.cards))
        self.services[r.service or "unknown"] += 1
        for m in r.misses:
            self.misses.add(m)
            for state in m.pending:
                _top(self.agent_misses, (r.agent, state), MISSES_PER_AGENT_STATE).add(m)
        if r.best is not None:
            self.moments.add(r.best)
            _top(self.agent_moments, r.agent, MOMENTS_PER_AGENT).add(r.best)
        if r.missed_cues:
            brief = CallBrief.of(r)
            self.worst.add(brief)
            _top(self.agent_worst, r.agent, WORST_CALLS_PER_AGENT).add(brief)
        if r.day is not None:
            self.first_day = min(self.first_day or r.day, r.day)
            self.last_day = max(self.last_day or r.day, r.day)

    def merge(self, o: Aggregate) -> Aggregate:
        if o.period != self.period:
            raise ValueError(f"cannot merge a per-{o.period} aggregate into a per-{self.period} one")
        self.team.merge(o.team)
        for mine, theirs, make in (
            (self.agents, o.agents, Tally),
            (self.periods, o.periods, Tally),
            (self.agent_periods, o.agent_periods, Tally),
            (self.bands, o.bands, Tally),
            (self.agent_states, o.agent_states, StateTally),
        ):
            for key, value in theirs.items():
                _get(mine, key, make).merge(value)
        self.states.merge(o.states)
        self.mix.merge(o.mix)
        self.trajectories.merge(o.trajectories)
        self.transitions.update(o.transitions)
        self.services.update(o.services)
        self.variants.update(o.variants)
        self.misses.merge(o.misses)
        self.moments.merge(o.moments)
        self.worst.merge(o.worst)
        for key, misses in o.agent_misses.items():
            _top(self.agent_misses, key, misses.k).merge(misses)
        for agent, moments in o.agent_moments.items():
            _top(self.agent_moments, agent, moments.k).merge(moments)
        for agent, worst in o.agent_worst.items():
            _top(self.agent_worst, agent, worst.k).merge(worst)
        days = [d for d in (self.first_day, o.first_day, self.last_day, o.last_day) if d]
        self.first_day = min(days) if days else None
        self.last_day = max(days) if days else None
        return self

    def agent_periods_of(self, agent: str) -> list[tuple[str, Tally]]:
        return sorted((p, t) for (a, p), t in self.agent_periods.items() if a == agent)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, keys sorted: equal aggregates give equal dictionaries."""
        return {
            "period": self.period,
            "first_day": self.first_day,
            "last_day": self.last_day,
            "team": self.team.to_dict(),
            "agents": {k: self.agents[k].to_dict() for k in sorted(self.agents)},
            "periods": {k: self.periods[k].to_dict() for k in sorted(self.periods)},
            "agent_periods": {f"{a} {p}": self.agent_periods[(a, p)].to_dict() for a, p in sorted(self.agent_periods)},
            "bands": {k: self.bands[k].to_dict() for k in sorted(self.bands)},
            "states": self.states.to_dict(),
            "mix": self.mix.to_dict(),
            "agent_states": {k: self.agent_states[k].to_dict() for k in sorted(self.agent_states)},
            "trajectories": self.trajectories.to_dict(),
            "transitions": {f"{a}->{b}": c for (a, b), c in sorted(self.transitions.items())},
            "services": dict(sorted(self.services.items())),
            "misses": [plain(m) for m in self.misses.items],
            "agent_misses": {
                f"{a} {s}": [plain(m) for m in t.items] for (a, s), t in sorted(self.agent_misses.items())
            },
            "moments": [plain(m) for m in self.moments.items],
            "agent_moments": {a: [plain(m) for m in t.items] for a, t in sorted(self.agent_moments.items())},
            "worst": [plain(c) for c in self.worst.items],
            "agent_worst": {a: [plain(c) for c in t.items] for a, t in sorted(self.agent_worst.items())},
            "variants": {" ".join(k): round(n, 9) for k, n in sorted(self.variants.items())},  # float sums: any order
        }


def _get(d: dict[Any, Any], key: Any, make: type) -> Any:
    value = d.get(key)
    if value is None:
        value = d[key] = make()
    return value


def _top(d: dict[Any, TopK[Any]], key: Any, k: int) -> TopK[Any]:
    top = d.get(key)
    if top is None:
        top = d[key] = TopK(k)
    return top
