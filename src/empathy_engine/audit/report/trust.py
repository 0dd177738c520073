"""The report's trust sections: KPI trends, the link between empathy and outcomes, ROI, skipped inputs."""

from __future__ import annotations

from typing import Any

from empathy_engine.audit.records import FailedInput
from empathy_engine.audit.report import plots
from empathy_engine.audit.report.fmt import ci, e, money, score
from empathy_engine.audit.roi import INPUT_HELP


def trends(s: dict[str, Any]) -> str:
    periods = [p for p in s["periods"] if p["period"] != "undated"]
    if not periods:
        return ""
    window = s["settings"]["repeat_window_days"]
    n = s["settings"]["min_calls"]
    charts = [
        plots.trend(periods, "empathy", "Team empathy score", plots.TEAM, percent=False, min_n=n),
        plots.sentiment_trend(periods, min_n=n),
        plots.trend(periods, "repeat_contact", f"Repeat contact within {window:g} days", plots.LOW, ylim=None, min_n=n),
        plots.trend(periods, "csat_satisfied", "CSAT 4–5 (share of surveyed calls)", plots.HIGH, min_n=n),
        plots.trend(periods, "referral", "Referral rate", plots.HIGH, ylim=None, min_n=n),
        plots.trend(periods, "care_language", "Reviews that speak of care", "#6b46c1", min_n=n),
    ]
    cells = "".join(f'<div class="card">{c}</div>' for c in charts)
    undated = next((p for p in s["periods"] if p["period"] == "undated"), None)
    note = f" {undated['calls']:,} calls without a date are in the totals but not in the trends." if undated else ""
    return (
        f'<section id="trends"><h2>Trust KPIs by {e(s["period"])}</h2><p class="lede">Shaded: 95% intervals. '
        f"Repeat contacts count a call when the same customer called again about the same service within "
        f"{window:g} days; calls whose window is not over yet are left out. A {e(s['period'])} with fewer than {n} "
        f"data points is not plotted.{note}</p>"
        f'<div class="grid3">{cells}</div></section>'
    )


def link(s: dict[str, Any]) -> str:
    bands = s["bands"]
    if not any(b in bands for b in ("low", "mid", "high")):
        return ""
    cov = s["coverage"]
    if not cov.get("outcomes_matched") and not cov.get("review_texts_linked") and not s["team"]["repeat_contact"]["n"]:
        return (
            '<section id="link"><h2>Is empathy linked to trust?</h2><p class="lede">No outcomes, reviews or repeat '
            "contacts to link to: give <code>--outcomes</code> and <code>--reviews</code> CSV files (docs/audit.md), "
            "and conversations with <code>customer.id</code> and <code>started_at</code>.</p></section>"
        )
    chart = plots.by_band(
        bands,
        [
            ("csat_satisfied", "CSAT 4–5"),
            ("resolved", "resolved"),
            ("referral", "referral"),
            ("repeat_contact", "repeat contact"),
            ("care_language", "review speaks of care"),
        ],
    )
    lang = s["language_empathy"]
    rows = "".join(
        f"<tr><td>{e(cat.replace('_', ' '))}</td><td class='num'>{lang[cat]['n']:,}</td>"
        f"<td class='num'>{score(lang[cat])}</td><td class='num'>{ci(lang[cat], False)}</td></tr>"
        for cat in ("care", "competence_only", "neither")
        if cat in lang
    )
    coverage = (
        f"{cov.get('outcomes_matched', 0):,} of {cov.get('outcomes', 0):,} outcome rows matched an audited call; "
        f"{cov.get('review_texts_linked', 0):,} of {cov.get('review_texts', 0):,} review texts were linked to a call "
        f"(reviews: the customer's latest call up to {s['settings']['review_link_days']:g} days before)."
    )
    return (
        '<section id="link"><h2>Is empathy linked to trust?</h2><p class="lede">Outcomes by the call\'s empathy band '
        "(low &lt; 0.5 ≤ mid &lt; 0.8 ≤ high). Observational: agents, customers and problems differ between bands, "
        f"so read differences as a lead to test, not as proof. {coverage}</p>"
        f'<div class="card">{chart}</div><h3>Empathy score of the calls behind each kind of review</h3>'
        "<table><thead><tr><th>review speaks of</th><th class='num'>reviews</th><th class='num'>mean empathy "
        f"score</th><th class='num'>95% interval</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )


def roi(s: dict[str, Any]) -> str:
    r = s["roi"]
    res = r["results"]
    ev = s["roi_evidence"]
    rows = "".join(
        f"<tr><td>{e(name)}</td><td class='num {'given' if v['given'] else ''}'>{_number(v['value'])}</td>"
        f"<td>{e(INPUT_HELP[name])}</td><td class='muted'>{'given' if v['given'] else 'default'}</td></tr>"
        for name, v in r["inputs"].items()
    )

    def measured(key: str, label: str) -> str:
        v = ev.get(key)
        return "" if v is None else f"<li>{label}: {v * 100:+.1f} points (high minus low empathy calls)</li>"

    evidence = "".join(
        [
            measured("referral_high_minus_low", "referral rate"),
            measured("repeat_high_minus_low", "repeat-contact rate"),
            measured("resolved_high_minus_low", "resolved rate"),
        ]
    )
    payback = res["payback_months"]
    return (
        '<section id="roi"><h2>Lifetime value and ROI</h2><p class="lede">A calculator, not a finding: every '
        "assumption is an input, listed beside the result. Change them with <code>--roi name=value</code>.</p>"
        '<div class="roi"><div><table><thead><tr><th>input</th><th class="num">value</th><th>meaning</th><th></th>'
        f"</tr></thead><tbody>{rows}</tbody></table></div>"
        f'<div class="card"><div class="muted">return on the programme, per year</div>'
        f'<div class="big">{res["roi"] * 100:,.0f}%</div>'
        f"<div>net {money(res['net'])} on a cost of {money(res['cost'])}"
        f"{'' if payback is None else f' · pays back in {payback:.1f} months'}</div>"
        f"{plots.roi_bars(res)}<div class='small'>Customer lifetime value {money(res['clv_before'])} → "
        f"{money(res['clv_after'])} (margin {money(res['margin_per_customer'])} a year). "
        "See docs/audit.md for the formulas.</div>"
        + (
            f"<div class='small'><b>What this audit measured</b> (observational):<ul>{evidence}</ul></div>"
            if evidence
            else ""
        )
        + "</div></div></section>"
    )


def _number(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:g}"


def skipped(failures: list[FailedInput], total: int) -> str:
    if not total:
        return ""
    rows = "".join(
        f"<tr><td><code>{e(f.where)}</code></td><td>{e(f.id or '')}</td><td>{e(f.reason)}</td></tr>" for f in failures
    )
    more = (
        f"<p class='muted'>…and {total - len(failures):,} more (all are in the JSON output).</p>"
        if total > len(failures)
        else ""
    )
    return (
        f'<section id="skipped"><h2>Skipped inputs ({total:,})</h2><p class="lede">These could not be read or '
        "analysed and are left out of every figure above; everything else was audited.</p>"
        f"<table><thead><tr><th>where</th><th>id</th><th>reason</th></tr></thead><tbody>{rows}</tbody></table>{more}"
        "</section>"
    )


DEFINITIONS = """
<section id="method"><h2>How to read this report</h2><dl class="defs">
<dt>Empathy score</dt><dd>Share of emotional customer turns (a detected state other than neutral or satisfaction)
whose next agent reply answered one of them, pooled over calls. Intervals resample whole calls (bootstrap), since
turns in one call are not independent.</dd>
<dt>Missed cue</dt><dd>An agent reply that showed none of the behaviours that answer the customer's state
(docs/output-format.md). "What the playbook would have done" is the cue card shown in the call when coaching ran,
otherwise the behaviours the taxonomy expects.</dd>
<dt>Verdict</dt><dd>Below or above the team only when the agent's 95% interval excludes the team's score; agents
with fewer scored calls than the minimum get none.</dd>
<dt>First acknowledgement</dt><dd>Time from the first emotional customer turn to the first reply that answered an
emotional turn.</dd>
<dt>Recovered</dt><dd>A call with an emotional peak whose last customer turn carries no negative state.</dd>
<dt>Sentiment</dt><dd>Per customer turn: satisfaction score minus the strongest negative state's score (−1..1).</dd>
<dt>Rates</dt><dd>Shares carry Wilson 95% intervals; CSAT a normal-approximation interval of the mean.</dd>
</dl></section>
"""
