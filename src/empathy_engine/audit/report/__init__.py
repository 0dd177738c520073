"""The audit report: one self-contained HTML file (inline CSS and SVG; no script, font or CDN)."""

from __future__ import annotations

from typing import Any

from empathy_engine.audit.records import FailedInput


def render(summary: dict[str, Any], failures: list[FailedInput]) -> str:
    """The whole report page for an audit summary (see `summary.summarise`)."""
    from empathy_engine.audit.report import feedback, learning, trust
    from empathy_engine.audit.report import sections as sec
    from empathy_engine.audit.report.fmt import e, plural
    from empathy_engine.audit.report.style import CSS

    s = summary
    span = f"{s['first_day']} to {s['last_day']}" if s["first_day"] else "undated calls"
    failed = s["failed_inputs"]
    badge = f'<a class="badge" href="#skipped">{failed:,} input(s) skipped</a>' if failed else ""
    run = s.get("run", {})
    audit = s.get("audit", {})
    body = "".join(
        [
            sec.headline(s),
            sec.actions(s),
            sec.agents(s),
            sec.states(s),
            feedback.section(s),
            sec.trajectories(s) + learning.what_builds_trust(s),
            trust.trends(s),
            trust.link(s),
            _team_quotes(s),
            sec.agent_details(s),
            trust.roi(s),
            trust.skipped(failures, failed),
            trust.DEFINITIONS,
        ]
    )
    nav = "".join(
        f'<a href="#{anchor}">{label}</a>'
        for anchor, label in (
            ("overview", "Overview"),
            ("agents", "Agents"),
            ("states", "Missed feelings"),
            *([(feedback.ANCHOR, "Called wrong")] if s.get("feedback") else []),
            ("trajectories", "Trajectories"), ("builds-trust", "What builds trust"),
            ("trends", "Trust KPIs"),
            ("link", "Empathy and trust"),
            ("quotes", "Quotes"),
            ("agent-details", "Agent by agent"),
            ("roi", "ROI"),
            ("skipped", "Skipped") if failed else ("method", "Method"),
        )
    )
    inputs = ", ".join(audit.get("inputs", [])) or "stdin"
    footer = (
        f"<footer>Audited {s['calls']:,} calls from {e(inputs)} with empathy-engine {e(audit.get('engine', ''))} "
        f"on {run.get('workers', 1)} worker(s) at {run.get('calls_per_s') or 0:,.0f} calls/s · generated "
        f"{e(audit.get('generated_at', ''))} · the per-call detail is in the JSON and CSV outputs.</footer>"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Empathy audit · {e(span)}</title><style>{CSS}</style></head><body>"
        f'<header class="top"><h1>Empathy audit</h1><div class="sub">{e(span)} · {plural(s["calls"], "call")} · '
        f"{plural(s['agents_n'], 'agent')} · by {e(s['period'])}{badge}</div></header><nav>{nav}</nav>"
        f"<main>{body}{footer}</main></body></html>\n"
    )


def _team_quotes(s: dict[str, Any]) -> str:
    from empathy_engine.audit.report import sections as sec

    misses = "".join(sec.miss_quote(m, show_agent=True) for m in s["misses"]) or '<p class="muted">None.</p>'
    moments = "".join(sec.moment_quote(m, show_agent=True) for m in s["moments"]) or '<p class="muted">None.</p>'
    return (
        '<section id="quotes"><h2>In the customers\' own words</h2><div class="grid2">'
        f"<div><h3>Misses to review first (most intense)</h3>{misses}</div>"
        f"<div><h3>Best moments to share</h3>{moments}<h3>Calls to listen to first</h3>"
        f"{sec.worst_calls(s['worst_calls'], show_agent=True)}</div></div></section>"
    )
