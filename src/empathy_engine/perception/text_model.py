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

#: v3 reads real text far better (training/MODEL_CARD.md) but is opt-in until the fusion weights
#: and the escalation thresholds are refitted for it: with v2's, it escalates calm bot calls.
DEFAULT_MODEL = "text-emotion-v2"
BUNDLED_MODELS = ("text-emotion-v2", "text-emotion-v3")
#: Word pieces one reading window holds (about 70 words; training read up to 64). A
#: longer turn is read whole, in windows of this size overlapping by half, so that emotion said
#: late in a long monologue, or an action plan at the end of an agent's turn, is not lost.
WINDOW = 96
STRIDE = WINDOW // 2


def windows(n: int) -> tuple[tuple[int, int], ...]:
    """[start, end) token ranges covering n tokens: one range when n fits, else half-overlapping."""
    if n <= WINDOW:
        return ((0, n),)
    starts = list(range(0, n - WINDOW, STRIDE))
    if len(starts) > 1 and n - WINDOW - starts[-1] < STRIDE // 2:  # the end barely passes it: move it there
        starts.pop()
    starts.append(n - WINDOW)
    return tuple((a, a + WINDOW) for a in starts)


@dataclass(frozen=True, slots=True)
class TextPrediction:
    """Calibrated probabilities for every output (0.5 is each output's decision point).

    A long turn is scored per window: each output takes its score from the window that
    speaks most for it (`neutral` from the one that speaks least), and `winner` says which.
    """

    scores: np.ndarray  # float32 (n_outputs,)
    token_spans: tuple[tuple[int, int], ...]  # character offsets of each token in the text
    fingerprint: np.ndarray  # float32 unit vector: the pooled features, for repetition checks
    pooled: np.ndarray  # the pooled features before normalising: the next turn's context input
    hidden: np.ndarray  # (n_tokens, hidden) convolution features, kept for `contributions`
    spans: tuple[tuple[int, int], ...]  # the token windows read
    actives: np.ndarray  # (n_windows, head) which head units fired in each window
    winner: np.ndarray  # (n_outputs,) the window each output's score came from
    model: TextModel

    def contributions(self, output: int) -> np.ndarray:
        """Gradient x input of each token for one output, through max and mean pooling.

        The head is piecewise linear, so this splits the logit exactly among the pooled
        features; a max-pooled feature is credited to the token that won the max. Tokens
        outside the window the score came from get nothing.
        """
        m = self.model
        w = int(self.winner[output])
        a, b = self.spans[w]
        grad = m.w1 @ (self.actives[w] * m.w2[:, output])  # (2 * hidden,)
        g_max, g_mean = grad[: m.hidden], grad[m.hidden :]
        hidden = self.hidden[a:b]
        n = hidden.shape[0]
        winners = hidden.argmax(axis=0)
        by_max = np.bincount(winners, weights=hidden.max(axis=0) * g_max, minlength=n)
        out = np.zeros(self.hidden.shape[0], np.float32)
        out[a:b] = by_max + hidden @ g_mean / n
        return out


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
            # v3 reads a turn with the turn it answers: the previous turn's pooled features
            # enter the head through w1_ctx. Older models have none and ignore the context.
            self.w1_ctx = w["w1_ctx"].astype(np.float32) if "w1_ctx" in w.files else None
        self._absence = [self.outputs.index(n) for n in ("neutral", "none") if n in self.outputs]
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
        if name not in BUNDLED_MODELS:
            raise ValueError(f"unknown text model {name!r}; the bundled ones are {', '.join(BUNDLED_MODELS)}")
        with resources.as_file(resources.files("empathy_engine") / "models" / name) as path:
            return cls(Path(path))

    @property
    def reads_context(self) -> bool:
        return self.w1_ctx is not None

    def predict(self, text: str, context: np.ndarray | None = None) -> TextPrediction:
        """Score one turn; `context` is the `pooled` of the turn it answers, when there is one."""
        encoding = self.tokenizer.encode(text, add_special_tokens=False)
        ids = np.asarray(encoding.ids, dtype=np.int64)
        spans = tuple(encoding.offsets)
        if ids.size == 0:
            ids = np.asarray([self.meta["unk_id"]], dtype=np.int64)
            spans = ((0, 0),)
        hidden = self._hidden(ids)
        ranges = windows(len(ids))
        pooled_w = np.stack([np.concatenate([hidden[a:b].max(axis=0), hidden[a:b].mean(axis=0)]) for a, b in ranges])
        z = pooled_w @ self.w1 + self.b1
        if self.w1_ctx is not None and context is not None:
            z = z + context @ self.w1_ctx
        actives = (z > 0).astype(np.float32)
        logits = (z * actives) @ self.w2 + self.b2  # (n_windows, n_outputs)
        winner = logits.argmax(axis=0)
        for k in self._absence:  # "nothing of the above" holds only if it holds in every window
            winner[k] = logits[:, k].argmin()
        best = logits[winner, np.arange(logits.shape[1])]
        scores = 1.0 / (1.0 + np.exp(-best))
        pooled = pooled_w[0] if len(ranges) == 1 else np.concatenate([hidden.max(axis=0), hidden.mean(axis=0)])
        norm = float(np.linalg.norm(pooled)) or 1.0
        return TextPrediction(
            scores.astype(np.float32), spans, pooled / norm, pooled, hidden, ranges, actives, winner, self
        )

    def _hidden(self, ids: np.ndarray) -> np.ndarray:
        """Width-k convolution (zero-padded at the text's edges), then ReLU; pooled per window."""
        n, half = len(ids), self.width // 2
        pre = self.projections[half][ids] + self.conv_b
        for i in range(self.width):
            offset = i - half  # position t sees word piece t + offset
            if offset < 0:
                pre[-offset:] += self.projections[i][ids[: n + offset]]
            elif offset > 0:
                pre[: n - offset] += self.projections[i][ids[offset:]]
        return np.maximum(pre, 0.0)
