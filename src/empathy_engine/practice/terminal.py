"""The practice call in a terminal (rich): the customer's line, the cue card as a live call shows
it (unless it is an exam), the reply prompt, and the session report."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.prompt import Prompt as Ask
from rich.table import Table

from empathy_engine.practice.scenario import Scenario
from empathy_engine.practice.session import Prompt

OUTCOME_WORDS = {"resolved": "resolved", "escalated": "escalated to a supervisor", "hung_up": "hung up",
                 "unfinished": "not finished"}  # fmt: skip


def show_header(out: Console, scenario: Scenario, exam: bool) -> None:
    customer = scenario.call.customer
    who = escape(customer.name or "the customer")
    notes = "; ".join(escape(n) for n in customer.notes)
    mode = " · [bold]exam[/]: no cue cards" if exam else ""
    out.print(Panel(f"{who} · {escape(scenario.call.service or 'service call')}{mode}\n{notes}".rstrip(),
                    title=escape(scenario.title), border_style="cyan"))  # fmt: skip
    out.print("[dim]Type your reply and press Enter; /quit ends the call.[/]")


def show_prompt(out: Console, prompt: Prompt, exam: bool) -> None:
    out.print(f"\n[bold]Customer:[/] {escape(prompt.customer)}")
    if prompt.outcome is not None:
        out.print(f"[bold]The call ended: {OUTCOME_WORDS[prompt.outcome]}.[/]")
        return
    if prompt.card is not None and not exam:
        card = prompt.card
        body = f"[bold]{escape(card.do)}[/]\nSay: {escape(card.say)}"
        if card.avoid:
            body += f"\n[dim]Avoid: {escape('; '.join(card.avoid))}[/]"
        style = "red" if card.safety else "yellow"
        out.print(Panel(body, title=f"cue card · {escape(card.state)}", border_style=style))


def ask_reply(out: Console) -> str | None:
    while True:
        try:
            text = Ask.ask("[bold cyan]You[/]", console=out, default="", show_default=False)
        except (EOFError, KeyboardInterrupt):
            return None
        if text.strip() == "/quit":
            return None
        if text.strip():
            return text


def print_report(out: Console, report: dict[str, Any]) -> None:
    out.print(f"\n[bold]{escape(report['title'])}[/] · {OUTCOME_WORDS[report['outcome']]} · "
              f"score [bold]{report['score']}[/]/100")  # fmt: skip
    table = Table("#", "you said", "what it did", "the playbook would have said", show_lines=True)
    for i, r in enumerate(report["replies"], 1):
        book = r.get("playbook")
        said = f"{escape(book['do'])}: “{escape(book['say'])}”" if book else "(no card: the customer needed none)"
        table.add_row(str(i), escape(r["reply"]), escape(r["did"]), said)
    out.print(table)
    skill = report["skill"]
    if skill is None:
        out.print("[green]Every reply landed. Try it as an exam: --exam hides the cards.[/]")
    else:
        out.print(f"[bold]The one skill to work on:[/] {escape(skill['do'])}"
                  + (f" — e.g. “{escape(skill['say'])}”" if skill["say"] else ""))  # fmt: skip
