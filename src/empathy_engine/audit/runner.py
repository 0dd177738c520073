"""Run the audit: stream conversations in chunks through an executor (MAP), fold the results (REDUCE).

    source (iterator of conversations) --chunks--> executor.map(audit_chunk) --> outputs + partials
        outputs   -> JSON and CSV files, chunk by chunk, never all held (serialised by the workers)
        partials  -> Aggregate.merge             (the reduce; order-independent)
        slim rows -> JoinStore (SQLite on disk)  (the keyed reduce for cross-call KPIs)

The executor is the only thing that knows about processes: `SerialExecutor` runs in this
process, `PoolExecutor` on a local process pool, `DaskExecutor` (audit/dask_executor.py) on a Dask
cluster, all with the same `map(fn, chunks)` (the worker function and the merge stay as they are).
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from empathy_engine.audit.aggregate import Aggregate
from empathy_engine.audit.records import FailedInput
from empathy_engine.audit.sources import StoredRange
from empathy_engine.events import CallStarted, Event, Utterance
from empathy_engine.extras import MissingExtra
from empathy_engine.perception.prosody import VoiceReading
from empathy_engine.store.replay import EngineRecord, ReplayError

if TYPE_CHECKING:
    from empathy_engine.pipeline import Engine

T = TypeVar("T")
R = TypeVar("R")

#: Conversations per task sent to a worker: big enough to amortise the hand-over, small enough
#: that the progress bar moves and little is held in flight.
CHUNK = 64
_SINGLE_THREAD = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


class Conversation(Protocol):
    """What a source yields for each readable call: where it came from, and its events."""

    @property
    def where(self) -> str: ...

    def events(self) -> list[Event]: ...


class Unreadable(Protocol):
    """What a source yields for each call it could not read (ingest's `InputError` is one)."""

    where: str
    message: str
    id: str | None


@dataclass(frozen=True, slots=True)
class Payload:
    """One call as sent to a worker. A stored live call brings what its exact replay needs: each
    utterance's voice reading and the engine settings it ran with (None: the audit's own)."""

    where: str
    events: list[Event]
    voices: tuple[VoiceReading | None, ...] = ()
    engine: EngineRecord | None = None

    @classmethod
    def of(cls, item: Conversation) -> Payload:
        return cls(item.where, item.events(), getattr(item, "voices", ()), getattr(item, "engine", None))


@dataclass(slots=True)
class ChunkResult:
    """What a worker sends back for a chunk: outputs already serialised, and a partial aggregate."""

    calls: int
    join_rows: list[tuple[Any, ...]]
    json_lines: list[str]
    csv_rows: list[dict[str, Any]]
    failures: list[FailedInput]
    partial: Aggregate


@dataclass(slots=True)
class RunStats:
    calls: int = 0
    failed: int = 0
    map_s: float = 0.0
    started: float = field(default_factory=time.perf_counter)


# --- the worker side -------------------------------------------------------------------------

_engines: dict[EngineRecord | None, Engine] = {}


def _load_engine(record: EngineRecord | None = None) -> Engine:
    """This worker's engine for `record` (None: the default settings), loaded once per settings."""
    from empathy_engine.pipeline import Engine, EngineSettings

    if record not in _engines:
        _engines[record] = Engine(record.settings() if record is not None else EngineSettings())
    return _engines[record]


def audit_chunk(
    payloads: list[Payload] | StoredRange,
    period: str = "week",
    outputs: frozenset[str] = frozenset(),
    engine: EngineRecord | None = None,
) -> ChunkResult:
    """MAP a chunk of calls to records, pre-reduce them into a partial aggregate, serialise the outputs.

    Serialising here (`outputs`: "json", "csv") keeps the driver's share of the work small, so it
    does not compete with the workers for the cores. `engine`: the settings for calls that bring
    none of their own (conversation files); a stored live call is replayed with the ones it ran with.
    A `StoredRange` (a cluster audit of the database) is read here, on the worker.
    """
    from empathy_engine.audit.joins import join_row
    from empathy_engine.audit.mapper import audit_call

    out = ChunkResult(0, [], [], [], [], Aggregate(period))
    if isinstance(payloads, StoredRange):
        payloads = _read_on_worker(payloads, out)
    for payload in payloads:
        start = payload.events[0]
        assert isinstance(start, CallStarted)
        try:
            call_engine = _load_engine(payload.engine or engine)
        except ReplayError as e:  # a stored call whose playbook changed: say so rather than audit it differently
            out.failures.append(FailedInput(payload.where, f"cannot replay exactly: {e}", start.call_id))
            continue
        except (ValueError, OSError) as e:  # its settings name a model or file this install lacks
            out.failures.append(FailedInput(payload.where, f"cannot load the engine it ran with: {e}", start.call_id))
            continue
        try:
            result = call_engine.analyze(payload.events, payload.voices)
            texts = [e.text for e in payload.events if isinstance(e, Utterance)]
            record = audit_call(start, texts, result, payload.where)
        except MissingExtra as e:  # audio without the voice extra: the reason is the fix
            out.failures.append(FailedInput(payload.where, str(e), start.call_id))
            continue
        except Exception as e:  # one call that breaks the engine must not stop the audit
            out.failures.append(FailedInput(payload.where, f"analysis failed: {type(e).__name__}: {e}", start.call_id))
            continue
        out.calls += 1
        out.partial.add(record)
        out.join_rows.append(join_row(record, period))
        if "json" in outputs:
            out.json_lines.append(json.dumps(record.to_dict(), ensure_ascii=False))
        if "csv" in outputs:
            out.csv_rows.append(record.csv_row())
    return out


def _read_on_worker(page: StoredRange, out: ChunkResult) -> list[Payload]:
    from empathy_engine.audit.sources import read_range
    from empathy_engine.ingest.conversation import InputError

    payloads = []
    for item in read_range(page):
        if isinstance(item, InputError):
            out.failures.append(FailedInput(item.where, item.message, item.id))
        else:
            payloads.append(Payload.of(item))
    return payloads


# --- executors -------------------------------------------------------------------------------


class Executor(Protocol):
    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]: ...


class SerialExecutor:
    """In this process, one chunk after another (tests, --workers 1)."""

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        for item in items:
            yield fn(item)


class PoolExecutor:
    """A local process pool; results come back in input order, with a bounded number in flight."""

    def __init__(self, workers: int, in_flight: int | None = None) -> None:
        self.workers = workers
        self.in_flight = in_flight or 2 * workers + 1

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        for name, value in _SINGLE_THREAD.items():  # workers share the cores: one BLAS thread each
            os.environ.setdefault(name, value)
        # Each worker loads an engine when its first call needs one (per settings record), so no
        # default engine is loaded that the audit's own settings would never use.
        with ProcessPoolExecutor(self.workers, mp_context=get_context("spawn")) as pool:
            queue: deque[Future[R]] = deque()
            try:
                for item in items:
                    queue.append(pool.submit(fn, item))
                    if len(queue) >= self.in_flight:
                        yield queue.popleft().result()
                while queue:
                    yield queue.popleft().result()
            finally:
                for future in queue:
                    future.cancel()


def executor_for(workers: int, scheduler: str | None = None) -> Executor:
    """A Dask cluster's workers when a scheduler address is given, else this machine's cores."""
    if scheduler:
        from empathy_engine.audit.dask_executor import DaskExecutor

        return DaskExecutor(scheduler)
    return SerialExecutor() if workers <= 1 else PoolExecutor(workers)


# --- the driver ------------------------------------------------------------------------------


def chunks(
    source: Iterable[Conversation | Unreadable | StoredRange], size: int, on_error: Callable[[FailedInput], None]
) -> Iterator[list[Payload] | StoredRange]:
    """Readable conversations as payload chunks; unreadable ones go to `on_error` at once. A
    `StoredRange` is already a chunk (its calls are read by the worker) and goes on as it is."""
    chunk: list[Payload] = []
    for item in source:
        if isinstance(item, StoredRange):
            if chunk:
                yield chunk
                chunk = []
            yield item
            continue
        if not hasattr(item, "events"):
            on_error(FailedInput(item.where, item.message, item.id))
            continue
        chunk.append(Payload.of(item))  # type: ignore[arg-type]
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run(
    source: Iterable[Conversation | Unreadable | StoredRange],
    executor: Executor,
    aggregate: Aggregate,
    on_chunk: Callable[[ChunkResult], None],
    on_failure: Callable[[FailedInput], None],
    progress: Callable[[int], None] = lambda n: None,
    chunk: int = CHUNK,
    outputs: frozenset[str] = frozenset(),
    engine: EngineRecord | None = None,
) -> RunStats:
    """Stream `source` through `executor`; hand each chunk's outputs on; merge partials into `aggregate`."""
    stats = RunStats()

    def failed(f: FailedInput) -> None:
        stats.failed += 1
        on_failure(f)
        progress(1)

    fn = partial(audit_chunk, period=aggregate.period, outputs=outputs, engine=engine)
    for result in executor.map(fn, chunks(source, chunk, failed)):
        on_chunk(result)
        for f in result.failures:
            failed(f)
        aggregate.merge(result.partial)
        stats.calls += result.calls
        progress(result.calls)
    stats.map_s = time.perf_counter() - stats.started
    return stats
