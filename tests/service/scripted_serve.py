"""`empathy serve` whose speech recogniser knows the replayed script's words (tests/replay.py).

Run as `python -m tests.service.scripted_serve serve --port N`: a real server process that a test
can kill, without pocketsphinx (slow, and rough on synthesised speech). The words of an utterance
follow from its length alone, so a restarted server hears the rest of a call as the first one would.
"""

from __future__ import annotations

import numpy as np

from empathy_engine.cli import main
from empathy_engine.service import telephony
from tests.replay import RATE, SCRIPT, WORDS, fixture

#: An utterance's audio is its line plus the 0.2 s kept before speech and the silence that closed it.
PADDING_S = 0.4


class LengthRecogniser:
    """The words of the script line whose audio is closest in length to the utterance heard."""

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> str:
        heard = len(samples) / sample_rate - PADDING_S
        name = min(sorted({n for _, n, _ in SCRIPT}), key=lambda n: abs(len(fixture(n)) / RATE - heard))
        return WORDS[name]


if __name__ == "__main__":
    telephony.recogniser = LengthRecogniser
    main()
