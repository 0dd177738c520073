"""One audit, start to finish: outcomes and reviews in, calls through the executor, outputs out."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from empathy_engine import __version__
from empathy_engine.audit.aggregate import Aggregate
from empathy_engine.audit.joins import JoinSettings, JoinStore
from empathy_engine.audit.outcomes import read_outcomes, read_reviews
from empathy_engine.audit.records import FailedInput
from empathy_engine.audit.roi import RoiInputs, calculate
from empathy_engine.audit.runner import (
    CHUNK,
    ChunkResult,
    Conversation,
    Executor,
    RunStats,
    Unreadable,
    executor_for,
    run,
)
from empathy_engine.audit.summary import SummarySettings, summarise
from empathy_engine.audit.writers import CsvWriter, JsonWriter, write_atomically
from empathy_engine.store.replay import EngineRecord

#: The report lists this many failed inputs; the JSON output lists them all.
REPORT_FAILURES = 500


@dataclass(frozen=True, slots=True)
class AuditOptions:
    period: str = "week"
    repeat_window_days: float = 7.0
    review_link_days: float = 30.0
    min_calls: int = 10
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    #: A Dask scheduler's address (tcp://HOST:PORT): the calls go to its workers instead of `workers`.
    scheduler: str | None = None
    chunk: int = CHUNK
    outcomes: tuple[Path, ...] = ()
    reviews: tuple[Path, ...] = ()
    roi: RoiInputs = field(default_factory=RoiInputs)
    report: Path | None = None
    json: Path | None = None
    csv: Path | None = None
    inputs: tuple[str, ...] = ()  # what was audited, as the user named it (for the report's header)
    #: Engine settings for calls that bring none (files); stored live calls replay with their own.
    engine: EngineRecord | None = None
    #: (database URL, tenant) when the calls come from the service's database: agents' feedback too.
    feedback_from: tuple[str, str] | None = None


@dataclass(slots=True)
class AuditRun:
    summary: dict[str, Any]
    stats: RunStats
    failed: int
    wall_s: float
    report_s: float = 0.0


def run_audit(
    source: Iterable[Conversation | Unreadable],  # audit/sources.py: files, or the service's database
    options: AuditOptions,
    progress: Callable[[int], None] = lambda n: None,
    on_failure: Callable[[FailedInput], None] = lambda f: None,
    executor: Executor | None = None,
) -> AuditRun:
    """Audit every call `source` yields; write the outputs `options` asks for; return the summary."""
    started = time.perf_counter()
    aggregate = Aggregate(options.period)
    join = JoinSettings(options.period, options.repeat_window_days, options.review_link_days)
    header = {
        "version": 1,
        "engine": __version__,
        # The cue policy the conversation files were coached with (stored calls keep their own).
        "policy": options.engine.policy_version if options.engine is not None else "none",
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "inputs": list(options.inputs),
        "outcomes": [str(p) for p in options.outcomes],
        "reviews": [str(p) for p in options.reviews],
    }
    with JoinStore(join) as store:

        def failed(f: FailedInput) -> None:
            store.add_failure(f)
            on_failure(f)

        _read_labels(options, store, failed)
        outputs = _Outputs(options, header, store)
        try:
            executor = executor or executor_for(options.workers, options.scheduler)
            chunk, kinds = options.chunk, outputs.kinds
            stats = run(source, executor, aggregate, outputs.chunk, failed, progress, chunk, kinds, options.engine)
            workers = getattr(executor, "workers", 0) or options.workers  # a cluster's, once connected
            summary = _summary(aggregate, store, options, stats, header, workers)
            outputs.close(summary)
        except BaseException:  # nothing half-written is left behind: each output is all there or not there
            outputs.abort()
            raise
        outcome = AuditRun(summary, stats, store.failed, 0.0)
        if options.report:
            t = time.perf_counter()
            _write_report(options.report, summary, store)
            outcome.report_s = time.perf_counter() - t
    outcome.wall_s = time.perf_counter() - started
    return outcome


class _Outputs:
    """The JSON and CSV outputs the options ask for, filled chunk by chunk, committed or discarded together."""

    def __init__(self, options: AuditOptions, header: dict[str, Any], store: JoinStore) -> None:
        self.store = store
        self.json = JsonWriter(options.json, header) if options.json else None
        try:
            self.csv = CsvWriter(options.csv) if options.csv else None
        except BaseException:
            self.abort()
            raise
        self.kinds = frozenset(name for name, path in (("json", options.json), ("csv", options.csv)) if path)

    def chunk(self, result: ChunkResult) -> None:
        self.store.add_calls(result.join_rows)
        if self.json:
            self.json.lines(result.json_lines)
        if self.csv:
            self.csv.rows(result.csv_rows)

    def close(self, summary: dict[str, Any]) -> None:
        if self.csv:
            self.csv.close()
            self.csv = None
        if self.json:
            self.json.close(self.store.failures(), summary)
            self.json = None

    def abort(self) -> None:
        for writer in (getattr(self, "json", None), getattr(self, "csv", None)):
            if writer is not None:
                writer.abort()


def _read_labels(options: AuditOptions, store: JoinStore, failed: Callable[[FailedInput], None]) -> None:
    """Outcomes and reviews into the join store, before any call (bad rows are failed inputs)."""
    for path in options.outcomes:
        for o in read_outcomes(path):
            failed(o) if isinstance(o, FailedInput) else store.add_outcome(o)
    for path in options.reviews:
        for r in read_reviews(path):
            failed(r) if isinstance(r, FailedInput) else store.add_review(r)


def _summary(
    aggregate: Aggregate,
    store: JoinStore,
    options: AuditOptions,
    stats: RunStats,
    header: dict[str, Any],
    workers: int,
) -> dict[str, Any]:
    settings = SummarySettings(options.period, options.repeat_window_days, options.review_link_days, options.min_calls)
    summary = summarise(aggregate, store.kpis(), settings, calculate(options.roi), store.failed)
    summary["audit"] = header
    if options.feedback_from is not None:  # issue 16: readings agents called wrong (audit/feedback_rates.py)
        from empathy_engine.audit.feedback_rates import feedback_rates

        summary["feedback"] = feedback_rates(*options.feedback_from)
    summary["run"] = {
        "workers": workers,
        "scheduler": options.scheduler,
        "calls_per_s": round(stats.calls / stats.map_s, 1) if stats.map_s else None,
        "map_s": round(stats.map_s, 2),
    }
    return summary


def _write_report(path: Path, summary: dict[str, Any], store: JoinStore) -> None:
    from itertools import islice

    from empathy_engine.audit.report import render

    failures = list(islice(store.failures(), REPORT_FAILURES))
    write_atomically(path, render(summary, failures))
