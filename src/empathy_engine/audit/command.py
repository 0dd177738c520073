"""`empathy audit`: the thin command over `audit.job.run_audit`. Heavy imports stay inside the function."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer


class Period(StrEnum):
    day = "day"
    week = "week"
    month = "month"


def audit(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Conversation files (.json, .jsonl), folders, or - for stdin (docs/conversation-format.md)."
        ),
    ] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the HTML report here (one file).")] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write every call, skipped input and KPI as JSON.")
    ] = None,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Write one row per call as CSV.")] = None,
    outcomes: Annotated[
        list[Path] | None, typer.Option("--outcomes", help="CSV: call_id, csat, resolved, referral, review_text.")
    ] = None,
    reviews: Annotated[
        list[Path] | None, typer.Option("--reviews", help="CSV: customer_id, date, rating, text.")
    ] = None,
    period: Annotated[Period, typer.Option(help="Trend and KPI period.")] = Period.week,
    repeat_window: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Days within which a call from the same customer about the same service counts as a repeat contact.",
        ),
    ] = 7.0,
    review_window: Annotated[
        float, typer.Option(min=0.0, help="Days a review may follow the call it is linked to.")
    ] = 30.0,
    min_calls: Annotated[int, typer.Option(min=1, help="Scored calls an agent needs for a verdict.")] = 10,
    roi: Annotated[
        list[str] | None,
        typer.Option("--roi", help="An ROI assumption as NAME=VALUE (repeatable), e.g. --roi retention_lift=0.01."),
    ] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Processes (default: one per core).")] = None,
    stats: Annotated[bool, typer.Option("--stats", help="Print throughput figures on stderr at the end.")] = False,
    database: Annotated[
        str | None,
        typer.Option("--database", help="Audit the ended calls of `empathy serve`'s database (SQLAlchemy URL)."),
    ] = None,
) -> None:
    """Audit many stored calls: missed cues, agent scorecards with intervals, trust KPIs and ROI.

    Runs the same pipeline as a live call over every conversation, in parallel, with memory
    flat however many calls. Unreadable inputs are listed (stderr, report, JSON) and skipped;
    the exit code is then 1. See docs/audit.md.
    """
    import os
    import time

    from rich.console import Console

    from empathy_engine.audit.job import AuditOptions, run_audit
    from empathy_engine.audit.report.fmt import plural
    from empathy_engine.audit.roi import RoiInputs
    from empathy_engine.audit.sources import count_inputs, count_store, from_files, from_store
    from empathy_engine.store.db import DatabaseError

    err = Console(stderr=True, soft_wrap=True, highlight=False)
    t0 = time.perf_counter()
    for p in [*(outcomes or []), *(reviews or [])]:
        if not p.is_file():
            err.print(f"[bold red]error:[/] no such file: {p}")
            raise typer.Exit(2)
    try:
        roi_inputs = RoiInputs.parse(roi or [])
        if database and not paths:  # only the service's database
            source, total = from_store(database), count_store(database)
        else:
            source, total = from_files(paths or []), count_inputs(paths or [])
            if database:
                source = itertools.chain(source, from_store(database))
                total = None if total is None else total + count_store(database)
    except DatabaseError as e:
        err.print(f"[bold red]error:[/] {e}")
        raise typer.Exit(2) from None
    except FileNotFoundError as e:
        err.print(f"[bold red]error:[/] no such file or folder: {e.args[0]}")
        raise typer.Exit(2) from None
    except ValueError as e:
        err.print(f"[bold red]error:[/] {e}")
        raise typer.Exit(2) from None
    if total == 0:
        err.print(f"[bold red]error:[/] no conversations in {' '.join(paths or [])} (.json or .jsonl files)")
        raise typer.Exit(2)
    for out_path in (report, json_out, csv_out):
        if out_path is not None and not out_path.parent.is_dir():
            err.print(f"[bold red]error:[/] cannot write {out_path}: no such folder {out_path.parent}")
            raise typer.Exit(2)
    options = AuditOptions(
        period=period.value,
        repeat_window_days=repeat_window,
        review_link_days=review_window,
        min_calls=min_calls,
        workers=workers or os.cpu_count() or 1,
        outcomes=tuple(outcomes or ()),
        reviews=tuple(reviews or ()),
        roi=roi_inputs,
        report=report,
        json=json_out,
        csv=csv_out,
        inputs=tuple([*(paths or ([] if database else ["-"])), *([f"database {database}"] if database else [])]),
    )

    def failure(f: Any) -> None:
        err.print(f"[bold red]error:[/] {f.where}: {f.reason}")

    from concurrent.futures.process import BrokenProcessPool

    try:
        with _progress(err, total) as advance:
            run = run_audit(source, options, advance, failure)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except BrokenProcessPool as e:
        err.print(f"[bold red]error:[/] a worker process died ({e}); try fewer --workers or more memory")
        raise typer.Exit(1) from None
    s = run.summary
    team = s["team"]
    emp = team["empathy"]
    below = [a["agent"] for a in s["agents"] if a["tier"] == "below team"]
    out = Console(highlight=False)
    score = "–" if emp["value"] is None else f"{emp['value']:.2f} (95% {emp['lo']:.2f}–{emp['hi']:.2f})"
    out.print(
        f"audited {plural(s['calls'], 'call')}, {plural(s['agents_n'], 'agent')} · team empathy score {score} · "
        f"{plural(team['missed_cues'], 'missed cue')} · agents clearly below the team: {', '.join(below) or 'none'}"
    )
    for label, path in (("report", report), ("json", json_out), ("csv", csv_out)):
        if path:
            out.print(f"{label}: {path}")
    if not (report or json_out or csv_out):
        out.print("(write the report with --report audit.html; --json and --csv give every call)")
    if stats:
        wall = time.perf_counter() - t0
        err.print(
            f"stats: {run.stats.calls:,} calls in {wall:.1f} s end to end = {run.stats.calls / wall:,.1f} calls/s "
            f"({options.workers} workers; calls through the pool {run.stats.map_s:.1f} s; report {run.report_s:.1f} s)"
        )
    if run.failed:
        err.print(f"{run.failed} input(s) could not be read or analysed and were skipped; the others were audited.")
        raise typer.Exit(1)


class _progress:
    """A progress bar with the rate on stderr, when it is a terminal."""

    def __init__(self, err: Any, total: int | None) -> None:
        self.err = err
        self.total = total
        self.bar: Any = None

    def __enter__(self) -> Callable[[int], None]:
        if not self.err.is_terminal:
            return lambda n: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TimeRemainingColumn
        from rich.text import Text

        class Rate(ProgressColumn):
            def render(self, task: Any) -> Text:
                return Text(f"{task.speed or 0:,.0f} calls/s", style="progress.data.speed")

        self.bar = Progress(
            "auditing",
            BarColumn(),
            MofNCompleteColumn(),
            Rate(),
            TimeRemainingColumn(),
            console=self.err,
            transient=True,
        )
        self.bar.start()
        task = self.bar.add_task("audit", total=self.total)
        return lambda n: self.bar.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.bar:
            self.bar.stop()
