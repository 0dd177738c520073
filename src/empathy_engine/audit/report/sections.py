"""The report's sections, each a function from the audit summary to an HTML fragment."""

from __future__ import annotations

from typing import Any

from empathy_engine.audit.report import mini, plots
from empathy_engine.audit.report.fmt import behaviours, ci, clock, e, pct, plural, score, seconds, signed, state, tier


def tile(label: str, value: str, note: str = "", mood: str = "") -> str:
    return (
        f'<div class="tile {mood}"><div class="label">{e(label)}</div><div class="value">{value}</div>'
        f'<div class="note">{note}</div></div>'
    )


def _call_tiles(t: dict[str, Any]) -> list[str]:
    """What happened on the calls: empathy, misses, recovery, acknowledgement, sentiment."""
    emp = t["empathy"]
    return [
        tile(
            "Team empathy score",
            score(emp),
            f"95% interval {ci(emp, False) or '–'} · {plural(t['scored_calls'], 'call')} scored",
        ),
        tile(
            "Calls with a missed cue",
            pct(t["calls_with_miss"]),
            f"{t['missed_cues']:,} missed cues in all",
            "bad" if (t["calls_with_miss"]["value"] or 0) > 0.5 else "",
        ),
        tile("Emotional calls recovered", pct(t["recovered"]), "ended calm or satisfied after a peak"),
        tile(
            "First acknowledgement",
            seconds(t["median_ack_s"]),
            f"median · {pct(t['acknowledged'])} of emotional calls ever acknowledged",
        ),
        tile(
            "Sentiment, start → end",
            f"{signed(t['sentiment_start'])} → {signed(t['sentiment_end'])}",
            f"{pct(t['improved'])} of calls ended better than they began",
            "good" if (t["sentiment_end"] or 0) > (t["sentiment_start"] or 0) else "bad",
        ),
    ]


def _outcome_tiles(t: dict[str, Any], window: float) -> list[str]:
    """What came of them: repeat contacts, CSAT, referrals, reviews, escalations."""
    csat = t["csat"]
    return [
        tile(
            f"Repeat contact ({window:g} days)",
            pct(t["repeat_contact"], 1),
            f"same customer, same service · {ci(t['repeat_contact'])} · n={t['repeat_contact']['n']:,}"
            if t["repeat_contact"]["n"]
            else "needs customer.id and started_at on the calls",
        ),
        tile(
            "CSAT",
            "–" if csat["value"] is None else f"{csat['value']:.2f}<small> / 5</small>",
            f"{pct(t['csat_satisfied'])} rated 4–5 · n={csat['n']:,}" if csat["n"] else "no --outcomes given",
        ),
        tile(
            "Referral rate",
            pct(t["referral"], 1),
            f"of surveyed calls · n={t['referral']['n']:,}" if t["referral"]["n"] else "no --outcomes given",
        ),
        tile(
            "Reviews that speak of care",
            pct(t["care_language"]),
            f"competence only: {pct(t['competence_language'])} · n={t['care_language']['n']:,}"
            if t["care_language"]["n"]
            else "no --reviews or survey texts given",
        ),
        tile(
            "Escalations",
            f"{t['escalated']:,}",
            ", ".join(f"{k}: {v}" for k, v in t["escalation_reasons"].items())
            or "bot-handled calls handed to a person",
        ),
    ]


def headline(s: dict[str, Any]) -> str:
    t = s["team"]
    tiles = [*_call_tiles(t), *_outcome_tiles(t, s["settings"]["repeat_window_days"])]
    return f'<section id="overview"><div class="tiles">{"".join(tiles)}</div></section>'


def actions(s: dict[str, Any]) -> str:
    """The three to five things a QA lead would do first, in plain words."""
    items = []
    below = [a for a in s["agents"] if a["tier"] == "below team"]
    for a in sorted(below, key=lambda a: a["empathy"]["value"])[:3]:
        miss = a["top_misses"][0]["text"] if a["top_misses"] else ""
        items.append(
            f"<b>{e(a['agent'])}</b> is clearly below the team ({score(a['empathy'])}, "
            f"interval {ci(a['empathy'], False)}): {e(miss)}. Coach on that first."
        )
    if s["states"]:
        worst = max(s["states"], key=lambda x: (x["share"]["value"] or 0, x["judged_calls"]))
        items.append(
            f"Team-wide, <b>{e(worst['state'].replace('_', ' '))}</b> is the cue missed most: {e(worst['text'])}."
        )
    above = [a for a in s["agents"] if a["tier"] == "above team"]
    if above:
        names = ", ".join(e(a["agent"]) for a in above[:4])
        items.append(
            f"Share what works: {names} answer emotional turns clearly better than the team (see their best moments)."
        )
    few = [a for a in s["agents"] if a["tier"] == "too few calls"]
    if few:
        items.append(
            f"No verdict yet on {len(few)} agent(s) with fewer than {s['settings']['min_calls']} scored "
            f"calls ({', '.join(e(a['agent']) for a in few[:5])})."
        )
    if s["failed_inputs"]:
        items.append(
            f'<a href="#skipped">{s["failed_inputs"]:,} input(s) were skipped</a>; the figures leave them out.'
        )
    if not items:
        return ""
    lis = "".join(f"<li>{i}</li>" for i in items)
    return f'<section><div class="actions"><b>What to look at first</b><ul>{lis}</ul></div></section>'


def agents(s: dict[str, Any]) -> str:
    team = s["team"]["empathy"]["value"]
    drawn = sum(a["empathy"]["value"] is not None for a in s["agents"])
    more = f" The chart shows the {plots.FOREST_ROWS} agents with the most calls." if drawn > plots.FOREST_ROWS else ""
    rows = []
    for a in sorted(s["agents"], key=lambda a: (a["empathy"]["value"] is None, a["agent"])):
        top = a["top_misses"][0]["text"] if a["top_misses"] else "—"
        trend = mini.sparkline([t["empathy"] for t in a["trend"]])
        csat = a["csat"]["value"]
        rows.append(
            f"<tr><td><a href='#agent-{e(a['agent'])}'>{e(a['agent'])}</a></td>"
            f"<td class='num'>{a['calls']:,}</td>"
            f"<td class='num'><b>{score(a['empathy'])}</b></td>"
            f"<td>{mini.interval_bar(a['empathy']['value'], a['empathy']['lo'], a['empathy']['hi'], team)}</td>"
            f"<td class='num'>{score(a.get('mix_adjusted', {}).get('empathy'))}</td>"
            f"<td>{tier(a['tier'])}{_raw_verdict(a)}</td><td>{e(top)}</td>"
            f"<td class='num'>{pct(a['recovered'])}</td><td class='num'>{seconds(a['median_ack_s'])}</td>"
            f"<td class='num'>{pct(a['repeat_contact'])}</td>"
            f"<td class='num'>{'–' if csat is None else f'{csat:.1f}'}</td><td>{trend}</td></tr>"
        )
    table = (
        "<table><thead><tr><th>agent</th><th class='num'>calls</th><th class='num'>score</th>"
        "<th>95% interval · team ┆</th><th class='num'>on the team's mix</th><th>verdict</th>"
        "<th>most frequent miss</th><th class='num'>recovered</th>"
        "<th class='num'>first ack.</th><th class='num'>repeat</th><th class='num'>CSAT</th>"
        f"<th>trend by {e(s['period'])}</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    return (
        '<section id="agents"><h2>Agent scorecards</h2><p class="lede">Score = share of emotional customer turns '
        "the agent answered. The bar is the 95% interval (bootstrap over calls). Verdicts are adjusted for the calls "
        "each agent took (the state at the start, the service, repeat callers): each call is compared with what the "
        "rest of the team does on calls like it, so taking the hard calls does not make an agent look weak. An agent "
        "gets a verdict only when the interval of that comparison clears the team; overlapping intervals are noise, "
        "so agents are not ranked. 'On the team's mix' is the agent's score so adjusted; the raw verdict is shown "
        "where it differs (docs/audit.md)."
        f"{more}</p>"
        f'<div class="card">{plots.agents_forest(s["agents"], team)}</div><br>{table}</section>'
    )


def _raw_verdict(a: dict[str, Any]) -> str:
    raw = a.get("tier_unadjusted")
    return f' <span class="muted">raw: {e(raw)}</span>' if raw and raw != a["tier"] else ""


def miss_quote(m: dict[str, Any], show_agent: bool = False) -> str:
    who = f"{e(m['agent'])} · " if show_agent else ""
    at = f" at {clock(m['t'])}" if m.get("t") is not None else ""
    advice = []
    for a in m["advice"]:
        line = f"{state(a['state'])} {e(a['do'])}"
        if a.get("say"):
            line += f' — <span class="say">say: “{e(a["say"])}”</span>'
        if a.get("avoid"):
            line += f' <span class="avoid">avoid: {e("; ".join(a["avoid"]))}</span>'
        if a.get("followed") is not None:
            line += (
                " <span class='muted'>(card was shown; "
                + ("followed" if a["followed"] else "not followed")
                + ")</span>"
            )
        advice.append(line)
    source = "Cue card shown to the agent" if m["from_cues"] else "What the playbook expects"
    evidence = f" · why: {e('; '.join(m['evidence']))}" if m["evidence"] else ""
    return (
        f'<div class="quote"><div class="meta">{who}{e(m["call_id"])}{at} · {state(m["state"])} '
        f'intensity {m["intensity"]:.2f}{evidence}</div><div class="said">{e(m["quote"])}</div>'
        f'<div class="reply"><b>Agent:</b> “{e(m["reply"])}” <span class="muted">({e(behaviours(m["behaviours"]))})'
        f'</span></div><div class="advice"><b>{source}:</b><br>{"<br>".join(advice)}'
        "</div></div>"
    )


def moment_quote(m: dict[str, Any], show_agent: bool = False) -> str:
    who = f"{e(m['agent'])} · " if show_agent else ""
    return (
        f'<div class="quote good"><div class="meta">{who}{e(m["call_id"])} · {state(m["state"])} '
        f'intensity {m["intensity"]:.2f}</div><div class="said">{e(m["quote"])}</div>'
        f'<div class="reply"><b>Agent:</b> “{e(m["reply"])}” <span class="muted">({e(behaviours(m["behaviours"]))})'
        "</span></div></div>"
    )


def worst_calls(calls: list[dict[str, Any]], show_agent: bool = False) -> str:
    if not calls:
        return '<p class="muted">No call with a missed cue.</p>'
    rows = "".join(
        f"<tr><td>{e(c['id'])}<div class='muted small'>{e(c['where'])}</div></td>"
        + (f"<td>{e(c['agent'])}</td>" if show_agent else "")
        + f"<td>{e(c['day'] or '')}</td><td class='num'>{c['missed_cues']}</td>"
        f"<td class='num'>{_score(c['empathy_score'])}</td>"
        f"<td>{'yes' if c['recovered'] else 'no' if c['recovered'] is not None else '–'}</td>"
        f"<td>{mini.call_trajectory(c['sentiment'], c['miss_positions'])}</td></tr>"
        for c in calls
    )
    agent_th = "<th>agent</th>" if show_agent else ""
    return (
        f"<table><thead><tr><th>call</th>{agent_th}<th>date</th><th class='num'>misses</th><th class='num'>score</th>"
        "<th>recovered</th><th>customer sentiment, turn by turn (● a missed cue)</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _score(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def agent_details(s: dict[str, Any]) -> str:
    out = []
    below = [a for a in s["agents"] if a["tier"] == "below team"]
    worst = min(below, key=lambda a: a["empathy"]["value"])["agent"] if below else None
    for a in sorted(s["agents"], key=lambda a: (a["tier"] != "below team", a["agent"])):
        opened = " open" if a["agent"] == worst else ""
        misses = ""
        for line in a["top_misses"]:
            quotes = "".join(miss_quote(m) for m in line["quotes"])
            misses += f"<h3>{state(line['state'])} {e(line['text'])}</h3>{quotes}"
        moments = "".join(moment_quote(m) for m in a["moments"]) or '<p class="muted">None yet.</p>'
        interval = f"({ci(a['empathy'], False)})" if ci(a["empathy"], False) else ""
        out.append(
            f'<details class="agent" id="agent-{e(a["agent"])}"{opened}><summary>{e(a["agent"])}{tier(a["tier"])}'
            f'<span class="s">score {score(a["empathy"])} {interval} · {plural(a["calls"], "call")} · '
            f'{plural(a["missed_cues"], "missed cue")}</span></summary><div class="body">'
            f'<div class="grid2"><div><h3>Most frequent misses</h3>{misses or "<p class=muted>None.</p>"}</div>'
            f"<div><h3>Best moments</h3>{moments}<h3>Calls to listen to first</h3>{worst_calls(a['worst_calls'])}"
            "</div></div></div></details>"
        )
    return f'<section id="agent-details"><h2>Agent by agent</h2>{"".join(out)}</section>'


def states(s: dict[str, Any]) -> str:
    if not s["states"]:
        return ""
    rows = "".join(
        f"<tr><td>{state(x['state'])}</td><td class='num'>{x['judged_calls']:,}</td>"
        f"<td class='num'>{x['missed_calls']:,}</td><td class='num'>{pct(x['share'])}</td>"
        f"<td>{e(behaviours([x['instead']]) if x['instead'] else '–')}</td></tr>"
        for x in sorted(s["states"], key=lambda x: -(x["share"]["value"] or 0))
    )
    return (
        '<section id="states"><h2>Which feelings go unanswered</h2><p class="lede">For each state: the calls where '
        "it came up and the agent replied, and those where at least one reply did not answer it.</p>"
        f'<div class="grid2"><div class="card">{plots.state_misses(s["states"])}</div><div><table><thead><tr>'
        "<th>state</th><th class='num'>calls</th><th class='num'>missed in</th><th class='num'>share</th>"
        f"<th>the missed reply usually</th></tr></thead><tbody>{rows}</tbody></table></div></div></section>"
    )


def trajectories(s: dict[str, Any]) -> str:
    counts = {b: v["calls"] for b, v in s["bands"].items()}
    rows = "".join(
        f"<tr><td>{state(t['start'])}</td><td>→</td><td>{state(t['end'])}</td><td class='num'>{t['calls']:,}</td></tr>"
        for t in s["transitions"]
    )
    return (
        '<section id="trajectories"><h2>How calls unfold</h2><p class="lede">Mean customer sentiment '
        "(satisfaction minus the strongest negative state, −1 to 1) along the call, by how well the agent "
        "answered emotional turns.</p>"
        f'<div class="grid2"><div class="card">{plots.trajectories(s["trajectories"], counts)}</div>'
        "<div><table><thead><tr><th>first state</th><th></th><th>last state</th><th class='num'>calls</th></tr>"
        f"</thead><tbody>{rows}</tbody></table></div></div></section>"
    )
