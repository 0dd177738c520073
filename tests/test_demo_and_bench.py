from __future__ import annotations

import json
import subprocess
import sys

from rich.console import Console

from empathy_engine.demo import CALLS, load_call, play
from empathy_engine.pipeline import Engine


def test_demo_plays_every_call_in_real_time_order(engine: Engine) -> None:
    for name in CALLS:
        console = Console(record=True, width=120)
        waits: list[float] = []
        call = load_call(name)
        play(console, engine, call, speed=2.0, sleep=waits.append)
        text = console.export_text()
        assert call.id in text and "empathy score" in text and "why:" in text
        times = [t.t for t in call.turns if t.t is not None]
        assert abs(sum(waits) - max(times) / 2.0) < 1e-6  # waited as the call unfolded, at 2x


def test_bench_worker_reports_every_budgeted_figure() -> None:
    # Only that the benchmark runs and reports; its numbers are for `make bench`, not for tests.
    out = subprocess.run(
        [sys.executable, "-m", "empathy_engine.bench", "4"], capture_output=True, text=True, timeout=120, check=True
    )
    figures = json.loads(out.stdout)
    for key in ("p99_ms_per_customer_utterance", "utterances_per_s_one_core", "resident_mb", "state_kb_per_call"):
        assert figures[key] > 0
