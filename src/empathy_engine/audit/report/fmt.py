"""Small formatting helpers shared by the report's sections."""

from __future__ import annotations

from html import escape
from typing import Any

TIER_CLASS = {
    "below team": "tier-below",
    "above team": "tier-above",
    "within noise": "tier-noise",
    "too few calls": "tier-few",
}
BEHAVIOUR_WORDS = {
    "acknowledge_emotion": "acknowledges the feeling",
    "validate": "validates",
    "apologize": "apologises",
    "action_plan": "gives next steps",
    "urgency_ack": "commits to speed",
    "clarify": "explains",
    "confirm_understanding": "checks understanding",
    "probe_deeper": "asks what else",
    "reassure": "reassures",
    "budget_ack": "acknowledges the cost worry",
    "offer_human": "offers a person",
    "informational": "gives information",
    "none": "no response",
}


def e(text: Any) -> str:
    return escape(str(text), quote=True)


def pct(est: dict[str, Any] | None, digits: int = 0) -> str:
    if not est or est.get("value") is None:
        return "–"
    return f"{est['value'] * 100:.{digits}f}%"


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def ci(est: dict[str, Any] | None, percent: bool = True) -> str:
    if not est or est.get("lo") is None or est.get("hi") is None or est["lo"] == est["hi"]:
        return ""
    if percent:
        return f"{est['lo'] * 100:.0f}–{est['hi'] * 100:.0f}%"
    return f"{est['lo']:.2f}–{est['hi']:.2f}"


def score(est: dict[str, Any] | None) -> str:
    if not est or est.get("value") is None:
        return "–"
    return f"{est['value']:.2f}"


def signed(x: float | None) -> str:
    return "–" if x is None else f"{x:+.2f}"


def state(name: str | None) -> str:
    if not name:
        return '<span class="muted">–</span>'
    return f'<span class="st st-{e(name)}">{e(name.replace("_", " "))}</span>'


def tier(name: str) -> str:
    return f'<span class="chip {TIER_CLASS.get(name, "tier-few")}">{e(name)}</span>'


def clock(t: float | None) -> str:
    if t is None:
        return ""
    m, s = divmod(int(t), 60)
    return f"{m:02d}:{s:02d}"


def seconds(s: float | None) -> str:
    if s is None:
        return "–"
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"


def money(x: float) -> str:
    return f"{x:,.0f}"


def behaviours(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(BEHAVIOUR_WORDS.get(b, b) for b in names) or "no response"
