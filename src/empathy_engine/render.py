"""The `text` timeline: what a person reads, one turn at a time (used by analyze and demo)."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from empathy_engine.advice import CueCard
from empathy_engine.events import CallStarted, Utterance
from empathy_engine.results import AgentTurn, CustomerInsight, Insight, Summary
from empathy_engine.taxonomy import level

STATE_STYLE = {
    "frustration": "bold red",
    "urgency": "bold magenta",
    "confusion": "bold yellow",
    "cost_anxiety": "bold dark_orange",
    "worry": "bold orange1",
    "dejection": "bold blue",
    "distrust": "bold red3",
    "satisfaction": "bold green",
    "neutral": "dim",
}


def clock(t: float | None) -> str:
    if t is None:
        return "  --  "
    minutes, seconds = divmod(int(t), 60)
    return f"{minutes:02d}:{seconds:02d}"


def render_header(console: Console, call: CallStarted) -> None:
    line = Text.assemble(("● ", "bold cyan"), (call.call_id, "bold"))
    details = [x for x in (call.service, call.channel, call.handled_by if call.handled_by == "bot" else None) if x]
    if call.started_at:
        details.append(call.started_at.strftime("%a %d %b %Y %H:%M"))
    if details:
        line.append("  " + " · ".join(details), "dim")
    console.print(line)
    customer = call.customer
    if customer.name or customer.notes or customer.prior_contacts:
        console.print(Text(f"  customer: {customer.name or customer.id or 'unknown'}", "cyan"))
        for note in customer.notes:
            console.print(Text(f"    note: {note}", "dim"))
        for prior in customer.prior_contacts:
            when = prior.at.strftime("%d %b") if prior.at else "earlier"
            console.print(Text(f"    {when}: {prior.issue} → {prior.outcome}", "dim"))
    console.print()


def render_turn(console: Console, utterance: Utterance, result: Insight) -> None:
    who = "CUSTOMER" if utterance.speaker == "customer" else "AGENT   "
    colour = "bold cyan" if utterance.speaker == "customer" else "bold white"
    console.print(Text.assemble((f"{clock(utterance.t)}  ", "dim"), (who, colour), "  ", utterance.text))
    if isinstance(result, CustomerInsight):
        _customer(console, result)
    else:
        _agent(console, result)


def _customer(console: Console, turn: CustomerInsight) -> None:
    line = Text("          ▸ ")
    if turn.primary == "neutral":
        line.append("neutral", STATE_STYLE["neutral"])
    for i, state in enumerate(s for s in turn.detected if s != "neutral"):
        if i:
            line.append(" · ")
        line.append(state, STATE_STYLE[state])
        line.append(f" {turn.states[state]:.2f}", "dim")
    if turn.primary != "neutral":
        line.append(f"   ({level(turn.intensity)})", "dim")
    console.print(line)
    for evidence in turn.evidence[:3]:
        console.print(
            Text.assemble(
                "            why: ",
                (f"“{evidence.quote}”", "italic"),
                (f"  {evidence.source} → {evidence.state}", "dim"),
            )
        )
    for card in turn.cues:
        _card(console, card)


def _card(console: Console, card: CueCard) -> None:
    """The cue card as the agent sees it: what they feel, what to do, what to say, what to avoid."""
    colour = "bold white on red" if card.source == "safety" else "bold black on bright_yellow"
    label = "SAFETY" if card.source == "safety" else f"CUE · {card.state}"
    console.print(Text.assemble("          ", (f" {label} ", colour), "  ", (card.do, "bold")))
    console.print(Text.assemble("            say: ", (f"“{card.say}”", "bright_white")))
    if card.source == "exemplar":
        console.print(Text(f"                 (proven phrasing from {card.exemplar})", "dim"))
    if card.avoid:
        console.print(Text(f"            avoid: {'; '.join(card.avoid)}", "red"))
    if card.explain:  # the idiom explainer (coaching/explainer.py)
        console.print(Text.assemble("            means: ", (card.explain, "cyan")))


def _agent(console: Console, turn: AgentTurn) -> None:
    line = Text("          ▸ ")
    line.append(", ".join(turn.behaviours), "dim" if turn.behaviours == ("none",) else "white")
    if turn.missed_cue:
        line.append("   ✗ missed cue", "bold red")
    elif turn.answered:
        line.append(f"   ✓ answered {', '.join(turn.answered)}", "green")
    if turn.follow_through:
        card_id, followed = turn.follow_through
        line.append(f"   card {card_id}: ", "dim")
        line.append("followed" if followed else "not followed", "green" if followed else "yellow")
    console.print(line)


def render_summary(console: Console, summary: Summary) -> None:
    arc = Text("  arc: ")
    arc.append(summary.start or "—", STATE_STYLE.get(summary.start or "neutral", ""))
    if summary.peak:
        arc.append(" → peak ")
        arc.append(summary.peak.state, STATE_STYLE[summary.peak.state])
        arc.append(f" ({level(summary.peak.intensity)}, turn {summary.peak.turn})", "dim")
    arc.append(" → ")
    arc.append(summary.end or "—", STATE_STYLE.get(summary.end or "neutral", ""))
    console.print(arc)
    score = "n/a (no emotional turns)" if summary.empathy_score is None else f"{summary.empathy_score:.0%}"
    console.print(Text(f"  empathy score: {score}   missed cues: {summary.missed_cues}", "bold"))
    console.print()
