"""From the reduced aggregate and the joined KPIs to the audit's summary: plain, JSON-ready data.

The HTML report and the JSON output's `summary` are two views of this one dictionary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from empathy_engine.audit.aggregate import Aggregate
from empathy_engine.audit.mapper import INSTEAD
from empathy_engine.audit.mix import mix_tier
from empathy_engine.audit.records import plain
from empathy_engine.audit.roi import RoiResult
from empathy_engine.audit.stats import Estimate, histogram_quantile, mean_interval, ratio_bootstrap, wilson
from empathy_engine.audit.tallies import ACK_BIN_S, BANDS, Tally
from empathy_engine.learning.effects import effects
from empathy_engine.taxonomy import NEGATIVE_STATES


@dataclass(frozen=True, slots=True)
class SummarySettings:
    period: str = "week"
    repeat_window_days: float = 7.0
    review_link_days: float = 30.0
    min_calls: int = 10  # fewer scored calls than this: no verdict on the agent


def card(t: Tally, k: dict[str, int] | None) -> dict[str, Any]:
    """One group's figures (team, agent, period or band), each rate with its 95% interval."""
    k = k or {}
    n = t.sentiment_n
    out: dict[str, Any] = {
        "calls": t.calls,
        "scored_calls": t.scored_calls,
        "empathy": ratio_bootstrap(t.pairs).to_dict(),
        "judged": t.judged,
        "answered": t.answered,
        "missed_cues": t.missed,
        "calls_with_miss": wilson(t.calls_with_miss, t.calls).to_dict(),
        "recovered": wilson(t.recovered, t.peaks).to_dict(),
        "acknowledged": wilson(t.acknowledged, t.ack_eligible).to_dict(),
        "median_ack_s": histogram_quantile(t.ack_hist, 0.5, ACK_BIN_S),
        "sentiment_start": round(t.sentiment_start / 1000 / n, 4) if n else None,
        "sentiment_end": round(t.sentiment_end / 1000 / n, 4) if n else None,
        "improved": wilson(t.improved, n).to_dict(),
        "escalated": t.escalated,
        "escalation_reasons": dict(sorted(t.escalation_reasons.items())),
        "repeat_contact": wilson(k.get("repeat_k", 0), k.get("repeat_n", 0)).to_dict(),
        "csat": mean_interval(k.get("csat_sum", 0), k.get("csat_sq", 0), k.get("csat_n", 0)).to_dict(),
        "csat_satisfied": wilson(k.get("csat_satisfied", 0), k.get("csat_n", 0)).to_dict(),
        "resolved": wilson(k.get("resolved_k", 0), k.get("resolved_n", 0)).to_dict(),
        "referral": wilson(k.get("referral_k", 0), k.get("referral_n", 0)).to_dict(),
        "care_language": wilson(k.get("care_k", 0), k.get("reviews_n", 0)).to_dict(),
        "competence_language": wilson(k.get("competence_k", 0), k.get("reviews_n", 0)).to_dict(),
    }
    return out


def tier_of(agent: dict[str, Any], team: float | None, min_calls: int) -> str:
    """A verdict only where the interval allows one: no ranking by noise."""
    e = agent["empathy"]
    if agent["scored_calls"] < min_calls or e["value"] is None or team is None:
        return "too few calls"
    if e["hi"] < team:
        return "below team"
    if e["lo"] > team:
        return "above team"
    return "within noise"


def state_line(state: str, missed: int, judged: int, instead: dict[str, int]) -> dict[str, Any]:
    top = max(sorted(instead), key=lambda b: instead[b]) if instead else None
    phrase = INSTEAD.get(top, "") if top else ""
    label = state.replace("_", " ")
    text = f"misses {label} in {missed:,} of {judged:,} calls" + (f": usually {phrase}" if phrase else "")
    return {
        "state": state,
        "missed_calls": missed,
        "judged_calls": judged,
        "share": wilson(missed, judged).to_dict(),
        "instead": top,
        "text": text,
    }


def summarise(
    agg: Aggregate,
    kpis: dict[str, Any],
    settings: SummarySettings,
    roi: RoiResult,
    failed: int,
) -> dict[str, Any]:
    team = card(agg.team, kpis["team"].get("all"))
    team_score = team["empathy"]["value"]
    agents = [_agent_card(agg, kpis, name, team_score, settings.min_calls) for name in sorted(agg.agents)]
    periods = []
    for p in sorted(agg.periods):
        c = card(agg.periods[p], kpis["period"].get(p))
        c["period"] = p
        periods.append(c)
    bands = {b: card(agg.bands[b], kpis["band"].get(b)) for b in BANDS if b in agg.bands}
    state_lines = [
        state_line(s, agg.states.missed_calls[s], agg.states.judged_calls[s], dict(agg.states.instead.get(s, {})))
        for s in NEGATIVE_STATES
        if agg.states.judged_calls[s]
    ]
    scores = kpis.get("language_scores", {})
    language = {cat: _mean(scores[cat]).to_dict() for cat in ("care", "competence_only", "neither") if cat in scores}
    return {
        "period": settings.period,
        "first_day": agg.first_day,
        "last_day": agg.last_day,
        "calls": agg.team.calls,
        "agents_n": len(agg.agents),
        "failed_inputs": failed,
        "settings": plain(settings),
        "team": team,
        "agents": agents,
        "periods": periods,
        "bands": bands,
        "states": state_lines,
        "trajectories": {b: agg.trajectories.means(b) for b in BANDS},
        "transitions": [
            {"start": a, "end": b, "calls": n}
            for (a, b), n in sorted(agg.transitions.items(), key=lambda x: (-x[1], x[0]))[:12]
        ],
        "services": dict(agg.services),
        "misses": [plain(m) for m in agg.misses.items],
        "moments": [plain(m) for m in agg.moments.items],
        "worst_calls": [plain(b) for b in agg.worst.items],
        "language_empathy": language,
        "coverage": kpis.get("coverage", {}),
        "roi": roi.to_dict(),
        "roi_evidence": _roi_evidence(bands),
        "what_builds_trust": effects(agg.variants),
    }


def _agent_card(
    agg: Aggregate, kpis: dict[str, Any], name: str, team_score: float | None, min_calls: int
) -> dict[str, Any]:
    """One agent's scorecard: the figures, the tier against the team, top misses, best moments, trend."""
    c = card(agg.agents[name], kpis["agent"].get(name))
    c["agent"] = name
    # The verdict is on the mix-adjusted score (audit/mix.py): hard calls do not make a weak agent.
    c["tier_unadjusted"] = tier_of(c, team_score, min_calls)
    c["mix_adjusted"] = agg.mix.adjusted(name, team_score)
    c["tier"] = mix_tier(c["mix_adjusted"], c["scored_calls"], min_calls)
    states = agg.agent_states[name]
    lines = [
        state_line(s, states.missed_calls[s], states.judged_calls[s], dict(states.instead.get(s, {})))
        for s in NEGATIVE_STATES
        if states.missed_calls[s]
    ]
    lines.sort(key=lambda x: (-x["missed_calls"], -x["share"]["value"], x["state"]))
    for line in lines:
        top = agg.agent_misses.get((name, line["state"]))
        line["quotes"] = [plain(m) for m in top.items] if top else []
    c["top_misses"] = lines[:3]
    c["moments"] = [plain(m) for m in agg.agent_moments[name].items] if name in agg.agent_moments else []
    c["worst_calls"] = [plain(b) for b in agg.agent_worst[name].items] if name in agg.agent_worst else []
    c["trend"] = [
        {"period": p, "calls": t.calls, "empathy": (t.answered / t.judged) if t.judged else None}
        for p, t in agg.agent_periods_of(name)
    ]
    return c


def _mean(s: dict[str, float | int]) -> Estimate:
    return mean_interval(float(s["sum"]), float(s["sq"]), int(s["n"]))


def _roi_evidence(bands: dict[str, Any]) -> dict[str, Any]:
    """What the audit itself measured that bears on the ROI inputs (observational, not causal)."""
    hi, lo = bands.get("high"), bands.get("low")

    def diff(key: str) -> float | None:
        if not hi or not lo or hi[key]["value"] is None or lo[key]["value"] is None:
            return None
        return round(hi[key]["value"] - lo[key]["value"], 4)

    return {
        "referral_high_minus_low": diff("referral"),
        "repeat_high_minus_low": diff("repeat_contact"),
        "resolved_high_minus_low": diff("resolved"),
    }
