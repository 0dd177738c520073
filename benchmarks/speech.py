"""Speech recognition on telephone audio: word error rate and real-time factor per recogniser.

    .venv/bin/python benchmarks/speech.py                       # every recogniser, 60 sentences
    .venv/bin/python benchmarks/speech.py --sentences 20 --recognisers pocketsphinx,whisper-tiny.en
    .venv/bin/python benchmarks/speech.py --save /tmp/phone-set  # also write the set's audio

The set is made here, each run, and never committed: customer sentences of the domain corpus
(training/data/domain, written style, no digits, 6-30 words; a seeded sample) spoken by espeak-ng
in four US English voices at three rates, resampled to 8 kHz and put through G.711 mu-law, as a
phone line does. Two conditions: `phone` as it is, and `phone+noise`, with white noise at 10 dB
signal-to-noise ratio and the level 12 dB down before the codec (a quiet caller on a noisy line).

Word error rate (jiwer) is over the lexicon's normalization (coaching/phrases.py `words_of`:
lower case, no punctuation, contractions spelt out, fillers dropped), the same for reference and
hypothesis. Real-time factor: seconds of decoding per second of audio, one utterance at a time,
one thread; streams per core is its inverse. Needs espeak-ng (Debian: apt install espeak-ng).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import jiwer
import numpy as np

from empathy_engine.coaching.phrases import words_of
from empathy_engine.ingest.audio import decode_mulaw, encode_mulaw, read_wav, resample
from empathy_engine.perception.speech import RECOGNISERS, Recogniser, chosen_recogniser

DOMAIN = Path(__file__).resolve().parents[1] / "training" / "data" / "domain"
VOICES = ("en-us", "en-us+f3", "en-us+m3", "en-us+f4")
RATES = (145, 170, 195)  # words a minute: a slow, an ordinary and a hurried caller
PHONE_RATE = 8000
CONDITIONS = ("phone", "phone+noise")
NOISE_SNR_DB = 10.0
QUIET_DB = -12.0


@dataclass(frozen=True)
class Clip:
    text: str
    voice: str
    rate: int
    condition: str
    samples: np.ndarray  # 8 kHz, decoded from mu-law: what the recogniser is given

    @property
    def seconds(self) -> float:
        return len(self.samples) / PHONE_RATE


def sentences(count: int, seed: int) -> list[str]:
    found = []
    for path in sorted(DOMAIN.glob("customer_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            text = row["text"]
            if row.get("style") == "written" and not any(c.isdigit() for c in text) and 6 <= len(text.split()) <= 30:
                found.append(text)
    random.Random(seed).shuffle(found)
    return found[:count]


def speak(text: str, voice: str, rate: int, folder: Path) -> np.ndarray:
    """espeak-ng's audio for `text`, at 8 kHz."""
    out = folder / "say.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(out), text], check=True, timeout=60)
    wav = read_wav(out, rate=None)
    return resample(wav.channel(0), wav.sample_rate, PHONE_RATE)


def on_the_line(samples: np.ndarray, condition: str, rng: np.random.Generator) -> np.ndarray:
    if condition == "phone+noise":
        samples = samples * 10 ** (QUIET_DB / 20)
        power = float(np.mean(np.square(samples[np.abs(samples) > 1e-4]))) if np.any(samples) else 1e-8
        noise = rng.normal(0.0, np.sqrt(power / 10 ** (NOISE_SNR_DB / 10)), len(samples))
        samples = samples + noise
    return decode_mulaw(encode_mulaw(np.clip(samples, -1.0, 1.0)))


def make_set(count: int, seed: int, save: Path | None) -> list[Clip]:
    rng = np.random.default_rng(seed)
    clips = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(sentences(count, seed)):
            voice, rate = VOICES[i % len(VOICES)], RATES[i % len(RATES)]
            spoken = speak(text, voice, rate, Path(tmp))
            for condition in CONDITIONS:
                clips.append(Clip(text, voice, rate, condition, on_the_line(spoken, condition, rng)))
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        manifest = []
        for i, clip in enumerate(clips):
            name = f"{i:03d}-{clip.condition}.ul"
            (save / name).write_bytes(encode_mulaw(clip.samples))
            manifest.append({"file": name, "text": clip.text, "voice": clip.voice, "rate": clip.rate,
                             "condition": clip.condition, "sample_rate": PHONE_RATE, "encoding": "mulaw"})  # fmt: skip
        (save / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return clips


def measure(recogniser: Recogniser, clips: list[Clip]) -> dict[str, object]:
    recogniser.transcribe(clips[0].samples, PHONE_RATE)  # the first call loads and warms the model
    by_condition: dict[str, dict[str, list[str]]] = {c: {"ref": [], "hyp": []} for c in CONDITIONS}
    decoding = audio = 0.0
    for clip in clips:
        started = time.perf_counter()
        heard = recogniser.transcribe(clip.samples, PHONE_RATE)
        decoding += time.perf_counter() - started
        audio += clip.seconds
        by_condition[clip.condition]["ref"].append(" ".join(words_of(clip.text)))
        by_condition[clip.condition]["hyp"].append(" ".join(words_of(heard)) or "<nothing>")
    wer = {c: round(jiwer.wer(v["ref"], v["hyp"]), 4) for c, v in by_condition.items()}
    every = [x for v in by_condition.values() for x in v["ref"]], [x for v in by_condition.values() for x in v["hyp"]]
    rtf = decoding / audio
    return {"wer": wer, "wer_all": round(jiwer.wer(*every), 4), "real_time_factor": round(rtf, 4),
            "streams_per_core": round(1 / rtf, 1), "audio_s": round(audio, 1)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=60, help="sentences in the set (default 60; x2 conditions)")
    parser.add_argument(
        "--recognisers",
        default="pocketsphinx,whisper-tiny.en,whisper-base",
        help=f"comma-separated, of {', '.join(r for r in RECOGNISERS if r != 'auto')}",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--save", type=Path, help="also write the set (mu-law .ul files and manifest.json) here")
    args = parser.parse_args(argv)
    if shutil.which("espeak-ng") is None:
        parser.error("espeak-ng is not installed (Debian: apt install espeak-ng); it speaks the set")
    names = [n.strip() for n in args.recognisers.split(",") if n.strip()]
    unknown = [n for n in names if n not in RECOGNISERS or n == "auto"]
    if unknown:
        parser.error(f"unknown recogniser(s) {', '.join(unknown)}; use {', '.join(RECOGNISERS[1:])}")
    if not 1 <= args.sentences <= 1000:
        parser.error("--sentences: from 1 to 1000")
    clips = make_set(args.sentences, args.seed, args.save)
    print(f"set: {len(clips)} clips, {sum(c.seconds for c in clips):.0f} s of 8 kHz mu-law audio", file=sys.stderr)
    figures: dict[str, object] = {"clips": len(clips), "machine": f"{platform.processor() or platform.machine()}"}
    for name in names:
        recogniser = chosen_recogniser({"EMPATHY_RECOGNISER": name, "EMPATHY_RECOGNISER_WORKERS": "1"})
        figures[name] = measure(recogniser, clips)
        print(f"{name}: {json.dumps(figures[name])}", file=sys.stderr)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
