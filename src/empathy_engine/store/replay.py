"""What a stored call keeps so that replaying it gives exactly the live results.

A restarted server rebuilds a live call, and an audit re-analyses an ended one, by feeding the
stored utterances through the engine again. The engine is deterministic, so that is exact as
long as it gets what the live engine had:

- the engine's settings (`EngineRecord`, the `calls.engine` column): the text model, the user
  playbook and exemplar library (path and SHA-256, so a file edited since is caught rather than
  silently used), the public-holiday calendar, the fusion weights, and the cue policy (path,
  SHA-256 and version; docs/learning.md), whose version also seeds each card's phrasing draw;
- each turn's tone of voice (`turns.voice`): a telephony call's voice reading came from audio
  that is not kept, so the reading itself is stored, with the call's voice baseline after it
  (what a restarted telephony stream needs to read the customer's next turns as before).

JSON has no NaN (PostgreSQL refuses it): unmeasured features are stored as null.
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, cast

import numpy as np

from empathy_engine.perception import fusion_weights
from empathy_engine.perception.context import ContextSettings
from empathy_engine.perception.prosody import CUES, Cue, VoiceReading
from empathy_engine.perception.prosody_features import TurnFeatures
from empathy_engine.pipeline import EngineSettings

#: The playbook load_playbook falls back to when no path is given (coaching/playbook.py).
PLAYBOOK_ENV = "EMPATHY_PLAYBOOK"


class ReplayError(ValueError):
    """A stored call that cannot be replayed exactly as it ran (a file it used has changed or gone)."""


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True, slots=True)
class EngineRecord:
    """The engine settings a call ran with, as stored with the call."""

    model: str
    playbook: str | None = None  # the user playbook's path; None: the shipped playbook only
    playbook_sha256: str | None = None
    exemplars: str | None = None
    exemplars_sha256: str | None = None
    holiday_country: str = "US"
    holiday_subdivision: str | None = None
    fusion: str = fusion_weights.DEFAULT  # the fusion weights artefact (models/<name>)
    #: The learning loop's cue policy the call was coached with ("none": uniform phrasing draws).
    policy_version: str = "none"  # coaching/choice.py NO_POLICY
    policy: str | None = None  # the policy file's path; None: no policy
    policy_sha256: str | None = None

    @classmethod
    def of(cls, settings: EngineSettings) -> EngineRecord:
        """The record of an engine's settings (files hashed now, as the engine loaded them)."""
        playbook = settings.playbook or os.environ.get(PLAYBOOK_ENV) or None  # as load_playbook reads it
        playbook_path = Path(playbook).resolve() if playbook else None
        exemplars = Path(settings.exemplars).resolve() if settings.exemplars else None
        policy = Path(settings.policy).resolve() if settings.policy else None
        return cls(
            model=settings.model,
            playbook=str(playbook_path) if playbook_path else None,
            playbook_sha256=file_sha256(playbook_path) if playbook_path else None,
            exemplars=str(exemplars) if exemplars else None,
            exemplars_sha256=file_sha256(exemplars) if exemplars else None,
            holiday_country=settings.context.country,
            holiday_subdivision=settings.context.subdivision,
            fusion=settings.fusion,
            policy_version=_policy_version(policy),
            policy=str(policy) if policy else None,
            policy_sha256=file_sha256(policy) if policy else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EngineRecord:
        """The stored record; keys a later version adds are ignored (a call stored before the
        learning loop, policy_version null, ran without a policy)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if known.get("policy_version") is None:
            known.pop("policy_version", None)
        return cls(**known)

    def settings(self) -> EngineSettings:
        """Engine settings that reproduce the call; `ReplayError` if a file it used changed or is gone."""
        playbook = _checked(self.playbook, self.playbook_sha256, "playbook")
        return EngineSettings(
            context=ContextSettings(self.holiday_country, self.holiday_subdivision),
            model=self.model,
            # The shipped playbook by path: with no path, load_playbook would read $EMPATHY_PLAYBOOK instead.
            playbook=playbook or shipped_playbook(),
            exemplars=_checked(self.exemplars, self.exemplars_sha256, "exemplar library"),
            fusion=self.fusion,
            policy=_checked(self.policy, self.policy_sha256, "cue policy"),
        )


def _policy_version(path: Path | None) -> str:
    from empathy_engine.coaching.choice import NO_POLICY
    from empathy_engine.learning.policy import Policy

    return Policy.load(path).version if path is not None else NO_POLICY


def shipped_playbook() -> Path:
    """The playbook shipped in the package (merging it over itself changes nothing)."""
    return Path(str(resources.files("empathy_engine") / "coaching" / "playbook.yaml"))


def _checked(path: str | None, sha256: str | None, what: str) -> Path | None:
    if path is None:
        return None
    file = Path(path)
    try:
        digest = file_sha256(file)
    except OSError as e:
        raise ReplayError(f"the call ran with the {what} {path}, which cannot be read now ({e.strerror})") from None
    if sha256 is not None and digest != sha256:
        raise ReplayError(f"the {what} {path} changed after the call ran with it (sha256 {sha256[:12]}...)")
    return file


# --- a turn's tone of voice ------------------------------------------------------------------


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _float(value: float | None) -> float:
    return math.nan if value is None else float(value)


def voice_to_json(reading: VoiceReading | None, baseline: np.ndarray | None) -> dict[str, Any] | None:
    """A turn's voice as stored: the reading the engine was given, and the call's baseline after it."""
    if reading is None and baseline is None:
        return None
    out: dict[str, Any] = {"reading": None, "baseline": None}
    if reading is not None:
        f = reading.features
        out["reading"] = {
            "arousal": float(reading.arousal),
            "energy": float(reading.energy),
            "cues": list(reading.cues),
            "z": [float(z) for z in reading.z],
            "baseline_turns": float(reading.baseline_turns),
            "features": {
                "values": [_number(v) for v in f.values],
                "speech_s": float(f.speech_s),
                "longest_pause_s": float(f.longest_pause_s),
                "overtalk_s": float(f.overtalk_s),
                "longest_silence_s": float(f.longest_silence_s),
            },
        }
    if baseline is not None:
        out["baseline"] = [[_number(v) for v in row] for row in np.asarray(baseline, np.float64)]
    return out


def reading_from_json(stored: dict[str, Any] | None) -> VoiceReading | None:
    """The stored reading, exactly as the live engine had it; None for a turn without voice."""
    data = (stored or {}).get("reading")
    if not data:
        return None
    f = data["features"]
    features = TurnFeatures(
        tuple(_float(v) for v in f["values"]),
        float(f["speech_s"]),
        float(f["longest_pause_s"]),
        float(f["overtalk_s"]),
        float(f["longest_silence_s"]),
    )
    cues = tuple(cast(Cue, c) for c in data["cues"] if c in CUES)
    return VoiceReading(
        float(data["arousal"]),
        float(data["energy"]),
        cues,
        features,
        tuple(float(z) for z in data["z"]),
        float(data["baseline_turns"]),
    )


def baseline_from_json(stored: dict[str, Any] | None) -> np.ndarray | None:
    """The call's voice baseline statistics after this turn, if it had a voice tracker."""
    rows = (stored or {}).get("baseline")
    if rows is None:
        return None
    return np.array([[_float(v) for v in row] for row in rows], np.float64)
