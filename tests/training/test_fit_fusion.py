"""training/fit_fusion.py on a few corpus turns: the fit never does worse than where it starts
on the turns it fits, and the figures it reports follow the weights."""

from __future__ import annotations

from dataclasses import fields

from empathy_engine.perception.fusion_weights import bundled
from empathy_engine.perception.text import TextEmotionPerceiver
from empathy_engine.perception.text_model import TextModel
from training.corpora import domain_split, load_domain
from training.fit_fusion import FITTED, figures, fit, readings, with_patterns


def test_fit_fusion_never_worse_on_the_turns_it_fits_and_leaves_the_rest_hand_set() -> None:
    customer, _ = load_domain()
    # The turns a fitted pattern fires on, and as many that it does not: small, and still informative.
    sample = [e for e in customer if domain_split(e) == "calibration"]
    firing = [e for e in sample if any(w in e.text.lower() for w in ("again", "still", "last time"))][:12]
    data = readings(TextEmotionPerceiver(TextModel.bundled()), firing + [e for e in sample if e not in firing][:12])
    hand = bundled()
    fitted = fit(hand, data)
    assert figures(fitted, data)["log_loss"] <= figures(hand, data)["log_loss"]
    assert fitted.tracker == hand.tracker and fitted.context == hand.context
    unfitted = {f.name for f in fields(hand.patterns)} - set(FITTED)
    assert all(getattr(fitted.patterns, n) == getattr(hand.patterns, n) for n in unfitted)


def test_fit_fusion_figures_move_with_a_weight() -> None:
    customer, _ = load_domain()
    again = [e for e in customer if "again" in e.text.lower()][:8]
    data = readings(TextEmotionPerceiver(TextModel.bundled()), again)
    hand = bundled()
    off = with_patterns(hand, recurrence_frustration=0.0)
    assert figures(off, data)["turns_with_a_pattern"] == figures(hand, data)["turns_with_a_pattern"] > 0
    assert figures(off, data)["log_loss"] != figures(hand, data)["log_loss"]
