"""The report's "What builds trust here": which phrasing of each card eased customers (learning/effects.py)."""

from __future__ import annotations

from typing import Any

from empathy_engine.audit.report.fmt import e

MAX_STEPS = 30  # the steps with the most cards; the JSON output has them all


def what_builds_trust(s: dict[str, Any]) -> str:
    steps = [st for st in s.get("what_builds_trust") or [] if len(st["variants"]) > 1]
    intro = (
        "<p>Each card's phrasing is drawn at random (docs/learning.md), so within a step the phrasings "
        "can be compared fairly: <em>eased</em> is the share of cards after which the customer's state "
        "eased within two turns. A phrasing is called better or worse only when the 95% interval of its "
        "difference from the step's other phrasings (widened for the number compared) clears 0.</p>"
    )
    if not steps:
        body = '<p class="muted">No step showed more than one phrasing in these calls.</p>'
    else:
        steps.sort(key=lambda st: -sum(v["cards"] for v in st["variants"]))
        texts = phrasings()
        rows = "".join(_rows(st, texts) for st in steps[:MAX_STEPS])
        body = (
            "<table><thead><tr><th>State / step</th><th>Phrasing</th><th>Cards</th><th>Eased</th>"
            f"<th>Followed</th><th>Effect (95%)</th><th>Claim</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    return f'<section id="builds-trust"><h2>What builds trust here</h2>{intro}{body}</section>'


def _share(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


CLAIMS = {"better": "<strong>better</strong>", "worse": "worse"}


def phrasings() -> dict[str, str]:
    """Variant id -> the shipped playbook's words (a user playbook's own phrasings show as their ids)."""
    from empathy_engine.coaching.choice import variant_id
    from empathy_engine.coaching.playbook import load_playbook
    from empathy_engine.store.replay import shipped_playbook  # by path: not $EMPATHY_PLAYBOOK

    book = load_playbook(shipped_playbook())
    return {
        variant_id(f"{state}/{step.id}", text): text
        for state, path in book.states.items()
        for step in path.steps
        for text in step.say
    }


def _rows(step: dict[str, Any], texts: dict[str, str]) -> str:
    out = []
    for v in step["variants"]:
        effect = v["effect"]
        shown = "–" if effect is None else f"{effect['value']:+.1%} [{effect['lo']:+.1%}, {effect['hi']:+.1%}]"
        claim = CLAIMS.get(v["claim"] or "", '<span class="muted">no claim</span>')
        words = texts.get(v["variant"], v["variant"])
        out.append(
            f"<tr><td>{e(step['state'])} / {e(step['step'])}</td><td>{e(words)}</td>"
            f"<td>{v['cards']:,}</td><td>{_share(v['eased'])}</td><td>{_share(v['followed'])}</td>"
            f"<td>{shown}</td><td>{claim}</td></tr>"
        )
    return "".join(out)
