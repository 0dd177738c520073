"""Intensity, read one way everywhere: TAXONOMY.md's 0.33 / 0.66 / 1.0 are mild / clear / strong."""

from __future__ import annotations

import pytest

from empathy_engine.taxonomy import intensity_of, level, negative


@pytest.mark.parametrize(
    ("intensity", "word"),
    [(0.33, "mild"), (0.45, "mild"), (0.5, "clear"), (0.66, "clear"), (0.8, "clear"), (0.9, "strong"), (1.0, "strong")],
)
def test_level_reads_an_intensity_as_the_nearest_anchor(intensity: float, word: str) -> None:
    assert level(intensity) == word


def test_intensity_of_runs_from_mild_at_detection_to_strong_and_is_zero_below_it() -> None:
    assert intensity_of(0.49) == 0.0
    assert intensity_of(0.5) == pytest.approx(0.33)
    assert intensity_of(1 - 1e-9) == 1.0
    scores = [0.5, 0.7, 0.9, 0.99, 0.999]
    values = [intensity_of(s) for s in scores]
    assert values == sorted(values) and len(set(values)) == len(values)  # stronger words read stronger


def test_negative_keeps_the_states_that_ask_for_a_response_in_order() -> None:
    assert negative(("worry", "satisfaction", "frustration", "neutral")) == ("worry", "frustration")
