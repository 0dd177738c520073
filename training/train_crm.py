"""Fit the CRM reader (src/empathy_engine/perception/crm.py) and print its held-out figures.

    .venv/bin/python training/train_crm.py [--out src/empathy_engine/models/crm-v1]

Data: training/data/context/crm_outcomes.jsonl (a prior contact's outcome -> failed_visit,
unresolved, resolved, other) and crm_notes.jsonl (a CRM note -> vulnerable yes/no), written
and labelled by hand (see the README there). Five-fold cross-validation gives the figures;
the exported model is then fitted on every row. Regularisation is chosen by the folds.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from empathy_engine.perception.crm import MODEL, OUTCOMES, features  # noqa: E402
from training.corpora import file_sha256  # noqa: E402

DATA = REPO / "training" / "data" / "context"
BUCKETS = 1 << 15


def rows(name: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def matrix(texts: list[str]) -> csr_matrix:
    data, cols, ptr = [], [], [0]
    for t in texts:
        f = features(t, BUCKETS)
        cols += list(f)
        data += list(f.values())
        ptr.append(len(cols))
    return csr_matrix((np.array(data, np.float32), np.array(cols), np.array(ptr)), shape=(len(texts), BUCKETS))


def cross_validate(x: csr_matrix, y: np.ndarray, c: float) -> np.ndarray:
    pred = np.empty_like(y)
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(x, y):
        pred[test] = LogisticRegression(C=c, max_iter=3000).fit(x[train], y[train]).predict(x[test])
    return pred


def fit(x: csr_matrix, y: np.ndarray, name: str) -> tuple[LogisticRegression, dict[str, float]]:
    best: tuple[float, float, np.ndarray] | None = None
    for c in (1.0, 4.0, 16.0, 64.0):
        pred = cross_validate(x, y, c)
        score = f1_score(y, pred, average="macro")
        if best is None or score > best[0]:
            best = (score, c, pred)
    assert best is not None
    score, c, pred = best
    figures = {
        f"{name}/cv_macro_f1": round(float(score), 4),
        f"{name}/cv_accuracy": round(float(accuracy_score(y, pred)), 4),
    }
    figures[f"{name}/C"] = c
    return LogisticRegression(C=c, max_iter=3000).fit(x, y), figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=REPO / "src" / "empathy_engine" / "models" / MODEL)
    args = ap.parse_args(argv)
    outcomes, notes = rows("crm_outcomes.jsonl"), rows("crm_notes.jsonl")
    y_out = np.array([OUTCOMES.index(str(r["label"])) for r in outcomes])
    y_vul = np.array([int(bool(r["vulnerable"])) for r in notes])
    outcome_model, figures = fit(matrix([str(r["text"]) for r in outcomes]), y_out, "outcome")
    vulnerable_model, more = fit(matrix([str(r["text"]) for r in notes]), y_vul, "vulnerable")
    figures.update(more)
    print(json.dumps(figures, indent=1))
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out / "weights.npz",
        outcome_w=outcome_model.coef_.T.astype(np.float16),
        outcome_b=outcome_model.intercept_.astype(np.float32),
        vulnerable_w=vulnerable_model.coef_[0].astype(np.float16),
        vulnerable_b=np.float32(vulnerable_model.intercept_[0]),
    )
    meta = {
        "name": MODEL,
        "buckets": BUCKETS,
        "outcomes": list(OUTCOMES),
        "features": "crc32-hashed word 1-2-grams and character 3-5-grams, L2-normalised",
        "model": "scikit-learn LogisticRegression (softmax for outcomes, binary for vulnerability)",
        "data": {name: file_sha256(DATA / name) for name in ("crm_outcomes.jsonl", "crm_notes.jsonl")},
        "counts": {"outcomes": len(outcomes), "notes": len(notes)},
        "metrics": figures,
    }
    (args.out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
