"""The streaming pipeline: events -> signals -> state -> turn results.

A live call and a batch audit run exactly this code: `Engine.open` gives a `CallSession`
fed one utterance at a time; `Engine.analyze` feeds a whole stored conversation through one.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from empathy_engine.advice import CueCard
from empathy_engine.coaching.choice import context_of
from empathy_engine.coaching.coach import Coach, CoachMemory
from empathy_engine.coaching.escalation import EscalationMemory, EscalationPolicy, EscalationSettings
from empathy_engine.coaching.exemplars import ExemplarLibrary
from empathy_engine.coaching.explainer import Explainer
from empathy_engine.coaching.playbook import load_playbook
from empathy_engine.events import AudioChunk, CallEnded, CallStarted, Event, Utterance
from empathy_engine.ingest.audio import ANALYSIS_RATE, Recording, read_recording, read_wav
from empathy_engine.ingest.conversation import ConversationV1, describe
from empathy_engine.perception import fusion_weights
from empathy_engine.perception.behaviour import answered_states, behaviours_of
from empathy_engine.perception.context import CallContextPerceiver, ContextSettings
from empathy_engine.perception.patterns import ConversationPatternPerceiver
from empathy_engine.perception.prosody import ProsodyPerceiver, VoiceReading, VoiceTracker
from empathy_engine.perception.prosody_fusion import voice_signals
from empathy_engine.perception.text import TextEmotionPerceiver, TextReading
from empathy_engine.perception.text_model import DEFAULT_MODEL, TextModel
from empathy_engine.privacy import CallRedaction
from empathy_engine.results import AgentTurn, ConversationResult, CustomerInsight, CustomerTurn, Insight
from empathy_engine.state.tracker import CallMemory, fuse


@dataclass(frozen=True, slots=True)
class EngineSettings:
    context: ContextSettings = field(default_factory=ContextSettings)
    model: str = DEFAULT_MODEL
    #: A user playbook overriding the shipped one (see coaching/playbook.yaml); None: shipped only.
    playbook: Path | None = None
    #: An exemplar library built by `empathy exemplars build`; None: playbook phrasings only.
    exemplars: Path | None = None
    escalation: EscalationSettings = field(default_factory=EscalationSettings)
    #: The fusion weights artefact (models/<name>/weights.json, made by training/fit_fusion.py).
    fusion: str = fusion_weights.DEFAULT
    #: A cue policy from `empathy learn fit` (docs/learning.md); None: phrasings drawn uniformly.
    policy: Path | None = None
    #: The idiom explainer on every call (a call may still turn it on alone: `Engine.open`).
    explain: bool = False
    #: A user lexicon extending the shipped one (see coaching/lexicon.yaml); None: shipped only.
    lexicon: Path | None = None


class Engine:
    """The perceivers, loaded once and shared (read-only) by every call."""

    def __init__(self, settings: EngineSettings | None = None, model: TextModel | None = None) -> None:
        self.settings = settings or EngineSettings()
        self.text = TextEmotionPerceiver(model or TextModel.bundled(self.settings.model))
        self.fusion = fusion_weights.bundled(self.settings.fusion)
        self.patterns = ConversationPatternPerceiver(self.fusion.patterns)
        self.context = CallContextPerceiver(self.settings.context, self.fusion.context)
        library = ExemplarLibrary.load(self.settings.exemplars) if self.settings.exemplars else None
        self.coach = Coach(load_playbook(self.settings.playbook), library, _policy(self.settings.policy))
        self.escalation = EscalationPolicy(self.settings.escalation)
        self.voice = ProsodyPerceiver()
        self._explainer: Explainer | None = None
        if self.settings.explain or self.settings.lexicon:
            self.explainer()  # a broken lexicon file is reported now, not at the first idiom

    def open(self, call: CallStarted, explain: bool | None = None) -> CallSession:
        """A live call. `explain`: the idiom explainer for this call (an agent marked as needing
        it); None: as the settings say."""
        return CallSession(self, call, self.settings.explain if explain is None else explain)

    def explainer(self) -> Explainer:
        """The idiom lexicon, compiled at the first call that uses it (shared by all calls)."""
        if self._explainer is None:
            self._explainer = Explainer.load(self.settings.lexicon)
        return self._explainer

    def analyze(
        self,
        conversation: ConversationV1 | Mapping[str, Any] | Iterable[Event],
        voices: Sequence[VoiceReading | None] = (),
        explain: bool | None = None,
    ) -> ConversationResult:
        """Run a stored conversation through a live session, turn by turn, never looking ahead.

        `conversation`: a conversation v1 dict (as in a `.json` file, docs/conversation-format.md),
        a `ConversationV1`, or its events (`CallStarted`, `Utterance`s, `CallEnded`). A dict that is
        not a valid conversation raises ValueError naming the field. `voices`: the tone of voice a
        live call already read for each utterance, in order (a stored telephony call, whose audio is
        gone); without one, a turn's voice comes from its audio, if any. `explain`: the idiom
        explainer for this call (None: as the settings say).
        """
        session: CallSession | None = None
        turns: list[Insight] = []
        for event in _events_of(conversation):
            if isinstance(event, CallStarted):
                session = self.open(event, explain)
            elif isinstance(event, Utterance):
                if session is None:
                    raise ValueError("an utterance came before the call started")
                turns.append(session.feed(event, voices[len(turns)] if len(turns) < len(voices) else None))
            elif isinstance(event, CallEnded):
                break
            elif not isinstance(event, AudioChunk):
                raise TypeError(f"expected a conversation or its events, got a {type(event).__name__} among them")
        if session is None:
            raise ValueError("no call start in the events")
        return session.result(tuple(turns))


def _policy(path: Path | None) -> Any:
    """The cue policy at `path` (None: none); a broken file raises `PolicyError` naming file and field."""
    if path is None:
        return None
    from empathy_engine.learning.policy import Policy

    return Policy.load(path)


def _events_of(conversation: ConversationV1 | Mapping[str, Any] | Iterable[Event]) -> Iterable[Event]:
    """The events of whatever `Engine.analyze` was given (see there)."""
    if isinstance(conversation, ConversationV1):
        return conversation.events()
    if isinstance(conversation, Mapping):
        try:
            return ConversationV1.model_validate(dict(conversation)).events()
        except ValidationError as e:
            raise ValueError(f"not a conversation (docs/conversation-format.md): {describe(e)}") from None
    return conversation


class CallSession:
    """One live call: feed it utterances in order, get each turn's result back at once."""

    def __init__(self, engine: Engine, call: CallStarted, explain: bool = False) -> None:
        self.engine = engine
        self.call = call
        self.explainer = engine.explainer() if explain else None
        # What each perceiver keeps of this call, made once at its start (perception/perceiver.py).
        context = engine.context.new_call(call)  # shared by the tracker, the coach and the hand-over
        self.window = engine.patterns.new_call(call)
        self.memory = CallMemory(context=context.signals)
        self.coaching = CoachMemory(context.facts, call_id=call.call_id)
        self.escalating = EscalationMemory(context.facts, context.contacts) if call.handled_by == "bot" else None
        self.voice: VoiceTracker | None = None  # made at the first turn that comes with audio
        self.recording: Recording | None = None  # the call recording, read once when first needed
        self.answering: np.ndarray | None = None  # the last turn, as the next one's context
        self.redaction = CallRedaction()  # what the agent last asked for: masks an answer said over turns

    def feed(self, utterance: Utterance, voice: VoiceReading | None = None) -> Insight:
        """One turn's result. `voice`: a tone-of-voice reading already taken from a live audio
        stream (telephony); without it, the turn's own audio or the call recording is read."""
        return self.hear(utterance, voice)[0]

    def hear(self, utterance: Utterance, voice: VoiceReading | None = None) -> tuple[Insight, Utterance]:
        """One turn's result and the turn as the engine read it: PII masked (privacy/) before any
        perceiver sees it, so what is stored, shown and replayed is the masked text. A partial
        utterance (final=False) is masked without moving the call's redaction state on."""
        text, _ = self.redaction.turn(utterance.speaker, utterance.text, advance=utterance.final)
        if text != utterance.text:
            utterance = replace(utterance, text=text)
        if utterance.speaker == "customer":
            return self._customer(utterance, voice), utterance
        return self._agent(utterance), utterance

    def _customer(self, u: Utterance, voice: VoiceReading | None) -> CustomerInsight:
        m = self.memory
        reading = self._read(u.text)
        fingerprint = reading.prediction.fingerprint
        signals = self.engine.patterns.perceive(u.text, fingerprint, self.window.context())
        if voice is None and (audio := self._turn_audio(u)):
            voice = self.voice_tracker().observe_turn(audio[0], ANALYSIS_RATE, audio[1])
        if voice is not None:
            signals = (*signals, *voice_signals(voice, reading.state_logits))
        weights = self.engine.fusion.tracker
        state = fuse(reading, signals, m.context, m.customer_turns, m.last_scores, m.turns, u.t, weights)
        card = self.engine.coach.card_for(state, u.text, fingerprint, self.coaching)
        if card is not None and self.explainer is not None:
            card = self._explained(card, state, u.text)
        escalation, offer = None, False
        if self.escalating is not None:
            escalation, offer = self.engine.escalation.observe_customer(
                state, card, u.text, fingerprint, self.escalating
            )
        m.record_customer(state)
        self.window.customer(u.text, fingerprint)
        cues = (card,) if card is not None else ()
        return CustomerInsight.of(state, cues, escalation, offer, voice, fingerprint)

    def _explained(self, card: CueCard, state: CustomerTurn, text: str) -> CueCard:
        """The card with the idiom explainer's line, when the customer's words call for one."""
        assert self.explainer is not None
        found = self.explainer.explain(state, text, self.window.last_agent_text)
        return replace(card, explain=found.line) if found else card

    def _agent(self, u: Utterance) -> AgentTurn:
        m = self.memory
        behaviours = behaviours_of(self._read(u.text))
        pending = m.last_customer.negative if m.last_customer else ()
        answered = answered_states(behaviours, pending)
        follow = self.engine.coach.on_agent(behaviours, self.coaching)
        if self.escalating is not None:
            self.engine.escalation.observe_agent(behaviours, u.text, self.escalating)
        turn = AgentTurn(m.turns, behaviours, bool(pending) and not answered, answered, u.t, follow)
        m.record_agent(turn)
        self.window.agent(u.text)
        return turn

    def _read(self, text: str) -> TextReading:
        """The text model's reading of a turn, with the turn it answers as context."""
        reading = self.engine.text.read(text, self.answering)
        self.answering = self.engine.text.context(reading)
        return reading

    def voice_tracker(self) -> VoiceTracker:
        """This call's tone-of-voice tracker, for a live audio stream to feed (telephony)."""
        self.voice = self.voice or self.engine.voice.new_call(self.call)
        return self.voice

    def _turn_audio(self, u: Utterance) -> tuple[Any, Any] | None:
        """The customer's samples for this turn (and the agent's over the same span), if any."""
        if u.audio:
            return read_wav(u.audio).channel(0), None
        ref = self.call.recording
        if ref is None or u.t is None:
            return None
        if self.recording is None:
            self.recording = read_recording(ref.path, dict(ref.channels))
        return self.recording.turn("customer", u.t, u.end)

    def result(self, turns: tuple[Insight, ...] = ()) -> ConversationResult:
        """The call's result so far: its summary and, for a bot call, the hand-over. A live call
        ends with `result()` (its turns went out one by one); `Engine.analyze` passes them all."""
        bot = self.escalating is not None
        handover = self.escalating.escalation if self.escalating else None
        policy, context = self.engine.coach.policy_version, context_of(self.coaching.facts)
        return ConversationResult(self.call.call_id, turns, self.memory.summary(), bot, handover, policy, context)

    def state_bytes(self) -> int:
        """Size of what this call keeps between turns (the shared model is not counted)."""
        kept = (self.memory, self.window, self.coaching, self.escalating, self.voice, self.answering, self.redaction)
        return len(pickle.dumps(kept))
