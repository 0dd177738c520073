"""CallContextPerceiver: what the call's circumstances say before the customer speaks.

Context shifts the odds, it never decides alone: a 2 AM call makes urgency more likely,
but "my address is 12 Elm Street" stays neutral. The header is read once per call into a
`CallContext`: the signals for the tracker, the facts that personalise the coach's cards, and
how many contacts the issue has taken (for the bot's hand-over).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import holidays

from empathy_engine.events import CallStarted, PriorContact
from empathy_engine.perception import crm, fusion_weights, vulnerability
from empathy_engine.perception.fusion_weights import ContextWeights
from empathy_engine.perception.signals import Signal

NIGHT_HOURS = frozenset({22, 23, 0, 1, 2, 3, 4, 5})
EMERGENCY_SERVICES = {"water_damage", "restoration", "emergency"}
REPEAT_WINDOW = timedelta(days=60)
ROUTINE = re.compile(r"maintenance|tune[- ]?up|inspection|service plan|routine", re.I)


@lru_cache(maxsize=16)
def _calendar(country: str, subdiv: str | None) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdiv)


@dataclass(frozen=True, slots=True)
class ContextSettings:
    """Which public-holiday calendar applies (any country the `holidays` package knows)."""

    country: str = "US"
    subdivision: str | None = None


def holiday_name(when: datetime, settings: ContextSettings) -> str | None:
    return _calendar(settings.country, settings.subdivision).get(when.date())


def _since(now: datetime, then: datetime) -> timedelta:
    """now - then, reading a time without a UTC offset as local to the other one."""
    if now.tzinfo is None and then.tzinfo is not None:
        now = now.replace(tzinfo=then.tzinfo)
    elif then.tzinfo is None and now.tzinfo is not None:
        then = then.replace(tzinfo=now.tzinfo)
    return now - then


def recent_unresolved(call: CallStarted) -> list[PriorContact]:
    """Earlier contacts in the last REPEAT_WINDOW that did not fix the problem (no-show, callback...)."""
    when = call.started_at
    out = []
    for prior in call.customer.prior_contacts:
        recent = when is None or prior.at is None or timedelta(0) <= _since(when, prior.at) <= REPEAT_WINDOW
        # By meaning, not wording: "technician did not arrive" is a failed visit like "tech no-show".
        if recent and crm.bundled().unresolved(prior.outcome):
            out.append(prior)
    return out


def failed_visit(prior: PriorContact) -> bool:
    """The company did not turn up (a no-show, a missed window, cancelled on the day)."""
    return crm.bundled().failed_visit(prior.outcome)


@dataclass(frozen=True, slots=True)
class CallFacts:
    """Placeholder values and rider flags for one call, worked out once at its start."""

    name: str | None = None
    relation: str | None = None  # "mother"
    occasion: str | None = None  # "Christmas Day", "the middle of the night", "the weekend"
    issue: str | None = None  # the issue of an unresolved earlier contact
    vulnerable: bool = False
    no_show: bool = False
    emergency_service: bool = False
    routine_service: bool = False

    def values(self) -> dict[str, str]:
        person = f"your {self.relation}" if self.relation else None
        pairs = {
            "name": self.name,
            "person": person,
            "relation": self.relation,
            "occasion": self.occasion,
            "issue": self.issue,
        }
        return {k: v for k, v in pairs.items() if v}

    def riders(self) -> list[str]:
        """The riders that apply to this call, most important first."""
        flags = [
            ("vulnerable_person", self.vulnerable and self.relation is not None),
            ("no_show", self.no_show),
            ("repeat_contact", self.issue is not None),
            ("emergency_service", self.emergency_service),
            ("out_of_hours", self.occasion is not None),
            ("routine_service", self.routine_service),
        ]
        return [name for name, on in flags if on]


def call_facts(
    call: CallStarted, settings: ContextSettings | None = None, unresolved: list[PriorContact] | None = None
) -> CallFacts:
    """What makes a card personal. `unresolved`: the call's recent unresolved contacts, when already read."""
    settings = settings or ContextSettings()
    customer = call.customer
    # A masked name ("[NAME]", privacy/) is no name to address the customer by.
    name = customer.name.split()[0] if customer.name and customer.name.strip() and customer.name[0] != "[" else None
    relation = None
    vulnerable = False
    for note in customer.notes:
        if crm.bundled().vulnerable(note):
            vulnerable = True
            if relation is None and (m := vulnerability.RELATION.search(note)):
                relation = m.group(1).lower()
    occasion = None
    if call.started_at is not None:
        when = call.started_at
        if holiday := holiday_name(when, settings):
            occasion = holiday
        elif when.hour in NIGHT_HOURS:
            occasion = "the middle of the night"
        elif when.weekday() >= 5:
            occasion = "the weekend"
    unresolved = recent_unresolved(call) if unresolved is None else unresolved
    issue = next((p.issue for p in unresolved if p.issue), None)
    if unresolved and issue is None:
        issue = "this"
    service = (call.service or "").lower()
    return CallFacts(
        name=name,
        relation=relation,
        occasion=occasion,
        issue=issue,
        vulnerable=vulnerable,
        no_show=any(failed_visit(p) for p in unresolved),
        emergency_service=service in EMERGENCY_SERVICES,
        routine_service=bool(ROUTINE.search(service)),
    )


@dataclass(frozen=True, slots=True)
class CallContext:
    """The call header, read once at the call's start."""

    signals: tuple[Signal, ...]
    facts: CallFacts
    contacts: int  # this contact, plus unresolved earlier ones about the issue


class CallContextPerceiver:
    """Signals from the call header: timing, service, customer notes and prior contacts."""

    def __init__(self, settings: ContextSettings | None = None, weights: ContextWeights | None = None) -> None:
        self.settings = settings or ContextSettings()
        self.weights = weights or fusion_weights.bundled().context

    def new_call(self, call: CallStarted) -> CallContext:
        unresolved = recent_unresolved(call)
        facts = call_facts(call, self.settings, unresolved)
        return CallContext(self._signals(call, unresolved), facts, 1 + len(unresolved))

    def perceive(self, call: CallStarted) -> tuple[Signal, ...]:
        return self._signals(call, recent_unresolved(call))

    def _signals(self, call: CallStarted, unresolved: list[PriorContact]) -> tuple[Signal, ...]:
        w = self.weights
        signals: list[Signal] = []
        when = call.started_at
        if when is not None:
            holiday = holiday_name(when, self.settings)
            if holiday:
                signals.append(Signal("urgency", w.holiday_urgency, "context", f"call on a public holiday ({holiday})"))
            elif when.weekday() >= 5:
                signals.append(Signal("urgency", w.weekend_urgency, "context", f"call on a {when:%A}"))
            if when.hour in NIGHT_HOURS:
                signals.append(Signal("urgency", w.night_urgency, "context", f"call at {when:%H:%M} at night"))
        if (call.service or "").lower() in EMERGENCY_SERVICES:
            signals.append(Signal("urgency", w.emergency_service_urgency, "context", f"{call.service} service"))
        for note in call.customer.notes:
            if crm.bundled().vulnerable(note):
                signals.append(Signal("worry", w.vulnerable_note_worry, "context", note))
        for prior in unresolved:
            what = f"earlier contact: {prior.issue or 'an issue'} - {prior.outcome}".strip()
            signals.append(Signal("frustration", w.unresolved_frustration, "context", what))
            weight = w.no_show_distrust if failed_visit(prior) else w.unresolved_distrust
            signals.append(Signal("distrust", weight, "context", what))
        return tuple(signals)
