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
from dataclasses import dataclass, replace
from pathlib import Path

BUDGETS = {
    "p99_ms_per_customer_utterance": ("≤", 5.0),
    "utterances_per_s_one_core": ("≥", 1000.0),
    "resident_mb": ("≤", 400.0),
    "state_kb_per_call": ("≤", 50.0),
    "prosody_rtf": ("≤", 0.02),
}
REDACTION_BUDGETS = {"p99_ms_per_utterance_redaction": ("≤", 1.0)}
#: PII-heavy turns (written, spoken, recogniser text, a number read over turns) timed beside the
#: built-in calls' own turns, so the figure covers the redactor's slow paths, not only clean text.
PII_TURNS = (
    ("agent", "Okay, whenever you're ready, go ahead with the card number."),
    ("customer", "yeah it's four one one one... uh... double one one one"),
    ("customer", "one one one one, one one one one one one one one"),
    ("agent", "And the three digit security code on the back, and the expiration?"),
    ("customer", "it's 737 and it expires oh eight twenty seven"),
    ("customer", "my name is dana reyes and my email is dana dot reyes at gmail dot com"),
    ("customer", "the address is 1423 Maple Street apt 4B, the gate code is star 2 7 1 9 pound"),
    ("customer", "You can reach me at (312) 555-0142, my social is 219-09-9999, born March 14, 1985."),
    ("customer", "It's a SEER 16 Trane, model XR16, you quoted $4,250 and it's 62 degrees in here at 10:30."),
    ("customer", "routing number zero two six oh oh nine five nine three account 2384910023 pin 4417"),
)
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


def measure(calls: int, model: str | None = None, policy: str | None = None) -> dict[str, float]:
    """Runs in the pinned child: latency of live turns, then batch throughput, memory, state."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from empathy_engine.demo import CALLS, load_call
    from empathy_engine.events import CallStarted, Utterance
    from empathy_engine.pipeline import Engine, EngineSettings

    t0 = time.perf_counter()
    chosen = EngineSettings(policy=Path(policy) if policy else None)  # a policy: its lookup and draw timed too
    engine = Engine(replace(chosen, model=model) if model else chosen)
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


def measure_redaction(calls: int) -> dict[str, float]:
    """Runs in the pinned child: the redactor alone, per utterance, over the built-in calls' turns
    and the PII-heavy turns above, each call through its own `CallRedaction` as a live call runs it."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from empathy_engine.demo import CALLS, load_call
    from empathy_engine.events import Utterance
    from empathy_engine.privacy import CallRedaction

    demo = [[(e.speaker, e.text) for e in load_call(name).events() if isinstance(e, Utterance)] for name in CALLS]
    conversations: list[list[tuple[str, str]]] = [[(str(s), t) for s, t in c] for c in demo]
    conversations.append(list(PII_TURNS))
    CallRedaction().turn("customer", PII_TURNS[1][1])  # compile the patterns before timing
    latencies: list[float] = []
    cpu: list[float] = []  # the thread's own CPU time: what the redactor costs, whatever else runs
    chars = 0
    for i in range(calls):
        redaction = CallRedaction()
        for speaker, text in conversations[i % len(conversations)]:
            c, t = time.thread_time(), time.perf_counter()
            redaction.turn(speaker, text)
            latencies.append(time.perf_counter() - t)
            cpu.append(time.thread_time() - c)
            chars += len(text)
    latencies.sort()
    cpu.sort()
    return {
        "utterances_redacted": len(latencies),
        "mean_chars_per_utterance": round(chars / len(latencies), 1),
        "p50_ms_per_utterance_redaction": round(statistics.median(latencies) * 1000, 4),
        "p99_ms_per_utterance_redaction": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 4),
        "max_ms_per_utterance_redaction": round(latencies[-1] * 1000, 4),
        "p99_cpu_ms_per_utterance_redaction": round(cpu[int(0.99 * (len(cpu) - 1))] * 1000, 4),
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


def run(
    calls: int, model: str | None = None, redaction: bool = False, policy: Path | None = None
) -> tuple[dict[str, float], list[Check]]:
    """Measure in a fresh pinned child process and compare with the budgets (`redaction`: the
    redactor's own benchmark instead of the engine's; `policy`: a cue policy loaded, docs/learning.md)."""
    env = {**os.environ, **SINGLE_THREAD}
    what = ["--redaction"] if redaction else [*([f"--policy={policy}"] if policy else []), *([model] if model else [])]
    cmd = [sys.executable, "-m", "empathy_engine.bench", str(calls), *what]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "benchmark failed")
    figures = json.loads(out.stdout)
    budgets = REDACTION_BUDGETS if redaction else BUDGETS
    checks = [Check(name, figures[name], op, budget) for name, (op, budget) in budgets.items()]
    return figures, checks


if __name__ == "__main__":
    if sys.argv[2:] == ["--redaction"]:
        print(json.dumps(measure_redaction(int(sys.argv[1]))))
    else:
        given = [a.removeprefix("--policy=") for a in sys.argv[2:] if a.startswith("--policy=")]
        rest = [a for a in sys.argv[2:] if not a.startswith("--policy=")]
        print(json.dumps(measure(int(sys.argv[1]), rest[0] if rest else None, given[0] if given else None)))
