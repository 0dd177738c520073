"""The simulated customer: plays a scenario's beats and reacts to the engine's reading of each reply.

Every agent reply goes through a live `CallSession` (pipeline.py), the same reading a live call
gets: its behaviours, whether it missed the cue, whether it did what the card asked. The branch
rules (docs/practice.md, "Branch rules") pick the customer's next line from that reading alone.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Literal

from empathy_engine.advice import CueCard
from empathy_engine.events import Utterance
from empathy_engine.ingest.conversation import MAX_TEXT_CHARS
from empathy_engine.pipeline import CallSession, Engine
from empathy_engine.practice.scenario import Outcome, Scenario
from empathy_engine.results import AgentTurn, CustomerInsight

Branch = Literal["better", "worse", "safety"]
_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Exchange:
    """One agent reply and how it landed."""

    customer: str  # what the customer had just said (as the engine read it: PII masked)
    card: CueCard | None  # the card that was up, as a live call shows it
    pending: tuple[str, ...]  # the customer states that asked for a response
    reply: str  # the agent's reply, PII masked
    behaviours: tuple[str, ...]
    answered: tuple[str, ...]
    missed_cue: bool
    followed: bool | None  # None: no card was up
    branch: Branch


@dataclass(frozen=True, slots=True)
class Prompt:
    """What the agent sees now: the customer's line and the card (None once the call has ended)."""

    customer: str
    card: CueCard | None
    states: tuple[str, ...]
    outcome: Outcome | None = None


@dataclass(slots=True)
class PracticeSession:
    """One practice call. `start()` gives the opening; `reply(text)` the customer's reaction."""

    engine: Engine
    scenario: Scenario
    call: CallSession = field(init=False)
    beat: int = 0
    strikes: int = 0
    outcome: Outcome | None = None
    exchanges: list[Exchange] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # every customer line, in order (the path taken)
    current: Prompt | None = None
    last: CustomerInsight | None = None

    def __post_init__(self) -> None:
        self.call = self.engine.open(self.scenario.call_started(f"practice-{self.scenario.id}-{next(_ids)}"))

    def start(self) -> Prompt:
        if self.current is None:
            self.current = self._customer_says(self.scenario.opening)
        return self.current

    def reply(self, text: str) -> Prompt:
        """The customer's reaction to the agent's reply `text` (one turn; at most MAX_TEXT_CHARS)."""
        prompt = self.start()
        if self.outcome is not None:
            raise ValueError("the practice call has ended; start a new one")
        text = " ".join(text.split())[:MAX_TEXT_CHARS]
        if not text:
            raise ValueError("an empty reply: type what you would say to the customer")
        turn, masked = self.call.hear(Utterance("agent", text))
        assert isinstance(turn, AgentTurn)
        exchange = self._judge(prompt, masked.text, turn)
        self.exchanges.append(exchange)
        line, outcome = self._next_line(exchange)
        self.current = self._customer_says(line, outcome)
        if self.current.outcome is None and len(self.exchanges) >= self.scenario.turn_limit:
            self.outcome = self.scenario.give_up.outcome  # out of turns: the customer gives up
            self.current = Prompt(self.current.customer, None, self.current.states, self.outcome)
        return self.current

    def _judge(self, prompt: Prompt, reply: str, turn: AgentTurn) -> Exchange:
        card = prompt.card
        followed = turn.follow_through[1] if card is not None and turn.follow_through else None
        pending = self.last.negative if self.last is not None else ()
        branch: Branch
        if card is not None and card.safety and not followed:
            branch = "safety"
        elif turn.missed_cue or followed is False:
            branch = "worse"
        else:
            branch = "better"
        return Exchange(
            prompt.customer, card, tuple(pending), reply, tuple(turn.behaviours), tuple(turn.answered),
            turn.missed_cue, followed, branch,
        )  # fmt: skip

    def _next_line(self, exchange: Exchange) -> tuple[str, Outcome | None]:
        beat = self.scenario.beats[self.beat]
        if exchange.branch == "better":
            self.beat += 1
            line = next((beat.behaviours[b] for b in exchange.behaviours if b in beat.behaviours), beat.better)
            return line, "resolved" if self.beat == len(self.scenario.beats) else None
        self.strikes += 1
        if self.strikes > self.scenario.patience:
            return self.scenario.give_up.line, self.scenario.give_up.outcome
        if exchange.branch == "safety" and self.scenario.safety_repeat:
            return self.scenario.safety_repeat, None
        return beat.worse, None

    def _customer_says(self, line: str, outcome: Outcome | None = None) -> Prompt:
        insight, masked = self.call.hear(Utterance("customer", line))
        assert isinstance(insight, CustomerInsight)
        self.lines.append(masked.text)
        self.outcome = outcome
        if outcome is not None:  # the call is over: no card to answer
            return Prompt(masked.text, None, tuple(insight.detected), outcome)
        self.last = insight
        card = insight.cues[0] if insight.cues else None
        return Prompt(masked.text, card, tuple(insight.detected))


def play(engine: Engine, scenario: Scenario, replies: list[str]) -> PracticeSession:
    """Play `scenario` with scripted `replies` until the call ends or the replies run out."""
    session = PracticeSession(engine, scenario)
    session.start()
    for text in replies:
        if session.outcome is not None:
            break
        if text.strip():
            session.reply(text)
    return session
