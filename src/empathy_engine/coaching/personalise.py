"""What we know about this call that makes a card personal: name, who is at risk, when, what failed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from empathy_engine.events import CallStarted
from empathy_engine.perception import vulnerability
from empathy_engine.perception.context import (
    EMERGENCY_SERVICES,
    NIGHT_HOURS,
    NO_SHOW,
    ContextSettings,
    holiday_name,
    recent_unresolved,
)

ROUTINE = re.compile(r"maintenance|tune[- ]?up|inspection|service plan|routine", re.I)


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
        pairs = {"name": self.name, "person": person, "relation": self.relation, "occasion": self.occasion,
                 "issue": self.issue}
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


def call_facts(call: CallStarted, settings: ContextSettings | None = None) -> CallFacts:
    settings = settings or ContextSettings()
    customer = call.customer
    name = customer.name.split()[0] if customer.name and customer.name.strip() else None
    relation = None
    vulnerable = False
    for note in customer.notes:
        if vulnerability.IN_NOTES.search(note):
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
    unresolved = recent_unresolved(call)
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
        no_show=any(NO_SHOW.search(p.outcome) for p in unresolved),
        emergency_service=service in EMERGENCY_SERVICES,
        routine_service=bool(ROUTINE.search(service)),
    )
