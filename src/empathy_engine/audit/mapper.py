"""The audit's MAP step: one analysed call -> one small `CallRecord`. A pure function.

It reads the engine's typed result (a stored results file is read into the same types first):
cue cards on customer turns become the "what the playbook would have done" of a miss, and a
bot-handled call's hand-over is counted. Without cards it falls back to the taxonomy.

Scores are read at the documented output's precision, so an audit of live calls and one of
the same calls' results file give the same records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from empathy_engine.advice import CueCard
from empathy_engine.audit.records import Advice, CallRecord, Miss, Moment, clip
from empathy_engine.events import CallStarted
from empathy_engine.learning.rewards import typed_cards
from empathy_engine.results import (
    INTENSITY_DIGITS,
    SCORE_DIGITS,
    AgentTurn,
    ConversationResult,
    CustomerInsight,
    empathy_score,
)
from empathy_engine.taxonomy import NEGATIVE_STATES, RESPONSES, CustomerState, intensity_of

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


def sentiment_of(states: Mapping[CustomerState, float]) -> float:
    """A customer turn's sentiment in [-1, 1]: satisfaction minus the strongest state that asks for a response."""
    worst = max((float(states.get(s, 0.0)) for s in NEGATIVE_STATES), default=0.0)
    return round(float(states.get("satisfaction", 0.0)) - worst, 3)


def advice_for(
    turn: CustomerInsight, pending: Sequence[CustomerState], reply: AgentTurn
) -> tuple[tuple[Advice, ...], bool]:
    """The cue cards shown on this turn when coaching ran; else what the taxonomy expects per state."""
    if turn.cues:
        return tuple(_card(c, reply) for c in turn.cues), True
    return tuple(
        Advice(s, f"{ADVICE[s]} ({', '.join(sorted(RESPONSES[s]))})", source="taxonomy") for s in pending
    ), False


def _card(card: CueCard, reply: AgentTurn) -> Advice:
    follow = reply.follow_through
    followed = follow[1] if follow is not None and follow[0] == card.id else None
    return Advice(card.state, card.do, card.say, card.avoid, card.source, followed)


def _scores(turn: CustomerInsight) -> dict[CustomerState, float]:
    return {s: round(v, SCORE_DIGITS) for s, v in turn.states.items()}


@dataclass(slots=True)
class _Walk:
    """What one pass over the turns finds: each emotional customer turn judged by the first reply."""

    call_id: str
    agent: str
    texts: Sequence[str]
    sentiment: list[float] = field(default_factory=list)
    judged: int = 0
    answered: int = 0
    judged_states: set[str] = field(default_factory=set)
    missed_states: set[str] = field(default_factory=set)
    misses: list[Miss] = field(default_factory=list)
    best: Moment | None = None
    first_emotional: CustomerInsight | None = None
    first_ack_s: float | None = None
    first_ack_replies: int | None = None
    pending: tuple[CustomerInsight, tuple[CustomerState, ...]] | None = None
    last_customer: CustomerInsight | None = None

    def customer(self, turn: CustomerInsight) -> None:
        scores = _scores(turn)
        self.sentiment.append(sentiment_of(scores))
        neg = tuple(sorted(turn.negative, key=lambda s: -scores[s]))
        if neg and self.first_emotional is None:
            self.first_emotional = turn
        self.pending = (turn, neg) if neg else None
        self.last_customer = turn

    def reply(self, turn: AgentTurn) -> None:
        if self.pending is None:
            return
        customer, neg = self.pending
        self.pending = None  # only the first reply after a customer turn is judged
        self.judged += 1
        self.judged_states.update(neg)
        state = neg[0]
        intensity = round(intensity_of(_scores(customer)[state]), INTENSITY_DIGITS)
        quote, reply = clip(self.texts[customer.index]), clip(self.texts[turn.index])
        if turn.missed_cue:
            self.missed_states.update(neg)
            self.misses.append(self._miss(customer, neg, turn, intensity, quote, reply))
            return
        self.answered += 1
        if self.first_ack_replies is None:
            self.first_ack_replies = self.judged
            first = self.first_emotional
            if first is not None and turn.t is not None and first.t is not None:
                self.first_ack_s = round(max(0.0, float(turn.t) - float(first.t)), 1)
        moment = Moment(self.call_id, self.agent, turn.index, state, intensity, quote, reply, turn.behaviours)
        if self.best is None or moment.key() < self.best.key():
            self.best = moment

    def _miss(
        self, customer: CustomerInsight, neg: tuple[CustomerState, ...], turn: AgentTurn, intensity: float,
        quote: str, reply: str,
    ) -> Miss:  # fmt: skip
        state = neg[0]
        advice, from_cues = advice_for(customer, neg, turn)
        return Miss(
            call_id=self.call_id,
            agent=self.agent,
            turn=turn.index,
            customer_turn=customer.index,
            position=len(self.sentiment) - 1,  # the pending turn is the customer's latest
            t=customer.t,
            state=state,
            pending=neg,
            intensity=intensity,
            quote=quote,
            evidence=tuple(e.quote for e in customer.evidence if e.state == state)[:2],
            reply=reply,
            behaviours=turn.behaviours,
            advice=advice,
            from_cues=from_cues,
        )


def audit_call(
    start: CallStarted, texts: Sequence[str], result: ConversationResult | Mapping[str, Any], where: str = ""
) -> CallRecord:
    """Summarise one analysed call. `texts` are the utterances' words, in the order of the result's turns;
    `result` is the engine's, or a stored one (docs/output-format.md), read into the same types here."""
    if not isinstance(result, ConversationResult):
        result = ConversationResult.from_dict(result)
    walk = _Walk(result.id or start.call_id, start.agent_id or "unknown", texts)
    for turn in result.turns:
        if isinstance(turn, CustomerInsight):
            walk.customer(turn)
        else:
            walk.reply(turn)
    return _record(start, result, walk, where)


def _record(start: CallStarted, result: ConversationResult, walk: _Walk, where: str) -> CallRecord:
    summary, peak, last = result.summary, result.summary.peak, walk.last_customer
    recovered = None if peak is None or last is None else not last.negative
    escalation = result.escalation
    started = start.started_at
    score = empathy_score(walk.answered, walk.judged)
    return CallRecord(
        id=walk.call_id,
        where=where,
        agent=walk.agent,
        customer=start.customer.id,
        started_at=started.isoformat() if started else None,
        day=started.date().isoformat() if started else None,
        service=start.service,
        channel=start.channel,
        handled_by=start.handled_by,
        turns=len(result.turns),
        customer_turns=len(walk.sentiment),
        judged=walk.judged,
        answered=walk.answered,
        empathy_score=None if score is None else round(score, 4),
        missed_cues=len(walk.misses),
        first_ack_s=walk.first_ack_s,
        first_ack_replies=walk.first_ack_replies,
        acknowledged=None if walk.judged == 0 else walk.first_ack_replies is not None,
        start=summary.start,
        peak_state=peak.state if peak else None,
        peak_intensity=round(peak.intensity, INTENSITY_DIGITS) if peak else None,
        peak_turn=peak.turn if peak else None,
        end=summary.end,
        recovered=recovered,
        sentiment=tuple(walk.sentiment),
        judged_states=tuple(s for s in NEGATIVE_STATES if s in walk.judged_states),
        missed_states=tuple(s for s in NEGATIVE_STATES if s in walk.missed_states),
        misses=tuple(walk.misses),
        best=walk.best,
        escalated=escalation is not None,
        escalation_reason=escalation.reason if escalation else None,
        escalation_turn=escalation.at_turn if escalation else None,
        cards=tuple(typed_cards(result)),
        repeat_caller=bool(start.customer.prior_contacts),
    )
