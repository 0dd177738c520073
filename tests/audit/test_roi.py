"""The ROI calculator against hand-computed values; every input explicit and validated."""

from __future__ import annotations

import pytest

from empathy_engine.audit.roi import INPUT_HELP, RoiInputs, calculate, clv


def test_clv_by_hand() -> None:
    assert clv(200, retention=0.5, discount_rate=0.0) == pytest.approx(400)  # 200 / (1 - 0.5)
    assert clv(200, retention=0.5, discount_rate=0.1) == pytest.approx(200 * 1.1 / 0.6)
    assert clv(200, retention=0.0, discount_rate=0.1) == pytest.approx(200)  # one year only


def test_roi_by_hand() -> None:
    i = RoiInputs(customers_per_year=1000, revenue_per_customer=500, gross_margin=0.4, retention=0.5,
                  retention_lift=0.1, discount_rate=0.0, referral_lift=0.02, referral_value=100, agents=10,
                  cost_per_agent=1000)  # fmt: skip
    r = calculate(i)
    assert r.margin_per_customer == pytest.approx(200)  # 500 x 0.4
    assert r.clv_before == pytest.approx(400)  # 200 / (1 - 0.5)
    assert r.clv_after == pytest.approx(500)  # 200 / (1 - 0.6)
    assert r.retention_value == pytest.approx(100_000)  # 1000 customers x 100
    assert r.referral_value == pytest.approx(2_000)  # 1000 x 0.02 x 100
    assert r.value == pytest.approx(102_000)
    assert r.cost == pytest.approx(10_000)  # 10 agents x 1000
    assert r.net == pytest.approx(92_000)
    assert r.roi == pytest.approx(9.2)
    assert r.payback_months == pytest.approx(10_000 / (102_000 / 12))


def test_roi_defaults_by_hand() -> None:
    r = calculate(RoiInputs())
    margin = 450 * 0.45
    before, after = margin * 1.1 / (1.1 - 0.60), margin * 1.1 / (1.1 - 0.62)
    value = 10_000 * (after - before) + 10_000 * 0.01 * 250
    assert r.value == pytest.approx(value)
    assert r.roi == pytest.approx((value - 20 * 1500) / (20 * 1500))


def test_roi_prints_every_input_beside_the_result() -> None:
    out = calculate(RoiInputs.parse(["agents=40"])).to_dict()
    assert set(out["inputs"]) == set(INPUT_HELP)
    assert out["inputs"]["agents"] == {"value": 40.0, "given": True, "meaning": INPUT_HELP["agents"]}
    assert out["inputs"]["retention"]["given"] is False
    assert out["results"]["cost"] == 40 * 1500


def test_roi_parse_names_the_bad_input() -> None:
    assert RoiInputs.parse(["retention-lift=0.05", "cost_per_agent=2,000"]).cost_per_agent == 2000
    with pytest.raises(ValueError, match="NAME=NUMBER"):
        RoiInputs.parse(["margin=0.3"])
    with pytest.raises(ValueError, match="not a number"):
        RoiInputs.parse(["agents=many"])
    with pytest.raises(ValueError, match="between 0 and 1"):
        RoiInputs.parse(["gross_margin=45"])
    with pytest.raises(ValueError, match="positive"):
        RoiInputs.parse(["agents=0"])
