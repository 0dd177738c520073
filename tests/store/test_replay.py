"""What a stored call keeps for exact replay: voice readings and engine settings survive JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from empathy_engine.perception.context import ContextSettings
from empathy_engine.perception.prosody import VoiceReading
from empathy_engine.perception.prosody_features import FEATURES, TurnFeatures
from empathy_engine.pipeline import EngineSettings
from empathy_engine.store.replay import (
    EngineRecord,
    ReplayError,
    baseline_from_json,
    reading_from_json,
    shipped_playbook,
    voice_to_json,
)


def _reading() -> VoiceReading:
    values = (0.1 / 3, math.nan, *(1.0 / (i + 7) for i in range(len(FEATURES) - 2)))
    features = TurnFeatures(values, 1.234567891234, 0.3, 0.05, 0.0)
    z = tuple(2.0 / (i + 3) for i in range(len(FEATURES)))
    return VoiceReading(0.61803398875, 0.4142135623, ("raised_voice", "overtalk"), features, z, 2.75)


def test_replay_voice_reading_round_trips_exactly_through_json() -> None:
    reading = _reading()
    n = len(FEATURES)
    baseline = np.array([[2.5] * n, [0.1 * i for i in range(n)], [1.0 / 3] * n])  # weight, mean, variance
    stored = json.loads(json.dumps(voice_to_json(reading, baseline), allow_nan=False))  # PostgreSQL JSON has no NaN
    again = reading_from_json(stored)
    assert again is not None
    assert again.features.values[0] == reading.features.values[0] and math.isnan(again.features.values[1])
    assert (again.arousal, again.energy, again.cues, again.z, again.baseline_turns) == (
        reading.arousal,
        reading.energy,
        reading.cues,
        reading.z,
        reading.baseline_turns,
    )
    assert again.to_dict() == reading.to_dict()
    assert np.array_equal(baseline_from_json(stored), baseline)


def test_replay_turn_without_voice_stores_nothing() -> None:
    assert voice_to_json(None, None) is None
    assert reading_from_json(None) is None and baseline_from_json(None) is None


def test_replay_engine_record_round_trips_and_rebuilds_the_settings(tmp_path: Path) -> None:
    playbook = tmp_path / "ours.yaml"
    playbook.write_text("version: 1\n")
    settings = EngineSettings(context=ContextSettings("GB", "ENG"), playbook=playbook)
    record = EngineRecord.of(settings)
    again = EngineRecord.from_json(json.loads(json.dumps({**record.to_json(), "added_later": 1})))
    assert again == record and record.policy_version == "none"  # no cue policy (docs/learning.md)
    rebuilt = again.settings()
    assert (rebuilt.context, rebuilt.playbook, rebuilt.model, rebuilt.fusion) == (
        settings.context,
        playbook.resolve(),
        settings.model,
        settings.fusion,
    )
    playbook.write_text("version: 1\n# edited after the call\n")
    with pytest.raises(ReplayError, match="changed after the call"):
        again.settings()


def test_replay_shipped_playbook_is_named_by_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A call coached with the shipped playbook stays so, whatever EMPATHY_PLAYBOOK says at replay time.
    record = EngineRecord.of(EngineSettings())
    monkeypatch.setenv("EMPATHY_PLAYBOOK", str(tmp_path / "someone-elses.yaml"))
    assert record.playbook is None and record.settings().playbook == shipped_playbook()
