"""How the voice moves the customer states: the states the words leave open.

Voice tells arousal, not valence: a raised voice is as loud in relief as in anger. So it
never names a state on its own; it tips the words one way or the other:

- flat, slow or quiet, after a long pause, with accepting or neutral words ("I guess it's fine")
  -> dejection up (and any satisfaction in the words down: a flat "thanks" is not thanks);
- raised or fast with polite, accepting or neutral words -> frustration up (and dejection down:
  dejection is not loud);
- high arousal with worried or urgent words -> those states up;
- raised or fast when the words already complain -> frustration a little further up;
- talking over the agent while aroused -> frustration up a little.

A turn without audio (or without speech in it) gives no voice signals at all, so text-only
conversations score exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from empathy_engine.perception.prosody import VoiceReading
from empathy_engine.perception.signals import Signal
from empathy_engine.taxonomy import STATES, CustomerState

# Where the calibrated text logits (0 = the state's decision point) say the words lean.
ACCEPTING_LOGIT = -1.5  # dejection: "ok", "fine", "I guess", "I'll wait"
POLITE_LOGIT = -0.5  # satisfaction: "thank you", "that works"
NEUTRAL_LOGIT = -1.0  # neutral: logistics
WORRIED_LOGIT = -0.5  # worry or urgency
COMPLAINING_LOGIT = 0.0  # frustration or distrust already detected from the words

LOW_ENERGY = 0.4
HIGH_AROUSAL = 0.6
DEJECTION_WEIGHT = 2.0
FRUSTRATION_WEIGHT = 2.0
WORRY_WEIGHT = 1.0
COMPLAINT_WEIGHT = 0.5
OVERTALK_WEIGHT = 0.5
COUNTER_WEIGHT = 0.7  # what the voice takes from the state it contradicts


#: The states a raised or fast voice makes more urgent when the words are already worried.
WORRIED: tuple[CustomerState, ...] = ("urgency", "worry")


def _confidence(reading: VoiceReading) -> float:
    """Less weight while the call has little of the customer's voice to compare with."""
    return min(1.0, 0.4 + 0.3 * reading.baseline_turns)


def voice_signals(
    reading: VoiceReading | None, text_state_logits: np.ndarray, states: Sequence[CustomerState] = STATES
) -> tuple[Signal, ...]:
    """The voice's signals for one customer turn, given what the text model said (`state_logits`)."""
    if reading is None or not reading.speech:
        return ()
    logit = {s: float(v) for s, v in zip(states, text_state_logits, strict=True)}
    accepting = logit["dejection"] > ACCEPTING_LOGIT
    polite = logit["satisfaction"] > POLITE_LOGIT
    neutral = logit["neutral"] > NEUTRAL_LOGIT
    worried = [s for s in WORRIED if logit[s] > WORRIED_LOGIT]
    complaining = max(logit["frustration"], logit["distrust"]) > COMPLAINING_LOGIT
    conf = _confidence(reading)
    cues = reading.cues
    signals: list[Signal] = []

    low_cue = next((c for c in ("flat_tone", "long_pause") if c in cues), None)
    if low_cue and reading.energy < LOW_ENERGY and not worried and (accepting or polite or neutral):
        strength = conf * float(np.clip((0.5 - reading.energy) / 0.3, 0.3, 1.0))
        signals.append(Signal("dejection", DEJECTION_WEIGHT * strength, "voice", low_cue))
        if polite:
            signals.append(Signal("satisfaction", -COUNTER_WEIGHT * strength, "voice", low_cue))

    high_cue = next((c for c in ("raised_voice", "fast_speech") if c in cues), None)
    if high_cue and reading.arousal >= HIGH_AROUSAL:
        strength = conf * float(np.clip((reading.arousal - 0.5) / 0.4, 0.3, 1.0))
        if worried:
            signals.extend(Signal(s, WORRY_WEIGHT * strength, "voice", high_cue) for s in worried)
        elif complaining:
            signals.append(Signal("frustration", COMPLAINT_WEIGHT * strength, "voice", high_cue))
        elif accepting or neutral or (polite and logit["satisfaction"] < 1.0):
            signals.append(Signal("frustration", FRUSTRATION_WEIGHT * strength, "voice", high_cue))
            if accepting:
                signals.append(Signal("dejection", -COUNTER_WEIGHT * strength, "voice", high_cue))

    if "overtalk" in cues and reading.arousal >= 0.5 and not worried:
        signals.append(Signal("frustration", OVERTALK_WEIGHT * conf, "voice", "overtalk"))
    return tuple(signals)
