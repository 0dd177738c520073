"""The cost of tone-of-voice analysis: real-time factor of one live stream (budget: <= 0.02 on one core).

`prosody_real_time_factor()` streams synthetic 8 kHz speech through a `VoiceTracker` in 20 ms
chunks, customer and agent channels both, closing a turn every few seconds, as a telephony
call feeds it. Call it inside `empathy bench`'s pinned, single-threaded child, so that "one core"
means what it says. Speech recognition is not included.
"""

from __future__ import annotations

import time

import numpy as np

from empathy_engine.ingest.audio import ANALYSIS_RATE


def synthetic_speech(seconds: float, seed: int = 0, rate: int = ANALYSIS_RATE, pitch_hz: float = 140.0) -> np.ndarray:
    """Speech-like float32 audio: a gliding harmonic voice in syllables and phrases, pauses, line noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    f0 = pitch_hz * 2 ** (np.sin(2 * np.pi * 0.3 * t + rng.uniform(0, 6)) * 4 / 12)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    syllables = np.clip(np.sin(2 * np.pi * 4.5 * t), 0, None) ** 2
    phrases = (np.sin(2 * np.pi * 0.2 * t + rng.uniform(0, 6)) > -0.6).astype(float)
    audio = 0.1 * voice * syllables * phrases + 0.002 * rng.standard_normal(n)
    return audio.astype(np.float32)


def prosody_real_time_factor(seconds: float = 120.0, chunk_ms: int = 20, turn_s: float = 6.0) -> dict[str, float]:
    """Seconds of compute per second of audio for one live stream (customer + agent channels).

    Returns {"prosody_rtf", "prosody_streams_per_core", "prosody_batch_rtf", "prosody_audio_s"}:
    the live (chunked) figure is the one with the budget; the batch figure is `observe_turn`
    on whole turns, as `empathy analyze` runs it.
    """
    from empathy_engine.perception.prosody import ProsodyPerceiver

    perceiver = ProsodyPerceiver()
    customer = synthetic_speech(seconds, seed=1)
    agent = synthetic_speech(seconds, seed=2) * 0.3
    chunk = ANALYSIS_RATE * chunk_ms // 1000
    per_turn = int(turn_s * ANALYSIS_RATE)

    tracker = perceiver.new_call()
    tracker.observe_turn(customer[:per_turn], ANALYSIS_RATE)  # warm-up: imports, FFT plans
    start = time.perf_counter()
    for i in range(0, len(customer), chunk):
        tracker.feed(customer[i : i + chunk])
        tracker.feed_other(agent[i : i + chunk])
        if (i + chunk) % per_turn < chunk:
            tracker.end_turn()
    tracker.end_turn()
    live = (time.perf_counter() - start) / seconds

    tracker = perceiver.new_call()
    start = time.perf_counter()
    for i in range(0, len(customer), per_turn):
        tracker.observe_turn(customer[i : i + per_turn], ANALYSIS_RATE, agent[i : i + per_turn])
    batch = (time.perf_counter() - start) / seconds
    return {
        "prosody_rtf": live,
        "prosody_streams_per_core": 1.0 / live if live > 0 else float("inf"),
        "prosody_batch_rtf": batch,
        "prosody_audio_s": seconds,
    }


if __name__ == "__main__":  # python -m empathy_engine.perception.prosody_bench (pin it: taskset -c 0)
    import json

    print(json.dumps(prosody_real_time_factor(), indent=2))
