"""Bot-to-human escalation: when a bot should step aside, and the packet the human starts from.

Evaluated after every customer turn of a bot-handled conversation. Safety and an explicit
request for a person hand over at once; the other reasons need the evidence to build up
(see `EscalationSettings`). Before it comes to that, the bot is told to offer a human as soon
as the customer's state turns negative.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from empathy_engine.advice import CueCard, Escalation
from empathy_engine.perception import vulnerability
from empathy_engine.perception.context import CallFacts
from empathy_engine.results import CustomerTurn
from empathy_engine.taxonomy import CLEAR_FROM, STATE_NAMES, AgentBehaviour

ASKED_FOR_HUMAN = re.compile(
    r"\b(real|actual|live) (person|human|people|agent|someone)\b|\bhuman\b|\boperator\b|\brepresentative\b|"
    r"\b(talk|speak|chat) (to|with) (a |an |some)?(one|body|person|agent|manager|supervisor|technician|staff)|"
    r"\b(talk|speak) to \w+ or (some|any)(one|body)|\bget \w+ on the (phone|line)\b|"
    r"\b(can|could) (some|any)(one|body) (call|ring|phone) me\b|\b(call|ring) me back\b|\bgive me a call\b|"
    r"\bstop the (bot|robot)|\b(is|isn'?t) there (a |any|some)(one|body|person|human)\b|"
    r"\b(put|transfer\w*|connect) (me )?(through )?(to|with) (some|any|a )|\bnot (a|another) (bot|robot|machine)\b|"
    r"\b(agent|person|human),? please\b|\b(a|some) ?(person|one|body),? please\b|\bget me (a|someone|somebody)\b",
    re.I,
)
HIGH_VALUE = re.compile(
    r"\bcancel\w* (my |the |our )?(service |maintenance |protection )?(plan|membership|contract|account|"
    r"subscription|agreement|warranty)|\bcancel\w* (with )?(you|y'?all)\b|"
    r"\b(bad|terrible|1[- ]star|one[- ]star|negative) review\b|\breview (on|you)\b|\byelp\b|\bbbb\b|"
    r"better business bureau|\blawyer\b|\battorney\b|\bsue\b|\brefund\b|\bchargeback\b|\bnever (use|call|hire) you\b|"
    r"\bswitch(ing)? (to )?(another|a different) (company|provider)\b|\breport (you|this)\b|\bcomplaint\b",
    re.I,
)
NOT_UNDERSTOOD = re.compile(
    r"\b(that'?s not what i (said|asked|meant)|i (already|just) (said|told|asked|explained)|no,? i said|"
    r"you'?re not (understanding|listening|getting it)|you don'?t understand|that'?s not (it|right|my question)|"
    r"did you (even )?read what i)\b"
    # A correction right at the start of the turn: "not the invoice", "I'm asking about..."
    r"|^\W*(not (the|a|an|that|this|what|my)\b|wrong\b|again\b|i'?m (asking|talking) about\b|"
    r"i (said|meant)\b|i didn'?t (say|ask|enter|want)\b)",
    re.I,
)
#: "No, ..." corrects the bot only when the bot did not just ask a question ("Is anyone in danger?" "No").
LEADING_NO = re.compile(r"^\W*(no|nope)\b", re.I)
SHOUTED = re.compile(r"\b[A-Z]{4,}\b")
BOT_FALLBACK = re.compile(
    r"\b(didn'?t|did not|don'?t|do not) (quite )?(understand|get|catch) (that|you|what)|\bcould you (please )?"
    r"(rephrase|say that again|try again)|\bi'?m not sure (i understand|what you mean)|\bsorry,? i (didn'?t|can'?t)",
    re.I,
)
NO_HEAT = re.compile(
    r"\b(no heat|heat (went|is|'s|has gone) (out|off)|(furnace|heater|boiler|heat pump) (just )?(stopped|died|quit|"
    r"isn'?t working|is not working|won'?t (turn|come) on|is out|went out)|(\d\d|forty|fifty)[- ]?\w* degrees|"
    r"freezing|no (ac|a/c|air|cooling)|heat ?wave|(100|1\d\d) degrees)\b",
    re.I,
)

NEEDS = {
    "frustration": "needs acknowledgement and a concrete plan with a time",
    "urgency": "needs action now",
    "confusion": "needs a plain-words explanation",
    "cost_anxiety": "needs the budget acknowledged before any price",
    "worry": "needs reassurance with specifics",
    "dejection": "needs someone to ask what is really wrong",
    "distrust": "needs reassurance about reliability",
}
ADJECTIVE = STATE_NAMES  # one name per state everywhere (taxonomy.py)
ORDINAL = {2: "Second", 3: "Third", 4: "Fourth", 5: "Fifth"}
#: Which reason wins when several hold at once.
PRECEDENCE = (
    "safety_emergency",
    "asked_for_human",
    "vulnerable_customer",
    "high_value_complaint",
    "bot_not_understanding",
    "rising_frustration",
)


@dataclass(frozen=True, slots=True)
class EscalationSettings:
    """Thresholds (scores are the calibrated state scores: 0.5 is detection)."""

    strong_frustration: float = 0.95  # intensity of frustration at any single turn
    rising_from: float = CLEAR_FROM  # clear frustration above an earlier frustrated turn is "rising"
    rephrase_similarity: float = 0.90  # a customer turn this close to an earlier one is a rephrase
    bot_failures: int = 2  # rephrases or "that's not what I said" before handing over
    crm_vulnerable_worry: float = 0.9  # worry/urgency at which CRM notes alone (not the words) hand over
    offer_intensity: float = CLEAR_FROM  # a clear negative state makes the bot offer a human
    offer_human_proactively: bool = True


@dataclass(slots=True)
class EscalationMemory:
    """Per bot call: what the policy has seen so far (bounded)."""

    facts: CallFacts
    contacts: int = 1  # this contact, plus unresolved earlier ones about the issue
    frustration: deque[float] = field(default_factory=lambda: deque(maxlen=4))
    earlier: deque[np.ndarray] = field(default_factory=lambda: deque(maxlen=6))
    trajectory: deque[str] = field(default_factory=lambda: deque(maxlen=12))  # the latest customer turns
    tried: list[str] = field(default_factory=list)
    failures: int = 0
    last_bot: str = ""
    vulnerable: bool = False  # the customer has said someone at risk is involved
    no_heat: bool = False  # ... and that they are without heat (or cooling)
    earlier_words: deque[frozenset[str]] = field(default_factory=lambda: deque(maxlen=6))
    offered: bool = False
    escalation: Escalation | None = None


class EscalationPolicy:
    def __init__(self, settings: EscalationSettings | None = None) -> None:
        self.settings = settings or EscalationSettings()

    def observe_agent(self, behaviours: tuple[AgentBehaviour, ...], text: str, memory: EscalationMemory) -> None:
        """The bot's turn: what it tried, and whether it failed (a fallback reply, or the same reply again)."""
        said = " ".join(text.lower().split())
        if BOT_FALLBACK.search(text) or said == memory.last_bot:
            memory.failures += 1
        memory.last_bot = said
        for b in behaviours:
            if b not in memory.tried and b != "none":
                memory.tried.append(b)

    def observe_customer(
        self, turn: CustomerTurn, card: CueCard | None, text: str, fingerprint: np.ndarray, memory: EscalationMemory
    ) -> tuple[Escalation | None, bool]:
        """(the hand-over, if this turn calls for one; whether to offer a human proactively now).
        `card`: the coach's card for this turn; a safety card hands over at once."""
        s = self.settings
        if memory.escalation is not None:
            return None, False
        memory.trajectory.append(turn.primary)
        self._count_failure(text, fingerprint, memory)
        frustration = turn.intensity_of("frustration")
        rising = frustration >= s.rising_from and any(0 < f < frustration for f in memory.frustration)
        memory.frustration.append(frustration)
        safety = card if card is not None and card.safety else None
        reasons = self._reasons(turn, safety, text, frustration >= s.strong_frustration or rising, memory)
        reason = next((r for r in PRECEDENCE if r in reasons), None)
        if reason is not None:
            handoff = self._handoff(turn, reasons[reason], safety, memory)
            memory.escalation = Escalation(turn.index, reason, handoff)
            return memory.escalation, False
        clear = any(turn.intensity_of(st) >= s.offer_intensity for st in turn.negative)
        offer = s.offer_human_proactively and not memory.offered and clear
        memory.offered = memory.offered or offer
        return None, offer

    def _count_failure(self, text: str, fingerprint: np.ndarray, memory: EscalationMemory) -> None:
        """A customer turn that says the bot got it wrong: a rephrase, a word shouted again, a correction."""
        rephrase = any(
            float(fingerprint @ e.astype(np.float32)) >= self.settings.rephrase_similarity for e in memory.earlier
        )
        shouted = {w.lower() for w in SHOUTED.findall(text)} & set().union(*memory.earlier_words)
        answered_a_question = memory.last_bot.rstrip().endswith("?")
        corrected = NOT_UNDERSTOOD.search(text) or (LEADING_NO.search(text) and not answered_a_question)
        if memory.last_bot and (rephrase or shouted or corrected):
            memory.failures += 1
        memory.earlier.append(fingerprint.astype(np.float16))
        memory.earlier_words.append(frozenset(w.lower() for w in re.findall(r"[a-zA-Z]{4,}", text)[:40]))

    def _reasons(
        self, turn: CustomerTurn, safety: CueCard | None, text: str, frustrated: bool, memory: EscalationMemory
    ) -> dict[str, str]:
        """Each reason that holds, with the words or facts behind it (for the hand-over summary)."""
        s, facts = self.settings, memory.facts
        vulnerable = vulnerability.IN_WORDS.search(text)
        memory.vulnerable = memory.vulnerable or bool(vulnerable)
        memory.no_heat = memory.no_heat or bool(NO_HEAT.search(text))
        reasons: dict[str, str] = {}
        safety_why = safety.why if safety else None
        if safety is None and memory.vulnerable and memory.no_heat and turn.negative:
            safety_why = "no heat for someone vulnerable"  # a safety emergency (TAXONOMY.md)
        if safety_why:
            reasons["safety_emergency"] = f"Safety: “{safety_why}” — give the safety step first."
        if asked := ASKED_FOR_HUMAN.search(text):
            reasons["asked_for_human"] = f"Asked for a person (“{asked.group(0)}”)."
        worry = max(turn.intensity_of("worry"), turn.intensity_of("urgency"))
        if (vulnerable and turn.negative) or (facts.vulnerable and worry >= s.crm_vulnerable_worry):
            who = f"“{vulnerable.group(0)}”" if vulnerable else f"their {facts.relation or 'household'}"
            reasons["vulnerable_customer"] = f"Vulnerable customer ({who})."
        if complaint := HIGH_VALUE.search(text):
            reasons["high_value_complaint"] = f"Serious complaint (“{complaint.group(0)}”)."
        elif memory.contacts > 1 and {"frustration", "distrust"} & set(turn.detected):
            reasons["high_value_complaint"] = "Repeat contact about an unresolved issue."
        if frustrated:
            reasons["rising_frustration"] = "Frustration has been building with the assistant."
        if memory.failures >= s.bot_failures:
            reasons["bot_not_understanding"] = (
                f"The assistant misunderstood {memory.failures} times; don't make them repeat it."
            )
        return reasons

    def _handoff(
        self, turn: CustomerTurn, why: str, safety: CueCard | None, memory: EscalationMemory
    ) -> dict[str, Any]:
        """Two lines a human reads in five seconds, the states, what was tried, and how to open."""
        facts = memory.facts
        state = turn.negative[0] if turn.negative else None
        quote = next((e.quote for e in turn.evidence if e.state == state and e.source != "context"), None)
        if state:
            first = f"{ADJECTIVE[state]}" + (f" (“{quote}”)" if quote else "") + f"; {NEEDS[state]}."
        else:
            first = "Calm so far, but wants to move on from the assistant."
        second = why
        if memory.contacts > 1 and facts.issue:
            second += f" {ORDINAL.get(memory.contacts, 'Repeat')} contact about {facts.issue}."
        name = f" {facts.name}" if facts.name else ""
        opening = (
            f"Hi{name}, I'm taking over from our assistant and I've read everything, so you won't have to repeat "
            f"yourself."
        )
        if safety is not None:
            opening += f" First, for your safety: {safety.say}"
        elif state in {"frustration", "distrust"}:
            opening += " I'm sorry it's taken this long — let's get it sorted now."
        elif state in {"urgency", "worry"}:
            opening += " I understand this is urgent, and I'm on it right now."
        return {
            "summary": f"{first}\n{second}",
            "states": {k: round(v, 3) for k, v in turn.states.items()},
            "trajectory": list(memory.trajectory),
            "tried": list(memory.tried),
            "context": {k: v for k, v in {**facts.values(), "contacts": memory.contacts}.items() if v},
            "opening_line": opening,
        }
