"""`empathy exemplars build`: run stored calls through the pipeline and keep the answers that worked."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from empathy_engine.coaching.exemplars import Exemplar, ExemplarLibrary, harvest
from empathy_engine.events import CallStarted, Event, Utterance

if TYPE_CHECKING:
    from empathy_engine.pipeline import Engine


def build_exemplars(engine: Engine, conversations: Iterable[list[Event]]) -> ExemplarLibrary:
    found: list[Exemplar] = []
    for events in conversations:
        start = events[0]
        if not isinstance(start, CallStarted):
            continue
        utterances = [e for e in events if isinstance(e, Utterance)]
        result = engine.analyze(events)
        fingerprints: dict[int, np.ndarray] = {
            i: engine.text.read(u.text).prediction.fingerprint
            for i, u in enumerate(utterances)
            if u.speaker == "customer"
        }
        found.extend(harvest(result, utterances, fingerprints))
    return ExemplarLibrary(found)
