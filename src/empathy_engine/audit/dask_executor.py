"""The audit's map on a Dask distributed cluster (`empathy audit --scheduler tcp://HOST:PORT`).

The same `audit_chunk` runs on the workers that runs in the local pool; only the executor
changes (audit/runner.py). What Dask brings: chunks placed on whichever worker is free, and a
chunk whose worker dies re-run on another (the scheduler keeps the task until a worker returns
its result), so an audit survives a lost machine and its result is the local run's.

Each worker process loads the engine once (runner._load_engine caches it per settings), the
first time a chunk needs it. Results come back to the driver in input order, with a bounded
number of chunks in flight, so the driver's memory stays flat and the outputs are written in the
same order as a local run's; the driver merges the partial aggregates as they arrive (the merge
is order-independent, so this equals a tree reduce, without holding partials on the workers).

Dask sends pickles: workers and the scheduler must trust each other. Run them on a private
network, or with TLS (`tls://` addresses and Dask's `distributed.comm.tls` settings), see
docs/audit.md "On a Dask cluster".
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from empathy_engine.extras import require

T = TypeVar("T")
R = TypeVar("R")

#: How long to wait for the scheduler before saying it cannot be reached.
CONNECT_TIMEOUT_S = 10.0
#: A chunk that raises (not one whose worker died: those are always moved) is tried this often
#: more; audit_chunk catches a call's own errors, so a raise means the worker itself is unwell.
RETRIES = 2


class SchedulerUnreachable(ConnectionError):
    """The scheduler address did not answer, or went away mid-run; the message names it and the fix."""


class DaskExecutor:
    """Chunks through a Dask scheduler's workers; results in input order, `in_flight` at a time."""

    def __init__(self, address: str, in_flight: int | None = None) -> None:
        require("cluster", "empathy audit --scheduler")
        self.address = address
        self.in_flight = in_flight
        self.workers = 0  # known once connected: the threads the cluster offers

    def _client(self) -> Any:
        from distributed import Client

        try:
            return Client(self.address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError) as e:
            raise SchedulerUnreachable(
                f"no Dask scheduler answered at {self.address} within {CONNECT_TIMEOUT_S:.0f} s ({e}); "
                "start one with `dask scheduler` and workers with `dask worker ADDRESS` (docs/audit.md)"
            ) from None

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        with self._client() as client:
            self.workers = sum(client.nthreads().values()) or 1
            in_flight = self.in_flight or 2 * self.workers + 1
            queue: deque[Any] = deque()
            try:
                for item in items:
                    # pure=False: two chunks with equal contents are still two tasks to run.
                    queue.append(client.submit(fn, item, pure=False, retries=RETRIES))
                    if len(queue) >= in_flight:
                        yield self._result(queue.popleft())
                while queue:
                    yield self._result(queue.popleft())
            finally:
                client.cancel(list(queue))

    def _result(self, future: Any) -> Any:
        from distributed.comm.core import CommClosedError

        try:
            return future.result()
        except (CommClosedError, TimeoutError) as e:  # the scheduler went away: say so, not "disk full"
            raise SchedulerUnreachable(f"lost the Dask scheduler at {self.address} mid-audit ({e})") from None
