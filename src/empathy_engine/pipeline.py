"""The streaming pipeline: events -> signals -> state -> turn results.

A live call and a batch audit run exactly this code: `Engine.open` gives a `CallSession`
fed one utterance at a time; `Engine.analyze` feeds a whole stored conversation through one.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from empathy_engine.coaching.coach import Coach, CoachMemory
from empathy_engine.coaching.exemplars import ExemplarLibrary
from empathy_engine.coaching.personalise import call_facts
from empathy_engine.coaching.playbook import load_playbook
from empathy_engine.events import CallEnded, CallStarted, Event, Utterance
from empathy_engine.perception.behaviour import answered_states, behaviours_of
from empathy_engine.perception.context import CallContextPerceiver, ContextSettings
from empathy_engine.perception.patterns import Context, ConversationPatternPerceiver
from empathy_engine.perception.text import TextEmotionPerceiver
from empathy_engine.perception.text_model import TextModel
from empathy_engine.results import AgentTurn, ConversationResult, CustomerTurn, TurnResult
from empathy_engine.state.tracker import CallMemory, fuse


@dataclass(frozen=True, slots=True)
class EngineSettings:
    context: ContextSettings = field(default_factory=ContextSettings)
    model: str = "text-emotion-v1"
    #: A user playbook overriding the shipped one (see coaching/playbook.yaml); None: shipped only.
    playbook: Path | None = None
    #: An exemplar library built by `empathy exemplars build`; None: playbook phrasings only.
    exemplars: Path | None = None


class Engine:
    """The perceivers, loaded once and shared (read-only) by every call."""

    def __init__(self, settings: EngineSettings | None = None, model: TextModel | None = None) -> None:
        self.settings = settings or EngineSettings()
        self.text = TextEmotionPerceiver(model or TextModel.bundled(self.settings.model))
        self.patterns = ConversationPatternPerceiver()
        self.context = CallContextPerceiver(self.settings.context)
        library = ExemplarLibrary.load(self.settings.exemplars) if self.settings.exemplars else None
        self.coach = Coach(load_playbook(self.settings.playbook), library)

    def open(self, call: CallStarted) -> CallSession:
        return CallSession(self, call)

    def analyze(self, events: Iterable[Event]) -> ConversationResult:
        """Run a stored conversation through a live session, turn by turn, never looking ahead."""
        session: CallSession | None = None
        turns: list[TurnResult] = []
        for event in events:
            if isinstance(event, CallStarted):
                session = self.open(event)
            elif isinstance(event, Utterance):
                if session is None:
                    raise ValueError("an utterance came before the call started")
                turns.append(session.feed(event))
            elif isinstance(event, CallEnded):
                break
        if session is None:
            raise ValueError("no call start in the events")
        return ConversationResult(session.call.call_id, tuple(turns), session.memory.summary())


class CallSession:
    """One live call: feed it utterances in order, get each turn's result back at once."""

    def __init__(self, engine: Engine, call: CallStarted) -> None:
        self.engine = engine
        self.call = call
        self.memory = CallMemory(context=engine.context.perceive(call))
        self.coaching = CoachMemory(call_facts(call, engine.settings.context))

    def feed(self, utterance: Utterance) -> TurnResult:
        if utterance.speaker == "customer":
            return self._customer(utterance)
        return self._agent(utterance)

    def _customer(self, u: Utterance) -> CustomerTurn:
        m = self.memory
        reading = self.engine.text.read(u.text)
        fingerprint = reading.prediction.fingerprint
        window = Context(m.last_agent_text, tuple(m.earlier_customer))
        signals = self.engine.patterns.perceive(u.text, fingerprint, window)
        turn = fuse(reading, signals, m.context, m.customer_turns, m.last_scores, m.turns, u.t)
        card = self.engine.coach.card_for(turn, u.text, fingerprint, self.coaching)
        if card is not None:
            turn = replace(turn, cues=(card,))
        m.record_customer(turn, u.text, fingerprint)
        return turn

    def _agent(self, u: Utterance) -> AgentTurn:
        m = self.memory
        behaviours = behaviours_of(self.engine.text.read(u.text))
        pending = m.last_customer.negative if m.last_customer else ()
        answered = answered_states(behaviours, pending)
        follow = self.engine.coach.on_agent(behaviours, self.coaching)
        turn = AgentTurn(m.turns, behaviours, bool(pending) and not answered, answered, u.t, follow)
        m.record_agent(turn, u.text)
        return turn

    def state_bytes(self) -> int:
        """Size of what this call keeps between turns (the shared model is not counted)."""
        return len(pickle.dumps((self.memory, self.coaching)))
