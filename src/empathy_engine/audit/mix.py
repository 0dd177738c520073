"""Agents' verdicts adjusted for the mix of calls they took (indirect standardisation).

An agent who takes the hard calls (an angry customer calling again) answers fewer emotional turns
well than one who takes the easy ones, at the same skill. So before an agent is called above or
below the team, each call is compared with what the rest of the team does on calls like it:

    stratum s      = (the customer's state at the start, the service, repeat caller or not)
    team rate p_s  = answered / judged replies of the OTHER agents in s (leave-one-out, so an agent
                     who takes most of a stratum is not compared with itself)
    observed O     = the agent's answered replies;  expected E = sum over its calls of judged * p_s
    ratio O/E      = 1: as good as the team on the same calls; its 95% interval is a bootstrap over
                     the agent's calls (the team's rates held fixed)

Calls in a stratum no other agent has are left out of O and E (nothing to compare them with) and
counted. The verdict is *below team* when the interval is under 1, *above team* when over it.
The adjusted score is O/E x the team's score: the agent's score on the team's own mix.

Mergeable like the rest of the aggregate: counts of calls by (agent, stratum, answered, judged).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from empathy_engine.audit.records import CallRecord
from empathy_engine.audit.stats import BOOTSTRAP_DRAWS, BOOTSTRAP_SEED

Stratum = tuple[str, str, bool]


def stratum_of(r: CallRecord) -> Stratum:
    return (r.start or "none", r.service or "unknown", r.repeat_caller)


@dataclass(slots=True)
class MixTally:
    """Scored calls counted by (agent, stratum, answered, judged)."""

    cells: Counter[tuple[str, Stratum, int, int]] = field(default_factory=Counter)

    def add(self, r: CallRecord) -> None:
        if r.judged:
            self.cells[(r.agent, stratum_of(r), r.answered, r.judged)] += 1

    def merge(self, o: MixTally) -> None:
        self.cells.update(o.cells)

    def to_dict(self) -> dict[str, int]:
        return {f"{a}|{s[0]}|{s[1]}|{int(s[2])}|{k}/{j}": n for (a, s, k, j), n in sorted(self.cells.items())}

    def adjusted(self, agent: str, team_score: float | None) -> dict[str, Any]:
        """The agent's observed-over-expected ratio with its interval, and what it rests on."""
        totals: dict[Stratum, list[int]] = {}
        mine: dict[Stratum, list[int]] = {}
        for (a, s, k, j), n in self.cells.items():
            for book in (totals, *((mine,) if a == agent else ())):
                cell = book.setdefault(s, [0, 0])
                cell[0] += k * n
                cell[1] += j * n
        rates = {
            s: (t[0] - mine.get(s, [0, 0])[0]) / (t[1] - mine.get(s, [0, 0])[1])
            for s, t in totals.items()
            if t[1] - mine.get(s, [0, 0])[1] > 0
        }
        items = [(k, j * rates[s], n) for (a, s, k, j), n in sorted(self.cells.items()) if a == agent and s in rates]
        left_out = sum(n for (a, s, _, _), n in self.cells.items() if a == agent and s not in rates)
        return _ratio(items, left_out, len({s for (a, s, _, _) in self.cells if a == agent}), team_score)


def _ratio(items: list[tuple[int, float, int]], left_out: int, strata: int, team: float | None) -> dict[str, Any]:
    calls = sum(n for _, _, n in items)
    observed = sum(k * n for k, _, n in items)
    expected = sum(e * n for _, e, n in items)
    out: dict[str, Any] = {
        "calls": calls,
        "calls_left_out": left_out,
        "strata": strata,
        "observed": observed,
        "expected": round(expected, 2),
        "ratio": {"value": None, "lo": None, "hi": None, "n": calls},
        "empathy": {"value": None, "lo": None, "hi": None, "n": calls},
    }
    if calls == 0 or expected <= 0:
        return out
    value, lo, hi = observed / expected, observed / expected, observed / expected
    if len(items) > 1:
        import numpy as np

        rng = np.random.default_rng(BOOTSTRAP_SEED)
        counts = np.array([n for _, _, n in items], dtype=float)
        draws = rng.multinomial(calls, counts / counts.sum(), size=BOOTSTRAP_DRAWS)
        num = draws @ np.array([k for k, _, _ in items], dtype=float)
        den = draws @ np.array([e for _, e, _ in items], dtype=float)
        lo, hi = (float(x) for x in np.percentile(num[den > 0] / den[den > 0], [2.5, 97.5]))
    out["ratio"] = {"value": round(value, 4), "lo": round(lo, 4), "hi": round(hi, 4), "n": calls}
    if team is not None:
        out["empathy"] = {k: round(min(1.0, v * team), 4) for k, v in (("value", value), ("lo", lo), ("hi", hi))}
        out["empathy"]["n"] = calls
    return out


def mix_tier(adjusted: dict[str, Any], scored_calls: int, min_calls: int) -> str:
    """The verdict on the mix-adjusted ratio: one only where its interval clears 1."""
    ratio = adjusted["ratio"]
    if scored_calls < min_calls or adjusted["calls"] < min_calls or ratio["value"] is None:
        return "too few calls"
    if ratio["hi"] < 1:
        return "below team"
    if ratio["lo"] > 1:
        return "above team"
    return "within noise"
