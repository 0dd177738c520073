"""Voice activity on telephone audio: how each rule cuts utterances, what it opens on, what it costs.

    .venv/bin/python benchmarks/vad.py                   # 36 sentences, both rules
    .venv/bin/python benchmarks/vad.py --sentences 12

The set is made here, each run, and never committed: customer sentences of the domain corpus
(benchmarks/speech.py's seeded sample) spoken by espeak-ng in four US English voices at three
rates, 8 kHz through G.711 mu-law, six to a call with 1.0-2.0 s of silence between them (longer
than silence_s, so each sentence should be one utterance). Four conditions: `phone` as it is, and
white noise, pink noise and 60 Hz mains hum (with its 3rd and 5th harmonics) added at 10 dB below
the speech. Beside it, sounds that are not speech, each alone on a quiet line: 30 s of each noise
at the same level, and five loud bursts (half a second of pink noise at -10 dBFS, a door slam, a
1 kHz beep, a DTMF key, 2 s of US ringback).

Per rule and condition: sentences that are one utterance each (not run together with another
nor split), those cut right (also starting and ending within 0.15 s of the sentence), utterances
that are no sentence, the median and worst start and end
error, and the end of turn: how long after the sentence's last sample the utterance was closed,
with 20 ms chunks pushed as a live stream does. Cost: seconds of CPU (one thread) per second of
audio, one channel, 20 ms pushes. Needs espeak-ng and the speech extra (for Silero).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from speech import RATES, VOICES, sentences, speak

from empathy_engine.ingest.audio import ANALYSIS_RATE, decode_mulaw, encode_mulaw
from empathy_engine.perception.vad import Closed, Opened, SpeechSegmenter

RATE = ANALYSIS_RATE
CHUNK = RATE // 50
PER_CALL = 6
SNR_DB = 10.0
CONDITIONS = ("phone", "white", "pink", "hum")
BURSTS = ("noise burst", "door slam", "beep", "dtmf", "ringback")
SLACK_S = 0.15

Span = tuple[float, float]


def noise(kind: str, n: int, rms: float, rng: np.random.Generator) -> np.ndarray:
    if kind == "white":
        x = rng.standard_normal(n)
    elif kind == "pink":
        spectrum = np.fft.rfft(rng.standard_normal(n))
        x = np.fft.irfft(spectrum / np.sqrt(np.maximum(np.fft.rfftfreq(n, 1 / RATE), 20.0)), n)
    else:
        t = np.arange(n) / RATE
        x = sum(a * np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f, a in ((60, 1.0), (180, 0.5), (300, 0.3)))
    return (np.asarray(x) / np.std(x) * rms).astype(np.float32)


def spoken(count: int, seed: int) -> list[np.ndarray]:
    """Each sentence at 8 kHz, its leading and trailing silence cut, peaking at -12 dBFS."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(sentences(count, seed)):
            x = speak(text, VOICES[i % len(VOICES)], RATES[i % len(RATES)], Path(tmp))
            sounding = np.flatnonzero(np.abs(x) > 0.01)
            x = x[sounding[0] : sounding[-1] + 1]
            out.append((0.25 * x / np.max(np.abs(x))).astype(np.float32))
    return out


def calls(said: list[np.ndarray], rng: np.random.Generator) -> list[tuple[np.ndarray, list[Span]]]:
    """Six sentences a call, 1.0-2.0 s of silence between them (a second first)."""
    out = []
    for first in range(0, len(said), PER_CALL):
        parts, spans, at = [np.zeros(RATE, np.float32)], [], RATE
        for x in said[first : first + PER_CALL]:
            gap = int(rng.uniform(1.0, 2.0) * RATE)
            parts += [x, np.zeros(gap, np.float32)]
            spans.append((at / RATE, (at + len(x)) / RATE))
            at += len(x) + gap
        out.append((np.concatenate(parts), spans))
    return out


def condition(line: np.ndarray, spans: list[Span], kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind != "phone":
        speech = np.concatenate([line[int(a * RATE) : int(b * RATE)] for a, b in spans])
        line = line + noise(kind, len(line), float(np.sqrt(np.mean(np.square(speech)))) / 10 ** (SNR_DB / 20), rng)
    return decode_mulaw(encode_mulaw(np.clip(line, -1.0, 1.0)))


def burst(kind: str, rng: np.random.Generator) -> np.ndarray:
    x = np.zeros(6 * RATE, np.float32)
    k = np.arange(RATE * 2) / RATE
    sound = {
        "noise burst": lambda: noise("pink", RATE // 2, 10 ** (-10 / 20), rng),
        "door slam": lambda: 0.8 * rng.standard_normal(int(0.4 * RATE)) * np.exp(-k[: int(0.4 * RATE)] / 0.05),
        "beep": lambda: 0.3 * np.sin(2 * np.pi * 1000 * k[: RATE // 2]),
        "dtmf": lambda: 0.2 * (np.sin(2 * np.pi * 697 * k[: RATE // 5]) + np.sin(2 * np.pi * 1209 * k[: RATE // 5])),
        "ringback": lambda: 0.2 * (np.sin(2 * np.pi * 440 * k) + np.sin(2 * np.pi * 480 * k)),
    }[kind]()
    x[2 * RATE : 2 * RATE + len(sound)] = sound
    return decode_mulaw(encode_mulaw(x))


def stream(vad: str, x: np.ndarray) -> tuple[list[tuple[float, Closed]], int, float]:
    """(time each utterance closed, the utterance), utterances opened, CPU seconds: 20 ms pushes."""
    segmenter = SpeechSegmenter(vad=vad)
    closed, opened = [], 0
    started = time.process_time()
    for i in range(0, len(x), CHUNK):
        for e in segmenter.push(x[i : i + CHUNK]):
            opened += isinstance(e, Opened)
            if isinstance(e, Closed):
                closed.append(((i + CHUNK) / RATE, e))
    cpu = time.process_time() - started
    closed += [(len(x) / RATE, e) for e in segmenter.close() if isinstance(e, Closed)]
    return closed, opened, cpu


def _overlaps(e: Closed, span: Span) -> bool:
    return e.speech_start / RATE < span[1] and e.speech_end / RATE > span[0]


def score(found: list[tuple[float, Closed]], spans: list[Span]) -> dict[str, list[float]]:
    """Per sentence: cut right or not; where exactly one utterance covers it and no other sentence,
    its start and end error and when it closed; and the utterances that cover no sentence."""
    out: dict[str, list[float]] = {"right": [], "start": [], "end": [], "closed": []}
    for span in spans:
        over = [(t, e) for t, e in found if _overlaps(e, span)]
        alone = len(over) == 1 and sum(_overlaps(over[0][1], other) for other in spans) == 1
        if not alone:
            out["right"].append(0.0)
            continue
        t, e = over[0]
        start, end = e.speech_start / RATE - span[0], e.speech_end / RATE - span[1]
        out["right"].append(float(abs(start) <= SLACK_S and abs(end) <= SLACK_S))
        out["start"].append(start)
        out["end"].append(end)
        out["closed"].append(t - span[1])
    out["extra"] = [float(sum(not any(_overlaps(e, span) for span in spans) for _, e in found))]
    return out


def _ms(values: list[float], how: str) -> float | None:
    if not values:
        return None
    x = np.asarray(values)
    return round(1000 * float(np.median(x) if how == "median" else np.max(np.abs(x))))


def summary(scores: list[dict[str, list[float]]]) -> dict[str, object]:
    get = {k: [v for s in scores for v in s[k]] for k in scores[0]}
    return {
        "sentences": len(get["right"]),
        "one_utterance_each": len(get["start"]),
        "cut_right": int(sum(get["right"])),
        "extra_utterances": int(sum(get["extra"])),
        "start_ms_median": _ms(get["start"], "median"), "start_ms_worst": _ms(get["start"], "worst"),
        "end_ms_median": _ms(get["end"], "median"), "end_ms_worst": _ms(get["end"], "worst"),
        "closed_after_last_sound_ms_median": _ms(get["closed"], "median"),
        "closed_after_last_sound_ms_max": _ms(get["closed"], "worst"),
    }  # fmt: skip


def run(vad: str, lines: dict[str, list[tuple[np.ndarray, list[Span]]]], rng: np.random.Generator) -> dict[str, object]:
    out: dict[str, object] = {}
    cpu = audio = 0.0
    for kind, conditioned in lines.items():
        scores = []
        for x, spans in conditioned:
            found, _, seconds = stream(vad, x)
            cpu, audio = cpu + seconds, audio + len(x) / RATE
            scores.append(score(found, spans))
        out[kind] = summary(scores)
    for kind in ("white", "pink", "hum"):
        found, opened, _ = stream(vad, decode_mulaw(encode_mulaw(noise(kind, 30 * RATE, 10 ** (-35 / 20), rng))))
        out[f"{kind} alone, 30 s"] = {"opened": opened, "utterances": len(found)}
    for kind in BURSTS:
        found, opened, _ = stream(vad, burst(kind, rng))
        out[kind] = {"opened": opened, "utterances": len(found)}
    out["real_time_factor"] = round(cpu / audio, 5)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=36, help="sentences in the set (default 36: six calls)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rules", default="energy,silero", help="comma-separated: energy, silero")
    args = parser.parse_args(argv)
    if shutil.which("espeak-ng") is None:
        parser.error("espeak-ng is not installed (Debian: apt install espeak-ng); it speaks the set")
    rng = np.random.default_rng(args.seed)
    base = calls(spoken(args.sentences, args.seed), rng)
    lines = {kind: [(condition(x, spans, kind, rng), spans) for x, spans in base] for kind in CONDITIONS}
    seconds = sum(len(x) for x, _ in base) / RATE
    print(f"set: {args.sentences} sentences in {len(base)} calls, {seconds:.0f} s a condition", file=sys.stderr)
    machine = platform.processor() or platform.machine()
    figures: dict[str, object] = {"machine": machine, "python": platform.python_version()}
    for vad in (r.strip() for r in args.rules.split(",") if r.strip()):
        stream(vad, base[0][0])  # the first stream loads the model
        figures[vad] = run(vad, lines, np.random.default_rng(args.seed + 1))
        print(f"{vad}: {json.dumps(figures[vad])}", file=sys.stderr)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
