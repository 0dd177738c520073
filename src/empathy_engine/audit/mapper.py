"""The audit's MAP step: one analysed call -> one small `CallRecord`. A pure function.

It reads the engine's result as the documented dictionary (docs/output-format.md), so it sees
whatever later versions add: cue cards on customer turns (`cues`, from coaching) become the
"what the playbook would have done" of a miss, and a conversation-level `escalation`
(bot-handled calls) is counted. Without them it falls back to the taxonomy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from empathy_engine.audit.records import Advice, CallRecord, Miss, Moment, clip
from empathy_engine.events import CallStarted
from empathy_engine.taxonomy import NEGATIVE_STATES, RESPONSES, intensity_of

_NEGATIVE = frozenset(NEGATIVE_STATES)

#: What answering each state looks like, in words a QA lead uses (the taxonomy's RESPONSES).
ADVICE: dict[str, str] = {
    "frustration": "Acknowledge the frustration or apologise, then say what happens next",
    "urgency": "Treat it as urgent: commit to speed and give the concrete next step",
    "confusion": "Explain in plain words, then check it made sense",
    "cost_anxiety": "Acknowledge the money worry before (or while) talking price",
    "worry": "Name the worry and reassure with specifics (safety steps, guarantees)",
    "dejection": "Invite what is unsaid: ask what would make it right",
    "distrust": "Own the past failure and reassure with something checkable",
}

#: How a reply that missed the cue usually reads, by its strongest behaviour.
INSTEAD: dict[str, str] = {
    "informational": "goes straight to facts or price",
    "none": "says nothing that responds",
    "offer_human": "hands the customer off",
    "action_plan": "jumps to next steps",
    "clarify": "explains without acknowledging",
    "confirm_understanding": "checks understanding only",
    "urgency_ack": "promises speed only",
    "reassure": "reassures about something else",
    "budget_ack": "talks about money only",
    "apologize": "apologises without addressing it",
    "validate": "validates something else",
    "acknowledge_emotion": "acknowledges a different feeling",
    "probe_deeper": "asks about something else",
}


def sentiment_of(states: Mapping[str, float]) -> float:
    """A customer turn's sentiment in [-1, 1]: satisfaction minus the strongest state that asks for a response."""
    worst = max((float(states.get(s, 0.0)) for s in NEGATIVE_STATES), default=0.0)
    return round(float(states.get("satisfaction", 0.0)) - worst, 3)


def advice_for(customer_turn: Mapping[str, Any], pending: Sequence[str]) -> tuple[tuple[Advice, ...], bool]:
    """The cue cards shown on this turn when coaching ran; else what the taxonomy expects per state."""
    cards = customer_turn.get("cues") or []
    if cards:
        return tuple(_card(c) for c in cards if isinstance(c, Mapping)), True
    return tuple(
        Advice(s, f"{ADVICE[s]} ({', '.join(sorted(RESPONSES[s]))})", source="taxonomy") for s in pending
    ), False


def _card(card: Mapping[str, Any]) -> Advice:
    return Advice(
        state=str(card.get("state", "")),
        do=str(card.get("do", "")),
        say=str(card.get("say", "")),
        avoid=tuple(str(a) for a in card.get("avoid", ()) or ()),
        source=str(card.get("source", "playbook")),
        followed=card.get("followed"),
    )


def audit_call(start: CallStarted, texts: Sequence[str], result: Mapping[str, Any], where: str = "") -> CallRecord:
    """Summarise one analysed call. `texts` are the utterances' words, in the order of `result["turns"]`."""
    call_id = str(result.get("id", start.call_id))
    agent = start.agent_id or "unknown"
    turns: list[Mapping[str, Any]] = result["turns"]
    sentiment: list[float] = []
    judged = answered = 0
    judged_states: set[str] = set()
    missed_states: set[str] = set()
    misses: list[Miss] = []
    best: Moment | None = None
    first_emotional: Mapping[str, Any] | None = None
    first_ack_s: float | None = None
    first_ack_replies: int | None = None
    pending: tuple[Mapping[str, Any], tuple[str, ...]] | None = None
    last_customer: Mapping[str, Any] | None = None

    for turn in turns:
        if turn["speaker"] == "customer":
            states = turn.get("states", {})
            sentiment.append(sentiment_of(states))
            neg = tuple(sorted((s for s in turn.get("detected", ()) if s in _NEGATIVE), key=lambda s: -states[s]))
            if neg and first_emotional is None:
                first_emotional = turn
            pending = (turn, neg) if neg else None
            last_customer = turn
            continue
        if pending is None:
            continue
        customer, neg = pending
        position = len(sentiment) - 1  # the pending turn is the customer's latest
        pending = None  # only the first reply after a customer turn is judged
        judged += 1
        judged_states.update(neg)
        state = neg[0]
        intensity = round(intensity_of(float(customer["states"][state])), 2)
        quote = clip(texts[customer["index"]])
        reply = clip(texts[turn["index"]])
        behaviours = tuple(turn.get("behaviours", ()))
        if turn.get("missed_cue"):
            missed_states.update(neg)
            advice, from_cues = advice_for(customer, neg)
            misses.append(
                Miss(
                    call_id=call_id,
                    agent=agent,
                    turn=turn["index"],
                    customer_turn=customer["index"],
                    position=position,
                    t=customer.get("t"),
                    state=state,
                    pending=neg,
                    intensity=intensity,
                    quote=quote,
                    evidence=tuple(e["quote"] for e in customer.get("evidence", ()) if e.get("state") == state)[:2],
                    reply=reply,
                    behaviours=behaviours,
                    advice=advice,
                    from_cues=from_cues,
                )
            )
            continue
        answered += 1
        if first_ack_replies is None:
            first_ack_replies = judged
            if first_emotional is not None and turn.get("t") is not None and first_emotional.get("t") is not None:
                first_ack_s = round(max(0.0, float(turn["t"]) - float(first_emotional["t"])), 1)
        moment = Moment(call_id, agent, turn["index"], state, intensity, quote, reply, behaviours)
        if best is None or moment.key() < best.key():
            best = moment

    summary = result.get("summary", {})
    peak = summary.get("peak")
    recovered = None
    if peak is not None and last_customer is not None:
        recovered = not any(s in _NEGATIVE for s in last_customer.get("detected", ()))
    escalation = result.get("escalation")
    escalated = isinstance(escalation, Mapping)
    started = start.started_at
    return CallRecord(
        id=call_id,
        where=where,
        agent=agent,
        customer=start.customer.id,
        started_at=started.isoformat() if started else None,
        day=started.date().isoformat() if started else None,
        service=start.service,
        channel=start.channel,
        handled_by=start.handled_by,
        turns=len(turns),
        customer_turns=len(sentiment),
        judged=judged,
        answered=answered,
        empathy_score=round(answered / judged, 4) if judged else None,
        missed_cues=len(misses),
        first_ack_s=first_ack_s,
        first_ack_replies=first_ack_replies,
        acknowledged=None if judged == 0 else first_ack_replies is not None,
        start=summary.get("start"),
        peak_state=peak["state"] if peak else None,
        peak_intensity=peak["intensity"] if peak else None,
        peak_turn=peak["turn"] if peak else None,
        end=summary.get("end"),
        recovered=recovered,
        sentiment=tuple(sentiment),
        judged_states=tuple(s for s in NEGATIVE_STATES if s in judged_states),
        missed_states=tuple(s for s in NEGATIVE_STATES if s in missed_states),
        misses=tuple(misses),
        best=best,
        escalated=escalated,
        escalation_reason=str(escalation.get("reason")) if escalated and escalation.get("reason") else None,
        escalation_turn=escalation.get("at_turn") if escalated else None,
    )
