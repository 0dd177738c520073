"""Calibrate the voice arousal model on RAVDESS-dev; report its AUC on held-out actors, clean and on the phone.

    .venv/bin/python training/calibrate_prosody.py                 # fit on actors 1-4, report on 5-6, save
    .venv/bin/python training/calibrate_prosody.py --check         # report the bundled model, save nothing
    .venv/bin/python training/calibrate_prosody.py --cv            # leave-one-actor-out within 1-4 only (development)

Every mode scores each condition of training/telephone.py (clean 16 kHz; 8 kHz mu-law telephone;
telephone with pink noise at 20 and 10 dB SNR; the whole call at -12 dB and at +6 dB clipped; the
scored turn alone at -6 dB) and prints a table: condition -> AUC on the held-out actors and the
leave-one-actor-out (LOAO) mean over the fit actors. The model is fitted on the fit actors' clips
clean, on the phone and through the other lines of telephone.AUGMENT (other noise levels and gains
than the scored conditions); the held-out actors are never put through those.
The fit and --check runs exit 1 when the held-out clean AUC is under 0.93 or any held-out
condition under 0.85 (issue 13's done-when); --cv never reads actors 5-6.

Each scored clip is read as the third turn of a "call": the speaker's two neutral clips of
repetition 01 first (the baseline), then the clip. High arousal: angry, fearful, happy,
surprised; low: neutral (the repetition-02 clips), calm, sad; disgust is left out. The fit
actors give the population priors (typical level and spread of each feature) and a small
L2 logistic regression over the baseline-normalised features; the held-out actors are only
ever scored. RAVDESS is CC BY-NC-SA: it is read from ../shared and never copied into the
repo; only the fitted numbers are (models/prosody-arousal-v3/).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import multiprocessing
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from empathy_engine.ingest.audio import read_wav  # noqa: E402
from empathy_engine.perception.prosody import ProsodyModel, VoiceTracker  # noqa: E402
from empathy_engine.perception.prosody_features import FEATURES, FrameStream, TurnFeatures, turn_features  # noqa: E402
from training.telephone import AUGMENT, CONDITIONS, Condition, noise_rms_for, through  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "ravdess-dev"
MODEL_NAME = "prosody-arousal-v3"
MODEL_DIR = REPO / "src" / "empathy_engine" / "models" / MODEL_NAME
HIGH = ("angry", "fearful", "happy", "surprised")
LOW = ("neutral", "calm", "sad")
FIT_ACTORS = (1, 2, 3, 4)
HELD_OUT_ACTORS = (5, 6)
L2 = 1.0  # fixed before looking at any result
# Fitted on: clean and phone (two of the scored conditions) and the AUGMENT lines, fit actors only.
FIT_CONDITIONS = (CONDITIONS[0].name, CONDITIONS[1].name) + tuple(c.name for c in AUGMENT)
AUGMENT_SEED = 100_000  # augmented lines hear other noise than the scored ones
NOISE_SEED = 13  # issue 13: every run hears the same noise
TARGET_CLEAN, TARGET_CONDITION = 0.93, 0.85  # issue 13's done-when, on the held-out actors
# The direction each cue must push arousal, from the speech-emotion literature (Juslin & Laukka 2003):
# louder, higher, wider, faster and brighter speech is more aroused; pauses are less. Acted sentences
# (RAVDESS actors slow down when they emote) must not teach the model that fast speech is calm.
SIGNS = {"pitch_st": 1, "pitch_range_st": 1, "loudness_db": 1, "speech_rate": 1, "pause_ratio": -1, "band_tilt_db": 1}
# Measured and reported, but not in the model: jitter has no agreed direction in the literature, and
# it does not survive the telephone band (leave-one-actor-out AUC of its z alone 0.82 clean, 0.63 phone).
UNFITTED = ("pitch_jitter_st",)
# Floors on the priors: four actors reading one sentence at a time understate how much callers and
# their turns vary (a call turn has pauses, RAVDESS clips hardly any). The between-speaker spread is
# only used for a call's first turn, before there is a baseline; it is set wide so that turn says little.
WITHIN_FLOOR = {
    "pitch_st": 1.0,
    "pitch_range_st": 1.0,
    "loudness_db": 2.0,
    "speech_rate": 0.5,
    "pause_ratio": 0.08,
    "band_tilt_db": 1.0,
    "net_aperiodicity": 0.02,
    "pitch_jitter_st": 0.02,
}
BETWEEN_FLOOR = {
    "pitch_st": 4.0,
    "pitch_range_st": 3.0,
    "loudness_db": 6.0,
    "speech_rate": 1.5,
    "pause_ratio": 0.15,
    "band_tilt_db": 3.0,
    "net_aperiodicity": 0.05,
    "pitch_jitter_st": 0.05,
}


@dataclass(frozen=True, slots=True)
class Recording:
    """One RAVDESS clip as read (16 kHz); it stays in memory only while the script runs."""

    path: str
    emotion: str
    intensity: str
    actor: int
    repetition: str
    samples: np.ndarray
    rate: int
    row: int  # in the manifest: the noise seed, the same whichever actors are read


@dataclass(frozen=True, slots=True)
class Clip:
    path: str
    emotion: str
    intensity: str
    actor: int
    repetition: str
    features: TurnFeatures


def read_recordings(data: Path) -> list[Recording]:
    with open(data / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    recordings = []
    for i, row in enumerate(rows):
        audio = read_wav(data / row["path"], rate=None)
        recordings.append(
            Recording(
                row["path"],
                row["emotion"],
                row["intensity"],
                int(row["actor"]),
                row["repetition"],
                audio.channel(0),
                audio.sample_rate,
                i,
            )
        )
    return recordings


def is_baseline(c: Clip | Recording) -> bool:
    return c.emotion == "neutral" and c.repetition == "01"


def features_of(samples: np.ndarray) -> TurnFeatures:
    stream = FrameStream(batch=1)
    stream.push(samples)
    return turn_features(stream.frames())


def clips_under(recordings: list[Recording], condition: Condition, seed: int = 0) -> list[Clip]:
    """Every clip's features with its call under `condition` (a call is one actor's clips)."""
    noise = {}
    for actor in {r.actor for r in recordings}:
        base = [r for r in recordings if r.actor == actor and is_baseline(r)]
        call_gain = 10.0 ** (condition.call_db / 20.0)
        noise[actor] = (
            0.0
            if condition.snr_db is None
            else noise_rms_for([b.samples * call_gain for b in base], base[0].rate, condition.snr_db)
        )
    clips = []
    for r in recordings:
        x = through(
            condition,
            r.samples,
            r.rate,
            scored=not is_baseline(r),
            noise_rms=noise[r.actor],
            seed=NOISE_SEED * 1000 + r.row + seed,
        )
        clips.append(Clip(r.path, r.emotion, r.intensity, r.actor, r.repetition, features_of(x)))
    return clips


_RECORDINGS: list[Recording] = []  # set before the worker processes fork, so they share it without pickling


def _clips_of_condition(index: int) -> list[Clip]:
    if index < len(CONDITIONS):
        return clips_under(_RECORDINGS, CONDITIONS[index])
    k = index - len(CONDITIONS)  # an augmented line: the fit actors only, other noise
    fit = [r for r in _RECORDINGS if r.actor in FIT_ACTORS]
    return clips_under(fit, AUGMENT[k], seed=AUGMENT_SEED * (k + 1))


def all_conditions(recordings: list[Recording]) -> dict[str, list[Clip]]:
    """{condition name: clips} for CONDITIONS (every actor read) and AUGMENT (the fit actors only),
    one process per core (the frame analysis is the slow part)."""
    global _RECORDINGS
    _RECORDINGS = recordings
    lines = CONDITIONS + AUGMENT
    with multiprocessing.get_context("fork").Pool() as pool:
        results = pool.map(_clips_of_condition, range(len(lines)))
    return {c.name: clips for c, clips in zip(lines, results, strict=True)}


def priors(clips: list[Clip]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(typical value, within-speaker spread, between-speaker spread) from neutral and calm speech."""
    rows = {
        a: np.array([c.features.values for c in clips if c.actor == a and c.emotion in ("neutral", "calm")])
        for a in sorted({c.actor for c in clips})
    }
    means = np.array([np.nanmean(r, axis=0) for r in rows.values()])
    within = np.sqrt(np.nanmean([np.nanvar(r, axis=0, ddof=1) for r in rows.values()], axis=0))
    between = np.nanstd(means, axis=0, ddof=1)
    within = np.maximum(within, [WITHIN_FLOOR[f] for f in FEATURES])
    between = np.maximum(np.maximum(between, within), [BETWEEN_FLOOR.get(f, 0.0) for f in FEATURES])
    return np.nanmean(means, axis=0), within, between


def scored(clips: list[Clip], model: ProsodyModel, actors: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(z-vectors, labels) of every scored clip of `actors`, each read after that actor's two baseline clips."""
    zs, labels = [], []
    for actor in actors:
        base = [c for c in clips if c.actor == actor and is_baseline(c)]
        assert len(base) == 2, f"actor {actor}: expected two neutral repetition-01 clips, found {len(base)}"
        for c in clips:
            if c.actor != actor or is_baseline(c) or c.emotion not in HIGH + LOW:
                continue
            tracker = VoiceTracker(model)
            for b in base:
                tracker.observe_features(b.features)
            zs.append(tracker.observe_features(c.features).z)
            labels.append(c.emotion in HIGH)
    return np.array(zs), np.array(labels)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2) -> tuple[np.ndarray, float]:
    """L2 logistic regression with the signs of SIGNS: a feature whose fitted weight comes out the
    wrong way is dropped (weight 0) and the rest refitted, until every weight agrees. UNFITTED stay 0."""
    signs = np.array([SIGNS.get(f, 0) for f in FEATURES])
    active = np.array([f not in UNFITTED for f in FEATURES])
    while True:
        w, b = _newton(x[:, active], y, l2)
        weights = np.zeros(len(FEATURES))
        weights[active] = w
        wrong = (signs * weights) < 0
        if not wrong.any():
            return weights, b
        active &= ~wrong


def _newton(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method (the intercept is not penalised)."""
    a = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(a.shape[1])
    penalty = np.diag([l2] * x.shape[1] + [0.0])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-a @ w))
        grad = a.T @ (p - y) + penalty @ w
        hess = a.T @ (a * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w[:-1], float(w[-1])


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half)."""
    pos, neg = scores[labels], scores[~labels]
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def build(by_condition: dict[str, list[Clip]], actors: tuple[int, ...]) -> ProsodyModel:
    """Priors from the actors' clean clips; the logistic fit over their clips under every FIT_CONDITIONS line."""
    mean, within, between = priors([c for c in by_condition[CONDITIONS[0].name] if c.actor in actors])
    blank = ProsodyModel(
        MODEL_NAME,
        FEATURES,
        *(tuple(map(float, v)) for v in (mean, within, between)),
        (0.0,) * len(FEATURES),
        0.0,
    )
    xs, ys = zip(*(scored(by_condition[name], blank, actors) for name in FIT_CONDITIONS), strict=True)
    weights, bias = fit_logistic(np.vstack(xs), np.concatenate(ys).astype(float))
    return ProsodyModel(
        blank.name, FEATURES, blank.prior_mean, blank.within_std, blank.between_std, tuple(map(float, weights)), bias
    )


def evaluate(clips: list[Clip], model: ProsodyModel, actors: tuple[int, ...]) -> dict[str, float | int]:
    x, y = scored(clips, model, actors)
    scores = np.array([model.arousal(z) for z in x])
    return {
        "auc": round(auc(scores, y), 4),
        "clips": int(len(y)),
        "high": int(y.sum()),
        "low": int((~y).sum()),
        # AUC ranks within a condition, so it cannot see a shift of every score (the scored turn alone
        # at -6 dB): the mean arousal can.
        "mean_arousal_high": round(float(scores[y].mean()), 3),
        "mean_arousal_low": round(float(scores[~y].mean()), 3),
    }


def loao(by_condition: dict[str, list[Clip]]) -> dict[str, dict[str, float]]:
    """Leave one fit actor out: fit on the other three (as `build`), score the one left out under each condition."""
    folds: dict[str, dict[str, float]] = {c.name: {} for c in CONDITIONS}
    for actor in FIT_ACTORS:
        model = build(by_condition, tuple(a for a in FIT_ACTORS if a != actor))
        for name in folds:
            folds[name][f"actor_{actor}"] = float(evaluate(by_condition[name], model, (actor,))["auc"])
    return {name: {**f, "mean": round(float(np.mean(list(f.values()))), 4)} for name, f in folds.items()}


def held_out(by_condition: dict[str, list[Clip]], model: ProsodyModel) -> dict[str, dict[str, float | int]]:
    return {c.name: evaluate(by_condition[c.name], model, HELD_OUT_ACTORS) for c in CONDITIONS}


def table(cv: dict[str, dict[str, float]], test: dict[str, dict[str, float | int]] | None) -> str:
    """condition -> held-out AUC (actors 5-6) and LOAO mean AUC (actors 1-4), as a Markdown table."""
    lines = [
        "| condition | held-out AUC (5-6) | LOAO mean AUC (1-4) | held-out mean arousal, high / low |",
        "|---|---:|---:|---:|",
    ]
    for name in cv:
        figure = f"{test[name]['auc']:.3f}" if test else "-"
        means = f"{test[name]['mean_arousal_high']:.2f} / {test[name]['mean_arousal_low']:.2f}" if test else "-"
        lines.append(f"| {name} | {figure} | {cv[name]['mean']:.3f} | {means} |")
    return "\n".join(lines)


def failures(test: dict[str, dict[str, float | int]]) -> list[str]:
    """What misses issue 13's done-when: the clean held-out AUC under 0.93, any condition under 0.85."""
    clean = CONDITIONS[0].name
    missed = [f"{clean}: {test[clean]['auc']} < {TARGET_CLEAN}"] if test[clean]["auc"] < TARGET_CLEAN else []
    return missed + [
        f"{name}: {r['auc']} < {TARGET_CONDITION}" for name, r in test.items() if r["auc"] < TARGET_CONDITION
    ]


def data_hash(data: Path) -> str:
    return hashlib.sha256((data / "manifest.csv").read_bytes()).hexdigest()[:16]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {platform.system()} {platform.machine()}, Python {platform.python_version()}"


def save(model: ProsodyModel, report: dict[str, object]) -> None:
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    (MODEL_DIR / "weights.json").write_text(json.dumps(model.to_dict(), indent=2) + "\n")
    meta = {
        "name": model.name,
        "version": 3,
        "script": "training/calibrate_prosody.py",
        "command": "python training/calibrate_prosody.py",
        "features": list(FEATURES),
        "l2": L2,
        "fit_conditions": list(FIT_CONDITIONS),
        "metrics": report,
    }
    (MODEL_DIR / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--check", action="store_true", help="score the bundled model on the held-out actors; save nothing")
    ap.add_argument("--cv", action="store_true", help="leave-one-actor-out within the fit actors only (development)")
    ap.add_argument("--out", type=Path, help="also write the figures to this JSON file")
    args = ap.parse_args()
    if not (args.data / "manifest.csv").exists():
        print(f"error: {args.data}/manifest.csv not found (RAVDESS-dev lives in ../shared/data)", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    recordings = read_recordings(args.data)
    if args.cv:  # development: the held-out actors are not even analysed
        recordings = [r for r in recordings if r.actor in FIT_ACTORS]
    by_condition = all_conditions(recordings)
    print(
        f"analysed {len(recordings)} clips x {len(CONDITIONS)} conditions (+ the fit actors' x {len(AUGMENT)} more)"
        f" in {time.perf_counter() - t0:.0f} s",
        file=sys.stderr,
    )

    cv = loao(by_condition)
    report: dict[str, object] = {"leave_one_actor_out_auc": cv}
    test = None
    if not args.cv:
        model = ProsodyModel.bundled(MODEL_NAME) if args.check else build(by_condition, FIT_ACTORS)
        test = held_out(by_condition, model)
        report = {
            "metric": "AUC of voice arousal, high (angry, fearful, happy, surprised) vs low (neutral, calm, sad)",
            "baseline": "two neutral clips (repetition 01) of the same actor, read first",
            "conditions": "training/telephone.py: real RAVDESS speech through synthesised telephone lines",
            "fit_conditions": "the fit actors' clips clean, phone and through telephone.AUGMENT's lines",
            "noise": f"pink, band-limited with the speech, level fixed per call by its baseline, seed {NOISE_SEED}",
            "fit_actors": list(FIT_ACTORS),
            "held_out_actors": list(HELD_OUT_ACTORS),
            "held_out": test,
            "fit": evaluate(by_condition[CONDITIONS[0].name], model, FIT_ACTORS),
            "leave_one_actor_out_auc": cv,
            "data": {
                "name": "RAVDESS speech, actors 1-6 (ravdess-dev)",
                "source": "Livingstone & Russo 2018, doi:10.5281/zenodo.1188976",
                "licence": "CC BY-NC-SA 4.0 (read from ../shared, never copied into the repo; only fitted numbers are)",
                "manifest_sha256_16": data_hash(args.data),
            },
            "machine": machine(),
        }
        if not args.check:
            save(model, report)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    print(table(cv, test))
    missed = failures(test) if test else []
    for line in missed:
        print(f"below target: {line}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
