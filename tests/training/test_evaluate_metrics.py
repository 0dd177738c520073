"""training/metrics.py: F1 per output, label masks, macro-F1 and threshold tuning on toy data."""

from __future__ import annotations

import numpy as np
import pytest

from training.metrics import best_thresholds, f1_per_output, macro_f1


def arr(rows: list[list[float]]) -> np.ndarray:
    return np.asarray(rows, dtype=np.float32)


def test_f1_per_output_hand_computed() -> None:
    # column 0: tp 1 (row 0), fp 1 (row 1), fn 1 (row 2) -> 2 / (2 + 1 + 1) = 0.5
    # column 1: tp 2 (rows 1, 2), nothing else -> 1.0
    # column 2: no gold positive and no prediction -> 0.0 by convention
    pred = arr([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 0]])
    targets = arr([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0]])
    mask = np.ones_like(targets)
    assert f1_per_output(pred, targets, mask) == pytest.approx([0.5, 1.0, 0.0])


def test_f1_per_output_precision_and_recall_differ() -> None:
    # tp 2, fp 3, fn 1 -> 4 / (4 + 3 + 1) = 0.5; precision 0.4 and recall 2/3 give the same
    pred = arr([[1], [1], [1], [1], [1], [0], [0]])
    targets = arr([[1], [1], [0], [0], [0], [1], [0]])
    f1 = f1_per_output(pred, targets, np.ones_like(targets))[0]
    precision, recall = 2 / 5, 2 / 3
    assert f1 == pytest.approx(2 * precision * recall / (precision + recall)) == pytest.approx(0.5)


def test_f1_per_output_accepts_bool_predictions() -> None:
    probs = arr([[0.9], [0.2], [0.7]])
    targets = arr([[1], [0], [0]])
    assert f1_per_output(probs >= 0.5, targets, np.ones_like(targets))[0] == pytest.approx(2 / 3)


def test_unlabelled_rows_count_neither_way() -> None:
    pred = arr([[1], [1], [0], [0]])
    targets = arr([[1], [0], [1], [0]])
    everything = np.ones_like(targets)
    assert f1_per_output(pred, targets, everything)[0] == pytest.approx(0.5)
    # hide the false positive (row 1): tp 1, fn 1 -> 2 / 3
    assert f1_per_output(pred, targets, arr([[1], [0], [1], [1]]))[0] == pytest.approx(2 / 3)
    # hide the false negative too: a perfect column
    assert f1_per_output(pred, targets, arr([[1], [0], [0], [1]]))[0] == pytest.approx(1.0)


def test_mask_is_per_output() -> None:
    # row 1 labels only column 0 (as a GoEmotions row labels only the states GoEmotions covers):
    # its prediction and its (unset) target in column 1 must not count
    pred = arr([[1, 1], [0, 1]])
    targets = arr([[1, 1], [0, 0]])
    mask = arr([[1, 1], [1, 0]])
    assert f1_per_output(pred, targets, mask) == pytest.approx([1.0, 1.0])
    assert f1_per_output(pred, targets, np.ones_like(mask)) == pytest.approx([1.0, 2 / 3])


def test_fully_masked_column_scores_zero() -> None:
    pred = arr([[1, 1], [0, 1]])
    targets = arr([[1, 1], [0, 1]])
    mask = arr([[1, 0], [1, 0]])
    assert f1_per_output(pred, targets, mask) == pytest.approx([1.0, 0.0])


def test_macro_f1_averages_only_the_named_outputs() -> None:
    outputs = ("a", "b", "c")
    pred = arr([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 0]])
    targets = arr([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0]])
    mask = np.ones_like(targets)
    result = macro_f1(pred, targets, mask, outputs, ("a", "b"))
    assert result == {"macro_f1": 0.75, "f1/a": 0.5, "f1/b": 1.0}
    assert macro_f1(pred, targets, mask, outputs, outputs)["macro_f1"] == pytest.approx(0.5)


def test_best_thresholds_separates_a_separable_set() -> None:
    # column 0 splits between 0.30 and 0.60, column 1 between 0.75 and 0.85
    probs = arr([[0.10, 0.50], [0.20, 0.60], [0.30, 0.75], [0.60, 0.85], [0.70, 0.90], [0.80, 0.95]])
    targets = arr([[0, 0], [0, 0], [0, 0], [1, 1], [1, 1], [1, 1]])
    mask = np.ones_like(targets)
    thresholds = best_thresholds(probs, targets, mask)
    assert thresholds.shape == (2,)
    assert 0.30 < thresholds[0] <= 0.60
    assert 0.75 < thresholds[1] <= 0.85
    assert f1_per_output(probs >= thresholds, targets, mask) == pytest.approx([1.0, 1.0])


def test_best_thresholds_ignores_unlabelled_rows() -> None:
    # labelled rows split between 0.20 and 0.30; four unlabelled negatives at 0.335-0.365 would,
    # if counted, move the best threshold above them (F1 2/3 there against 1/2 at 0.21-0.30)
    probs = arr([[0.10], [0.20], [0.30], [0.45], [0.335], [0.345], [0.355], [0.365]])
    targets = arr([[0], [0], [1], [1], [0], [0], [0], [0]])
    mask = arr([[1], [1], [1], [1], [0], [0], [0], [0]])
    thresholds = best_thresholds(probs, targets, mask)
    assert 0.20 < thresholds[0] < 0.305
    assert f1_per_output(probs >= thresholds, targets, mask)[0] == pytest.approx(1.0)
    assert best_thresholds(probs, targets, np.ones_like(mask))[0] > 0.365


def test_best_thresholds_defaults_to_half_without_labelled_positives() -> None:
    probs = arr([[0.9, 0.8, 0.1], [0.2, 0.3, 0.9]])
    targets = arr([[0, 1, 1], [0, 1, 0]])
    mask = arr([[1, 0, 1], [1, 0, 1]])  # column 0: no positives; column 1: positives only where unlabelled
    thresholds = best_thresholds(probs, targets, mask)
    assert thresholds[0] == pytest.approx(0.5)
    assert thresholds[1] == pytest.approx(0.5)
    assert thresholds[2] != pytest.approx(0.5)
    assert thresholds.dtype == np.float32
