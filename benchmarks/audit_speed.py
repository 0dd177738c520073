"""End-to-end speed of `empathy audit`: generated twenty-turn calls, the real command, wall-clock time.

    python benchmarks/audit_speed.py [--calls 3000] [--workers 2] [--repeat 3] [--keep DIR]

Generates the calls (benchmarks/generate_calls.py, fixed seed) once, then times the whole
command — process start, model loads in every worker, reading, analysis, the outcomes and
reviews joins, and writing the HTML report, JSON and CSV — `--repeat` times, and prints the
best and median calls per second with the machine's load, so a busy machine shows as such.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="generate into (and keep) this folder")
    args = parser.parse_args(argv)

    work = args.keep or Path(tempfile.mkdtemp(prefix="audit-speed-"))
    calls = work / "calls"
    subprocess.run([sys.executable, str(HERE / "generate_calls.py"), str(calls), "--calls", str(args.calls)],
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    cmd = [
        sys.executable, "-m", "empathy_engine", "audit", str(calls),
        "--outcomes", str(calls / "outcomes.csv"), "--reviews", str(calls / "reviews.csv"),
        "--report", str(work / "report.html"), "--json", str(work / "audit.json"), "--csv", str(work / "audit.csv"),
        "--workers", str(args.workers),
    ]  # fmt: skip
    rates: list[float] = []
    loads: list[float] = []
    for _ in range(args.repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            sys.exit(f"audit failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        rates.append(args.calls / wall)
        loads.append(os.getloadavg()[0])
        print(f"  {args.calls} calls in {wall:.1f} s = {args.calls / wall:.1f} calls/s "
              f"(CPU {cpu:.1f} s, {cpu / args.calls * 1000:.1f} ms per call; load {loads[-1]:.2f})",
              file=sys.stderr)  # fmt: skip
    print(json.dumps({
        "calls": args.calls,
        "turns_per_call": 20,
        "workers": args.workers,
        "cores": os.cpu_count(),
        "cpu": cpu_name(),
        "best_calls_per_s": round(max(rates), 1),
        "median_calls_per_s": round(statistics.median(rates), 1),
        "load_average_during": [round(x, 2) for x in loads],
        "command": " ".join(cmd[1:]),
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
