"""The report's "Readings agents called wrong" section (agents' feedback, audit/feedback_rates.py).

Only audits of the service's database have it (`summary.feedback`); it is absent otherwise."""

from __future__ import annotations

from typing import Any

from empathy_engine.audit.report.fmt import ci, e, pct, plural, state

ANCHOR = "feedback"


def _table(rows: list[dict[str, Any]], key: str, label: str) -> str:
    def name(r: dict[str, Any]) -> str:
        return state(r[key]) if key == "state" else f"“{e(r[key])}”"

    body = "".join(
        f"<tr><td>{name(r)}</td><td class='num'>{r['cards']:,}</td><td class='num'>{r['wrong_read']:,}</td>"
        f"<td class='num'>{pct(r['rate'], 1)}</td><td class='num'>{ci(r['rate']) or '–'}</td>"
        f"<td class='num'>{r['helpful']:,}</td></tr>"
        for r in rows
    )
    return (
        f"<table><thead><tr><th>{label}</th><th class='num'>cards</th><th class='num'>called wrong</th>"
        "<th class='num'>rate</th><th class='num'>95% interval</th><th class='num'>helpful</th></tr></thead>"
        f"<tbody>{body or '<tr><td colspan=6>none</td></tr>'}</tbody></table>"
    )


def section(s: dict[str, Any]) -> str:
    f = s.get("feedback")
    if not f:
        return ""
    return (
        f'<section id="{ANCHOR}"><h2>Readings agents called wrong</h2><p class="lede">'
        f"Of {plural(f['cards'], 'card')} shown on ended calls, agents marked {f['wrong_read']:,} a wrong read "
        f"({pct(f['rate'], 1)}, 95% {ci(f['rate']) or '–'}) and {f['helpful']:,} helpful. Each turn counts once "
        "however many agents pressed; by the card's state and by the words a conversation pattern matched. "
        "It is agents' opinion, not accuracy: it says where annotators should look first "
        "(<code>empathy feedback export</code>).</p>"
        f'<div class="grid2"><div>{_table(f["by_state"], "state", "state")}</div>'
        f"<div>{_table(f['by_pattern'], 'pattern', 'pattern')}</div></div></section>"
    )
