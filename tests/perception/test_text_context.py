"""v3's reading: a turn with the turn it answers, and long turns read whole."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from empathy_engine.perception.text import TextEmotionPerceiver
from empathy_engine.perception.text_model import WINDOW, TextModel, windows
from training.corpora import OUTPUTS, Example

BUNDLED = Path(__file__).resolve().parents[2] / "src" / "empathy_engine" / "models" / "text-emotion-v2"
FRUSTRATION = OUTPUTS.index("frustration")
SATISFACTION = OUTPUTS.index("satisfaction")


def test_windows_cover_every_token_and_overlap_by_half() -> None:
    assert windows(10) == ((0, 10),)
    assert windows(WINDOW) == ((0, WINDOW),)
    spans = windows(3 * WINDOW + 7)
    covered = set()
    for a, b in spans:
        assert b - a == WINDOW
        covered |= set(range(a, b))
    assert covered == set(range(3 * WINDOW + 7))
    assert spans[-1][1] == 3 * WINDOW + 7


def test_text_model_reads_emotion_late_in_a_long_turn() -> None:
    model = TextModel.bundled()
    ramble = (
        "so the unit is in the basement next to the water heater and it's the model with the "
        "grey panel on the front, my husband put in a new filter in october and we had the "
        "service plan renewed in the spring, the thermostat is the white one in the hallway "
        "and the account should be under my maiden name which is spelled with two ls "
    ) * 3
    ending = "and honestly I am furious that nobody showed up again, this is ridiculous."
    assert len(model.tokenizer.encode(ramble + ending).ids) > 2 * WINDOW
    reading = TextEmotionPerceiver(model).read(ramble + ending)
    assert reading.state_logits[FRUSTRATION] > 0, "the angry ending is read"
    assert model.predict(ramble).scores[FRUSTRATION] < 0.5, "the ramble alone is not frustration"
    quote = reading.quote("frustration")
    assert quote and quote in ending


torch = pytest.importorskip("torch", reason="training needs the [train] extra")

from training.train_v3 import ContextStudent, export, probabilities, tensors, train  # noqa: E402

PAIRS = [
    ("The earliest we can get someone out is next Thursday.", "Great.", "frustration"),
    ("Good news, a tech can be there within the hour.", "Great.", "satisfaction"),
    ("That part is on back-order for three weeks.", "Perfect.", "frustration"),
    ("You're all set, no charge for the visit.", "Perfect.", "satisfaction"),
]


def _example(context: str, text: str, label: str) -> Example:
    targets = np.zeros(len(OUTPUTS), np.float32)
    targets[OUTPUTS.index(label)] = 1.0
    mask = np.zeros(len(OUTPUTS), np.float32)
    mask[[FRUSTRATION, SATISFACTION]] = 1.0
    return Example(text, targets, mask, "test", context)


def test_context_model_overfit_save_reload_same_predictions(tmp_path: Path) -> None:
    """Same words, different turn before: the context path learns it, and numpy reproduces torch."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(BUNDLED / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    torch.manual_seed(0)
    embeddings = np.random.default_rng(0).normal(size=(tok.get_vocab_size(), 16)).astype(np.float32)
    model = ContextStudent(embeddings, hidden=32, head=16)
    torch.nn.init.normal_(model.ctx.weight, std=0.1)  # a tiny model needs a push off zero
    rows = [_example(*p) for p in PAIRS]
    data = tensors(tok, rows, 32)
    args = argparse.Namespace(seed=0, lr=0.01, epochs=200, batch=4)
    model = train(args, model, data)
    before = probabilities(model, data)
    for row, p in zip(rows, before, strict=True):
        assert (p[[FRUSTRATION, SATISFACTION]] >= 0.5).tolist() == (
            row.targets[[FRUSTRATION, SATISFACTION]] > 0
        ).tolist()

    meta = {"outputs": list(OUTPUTS), "unk_id": tok.token_to_id("[UNK]")}
    export(model, np.full(len(OUTPUTS), 0.5), tmp_path, meta)
    reloaded = TextModel(tmp_path)
    assert reloaded.reads_context
    perceiver = TextEmotionPerceiver(reloaded)
    for (context, text, _), p in zip(PAIRS, before, strict=True):
        answering = perceiver.context(perceiver.read(context))
        got = perceiver.read(text, answering).prediction.scores
        np.testing.assert_allclose(got, p, atol=2e-3)  # float16 context, float32 weights
