"""Flat metric dicts for multi-label predictions (no torch, shared by training and evaluation)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def f1_per_output(pred: np.ndarray, targets: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Binary F1 of each output column over the rows where it is labelled."""
    pred = pred.astype(bool) & (mask > 0)
    gold = (targets > 0) & (mask > 0)
    tp = (pred & gold).sum(0)
    fp = (pred & ~gold).sum(0)
    fn = (~pred & gold & (mask > 0)).sum(0)
    denom = 2 * tp + fp + fn
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


def macro_f1(
    pred: np.ndarray, targets: np.ndarray, mask: np.ndarray, outputs: Sequence[str], names: Sequence[str]
) -> dict[str, float]:
    """`{"macro_f1": ..., "f1/<name>": ...}` over the named outputs."""
    f1 = f1_per_output(pred, targets, mask)
    per = {f"f1/{n}": round(float(f1[outputs.index(n)]), 4) for n in names}
    return {"macro_f1": round(float(np.mean(list(per.values()))), 4), **per}


def best_thresholds(probs: np.ndarray, targets: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per output, the probability threshold that maximises F1 on the labelled rows."""
    grid = np.linspace(0.05, 0.95, 91)
    best = np.full(probs.shape[1], 0.5, np.float32)
    for k in range(probs.shape[1]):
        rows = mask[:, k] > 0
        if rows.sum() == 0 or targets[rows, k].sum() == 0:
            continue
        scores = [
            f1_per_output((probs[rows, k : k + 1] >= t), targets[rows, k : k + 1], mask[rows, k : k + 1])[0]
            for t in grid
        ]
        best[k] = grid[int(np.argmax(scores))]
    return best
