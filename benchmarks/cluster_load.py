"""Cluster load benchmark: N concurrent calls through HAProxy to 3 replicas (`empathy cluster up`),
each sending an utterance every 2-5 s, latency measured at the client (send -> stored insight).

    .venv/bin/python benchmarks/cluster_load.py --database-url postgresql://... \
        --migration-database-url postgresql://...              # 3,000 calls, 60 s
    .venv/bin/python benchmarks/cluster_load.py --calls 100 --duration 20 ...   # a smoke run

It starts the cluster in a temporary folder (PostgreSQL given by the URLs, or a private one when
they are not given and this is not root), runs benchmarks/load.py's client against the front
URL, reports p50/p99/max and what was dropped, and stops the cluster (every process it started).

Read its figures for what they are. On a machine with two cores, three replicas, HAProxy, Redis,
PostgreSQL and the load generator all share those two cores: this cannot show a throughput gain
over one process, only that calls through the cluster are correct and what the extra hops cost.
The throughput of a cluster is the number of replica cores times one process's (docs/deploy.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402  (benchmarks/load.py: the same client, the same figures)

TARGET_P99_MS = 100.0


def _empathy(*args: str, env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "empathy_engine", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"empathy {' '.join(args[:2])} failed: {done.stderr.strip()}")
    print(done.stdout.strip(), file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000, help="concurrent calls (at most 5,000)")
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds (max 600)")
    parser.add_argument("--gap", default="2,5", help="seconds between a call's utterances: min,max")
    parser.add_argument("--database-url", help="PostgreSQL for the replicas (EMPATHY_DATABASE_URL)")
    parser.add_argument("--migration-database-url", help="its table owner (EMPATHY_MIGRATION_DATABASE_URL)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    gaps = tuple(float(g) for g in args.gap.split(","))
    if not 0 < args.calls <= 5000 or not 0 < args.duration <= 600 or len(gaps) != 2:
        raise SystemExit("--calls 1-5000, --duration 1-600 s, --gap min,max")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 2 sockets per call on loopback, 2 more in HAProxy
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMPATHY_")}
    if args.database_url:
        env["EMPATHY_DATABASE_URL"] = args.database_url
    if args.migration_database_url:
        env["EMPATHY_MIGRATION_DATABASE_URL"] = args.migration_database_url
    env["EMPATHY_MAX_LIVE_CALLS"] = str(max(5000, args.calls))
    with tempfile.TemporaryDirectory(prefix="empathy-cluster-load-") as tmp:
        folder = Path(tmp) / "cluster"
        _empathy("cluster", "up", "--replicas", str(args.replicas), "--dir", str(folder), env=env)
        try:
            state = json.loads((folder / "cluster.json").read_text())
            os.environ["EMPATHY_API_KEY"] = state["admin_key"]  # the client's key (client.py reads it)
            began = time.monotonic()
            level = asyncio.run(load.run_level(state["front"], args.calls, args.duration, gaps, args.seed))  # type: ignore[arg-type]
            figures = level.figures()
            figures["wall_s"] = round(time.monotonic() - began, 1)
        finally:
            _empathy("cluster", "down", "--dir", str(folder), env=env)
    report(figures, args.replicas, gaps)


def report(figures: dict[str, Any], replicas: int, gaps: tuple[float, ...]) -> None:
    print(json.dumps(figures), file=sys.stderr)
    print(
        f"\n{load.machine()}; {replicas} replicas behind HAProxy; an utterance every {gaps[0]:g}-{gaps[1]:g} s a call"
    )
    print("| concurrent calls | utterances/s | p50 ms | p99 ms | max ms | errors | dropped |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    f = figures
    dropped = f["dropped"] + f["failed_calls"]
    row = [f"{f['calls']:,}", f["per_second"], f["p50_ms"], f["p99_ms"], f["max_ms"], f["errors"], dropped]
    print("| " + " | ".join(str(v) for v in row) + " |")
    print(
        f"\ntarget p99 <= {TARGET_P99_MS:g} ms, nothing dropped. Every process here shares this machine's "
        f"{os.cpu_count()} cores: no throughput gain can show, only correctness and the cost of the extra hops."
    )


if __name__ == "__main__":
    main()
