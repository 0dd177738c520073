"""Every card is an experiment: variant ids from the playbook text, true propensities, a floor that
never reaches zero, and the same draw on a replay."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from empathy_engine.coaching.choice import choose, context_of, uniform_draw, variant_id
from empathy_engine.coaching.coach import Coach, CoachMemory
from empathy_engine.coaching.phrasing import fill
from empathy_engine.coaching.playbook import PLACEHOLDER, load_playbook
from empathy_engine.learning.fit import Scored, fit_choices, with_floor
from empathy_engine.learning.policy import DEFAULT_FLOOR, Policy, PolicyError
from empathy_engine.learning.rewards import Card
from empathy_engine.perception.context import CallFacts
from empathy_engine.results import CustomerTurn, Evidence
from empathy_engine.taxonomy import STATES

PLAYBOOK = load_playbook()
FP = np.eye(8, dtype=np.float32)[0]
STEP = PLAYBOOK.states["frustration"].steps[0]  # type: ignore[index]
#: The most personal phrasings a call with the customer's name and a holiday can fill: those the
#: coach draws among on a card's first showing ("{name}, ..." and "... on {occasion}").
FACTS = CallFacts(name="Dana", occasion="Christmas Day")
FILLED = [t for t in STEP.say if fill(t, FACTS.values()) is not None]
MOST = max(len(PLACEHOLDER.findall(t)) for t in FILLED)
VARIANTS = [variant_id(f"frustration/{STEP.id}", t) for t in FILLED if len(PLACEHOLDER.findall(t)) == MOST]


def frustrated(index: int = 1) -> CustomerTurn:
    scores = {s: (0.95 if s == "frustration" else 0.05) for s in STATES}
    return CustomerTurn(index, scores, ("frustration",), "frustration", 0.8, (Evidence("frustration", "ugh", "text"),))  # type: ignore[arg-type]


def shown(coach: Coach, call_id: str) -> tuple[str, float]:
    card = coach.card_for(frustrated(), "ugh", FP, CoachMemory(FACTS, call_id=call_id))
    assert card is not None and card.variant is not None and card.propensity is not None
    return card.variant, card.propensity


def test_choice_variant_ids_come_from_the_playbook_text_not_the_call() -> None:
    assert len(set(VARIANTS)) == len(VARIANTS) >= 2
    assert variant_id("frustration/validate", "Same words") == variant_id("frustration/validate", "Same words")
    assert all(v.startswith("frustration/validate#") and len(v.split("#")[1]) == 6 for v in VARIANTS)
    seen = {shown(Coach(PLAYBOOK), f"call-{i}")[0] for i in range(60)}
    assert seen == set(VARIANTS)  # every one of the most personal phrasings gets drawn


def test_choice_without_a_policy_is_uniform_with_its_true_propensity() -> None:
    draws = [shown(Coach(PLAYBOOK), f"call-{i}") for i in range(3000)]
    assert all(p == pytest.approx(1 / len(VARIANTS)) for _, p in draws)
    counts = Counter(v for v, _ in draws)
    assert all(abs(counts[v] / 3000 - 1 / len(VARIANTS)) < 0.03 for v in VARIANTS)


def _policy(odds: list[float]) -> Policy:
    choices = {f"frustration/{STEP.id}": {"default": dict(zip(VARIANTS, odds, strict=True))}}
    return Policy(choices, DEFAULT_FLOOR)


def test_choice_with_a_policy_draws_its_odds_and_logs_them() -> None:
    odds = [0.9, 0.08, 0.02][: len(VARIANTS)]
    odds[-1] += 1 - sum(odds)
    coach = Coach(PLAYBOOK, chooser=_policy(odds))
    draws = [shown(coach, f"call-{i}") for i in range(4000)]
    counts = Counter(v for v, _ in draws)
    for variant, p in zip(VARIANTS, odds, strict=True):
        assert abs(counts[variant] / 4000 - p) < 0.02
        assert all(q == pytest.approx(p) for v, q in draws if v == variant)


def test_choice_replay_is_identical_and_the_seed_holds_call_turn_and_policy() -> None:
    policy = _policy([1 / len(VARIANTS)] * len(VARIANTS))
    first = [shown(Coach(PLAYBOOK, chooser=policy), f"call-{i}") for i in range(50)]
    again = [shown(Coach(PLAYBOOK, chooser=policy), f"call-{i}") for i in range(50)]
    assert first == again
    assert uniform_draw("c|1|none|x") != uniform_draw("c|2|none|x") != uniform_draw("c|1|abc|x")


def test_choice_floor_never_reaches_zero() -> None:
    # A fit on data where one variant always works and the others never do.
    rows = [
        Scored(Card(f"c{i}", 1, "frustration", STEP.id, "default", v, 1 / 3, True, None), float(v == VARIANTS[0]))
        for i in range(3000)
        for v in VARIANTS
    ]
    choices, figures = fit_choices(rows)
    odds = choices[f"frustration/{STEP.id}"]["default"]
    assert min(odds.values()) >= DEFAULT_FLOOR - 1e-12 and max(odds, key=odds.__getitem__) == VARIANTS[0]
    assert figures[f"frustration/{STEP.id}"]["default"]["winner"] == VARIANTS[0]  # type: ignore[index]
    assert with_floor(np.array([1.0, 0.0, 0.0]), 0.02).min() == pytest.approx(0.02)
    for u in (0.0, 1e-12, 0.5, 1 - 1e-12):  # a variant the policy does not know still gets the floor
        _, p = choose(["a", "b", "c"], {"a": 1.0}, u, DEFAULT_FLOOR)
        assert p > 0
    with pytest.raises(PolicyError, match=r"choices\.x/y\.default\.v2: probability must be within"):
        Policy.from_json({**Policy({"x/y": {"default": {"v1": 1.0, "v2": 0.0}}}, 0.02).to_json()}, "p.json")


def test_choice_context_of_a_call() -> None:
    assert context_of(CallFacts()) == "default"
    assert context_of(CallFacts(occasion="Christmas Day")) == "night_or_holiday"
    assert context_of(CallFacts(issue="no heat", occasion="the weekend")) == "repeat"
    assert context_of(CallFacts(vulnerable=True, relation="mother", issue="no heat")) == "vulnerable"


def test_choice_policy_file_errors_name_the_file_and_the_field(tmp_path: Path) -> None:
    good = _policy([1 / len(VARIANTS)] * len(VARIANTS))
    path = tmp_path / "policy.json"
    good.save(path)
    assert Policy.load(path).version == good.version and len(good.version) == 16
    path.write_text(path.read_text().replace(good.version, "0" * 16))  # as if its choices were edited
    with pytest.raises(PolicyError, match=rf"{path}: header.version: .* does not match"):
        Policy.load(path)
    path.write_text("{not json")
    with pytest.raises(PolicyError, match=rf"{path}:1: not valid JSON"):
        Policy.load(path)
    with pytest.raises(PolicyError, match=r"no-such.json: cannot read the policy"):
        Policy.load(tmp_path / "no-such.json")
