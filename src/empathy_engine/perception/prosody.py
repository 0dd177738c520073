"""ProsodyPerceiver: how the customer sounds, against how they sounded earlier in the same call.

A turn's features (prosody_features.py) are compared with a per-call, per-speaker baseline
learned from the customer's earlier turns, because what carries emotion is the change: the
same 220 Hz is a calm woman and a shouting man. The changes (z-scores) give `arousal` (a small
logistic model calibrated on RAVDESS, models/prosody-arousal-v3), `energy` and the cues.
How voice moves the customer states is in prosody_fusion.py (`voice_signals`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

import numpy as np

from empathy_engine.events import CallStarted
from empathy_engine.ingest.audio import ANALYSIS_RATE, resample
from empathy_engine.perception.prosody_features import FEATURES, FRAME_COLUMNS, FrameStream, TurnFeatures, turn_features

Cue = Literal["raised_voice", "fast_speech", "flat_tone", "long_pause", "overtalk"]
CUES: tuple[Cue, ...] = ("raised_voice", "fast_speech", "flat_tone", "long_pause", "overtalk")

PRIOR_TURNS = 3.0  # the baseline's spread trusts the population prior as much as this many turns
MEMORY_TURNS = 20.0  # the baseline follows the last ~20 turns (a speaker warms up, a line changes)
WINSOR_Z = 2.5  # one shouted turn moves the baseline at most this many standard deviations
MIN_SPEECH_S = 0.3  # less speech than this is too little to say anything about
FULL_WEIGHT_SPEECH_S = 1.0  # turns shorter than this count less in the baseline
Z_CLIP = 4.0

# Cue thresholds (z is against the speaker's baseline).
RAISED_LOUDNESS_Z = 1.5
RAISED_PITCH_Z, RAISED_WITH_LOUDNESS_Z = 1.5, 0.5
RAISED_AROUSAL = 0.6
FLAT_AROUSAL = 0.5
FAST_RATE_Z = 1.5
FAST_RATE_FIRST_TURN = 6.5  # syllables per second, when there is no baseline yet
FLAT_RANGE_ST = 2.0  # a pitch range under two semitones is monotone for anyone
FLAT_RANGE_Z = -1.5
LONG_PAUSE_S = 1.5
LONG_SILENCE_S = 2.5  # neither speaker (two channels)
OVERTALK_S = 0.5

#: Energy is hand-set (not fitted): loud, fast and lively against the baseline; 0.5 is the speaker's usual.
ENERGY_WEIGHTS = {"loudness_db": 0.8, "speech_rate": 0.6, "pitch_range_st": 0.6, "pitch_st": 0.3}

_I = {name: i for i, name in enumerate(FEATURES)}
_LEVEL = np.array([name in ("pitch_st", "loudness_db") for name in FEATURES])


def _mono(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    x = np.asarray(samples, np.float32)
    if x.ndim != 1:
        raise ValueError(f"voice audio must be mono (one dimension), got shape {x.shape}; pass one channel")
    return resample(np.nan_to_num(x), sample_rate)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@dataclass(frozen=True, slots=True)
class ProsodyModel:
    """The numbers behind arousal: population priors for the baseline and the logistic weights over z."""

    name: str
    features: tuple[str, ...]
    prior_mean: tuple[float, ...]  # a typical speaker, used before the call has a baseline
    within_std: tuple[float, ...]  # how much one speaker's turns vary when nothing changes
    between_std: tuple[float, ...]  # how much speakers differ (the first turn is compared with everyone)
    weights: tuple[float, ...]
    bias: float

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ProsodyModel:
        if tuple(d["features"]) != FEATURES:
            raise ValueError(f"prosody model {d.get('name')} has features {d['features']}, expected {FEATURES}")
        prior_mean, within_std, between_std, weights = (
            tuple(float(v) for v in d[k]) for k in ("prior_mean", "within_std", "between_std", "weights")
        )
        return cls(d["name"], FEATURES, prior_mean, within_std, between_std, weights, float(d["bias"]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "features": list(self.features),
            "prior_mean": list(self.prior_mean),
            "within_std": list(self.within_std),
            "between_std": list(self.between_std),
            "weights": list(self.weights),
            "bias": self.bias,
        }

    @classmethod
    def bundled(cls, name: str = "prosody-arousal-v3") -> ProsodyModel:
        text = resources.files("empathy_engine").joinpath("models", name, "weights.json").read_text()
        return cls.from_dict(json.loads(text))

    def arousal(self, z: np.ndarray) -> float:
        return _sigmoid(self.bias + float(np.dot(self.weights, z)))


@dataclass(slots=True)
class SpeakerBaseline:
    """Robust running mean and spread of each feature over one speaker's earlier turns."""

    stats: np.ndarray = field(default_factory=lambda: np.zeros((3, len(FEATURES))))  # rows: weight, mean, var

    @property
    def turns(self) -> float:
        return float(self.stats[0].max())

    def std(self, model: ProsodyModel) -> np.ndarray:
        n, _, var = self.stats
        within = np.asarray(model.within_std) ** 2
        pooled = np.sqrt((PRIOR_TURNS * within + n * var) / (PRIOR_TURNS + n))
        return np.where(n > 0, pooled, np.asarray(model.between_std))

    def z(self, values: np.ndarray, model: ProsodyModel) -> np.ndarray:
        """How far each feature is from this speaker's usual, in their own standard deviations (0 if unknown).

        Before the speaker has a baseline, the shape features are compared with a typical speaker;
        pitch level and loudness are not (they depend on the person, the phone and the gain).
        """
        n, mean, _ = self.stats
        centre = np.where(n > 0, mean, np.asarray(model.prior_mean))
        z = (values - centre) / self.std(model)
        z = np.where((n > 0) | ~_LEVEL, z, 0.0)
        return np.clip(np.nan_to_num(z, nan=0.0), -Z_CLIP, Z_CLIP)

    def update(self, values: np.ndarray, weight: float, model: ProsodyModel) -> None:
        n, mean, var = self.stats
        known = ~np.isnan(values)
        spread = WINSOR_Z * self.std(model)
        x = np.where(n > 0, np.clip(values, mean - spread, mean + spread), values)
        n_new = np.minimum(n + weight, MEMORY_TURNS)
        a = weight / np.maximum(n_new, 1e-9)
        d = np.nan_to_num(x - mean)
        self.stats = np.where(known, np.stack([n_new, mean + a * d, (1 - a) * (var + a * d * d)]), self.stats)


@dataclass(frozen=True, slots=True)
class VoiceReading:
    """What the voice says about one turn: the `"voice"` object of a customer turn."""

    arousal: float  # 0..1: how activated the speaker sounds compared with their usual
    energy: float  # 0..1: loud, fast, lively (0.5 is their usual)
    cues: tuple[Cue, ...]
    features: TurnFeatures
    z: tuple[float, ...]  # per FEATURES, against the baseline
    baseline_turns: float  # how many earlier turns the baseline rests on

    @property
    def speech(self) -> bool:
        return self.features.speech_s >= MIN_SPEECH_S

    def vs_baseline(self, name: str) -> float:
        return self.z[_I[name]]

    def to_dict(self) -> dict[str, Any]:
        f = self.features

        def num(v: float, digits: int = 2) -> float | None:
            return None if math.isnan(v) else round(float(v), digits)

        features: dict[str, Any] = {"pitch_hz": num(f.pitch_hz, 1)}
        features |= {
            name: num(v, 3 if name in ("pause_ratio", "net_aperiodicity") else 2)
            for name, v in zip(FEATURES, f.values, strict=True)
        }
        features |= {
            "speech_s": round(f.speech_s, 2),
            "longest_pause_s": round(f.longest_pause_s, 2),
            "overtalk_s": round(f.overtalk_s, 2),
            "longest_silence_s": round(f.longest_silence_s, 2),
            "baseline_turns": round(self.baseline_turns, 2),
            "vs_baseline": {name: round(z, 2) for name, z in zip(FEATURES, self.z, strict=True)},
        }
        return {
            "arousal": round(self.arousal, 3),
            "energy": round(self.energy, 3),
            "cues": list(self.cues),
            "features": features,
        }


def cues_of(features: TurnFeatures, z: np.ndarray, baseline_turns: float, arousal: float) -> tuple[Cue, ...]:
    """The named cues of a turn; raised and fast need a baseline (or, for speed, an extreme rate).

    A raised voice is also an aroused one (a sob can be loud too); a flat tone is also an unaroused one
    (fear can be tense and monotone).
    """
    cues: list[Cue] = []
    known = baseline_turns > 0
    loud, pitch = z[_I["loudness_db"]], z[_I["pitch_st"]]
    louder = loud >= RAISED_LOUDNESS_Z or (pitch >= RAISED_PITCH_Z and loud >= RAISED_WITH_LOUDNESS_Z)
    if known and louder and arousal >= RAISED_AROUSAL:
        cues.append("raised_voice")
    rate = features.get("speech_rate")
    if (known and z[_I["speech_rate"]] >= FAST_RATE_Z) or (not known and rate >= FAST_RATE_FIRST_TURN):
        cues.append("fast_speech")
    pitch_range = features.get("pitch_range_st")
    narrow = pitch_range < FLAT_RANGE_ST or (known and z[_I["pitch_range_st"]] <= FLAT_RANGE_Z)
    if narrow and arousal < FLAT_AROUSAL:
        cues.append("flat_tone")
    if features.longest_pause_s >= LONG_PAUSE_S or features.longest_silence_s >= LONG_SILENCE_S:
        cues.append("long_pause")
    if features.overtalk_s >= OVERTALK_S:
        cues.append("overtalk")
    return tuple(cues)


class VoiceTracker:
    """One call's voice state: the customer's baseline, and the turn being heard (if any).

    Batch: `observe_turn(samples, rate)`. Live: `feed(chunk)` (and `feed_other(chunk)` for the
    agent's channel) as audio arrives, `partial()` for a reading so far, `end_turn()` when the
    turn is over. Both run the same frame code, so they give the same reading.
    """

    __slots__ = ("model", "baseline", "_stream", "_other")

    def __init__(self, model: ProsodyModel) -> None:
        self.model = model
        self.baseline = SpeakerBaseline()
        self._stream: FrameStream | None = None
        self._other: FrameStream | None = None

    def __getstate__(self) -> tuple[Any, ...]:
        return self.model, self.baseline, self._stream, self._other

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.model, self.baseline, self._stream, self._other = state

    def feed(self, chunk: np.ndarray, sample_rate: int = ANALYSIS_RATE) -> None:
        """Customer audio as it arrives (mono float32); other rates are resampled chunk by chunk."""
        self._stream = self._stream or FrameStream()
        self._stream.push(_mono(chunk, sample_rate))

    def feed_other(self, chunk: np.ndarray, sample_rate: int = ANALYSIS_RATE) -> None:
        """The agent's channel over the same time (for overtalk and shared silence)."""
        self._other = self._other or FrameStream(levels_only=True)
        self._other.push(_mono(chunk, sample_rate))

    def partial(self) -> VoiceReading | None:
        """The reading of the turn so far (the baseline is not touched); None before any audio."""
        if self._stream is None:
            return None
        return self._read(self._features())

    def end_turn(self) -> VoiceReading:
        """Close the turn: its reading against the baseline, then the baseline learns from it."""
        features = self._features()
        self._stream = self._other = None
        return self.observe_features(features)

    def discard_turn(self) -> None:
        """Forget the audio heard since the last turn ended (e.g. the customer's track while the agent spoke)."""
        self._stream = self._other = None

    def observe_turn(self, samples: np.ndarray, sample_rate: int, other: np.ndarray | None = None) -> VoiceReading:
        """A whole customer turn (mono float32) and, optionally, the agent's channel over the same span."""
        self._stream = FrameStream(batch=1)
        self._stream.push(_mono(samples, sample_rate))
        if other is not None:
            self._other = FrameStream(levels_only=True, batch=1)
            self._other.push(_mono(other, sample_rate))
        return self.end_turn()

    def observe_features(self, features: TurnFeatures) -> VoiceReading:
        """Read a turn's features against the baseline, then add them to it."""
        reading = self._read(features)
        if reading.speech:
            weight = min(1.0, features.speech_s / FULL_WEIGHT_SPEECH_S)
            self.baseline.update(np.asarray(features.values, np.float64), weight, self.model)
        return reading

    def _features(self) -> TurnFeatures:
        frames = self._stream.frames() if self._stream else np.zeros((0, FRAME_COLUMNS), np.float32)
        other = self._other.frames()[:, 0] if self._other else None
        return turn_features(frames, other)

    def _read(self, features: TurnFeatures) -> VoiceReading:
        turns = self.baseline.turns
        z = self.baseline.z(np.asarray(features.values, np.float64), self.model)
        if features.speech_s < MIN_SPEECH_S:
            quiet = tuple(c for c in cues_of(features, z, turns, 0.5) if c in ("long_pause", "overtalk"))
            return VoiceReading(0.0, 0.0, quiet, features, (0.0,) * len(FEATURES), turns)
        arousal = self.model.arousal(z)
        energy = _sigmoid(sum(w * z[_I[name]] for name, w in ENERGY_WEIGHTS.items()))
        cues = cues_of(features, z, turns, arousal)
        return VoiceReading(arousal, energy, cues, features, tuple(float(v) for v in z), turns)


class ProsodyPerceiver:
    """Tone of voice for every call: holds the (read-only) model; `new_call()` gives each call its tracker
    (the voice baseline starts empty for every call, whatever its header says)."""

    def __init__(self, model: ProsodyModel | None = None) -> None:
        self.model = model or ProsodyModel.bundled()

    def new_call(self, call: CallStarted | None = None) -> VoiceTracker:
        return VoiceTracker(self.model)
