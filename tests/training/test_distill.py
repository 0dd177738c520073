"""training/distill_v3.py: the unlabelled pool the teacher labels never holds a turn the figures
are measured on, and the labelled pool comes back as training rows by reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from empathy_engine.taxonomy import BEHAVIOURS, STATES
from training.corpora import DEFAULT_GOEMOTIONS, OUTPUTS, Example
from training.distill_v3 import dev_dialogues, pool, soft_examples
from training.train_v3 import normalised, probe_texts


@pytest.fixture(scope="module")
def unlabelled() -> tuple[list[Example], list[str]]:
    return pool(DEFAULT_GOEMOTIONS)


def test_distill_pool_leaves_out_the_dev_dialogues_and_the_probes(unlabelled: tuple[list[Example], list[str]]) -> None:
    rows, refs = unlabelled
    assert len(rows) >= 200_000  # issue 10: at least 200,000 real sentences labelled by the teacher
    dev = dev_dialogues()
    assert dev and not any(tuple(r.split("|")[:2]) in dev for r in refs)
    held_out = probe_texts()
    assert held_out and not any(normalised(e.text) in held_out for e in rows)
    keys = {(normalised(e.context), normalised(e.text)) for e in rows}
    assert len(keys) == len(rows)  # the same words after the same turn are one row


def test_distill_soft_rows_come_back_with_the_teachers_probabilities(
    unlabelled: tuple[list[Example], list[str]], tmp_path: Path
) -> None:
    rows, refs = unlabelled
    customer = next(i for i, e in enumerate(rows) if e.mask[OUTPUTS.index(STATES[0])] and e.context)
    agent = next(i for i, e in enumerate(rows) if e.mask[OUTPUTS.index(BEHAVIOURS[0])])
    chosen = sorted((customer, agent))  # soft_examples keeps the pool's order
    probs = np.random.default_rng(1).random((2, len(OUTPUTS))).astype(np.float16)
    path = tmp_path / "soft.npz"
    np.savez_compressed(path, refs=np.array([refs[i] for i in chosen]), probs=probs)
    back = {e.text: e for e in soft_examples(path)}
    assert len(back) == 2
    for i, p in zip(chosen, probs, strict=True):
        row = back[rows[i].text]
        assert row.context == rows[i].context
        assert np.allclose(row.targets, p.astype(np.float32))
    assert back[rows[customer].text].mask.sum() == len(STATES)
    assert back[rows[agent].text].mask.sum() == len(BEHAVIOURS)


def test_distill_soft_rows_teach_only_the_outputs_chosen(
    unlabelled: tuple[list[Example], list[str]], tmp_path: Path
) -> None:
    rows, refs = unlabelled
    customer = next(i for i, e in enumerate(rows) if e.mask[OUTPUTS.index(STATES[0])])
    agent = next(i for i, e in enumerate(rows) if e.mask[OUTPUTS.index(BEHAVIOURS[0])])
    path = tmp_path / "soft.npz"
    probs = np.full((2, len(OUTPUTS)), 0.5, np.float16)
    np.savez_compressed(path, refs=np.array([refs[customer], refs[agent]]), probs=probs)
    back = soft_examples(path, outputs=("worry", "neutral"))
    assert [e.text for e in back] == [rows[customer].text]  # the agent's turn teaches neither
    assert [OUTPUTS[k] for k in np.flatnonzero(back[0].mask)] == ["worry", "neutral"]
