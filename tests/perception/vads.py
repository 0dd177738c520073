"""The voice activity rules a test can run under: the energy rule always, Silero with the speech extra."""

from __future__ import annotations

import pytest

from empathy_engine.perception import silero

#: Both rules, for tests of behaviour they share; Silero's is skipped where it cannot run.
NEEDS_SILERO = pytest.mark.skipif(not silero.available(), reason="needs the speech extra")
RULES = [pytest.param("energy", id="energy"), pytest.param("silero", id="silero", marks=NEEDS_SILERO)]
#: How far after the first sound an utterance's `t` may be: the energy rule's 20 ms frames are
#: within one frame; Silero's first speech frame came 12-72 ms after it on the voice fixtures
#: (its 32 ms frames, and a model that needs some of the sound before it is sure).
START_SLACK_S = 0.08
