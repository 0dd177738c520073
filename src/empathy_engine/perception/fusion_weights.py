"""The fusion's weights: how far each signal moves a state's log-odds, and how the tracker
carries context and mood from turn to turn.

They are a versioned artefact (models/fusion-v1/: `weights.json`, with `meta.json` saying what
each weight is, which data it was checked on and the figures), written by
training/fit_fusion.py and loaded once at run time, so a new calibration is a new artefact
rather than an edit of constants spread over three modules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources
from typing import Any, TypeVar

DEFAULT = "fusion-v1"


@dataclass(frozen=True, slots=True)
class TrackerWeights:
    """state/tracker.py: how context and the last turn colour what the words say."""

    context_decay: float  # per customer turn: context matters most at the start, then the words take over
    max_context: float  # the most all context signals together may move one state's log-odds
    carry: float  # share of last turn's confident negative log-odds that persists (moods linger)
    carry_cap: float  # the most log-odds of last turn's state that can carry over
    against_neutral: float  # share of the strongest emotional signal taken off "neutral"


@dataclass(frozen=True, slots=True)
class PatternWeights:
    """perception/patterns.py: the shape of the conversation."""

    recurrence_frustration: float  # "again", "still", "third time"
    broken_promise_distrust: float  # "last time nobody showed up"
    broken_promise_frustration: float
    repeat_frustration: float  # the same complaint again (pooled features this close to an earlier turn)
    resigned_dejection: float  # short flat acceptance straight after bad news
    question_confusion: float  # a question straight after a long explanation
    echo_confusion: float  # the agent's jargon echoed back as a question


@dataclass(frozen=True, slots=True)
class ContextWeights:
    """perception/context.py: the call header."""

    holiday_urgency: float
    weekend_urgency: float
    night_urgency: float
    emergency_service_urgency: float
    vulnerable_note_worry: float
    unresolved_frustration: float  # an unresolved earlier contact about the issue
    no_show_distrust: float  # ... where nobody came
    unresolved_distrust: float  # ... otherwise


@dataclass(frozen=True, slots=True)
class FusionWeights:
    name: str
    tracker: TrackerWeights
    patterns: PatternWeights
    context: ContextWeights

    @classmethod
    def from_dict(cls, name: str, d: dict[str, Any]) -> FusionWeights:
        return cls(name, _part(TrackerWeights, d, "tracker"), _part(PatternWeights, d, "patterns"),
                   _part(ContextWeights, d, "context"))  # fmt: skip

    def to_dict(self) -> dict[str, dict[str, float]]:
        return {
            part: {f.name: getattr(getattr(self, part), f.name) for f in fields(getattr(self, part))}
            for part in ("tracker", "patterns", "context")
        }


T = TypeVar("T")


def _part(kind: type[T], d: dict[str, Any], part: str) -> T:
    """One section of weights.json, every weight present and a number (a typo must not pass silently)."""
    values = d.get(part)
    names = [f.name for f in fields(kind)]  # type: ignore[arg-type]
    if not isinstance(values, dict) or set(values) != set(names):
        raise ValueError(f"fusion weights: section {part!r} must have exactly {', '.join(names)}")
    if not all(isinstance(values[n], int | float) for n in names):
        raise ValueError(f"fusion weights: every weight in {part!r} must be a number")
    return kind(**{n: float(values[n]) for n in names})


@lru_cache(maxsize=4)
def bundled(name: str = DEFAULT) -> FusionWeights:
    """The weights shipped in models/<name>/weights.json (read once per process)."""
    text = resources.files("empathy_engine").joinpath("models", name, "weights.json").read_text(encoding="utf-8")
    return FusionWeights.from_dict(name, json.loads(text))
