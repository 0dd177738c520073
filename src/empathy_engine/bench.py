"""`empathy bench`: the engine's speed, memory and per-call state against its budgets.

Text: latency per customer utterance through the whole pipeline, batch throughput on one core,
resident memory, state per live call. Voice: the real-time factor of tone-of-voice analysis on
one live stream; speech recognition (pocketsphinx, for audio-only streams) is reported beside it.

The measurement runs in a child process pinned to one CPU core with single-threaded BLAS,
so "per core" means what it says and other work on the machine matters less.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

BUDGETS = {
    "p99_ms_per_customer_utterance": ("≤", 5.0),
    "utterances_per_s_one_core": ("≥", 1000.0),
    "resident_mb": ("≤", 400.0),
    "state_kb_per_call": ("≤", 50.0),
    "prosody_rtf": ("≤", 0.02),
}
SINGLE_THREAD = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    value: float
    op: str
    budget: float

    @property
    def ok(self) -> bool:
        return self.value <= self.budget if self.op == "≤" else self.value >= self.budget


def measure(calls: int, model: str | None = None) -> dict[str, float]:
    """Runs in the pinned child: latency of live turns, then batch throughput, memory, state."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from empathy_engine.demo import CALLS, load_call
    from empathy_engine.events import CallStarted, Utterance
    from empathy_engine.pipeline import Engine, EngineSettings

    t0 = time.perf_counter()
    engine = Engine(EngineSettings(model=model) if model else None)
    load_s = time.perf_counter() - t0
    conversations = [load_call(name).events() for name in CALLS]

    # Live: every customer utterance timed through the whole pipeline, as a live call feeds it.
    latencies: list[float] = []
    state_bytes = 0
    for i in range(calls):
        events = conversations[i % len(conversations)]
        start = events[0]
        assert isinstance(start, CallStarted)
        session = engine.open(start)
        for event in events[1:]:
            if isinstance(event, Utterance):
                t = time.perf_counter()
                session.feed(event)
                if event.speaker == "customer":
                    latencies.append(time.perf_counter() - t)
        state_bytes = max(state_bytes, session.state_bytes())

    # Batch: whole conversations through Engine.analyze, every utterance counted.
    utterances = 0
    t = time.perf_counter()
    for i in range(calls):
        events = conversations[i % len(conversations)]
        engine.analyze(events)
        utterances += sum(isinstance(e, Utterance) for e in events)
    batch_s = time.perf_counter() - t

    resident_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the text engine, before voice
    from empathy_engine.perception.prosody_bench import prosody_real_time_factor

    voice = prosody_real_time_factor()
    recognition_rtf = _recognition_rtf()
    latencies.sort()
    return {
        "model_load_s": round(load_s, 3),
        "customer_utterances_timed": len(latencies),
        "p50_ms_per_customer_utterance": round(statistics.median(latencies) * 1000, 3),
        "p99_ms_per_customer_utterance": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 3),
        "utterances_per_s_one_core": round(utterances / batch_s, 1),
        "resident_mb": round(resident_mb, 1),
        "state_kb_per_call": round(state_bytes / 1024, 2),
        "prosody_rtf": round(voice["prosody_rtf"], 4),
        "prosody_streams_per_core": round(voice["prosody_streams_per_core"]),
        "prosody_batch_rtf": round(voice["prosody_batch_rtf"], 4),
        "recognition_rtf": round(recognition_rtf, 3),
    }


def _recognition_rtf(seconds: float = 20.0) -> float:
    """Seconds of pocketsphinx decoding per second of 8 kHz audio (reported, no budget)."""
    from empathy_engine.perception.prosody_bench import synthetic_speech
    from empathy_engine.perception.speech import PocketsphinxRecogniser

    recogniser = PocketsphinxRecogniser()
    audio = synthetic_speech(seconds)
    t = time.perf_counter()
    for start in range(0, len(audio), 8000 * 4):  # 4-second utterances
        recogniser.transcribe(audio[start : start + 8000 * 4], 8000)
    return (time.perf_counter() - t) / seconds


def run(calls: int, model: str | None = None) -> tuple[dict[str, float], list[Check]]:
    """Measure in a fresh pinned child process and compare with the budgets."""
    env = {**os.environ, **SINGLE_THREAD}
    cmd = [sys.executable, "-m", "empathy_engine.bench", str(calls), *([model] if model else [])]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "benchmark failed")
    figures = json.loads(out.stdout)
    checks = [Check(name, figures[name], op, budget) for name, (op, budget) in BUDGETS.items()]
    return figures, checks


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None)))
