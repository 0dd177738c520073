"""The model's life cycle: overfit a few examples, export, reload with numpy, same predictions."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="training needs the [train] extra")

from empathy_engine.perception.text import TextEmotionPerceiver  # noqa: E402
from empathy_engine.perception.text_model import TextModel  # noqa: E402
from training.corpora import OUTPUTS  # noqa: E402
from training.train_text_model import export, student_probs, train_student  # noqa: E402

BUNDLED = Path(__file__).resolve().parents[2] / "src" / "empathy_engine" / "models" / "text-emotion-v2"
EXAMPLES = {
    "the furnace is out again and nobody showed up": "frustration",
    "water is pouring through the ceiling right now": "urgency",
    "thank you so much that's a real relief": "satisfaction",
    "my address is 12 elm street": "neutral",
}


def _args(**kw: object) -> argparse.Namespace:
    defaults = dict(
        seed=0,
        student_len=32,
        student_batch=4,
        student_lr=0.01,
        student_epochs=150,
        hidden=32,
        head=16,
        gold_weight=1.0,
        max_steps=0,
        infer_batch=8,
    )
    return argparse.Namespace(**{**defaults, **kw})


def test_text_model_overfit_save_reload_same_predictions(tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(BUNDLED / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(tok.get_vocab_size(), 16)).astype(np.float32)
    texts = list(EXAMPLES)
    targets = np.zeros((len(texts), len(OUTPUTS)), np.float32)
    for i, label in enumerate(EXAMPLES.values()):
        targets[i, OUTPUTS.index(label)] = 1.0
    mask = np.ones_like(targets)
    args = _args()
    student = train_student(args, tok, embeddings, texts, targets, targets, mask, "cpu")
    before = student_probs(student, tok, texts, args, "cpu")
    assert ((before >= 0.5) == (targets > 0)).all(), "the student should overfit four examples"

    export(
        student,
        np.full(len(OUTPUTS), 0.5),
        tmp_path,
        BUNDLED / "tokenizer.json",
        {"outputs": list(OUTPUTS), "unk_id": tok.token_to_id("[UNK]")},
    )
    reloaded = TextModel(tmp_path)
    after = np.stack([reloaded.predict(t).scores for t in texts])
    np.testing.assert_allclose(after, before, atol=1e-5)

    perceiver = TextEmotionPerceiver(reloaded)
    for text, label in EXAMPLES.items():
        reading = perceiver.read(text)
        assert OUTPUTS[int(np.argmax(reading.state_logits))] == label
        assert reading.quote(label) and reading.quote(label) in text


def test_text_model_bundled_meta_matches_the_taxonomy() -> None:
    model = TextModel.bundled()
    meta = model.meta
    assert meta["outputs"] == list(OUTPUTS)
    assert len(meta["thresholds"]) == len(OUTPUTS)
    assert meta["metrics"]["student"]["goemotions_dev/macro_f1"] >= 0.60
    size = sum(f.stat().st_size for f in BUNDLED.iterdir())
    assert size < 30 * 1024 * 1024


def test_text_model_handles_empty_and_long_text() -> None:
    model = TextModel.bundled()
    assert model.predict("").scores.shape == (len(OUTPUTS),)
    assert model.predict("   ").scores.shape == (len(OUTPUTS),)
    assert model.predict("furnace " * 5000).scores.shape == (len(OUTPUTS),)
