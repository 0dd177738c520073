"""`empathy audit`: the thin command over `audit.job.run_audit`. Heavy imports stay inside the functions."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from empathy_engine.ingest.kinds import InputFormat
from empathy_engine.input_options import CsvColumnsOpt, InputFormatOpt, SpeakerOpt, read_options

if TYPE_CHECKING:
    from rich.console import Console

    from empathy_engine.audit.job import AuditOptions, AuditRun
    from empathy_engine.store.replay import EngineRecord


class Period(StrEnum):
    day = "day"
    week = "week"
    month = "month"


Paths = Annotated[
    list[str] | None,
    typer.Argument(
        help="Transcript files (.json/.jsonl conversation v1, .csv, .vtt, or a vendor's JSON with --input-format), "
        "folders, or - for stdin (docs/conversation-format.md)."
    ),
]
ReportOut = Annotated[
    Path | None, typer.Option("--report", help="Write the HTML report here (one file; the 'report' extra).")
]
JsonOut = Annotated[Path | None, typer.Option("--json", help="Write every call, skipped input and KPI as JSON.")]
CsvOut = Annotated[Path | None, typer.Option("--csv", help="Write one row per call as CSV.")]
Outcomes = Annotated[
    list[Path] | None, typer.Option("--outcomes", help="CSV: call_id, csat, resolved, referral, review_text.")
]
Reviews = Annotated[list[Path] | None, typer.Option("--reviews", help="CSV: customer_id, date, rating, text.")]
PeriodOpt = Annotated[Period, typer.Option(help="Trend and KPI period.")]
RepeatWindow = Annotated[
    float,
    typer.Option(
        min=0.0,
        help="Days within which a call from the same customer about the same service counts as a repeat contact.",
    ),
]
ReviewWindow = Annotated[float, typer.Option(min=0.0, help="Days a review may follow the call it is linked to.")]
MinCalls = Annotated[int, typer.Option(min=1, help="Scored calls an agent needs for a verdict.")]
Roi = Annotated[
    list[str] | None,
    typer.Option("--roi", help="An ROI assumption as NAME=VALUE (repeatable), e.g. --roi retention_lift=0.01."),
]
Workers = Annotated[int | None, typer.Option(min=1, help="Processes (default: one per core).")]
Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Run on a Dask cluster: its scheduler's address, tcp://HOST:PORT or tls://... (the 'cluster' extra; "
        "--workers is then ignored).",
        envvar="EMPATHY_DASK_SCHEDULER",
    ),
]
Stats = Annotated[bool, typer.Option("--stats", help="Print throughput figures on stderr at the end.")]
Database = Annotated[
    str | None,
    typer.Option(
        "--database", help="Audit the ended calls of `empathy serve`'s database (SQLAlchemy URL; the 'serve' extra)."
    ),
]
#: store.models.DEFAULT_TENANT, spelled out: importing the store would slow every `empathy` command down.
TenantOpt = Annotated[
    str, typer.Option("--tenant", help="The tenant whose ended calls --database audits (each tenant's apart).")
]
Playbook = Annotated[
    Path | None,
    typer.Option(
        help="A playbook YAML for the conversation files (stored calls replay with the one they ran with).",
        envvar="EMPATHY_PLAYBOOK",
    ),
]
Exemplars = Annotated[Path | None, typer.Option(help="An exemplar library for the conversation files.")]
PolicyOpt = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="A cue policy from `empathy learn fit` for the conversation files (stored calls keep theirs).",
    ),
]
PlansOut = Annotated[
    Path | None,
    typer.Option("--plans", help="Write a coaching plan per agent into this folder (docs/practice.md)."),
]
HolidayCountry = Annotated[
    str, typer.Option(help="Public-holiday calendar for the conversation files (stored calls keep theirs).")
]


def audit(
    paths: Paths = None,
    report: ReportOut = None,
    json_out: JsonOut = None,
    csv_out: CsvOut = None,
    outcomes: Outcomes = None,
    reviews: Reviews = None,
    period: PeriodOpt = Period.week,
    repeat_window: RepeatWindow = 7.0,
    review_window: ReviewWindow = 30.0,
    min_calls: MinCalls = 10,
    roi: Roi = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    stats: Stats = False,
    database: Database = None,
    tenant: TenantOpt = "default",
    playbook: Playbook = None,
    exemplars: Exemplars = None,
    holiday_country: HolidayCountry = "US",
    policy: PolicyOpt = None,
    input_format: InputFormatOpt = InputFormat.auto,
    csv_columns: CsvColumnsOpt = None,
    speaker: SpeakerOpt = None,
    plans: PlansOut = None,
) -> None:
    """Audit many stored calls: missed cues, agent scorecards with intervals, trust KPIs and ROI.

    Runs the same pipeline as a live call over every conversation, in parallel, with memory
    flat however many calls. Calls from the service's database are replayed exactly as they ran
    (the engine settings and tone of voice stored with them). Unreadable inputs are listed
    (stderr, report, JSON) and skipped; the exit code is then 1. See docs/audit.md.
    """
    from empathy_engine.audit.job import AuditOptions

    err = _stderr_once_extras_checked(report, database, scheduler)
    t0 = time.perf_counter()
    _check_files([*(outcomes or []), *(reviews or [])], [report, json_out, csv_out, plans], err)
    reading, on_cluster = _reading(input_format, csv_columns, speaker, err), scheduler is not None
    source, total = _source(paths, database, tenant, err, reading, on_cluster)
    options = AuditOptions(
        period=period.value,
        repeat_window_days=repeat_window,
        review_link_days=review_window,
        min_calls=min_calls,
        workers=workers or _cores(),
        scheduler=scheduler,
        outcomes=tuple(outcomes or ()),
        reviews=tuple(reviews or ()),
        roi=_roi(roi, err),
        report=report,
        json=json_out,
        csv=csv_out,
        inputs=tuple([*(paths or ([] if database else ["-"])), *([f"database {database}"] if database else [])]),
        engine=_engine(playbook, exemplars, holiday_country, err, policy),
        feedback_from=(database, tenant) if database else None,
    )
    run = _run(source, options, total, err)
    _write_plans(plans, run, playbook, err)
    _finish(run, options, err, t0 if stats else None)


def _finish(run: AuditRun, options: AuditOptions, err: Console, stats_since: float | None) -> None:
    """What the audit found, where its outputs went, the throughput if asked; exit 1 if inputs failed."""
    _print_outcome(run, options, err)
    if stats_since is not None:
        _print_stats(run, options, time.perf_counter() - stats_since, err)
    if run.failed:
        err.print(f"{run.failed} input(s) could not be read or analysed and were skipped; the others were audited.")
        raise typer.Exit(1)


def _usage_error(err: Console, message: str) -> typer.Exit:
    from rich.markup import escape  # [brackets] are text: paths, 'empathy-engine[serve]'

    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(2)


def _cores() -> int:
    import os

    return os.cpu_count() or 1


def _stderr_once_extras_checked(report: Path | None, database: str | None, scheduler: str | None = None) -> Console:
    """The console for errors, once the extras the options need are known to be there: the audit
    is core, its HTML charts and the service's database are extras (exit 2 without)."""
    from rich.console import Console

    from empathy_engine.extras import command_needs

    if report is not None:
        command_needs("report", "empathy audit --report")
    if database is not None:
        command_needs("serve", "empathy audit --database")
    if scheduler is not None:
        command_needs("cluster", "empathy audit --scheduler")
    return Console(stderr=True, soft_wrap=True, highlight=False)


def _check_files(inputs: list[Path], outputs: list[Path | None], err: Console) -> None:
    """Every input file exists and every output has a folder to go in, before any work starts."""
    for p in inputs:
        if not p.is_file():
            raise _usage_error(err, f"no such file: {p}")
    for out_path in outputs:
        if out_path is not None and not out_path.parent.is_dir():
            raise _usage_error(err, f"cannot write {out_path}: no such folder {out_path.parent}")


def _reading(chosen: InputFormat, csv_columns: list[str] | None, speakers: list[str] | None, err: Console) -> Any:
    """(the input format, the reading options) for the files; a malformed option is a usage error."""
    try:
        return chosen, read_options(csv_columns, speakers)
    except ValueError as e:
        raise _usage_error(err, str(e)) from None


def _source(
    paths: list[str] | None,
    database: str | None,
    tenant: str,
    err: Console,
    reading: tuple[Any, Any] = (InputFormat.auto, None),
    on_cluster: bool = False,
) -> tuple[Iterable[Any], int | None]:
    """The calls to audit (files, the service's database, or both) and how many there are, if known.
    `reading`: the input format and reading options for the files. `on_cluster`: the database's
    calls go out as pages of ids, and each worker reads its page itself."""
    from empathy_engine.audit.runner import CHUNK
    from empathy_engine.audit.sources import count_inputs, count_store, from_files, from_store, store_ranges

    def stored() -> Iterable[Any]:
        assert database is not None
        return store_ranges(database, tenant, CHUNK) if on_cluster else from_store(database, tenant)

    database_errors: tuple[type[Exception], ...] = ()
    if database:  # the store needs the serve extra (checked): files alone must not import it
        from empathy_engine.store.db import DatabaseError

        database_errors = (DatabaseError,)
    try:
        if database and not paths:  # only the service's database
            source: Iterable[Any] = stored()
            total: int | None = count_store(database, tenant)
        else:
            source, total = from_files(paths or [], *reading), count_inputs(paths or [], reading[0])
            if database:
                source = itertools.chain(source, stored())
                total = None if total is None else total + count_store(database, tenant)
    except database_errors as e:
        raise _usage_error(err, str(e)) from None
    except FileNotFoundError as e:
        raise _usage_error(err, f"no such file or folder: {e.args[0]}") from None
    if total == 0:
        raise _usage_error(err, f"no conversations in {' '.join(paths or [])} (.json, .jsonl, .csv or .vtt files)")
    return source, total


def _roi(assumptions: list[str] | None, err: Console) -> Any:
    from empathy_engine.audit.roi import RoiInputs

    try:
        return RoiInputs.parse(assumptions or [])
    except ValueError as e:
        raise _usage_error(err, str(e)) from None


def _engine(
    playbook: Path | None, exemplars: Path | None, country: str, err: Console, policy: Path | None = None
) -> EngineRecord:
    """The engine settings for conversation files, checked here: a bad playbook is a usage error, not a
    failure in every worker."""
    from empathy_engine.coaching.playbook import PlaybookError, load_playbook
    from empathy_engine.perception.context import ContextSettings
    from empathy_engine.pipeline import EngineSettings
    from empathy_engine.store.replay import EngineRecord

    try:
        load_playbook(playbook)
        context = ContextSettings(country)
        settings = EngineSettings(context=context, playbook=playbook, exemplars=exemplars, policy=policy)
        return EngineRecord.of(settings)
    except PlaybookError as e:
        raise _usage_error(err, f"playbook: {e}") from None
    except ValueError as e:  # a broken cue policy (learning/policy.py PolicyError names file and field)
        raise _usage_error(err, str(e)) from None
    except OSError as e:
        raise _usage_error(err, f"{e.filename}: {e.strerror}") from None


def _run(source: Iterable[Any], options: AuditOptions, total: int | None, err: Console) -> AuditRun:
    from concurrent.futures.process import BrokenProcessPool

    from rich.markup import escape

    from empathy_engine.audit.job import run_audit

    def failure(f: Any) -> None:  # escaped: a path or a reason may hold [brackets]
        err.print(f"[bold red]error:[/] {escape(f.where)}: {escape(f.reason)}")

    try:
        with _progress(err, total) as advance:
            return run_audit(source, options, advance, failure)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except ConnectionError as e:  # --scheduler: no Dask scheduler there (the message says how to start one)
        err.print(f"[bold red]error:[/] {escape(str(e))}")
        raise typer.Exit(2) from None
    except BrokenProcessPool as e:
        err.print(f"[bold red]error:[/] a worker process died ({e}); try fewer --workers or more memory")
        raise typer.Exit(1) from None
    except OSError as e:  # an output that cannot be written (disk full, permissions)
        err.print(f"[bold red]error:[/] cannot write the audit's outputs: {e.strerror or e} ({e.filename or ''})")
        err.print("nothing partial was left: each output is written whole or not at all")
        raise typer.Exit(1) from None
    except Exception as e:  # a bug of ours: a clear message and untouched outputs, not a traceback
        err.print(f"[bold red]error:[/] the audit stopped: {type(e).__name__}: {e} - please report it")
        err.print("nothing partial was left: each output is written whole or not at all")
        raise typer.Exit(1) from None


def _print_outcome(run: AuditRun, options: AuditOptions, err: Console) -> None:
    """One line for the team, then where the outputs went."""
    from rich.console import Console

    from empathy_engine.audit.report.fmt import plural

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
    written = [("report", options.report), ("json", options.json), ("csv", options.csv)]
    for label, path in written:
        if path:
            out.print(f"{label}: {path}")
    if not any(path for _, path in written):
        out.print("(write the report with --report audit.html; --json and --csv give every call)")


def _write_plans(folder: Path | None, run: AuditRun, playbook: Path | None, err: Console) -> None:
    """The coaching plans (practice/plans.py), from the summary's per-agent misses, when asked for."""
    if folder is None:
        return
    from empathy_engine.practice.plans import write_plans

    try:
        written = write_plans(folder, run.summary, playbook)
    except OSError as e:
        err.print(f"[bold red]error:[/] cannot write the plans in {folder}: {e.strerror or e}")
        raise typer.Exit(1) from None
    err.print(f"plans: {len(written)} written in {folder} (empathy practice --plan FILE)", highlight=False)


def _print_stats(run: AuditRun, options: AuditOptions, wall: float, err: Console) -> None:
    err.print(
        f"stats: {run.stats.calls:,} calls in {wall:.1f} s end to end = {run.stats.calls / wall:,.1f} calls/s "
        f"({run.summary['run']['workers']} workers; calls through the pool {run.stats.map_s:.1f} s; "
        f"report {run.report_s:.1f} s)"
    )


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
