"""`empathy practice`: play a scenario against the simulated customer, in the terminal or from a
replies file, run a coaching plan, or show the practice history. Heavy imports stay inside."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from empathy_engine.pipeline import Engine
    from empathy_engine.practice.scenario import Scenario
    from empathy_engine.practice.session import PracticeSession, Prompt

#: A replies file: one reply a line, at most this many lines and bytes (docs/practice.md).
MAX_REPLIES = 100
MAX_REPLIES_BYTES = 256 * 1024


class Format(StrEnum):
    text = "text"
    json = "json"


ScenarioArg = Annotated[
    str | None, typer.Argument(help="A built-in scenario id or a scenario .yaml file; none lists them.")
]
RepliesOpt = Annotated[
    Path | None,
    typer.Option(
        "--replies", help="Agent replies, one a line (with --plan: a folder of SCENARIO.txt files or one file)."
    ),
]
FormatOpt = Annotated[Format, typer.Option("--format", help="The session report as text or JSON.")]
ExamOpt = Annotated[bool, typer.Option("--exam", help="Hide the cue card while playing (the report still shows it).")]
PlanOpt = Annotated[
    Path | None, typer.Option("--plan", help="A plan written by `empathy audit --plans DIR`: run its scenarios.")
]
RecordOpt = Annotated[
    Path | None,
    typer.Option("--record", help="Append the scores here (JSON lines). Default with --plan: beside the plan."),
]
HistoryOpt = Annotated[
    Path | None,
    typer.Option("--history", help="Show the trend of a records file (agent, scenario, first -> last score)."),
]
AgentOpt = Annotated[
    str | None, typer.Option("--agent", help="Who is practising, for --record (a plan names its agent).")
]
PlaybookOpt = Annotated[Path | None, typer.Option(help="A playbook YAML for the cue cards.", envvar="EMPATHY_PLAYBOOK")]


def practice(
    scenario: ScenarioArg = None,
    replies: RepliesOpt = None,
    output: FormatOpt = Format.text,
    exam: ExamOpt = False,
    plan: PlanOpt = None,
    record: RecordOpt = None,
    history: HistoryOpt = None,
    agent: AgentOpt = None,
    playbook: PlaybookOpt = None,
) -> None:
    """Practise with a simulated customer who reacts to what you type, read by the real engine.

    Validate and they calm down; quote a fee first and frustration rises; ignore a safety step and
    it repeats. At the end: each reply, what it did, what the playbook would have said, a score and
    the one skill to work on. See docs/practice.md.
    """
    from empathy_engine.practice.plans import PlanError
    from empathy_engine.practice.scenario import ScenarioError

    try:
        if history is not None:
            return _history(history, output)
        if plan is not None:
            return _run_plan(plan, replies, record, output, exam, playbook)
        if scenario is None:
            return _list(output)
        _run_one(scenario, replies, output, exam, record, agent, playbook)
    except (ScenarioError, PlanError) as e:
        raise _fail(str(e)) from None


def _fail(message: str) -> typer.Exit:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True, highlight=False).print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(2)


def _list(output: Format) -> None:
    from rich.console import Console
    from rich.table import Table

    from empathy_engine.practice.scenario import builtin_scenarios

    scenarios = builtin_scenarios()
    if output is Format.json:
        rows = [{"id": s.id, "title": s.title, "trains": s.trains} for s in scenarios.values()]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table("scenario", "title", "trains", title="Practice scenarios: empathy practice SCENARIO")
    for s in scenarios.values():
        table.add_row(s.id, s.title, ", ".join(s.trains))
    Console().print(table)


def _engine(playbook: Path | None) -> Engine:
    from empathy_engine.coaching.playbook import PlaybookError, load_playbook
    from empathy_engine.pipeline import Engine, EngineSettings

    try:
        load_playbook(playbook)
    except PlaybookError as e:
        raise _fail(f"playbook: {e}") from None
    return Engine(EngineSettings(playbook=playbook))


def read_replies(path: Path) -> list[str]:
    """One reply a line (blank lines skipped), bounded; a bad file is a usage error naming it."""
    try:
        size = path.stat().st_size
        if size > MAX_REPLIES_BYTES:
            raise _fail(f"{path}: {size} bytes; a replies file is at most {MAX_REPLIES_BYTES}")
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError as e:
        raise _fail(f"{path}: cannot read the replies: {e.strerror}") from None
    except UnicodeDecodeError:
        raise _fail(f"{path}: not UTF-8 text; save the replies as UTF-8, one a line") from None
    if not lines:
        raise _fail(f"{path}: no replies; write one agent reply a line")
    if len(lines) > MAX_REPLIES:
        raise _fail(f"{path}: {len(lines)} replies; at most {MAX_REPLIES} (a scenario ends long before)")
    return lines


def _play(engine: Engine, scenario: Scenario, replies: list[str] | None, exam: bool) -> PracticeSession:
    from empathy_engine.practice.session import PracticeSession, play

    if replies is not None:
        return play(engine, scenario, replies)
    from rich.console import Console

    session = PracticeSession(engine, scenario)
    _interactive(session, Console(highlight=False), exam)
    return session


def _run_one(
    name: str, replies: Path | None, output: Format, exam: bool, record: Path | None, agent: str | None,
    playbook: Path | None,
) -> None:  # fmt: skip
    from empathy_engine.practice.report import session_report
    from empathy_engine.practice.scenario import find_scenario

    scenario = find_scenario(name)
    lines = read_replies(replies) if replies is not None else None
    if lines is None and output is Format.json:
        raise _fail("--format json plays from a file: add --replies FILE (one agent reply a line)")
    session = _play(_engine(playbook), scenario, lines, exam)
    report = session_report(session, exam)
    if record is not None:
        _record(record, agent or "unknown", report, None)
    _print_reports([report], output)


def _run_plan(
    path: Path, replies: Path | None, record: Path | None, output: Format, exam: bool, playbook: Path | None
) -> None:
    from rich.console import Console

    from empathy_engine.practice.plans import read_plan, record_path
    from empathy_engine.practice.report import session_report

    plan = read_plan(path)
    if replies is None and output is Format.json:
        raise _fail("--format json plays from files: add --replies DIR (SCENARIO.txt files) or --replies FILE")
    engine, reports = _engine(playbook), []
    err = Console(stderr=True, highlight=False)
    for scenario in plan.scenarios:
        lines = _plan_replies(replies, scenario.id) if replies is not None else None
        err.print(f"plan for {plan.agent}: scenario {scenario.id} ({scenario.title})")
        reports.append(session_report(_play(engine, scenario, lines, exam), exam))
    target = record or record_path(path)
    for report in reports:
        _record(target, plan.agent, report, path)
    _print_reports(reports, output)
    err.print(f"recorded {len(reports)} score(s) in {target} (empathy practice --history {target})")


def _plan_replies(replies: Path, scenario_id: str) -> list[str]:
    if replies.is_dir():
        file = replies / f"{scenario_id}.txt"
        if not file.is_file():
            raise _fail(f"{replies}: no {scenario_id}.txt; write one reply a line for each scenario of the plan")
        return read_replies(file)
    return read_replies(replies)


def _record(path: Path, agent: str, report: dict[str, Any], plan: Path | None) -> None:
    from empathy_engine.practice.plans import append_record

    if not path.parent.is_dir():
        raise _fail(f"cannot write {path}: no such folder {path.parent}")
    append_record(path, {
        "agent": agent, "scenario": report["scenario"], "score": report["score"], "outcome": report["outcome"],
        "exam": report["exam"], "at": datetime.now(UTC).isoformat(timespec="seconds"),
        **({"plan": plan.name} if plan else {}),
    })  # fmt: skip


def _history(path: Path, output: Format) -> None:
    from rich.console import Console
    from rich.table import Table

    from empathy_engine.practice.plans import history, read_records

    rows = history(read_records(path))
    if output is Format.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table("agent", "scenario", "runs", "first", "last", "best", "change", title=f"Practice history: {path}")
    for r in rows:
        change = f"{r['change']:+d}"
        table.add_row(
            r["agent"], r["scenario"], str(r["runs"]), str(r["first"]), str(r["last"]), str(r["best"]), change
        )
    Console(highlight=False).print(table)


def _print_reports(reports: list[dict[str, Any]], output: Format) -> None:
    if output is Format.json:
        sys.stdout.write(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2, ensure_ascii=False) + "\n")
        return
    from rich.console import Console

    from empathy_engine.practice.terminal import print_report

    out = Console(highlight=False)
    for report in reports:
        print_report(out, report)


def _interactive(session: PracticeSession, out: Console, exam: bool) -> None:
    from empathy_engine.practice.terminal import ask_reply, show_header, show_prompt

    show_header(out, session.scenario, exam)
    prompt: Prompt = session.start()
    while True:
        show_prompt(out, prompt, exam)
        if prompt.outcome is not None:
            return
        text = ask_reply(out)
        if text is None:  # /quit or end of input: the report of what was played so far
            return
        prompt = session.reply(text)
