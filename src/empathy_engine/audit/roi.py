"""Lifetime value and ROI of empathy coaching: every assumption an explicit input, shown beside the result.

    margin per customer-year  M   = revenue_per_customer x gross_margin
    customer lifetime value   CLV = M x (1 + discount_rate) / (1 + discount_rate - retention)
                                    (margin at the start of each year the customer stays; geometric)
    retention value / year        = customers_per_year x (CLV at retention + retention_lift - CLV at retention)
    referral value / year         = customers_per_year x referral_lift x referral_value
    programme cost / year         = agents x cost_per_agent
    ROI                           = (retention value + referral value - cost) / cost
    payback                       = cost / (value / 12) months

The defaults are placeholders for a mid-sized home-services company, not findings: replace them
with your own figures (`empathy audit ... --roi retention_lift=0.01 --roi agents=40`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class RoiInputs:
    customers_per_year: float = 10_000
    revenue_per_customer: float = 450.0  # per customer per year, in your currency
    gross_margin: float = 0.45  # share of revenue
    retention: float = 0.60  # share of customers who come back the next year, today
    retention_lift: float = 0.02  # absolute: 0.02 means 60% -> 62%
    discount_rate: float = 0.10  # per year
    referral_lift: float = 0.01  # extra referrals per customer per year
    referral_value: float = 250.0  # margin from one referred customer
    agents: float = 20
    cost_per_agent: float = 1_500.0  # per agent per year: licence, coaching time, QA time

    @classmethod
    def parse(cls, assignments: list[str]) -> RoiInputs:
        """From `name=value` strings; raises ValueError naming the bad one and the valid names."""
        names = {f.name for f in fields(cls)}
        values: dict[str, float] = {}
        for item in assignments:
            name, sep, raw = item.partition("=")
            name = name.strip().replace("-", "_")
            if not sep or name not in names:
                raise ValueError(f"--roi {item!r}: expected NAME=NUMBER with NAME one of {', '.join(sorted(names))}")
            try:
                values[name] = float(raw.replace(",", "").replace("_", ""))
            except ValueError:
                raise ValueError(f"--roi {item!r}: {raw!r} is not a number") from None
        inputs = cls(**values)
        inputs.check()
        return inputs

    def check(self) -> None:
        for name in ("gross_margin", "retention", "discount_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"--roi {name}={getattr(self, name)}: must be a share between 0 and 1")
        if not 0 <= self.retention + self.retention_lift < 1 + self.discount_rate:
            raise ValueError("--roi retention + retention_lift must stay below 1 + discount_rate")
        if self.agents * self.cost_per_agent <= 0:
            raise ValueError("--roi agents and cost_per_agent must be positive (the cost is the ROI's denominator)")

    def given(self) -> set[str]:
        default = RoiInputs()
        return {f.name for f in fields(self) if getattr(self, f.name) != getattr(default, f.name)}


#: What each input means, for the table printed beside the result.
INPUT_HELP: dict[str, str] = {
    "customers_per_year": "customers served in a year",
    "revenue_per_customer": "revenue per customer per year",
    "gross_margin": "gross margin, share of revenue",
    "retention": "share of customers who return next year, today",
    "retention_lift": "extra retention from better-handled calls (absolute)",
    "discount_rate": "discount rate per year",
    "referral_lift": "extra referrals per customer per year",
    "referral_value": "margin from one referred customer",
    "agents": "agents coached",
    "cost_per_agent": "programme cost per agent per year",
}


def clv(margin_per_year: float, retention: float, discount_rate: float) -> float:
    """Lifetime value: margin at the start of each year the customer stays, discounted."""
    return margin_per_year * (1 + discount_rate) / (1 + discount_rate - retention)


@dataclass(frozen=True, slots=True)
class RoiResult:
    inputs: RoiInputs
    margin_per_customer: float
    clv_before: float
    clv_after: float
    retention_value: float
    referral_value: float
    value: float
    cost: float
    net: float
    roi: float
    payback_months: float | None

    def to_dict(self) -> dict[str, Any]:
        given = self.inputs.given()
        return {
            "inputs": {
                f.name: {"value": getattr(self.inputs, f.name), "given": f.name in given, "meaning": INPUT_HELP[f.name]}
                for f in fields(self.inputs)
            },
            "results": {
                name: round(getattr(self, name), 4) if getattr(self, name) is not None else None
                for name in (
                    "margin_per_customer",
                    "clv_before",
                    "clv_after",
                    "retention_value",
                    "referral_value",
                    "value",
                    "cost",
                    "net",
                    "roi",
                    "payback_months",
                )
            },
        }


def calculate(i: RoiInputs) -> RoiResult:
    margin = i.revenue_per_customer * i.gross_margin
    before = clv(margin, i.retention, i.discount_rate)
    after = clv(margin, i.retention + i.retention_lift, i.discount_rate)
    retention_value = i.customers_per_year * (after - before)
    referral_value = i.customers_per_year * i.referral_lift * i.referral_value
    value = retention_value + referral_value
    cost = i.agents * i.cost_per_agent
    net = value - cost
    payback = cost / (value / 12) if value > 0 else None
    return RoiResult(i, margin, before, after, retention_value, referral_value, value, cost, net, net / cost, payback)
