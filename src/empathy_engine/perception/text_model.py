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

DEFAULT_MODEL = "text-emotion-v1"
MAX_TOKENS = 96


@dataclass(frozen=True, slots=True)
class TextPrediction:
    """Calibrated probabilities for every output (0.5 is each output's decision point)."""

    scores: np.ndarray  # float32 (n_outputs,)
    #: Per output, per token: how much the token pushed that output's logit (for evidence).
    token_spans: tuple[tuple[int, int], ...]  # character offsets of each token in the text
    contributions: np.ndarray  # float32 (n_outputs, n_tokens)
    fingerprint: np.ndarray  # float32 unit vector: the pooled features, for repetition checks


class TextModel:
    """A loaded model directory: `meta.json`, `weights.npz`, `embeddings.npy`, `tokenizer.json`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.meta = json.loads((directory / "meta.json").read_text())
        self.outputs: tuple[str, ...] = tuple(self.meta["outputs"])
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.embeddings = np.load(directory / "embeddings.npy").astype(np.float32)
        with np.load(directory / "weights.npz") as w:
            self.conv_w = w["conv_w"].astype(np.float32)  # (width * dim, hidden)
            self.conv_b = w["conv_b"].astype(np.float32)
            self.w1 = w["w1"].astype(np.float32)
            self.b1 = w["b1"].astype(np.float32)
            self.w2 = w["w2"].astype(np.float32)
            # Calibration folds each output's tuned threshold into its bias, so 0.5 decides.
            self.b2 = (w["b2"] - w["threshold_logit"]).astype(np.float32)
        self.width = self.conv_w.shape[0] // self.embeddings.shape[1]
        self.hidden = self.conv_w.shape[1]

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
        active = z > 0
        logits = np.maximum(z, 0) @ self.w2 + self.b2
        scores = 1.0 / (1.0 + np.exp(-logits))
        contributions = self._contributions(hidden, active)
        norm = float(np.linalg.norm(pooled)) or 1.0
        return TextPrediction(scores.astype(np.float32), spans, contributions, pooled / norm)

    def _features(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = self.embeddings[ids]  # (T, dim)
        half = self.width // 2
        padded = np.pad(x, ((half, self.width - 1 - half), (0, 0)))
        windows = np.concatenate([padded[i : i + len(ids)] for i in range(self.width)], axis=1)
        hidden = np.maximum(windows @ self.conv_w + self.conv_b, 0.0)  # (T, hidden)
        pooled = np.concatenate([hidden.max(axis=0), hidden.mean(axis=0)])
        return hidden, pooled

    def _contributions(self, hidden: np.ndarray, active: np.ndarray) -> np.ndarray:
        """Gradient x input of each token's features, through max and mean pooling.

        The head is piecewise linear, so this splits each logit exactly among the
        pooled features; max-pooled features are credited to the token that won the max.
        """
        grad = (self.w1 * active) @ self.w2  # (2 * hidden, n_outputs)
        g_max, g_mean = grad[: self.hidden], grad[self.hidden :]
        n = hidden.shape[0]
        winners = hidden.argmax(axis=0)  # (hidden,)
        max_part = np.zeros((n, self.hidden), np.float32)
        max_part[winners, np.arange(self.hidden)] = hidden.max(axis=0)
        per_token = max_part @ g_max + (hidden / n) @ g_mean  # (T, n_outputs)
        return per_token.T.astype(np.float32)
