"""The coach: turns a customer turn's state into at most one new cue card, and follows the agent.

`Coach` is shared by all calls (the playbook and the exemplar library); `CoachMemory` is the
little each call remembers: how far along each state's path the agent has come.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import re2

from empathy_engine.advice import CueCard
from empathy_engine.coaching.choice import NO_POLICY, Chooser, choose, context_of, uniform_draw, variant_id
from empathy_engine.coaching.exemplars import ExemplarLibrary
from empathy_engine.coaching.phrasing import fill, needs_only_name, render
from empathy_engine.coaching.playbook import PLACEHOLDER, Playbook, Step, compile_pattern
from empathy_engine.perception.context import CallFacts
from empathy_engine.results import CustomerTurn
from empathy_engine.taxonomy import AgentBehaviour, level


@dataclass(slots=True)
class CoachMemory:
    """Per call: the next step of each state's path, what was acted on, the card awaiting an answer."""

    facts: CallFacts
    step: dict[str, int] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)
    shown: dict[str, int] = field(default_factory=dict)
    riders_used: set[str] = field(default_factory=set)
    raised: set[str] = field(default_factory=set)
    open_card: CueCard | None = None
    pending_safety: CueCard | None = None  # a safety card stays up until the agent acts on it
    call_id: str = ""  # seeds the phrasing draw (coaching/choice.py), with the turn and policy version
    last_variant: dict[str, str] = field(default_factory=dict)  # a card shown again draws another phrasing


@dataclass(frozen=True, slots=True)
class Phrase:
    """The phrasing drawn for a card: its text for this call, its variant id and its probability."""

    say: str
    variant: str
    propensity: float


class Coach:
    def __init__(
        self, playbook: Playbook, exemplars: ExemplarLibrary | None = None, chooser: Chooser | None = None
    ) -> None:
        self.playbook = playbook
        self.exemplars = exemplars or ExemplarLibrary()
        #: The fitted policy giving each phrasing's odds (learning/policy.py); None: uniform.
        self.chooser = chooser
        self.policy_version = chooser.version if chooser is not None else NO_POLICY
        # RE2, not `re`: a user's pattern runs in linear time, so no playbook can stall a call.
        self.hazards = [(h, [compile_pattern(p) for p in h.patterns]) for h in playbook.safety]
        self.any_hazard = _any_of([p for h in playbook.safety for p in h.patterns])

    def card_for(self, turn: CustomerTurn, text: str, fingerprint: np.ndarray, memory: CoachMemory) -> CueCard | None:
        """The one card to show for this customer turn (None when nothing calls for one)."""
        card = self._safety(text, memory) or self._state_card(turn, fingerprint, memory)
        if card is not None:
            memory.shown[card.id] = memory.shown.get(card.id, 0) + 1
        memory.open_card = card
        return card

    def _safety(self, text: str, memory: CoachMemory) -> CueCard | None:
        if memory.pending_safety is not None:
            return memory.pending_safety
        if self.any_hazard is not None and not self.any_hazard.search(text):
            return None  # the common case, in one RE2 pass instead of one per pattern
        for hazard, patterns in self.hazards:
            card_id = f"safety/{hazard.id}"
            if card_id in memory.done:
                continue
            if match := next((m for p in patterns if (m := p.search(text))), None):
                values = memory.facts.values()
                say = render(hazard.say, values)
                return CueCard(
                    id=card_id,
                    state="urgency",
                    why=match.group(0).strip(),
                    do=render(hazard.do, values),
                    say=say,
                    avoid=tuple(render(a, values) for a in hazard.avoid),
                    priority=0,
                    expects=("urgency_ack", "action_plan", "reassure"),
                    source="safety",
                    variant=variant_id(card_id, hazard.say),
                    propensity=1.0,  # a safety card has one phrasing: never an experiment
                )
        return None

    def _state_card(self, turn: CustomerTurn, fingerprint: np.ndarray, memory: CoachMemory) -> CueCard | None:
        paths = self.playbook.states
        # Clear states before mild ones, then the playbook's priority, then the stronger score.
        candidates = sorted(
            (s for s in turn.negative if s in paths),
            key=lambda s: (level(turn.intensity_of(s)) == "mild", paths[s].priority, -turn.states[s]),
        )
        memory.raised.update(candidates)
        for state in candidates:
            path = paths[state]
            index = memory.step.get(state, 0)
            if index >= len(path.steps):
                continue  # the agent has walked this whole path already
            step = path.steps[index]
            card_id = f"{state}/{step.id}"
            if card_id in memory.done:
                continue
            why = next((e.quote for e in turn.evidence if e.state == state), "")
            return self._build(card_id, state, why, step, path.priority, path.avoid, fingerprint, memory, turn.index)
        return None

    def _build(
        self,
        card_id: str,
        state: str,
        why: str,
        step: Step,
        priority: int,
        path_avoid: list[str],
        fingerprint: np.ndarray,
        memory: CoachMemory,
        turn_index: int = 0,
    ) -> CueCard:
        values = memory.facts.values()
        phrase = self._phrase(step, card_id, values, memory, turn_index)
        do, say = render(step.do, values), phrase.say
        source, exemplar_source = "playbook", None
        if exemplar := self.exemplars.best(state, step.id, fingerprint):
            # A proven phrasing close to this moment is not drawn: shown whenever it is close (propensity 1).
            say, source, exemplar_source = exemplar.agent, "exemplar", exemplar.source
            phrase = Phrase(say, variant_id(card_id, exemplar.agent), 1.0)
        memory.last_variant[card_id] = phrase.variant
        for rider_name in memory.facts.riders():
            rider = self.playbook.riders.get(rider_name)  # type: ignore[call-overload]
            if rider is None or rider_name in memory.riders_used or state not in rider.applies_to:
                continue
            rider_do, rider_say = fill(rider.do, values), fill(rider.say, values)
            if rider_do and rider_say:
                memory.riders_used.add(rider_name)
                do, say = f"{do} — and {rider_do}", f"{say} {rider_say}"
                break
        return CueCard(
            id=card_id,
            state=state,
            why=why,
            do=do,
            say=say,
            avoid=tuple(dict.fromkeys(render(a, values) for a in [*step.avoid, *path_avoid])),
            priority=priority,
            expects=tuple(step.expects),
            source=source,  # type: ignore[arg-type]
            exemplar=exemplar_source,
            variant=phrase.variant,
            propensity=phrase.propensity,
        )

    def _phrase(
        self, step: Step, card_id: str, values: dict[str, str], memory: CoachMemory, turn_index: int
    ) -> Phrase:
        """A phrasing drawn among the most personal ones this call can fill (coaching/choice.py):
        with the policy's odds for this state, step and context, or uniformly without a policy. A
        card shown again draws among the others (the less personal ones when no other is as
        personal), so the customer does not hear the same words twice. When none can be filled,
        the first that reads well without the missing facts (never a `{...}`), with probability 1."""
        usable = [(text, filled) for text in step.say if (filled := fill(text, values)) is not None]
        if not usable:
            plain = next((text for text in step.say if needs_only_name(text)), step.say[0])
            return Phrase(render(plain, values), variant_id(card_id, plain), 1.0)
        last = memory.last_variant.get(card_id)
        fresh = [(t, f) for t, f in usable if variant_id(card_id, t) != last] or usable
        most = max(len(PLACEHOLDER.findall(text)) for text, _ in fresh)
        candidates = [(t, f) for t, f in fresh if len(PLACEHOLDER.findall(t)) == most]
        variants = [variant_id(card_id, text) for text, _ in candidates]
        odds, floor = None, 0.0
        if self.chooser is not None:
            state = card_id.split("/", 1)[0]
            odds, floor = self.chooser.probabilities(state, step.id, context_of(memory.facts)), self.chooser.floor
        seed = f"{memory.call_id}|{turn_index}|{self.policy_version}|{card_id}"
        index, propensity = choose(variants, odds, uniform_draw(seed), floor)
        return Phrase(candidates[index][1], variants[index], propensity)

    def on_agent(self, behaviours: tuple[AgentBehaviour, ...], memory: CoachMemory) -> tuple[str, bool] | None:
        """Record the agent's turn: retire the open card if followed, advance every raised path."""
        shown = set(behaviours)
        for state in sorted(memory.raised):
            path = self.playbook.states[state]  # type: ignore[index]
            unused = set(shown)  # each behaviour completes at most one step of a path per turn
            while memory.step.get(state, 0) < len(path.steps):
                step = path.steps[memory.step.get(state, 0)]
                if not unused & set(step.expects):
                    break
                unused -= set(step.expects)
                memory.done.add(f"{state}/{step.id}")
                memory.step[state] = memory.step.get(state, 0) + 1
        card, memory.open_card = memory.open_card, None
        if card is None:
            return None
        followed = bool(shown & set(card.expects))
        if followed:
            memory.done.add(card.id)
        memory.pending_safety = card if card.source == "safety" and not followed else None
        return card.id, followed


def _any_of(patterns: list[str]) -> Any | None:
    """One RE2 pattern that matches wherever any of `patterns` does (None: none, or RE2 cannot
    join them); only a filter: which pattern matched, and where, is still asked of each one."""
    if not patterns:
        return None
    try:
        return compile_pattern("|".join(f"(?:{p})" for p in patterns))
    except re2.error:  # a pattern that only compiles on its own; each is then tried alone
        return None
