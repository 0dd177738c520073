"""The session report: per reply what it did and what the playbook would have said, a score, and
the one skill to work on (docs/practice.md, "Scoring")."""

from __future__ import annotations

from collections import Counter
from typing import Any

from empathy_engine.practice.session import Exchange, PracticeSession
from empathy_engine.taxonomy import STATE_NAMES

#: What a reply earns: it landed (the cue answered, the card followed), half when it answered the
#: customer but not the card's step, nothing when it missed the cue or skipped the safety step.
REPLY_POINTS = {"landed": 1.0, "partly": 0.5, "missed": 0.0}
#: What the call's end is worth; a fifth of the score (the replies are the rest).
OUTCOME_POINTS = {"resolved": 1.0, "escalated": 0.25, "hung_up": 0.0, "unfinished": 0.0}
OUTCOME_SHARE = 0.2
REPORT_VERSION = 1


def _grade(e: Exchange) -> str:
    if e.branch == "better":
        return "landed"
    if e.branch == "worse" and not e.missed_cue:
        return "partly"
    return "missed"


def _what_it_did(e: Exchange) -> str:
    shown = ", ".join(b.replace("_", " ") for b in e.behaviours if b != "none") or "nothing the engine recognises"
    if e.branch == "safety":
        return f"Skipped the safety step ({shown}); the customer is still in danger"
    if e.missed_cue:
        unanswered = ", ".join(STATE_NAMES.get(s, s).lower() for s in e.pending)  # type: ignore[call-overload]
        return f"Missed the cue: the customer was {unanswered} and the reply gave {shown}"
    if e.followed is False:
        return f"Answered the customer ({shown}) but not the card's step"
    return f"Landed: {shown}"


def _reply(e: Exchange, exam: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "customer": e.customer,
        "reply": e.reply,
        "behaviours": list(e.behaviours),
        "missed_cue": e.missed_cue,
        "followed": e.followed,
        "branch": e.branch,
        "grade": _grade(e),
        "points": REPLY_POINTS[_grade(e)],
        "did": _what_it_did(e),
    }
    if e.card is not None:  # what the playbook would have said: shown after the fact, even in an exam
        out["playbook"] = {"card": e.card.id, "state": e.card.state, "do": e.card.do, "say": e.card.say}
    out["card_shown"] = e.card is not None and not exam
    return out


def _skill(exchanges: list[Exchange]) -> dict[str, Any] | None:
    """The card step the agent fell short on most often (the first such, on a tie)."""
    short = [e for e in exchanges if e.branch != "better" and e.card is not None]
    if not short:
        missed = [e for e in exchanges if e.branch != "better"]
        if not missed:
            return None
        states = Counter(s for e in missed for s in e.pending)
        state = states.most_common(1)[0][0] if states else "neutral"
        return {"card": None, "state": state, "do": f"Respond to the customer's {state.replace('_', ' ')} first",
                "say": "", "times": len(missed)}  # fmt: skip
    counts = Counter(e.card.id for e in short if e.card is not None)
    card_id, times = counts.most_common(1)[0]
    card = next(e.card for e in short if e.card is not None and e.card.id == card_id)
    return {"card": card.id, "state": card.state, "do": card.do, "say": card.say, "times": times}


def score(session: PracticeSession) -> int:
    """0-100: four fifths the replies' points (mean), one fifth the call's outcome."""
    if not session.exchanges:
        return 0
    replies = sum(REPLY_POINTS[_grade(e)] for e in session.exchanges) / len(session.exchanges)
    outcome = OUTCOME_POINTS[session.outcome or "unfinished"]
    return round(100 * ((1 - OUTCOME_SHARE) * replies + OUTCOME_SHARE * outcome))


def session_report(session: PracticeSession, exam: bool = False) -> dict[str, Any]:
    return {
        "version": REPORT_VERSION,
        "scenario": session.scenario.id,
        "title": session.scenario.title,
        "exam": exam,
        "outcome": session.outcome or "unfinished",
        "score": score(session),
        "replies": [_reply(e, exam) for e in session.exchanges],
        "customer_lines": list(session.lines),
        "skill": _skill(session.exchanges),
    }
