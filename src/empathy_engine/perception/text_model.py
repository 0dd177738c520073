"""The bundled text model, run with numpy alone: tokenizer -> static embeddings -> CNN -> heads.

The weights are distilled from a fine-tuned MiniLM teacher by training/train_text_model.py;
see training/MODEL_CARD.md. Nothing here imports torch or touches the network.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

DEFAULT_MODEL = "text-emotion-v2"
MAX_TOKENS = 96


@dataclass(frozen=True, slots=True)
class TextPrediction:
    """Calibrated probabilities for every output (0.5 is each output's decision point)."""

    scores: np.ndarray  # float32 (n_outputs,)
    token_spans: tuple[tuple[int, int], ...]  # character offsets of each token in the text
    fingerprint: np.ndarray  # float32 unit vector: the pooled features, for repetition checks
    hidden: np.ndarray  # (n_tokens, hidden) convolution features, kept for `contributions`
    active: np.ndarray  # (head,) which head units fired
    model: TextModel

    def contributions(self, output: int) -> np.ndarray:
        """Gradient x input of each token for one output, through max and mean pooling.

        The head is piecewise linear, so this splits the logit exactly among the pooled
        features; a max-pooled feature is credited to the token that won the max.
        """
        m = self.model
        grad = m.w1 @ (self.active * m.w2[:, output])  # (2 * hidden,)
        g_max, g_mean = grad[: m.hidden], grad[m.hidden :]
        n = self.hidden.shape[0]
        winners = self.hidden.argmax(axis=0)
        by_max = np.bincount(winners, weights=self.hidden.max(axis=0) * g_max, minlength=n)
        return (by_max + self.hidden @ g_mean / n).astype(np.float32)


class TextModel:
    """A loaded model directory: `meta.json`, `weights.npz`, `embeddings.npy`, `tokenizer.json`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.meta = json.loads((directory / "meta.json").read_text())
        self.outputs: tuple[str, ...] = tuple(self.meta["outputs"])
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        embeddings = np.load(directory / "embeddings.npy").astype(np.float32)
        with np.load(directory / "weights.npz") as w:
            self.conv_w = w["conv_w"].astype(np.float32)  # (width * dim, hidden)
            self.conv_b = w["conv_b"].astype(np.float32)
            self.w1 = w["w1"].astype(np.float32)
            self.b1 = w["b1"].astype(np.float32)
            self.w2 = w["w2"].astype(np.float32)
            # Calibration folds each output's tuned threshold into its bias, so 0.5 decides.
            self.b2 = (w["b2"] - w["threshold_logit"]).astype(np.float32)
        self.width = self.conv_w.shape[0] // embeddings.shape[1]
        self.hidden = self.conv_w.shape[1]
        # The convolution is linear before its ReLU, so each word piece's share of it can be
        # computed once for the whole vocabulary: a turn then costs a few row lookups.
        dim = embeddings.shape[1]
        self.projections = np.empty((self.width, len(embeddings), self.hidden), np.float32)
        for i in range(self.width):  # filled in place: peak memory stays near the final size
            np.matmul(embeddings, self.conv_w[i * dim : (i + 1) * dim], out=self.projections[i])

    @classmethod
    def bundled(cls, name: str = DEFAULT_MODEL) -> TextModel:
        with resources.as_file(resources.files("empathy_engine") / "models" / name) as path:
            return cls(Path(path))

    def predict(self, text: str) -> TextPrediction:
        encoding = self.tokenizer.encode(text, add_special_tokens=False)
        ids = np.asarray(encoding.ids[:MAX_TOKENS], dtype=np.int64)
        spans = tuple(encoding.offsets[:MAX_TOKENS])
        if ids.size == 0:
            ids = np.asarray([self.meta["unk_id"]], dtype=np.int64)
            spans = ((0, 0),)
        hidden, pooled = self._features(ids)
        z = pooled @ self.w1 + self.b1
        active = (z > 0).astype(np.float32)
        logits = (z * active) @ self.w2 + self.b2
        scores = 1.0 / (1.0 + np.exp(-logits))
        norm = float(np.linalg.norm(pooled)) or 1.0
        return TextPrediction(scores.astype(np.float32), spans, pooled / norm, hidden, active, self)

    def _features(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Width-k convolution (zero-padded at the text's edges), ReLU, then max and mean pooling."""
        n, half = len(ids), self.width // 2
        pre = self.projections[half][ids] + self.conv_b
        for i in range(self.width):
            offset = i - half  # position t sees word piece t + offset
            if offset < 0:
                pre[-offset:] += self.projections[i][ids[: n + offset]]
            elif offset > 0:
                pre[: n - offset] += self.projections[i][ids[offset:]]
        hidden = np.maximum(pre, 0.0)
        pooled = np.concatenate([hidden.max(axis=0), hidden.mean(axis=0)])
        return hidden, pooled
