"""The fusion weights artefact: loaded at run time, every weight described, mistakes caught."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from empathy_engine.perception.fusion_weights import FusionWeights, bundled


def _meta() -> dict:
    return json.loads(resources.files("empathy_engine").joinpath("models", "fusion-v1", "meta.json").read_text())


def test_fusion_weights_bundled_artefact_loads_and_names_its_source() -> None:
    weights = bundled()
    assert weights.name == "fusion-v1"
    assert 0 < weights.tracker.context_decay < 1 and weights.patterns.recurrence_frustration > 0


def test_fusion_weights_meta_describes_every_weight_and_records_both_figures() -> None:
    meta = _meta()
    flat = {f"{part}.{k}": v for part, values in bundled().to_dict().items() for k, v in values.items()}
    assert set(meta["what"]) == set(flat)
    assert meta["weights"] == flat  # the figures in meta.json are those of the weights shipped
    assert {"hand_set", "fitted"} <= set(meta["metrics"]) and meta["adopted"] in ("hand-set", "fitted")


def test_fusion_weights_a_missing_or_misspelt_weight_is_a_clear_error() -> None:
    good = bundled().to_dict()
    patterns = dict(good["patterns"])
    patterns["recurence_frustration"] = patterns.pop("recurrence_frustration")
    with pytest.raises(ValueError, match="section 'patterns' must have exactly"):
        FusionWeights.from_dict("bad", {**good, "patterns": patterns})
    with pytest.raises(ValueError, match="must be a number"):
        FusionWeights.from_dict("bad", {**good, "tracker": {**good["tracker"], "carry": "0.4"}})
