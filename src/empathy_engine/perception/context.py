"""CallContextPerceiver: what the call's circumstances say before the customer speaks.

Context shifts the odds, it never decides alone: a 2 AM call makes urgency more likely,
but "my address is 12 Elm Street" stays neutral.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import holidays

from empathy_engine.events import CallStarted, PriorContact
from empathy_engine.perception import vulnerability
from empathy_engine.perception.signals import Signal

NIGHT_HOURS = frozenset({22, 23, 0, 1, 2, 3, 4, 5})
EMERGENCY_SERVICES = {"water_damage", "restoration", "emergency"}
UNRESOLVED = re.compile(
    r"no[- ]?show|didn'?t show|never (came|showed|arrived)|not (fixed|resolved)|unresolved|"
    r"came back|return(ed)? visit|callback|still (broken|not|leaking)|cancel+ed|missed",
    re.I,
)
NO_SHOW = re.compile(r"no[- ]?show|didn'?t show|never (came|showed|arrived)|missed", re.I)
REPEAT_WINDOW = timedelta(days=60)


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
        if recent and UNRESOLVED.search(prior.outcome):
            out.append(prior)
    return out


class CallContextPerceiver:
    """Signals from the call header: timing, service, customer notes and prior contacts."""

    def __init__(self, settings: ContextSettings | None = None) -> None:
        self.settings = settings or ContextSettings()

    def perceive(self, call: CallStarted) -> tuple[Signal, ...]:
        signals: list[Signal] = []
        when = call.started_at
        if when is not None:
            holiday = holiday_name(when, self.settings)
            if holiday:
                signals.append(Signal("urgency", 0.6, "context", f"call on a public holiday ({holiday})"))
            elif when.weekday() >= 5:
                signals.append(Signal("urgency", 0.3, "context", f"call on a {when:%A}"))
            if when.hour in NIGHT_HOURS:
                signals.append(Signal("urgency", 0.9, "context", f"call at {when:%H:%M} at night"))
        if (call.service or "").lower() in EMERGENCY_SERVICES:
            signals.append(Signal("urgency", 0.6, "context", f"{call.service} service"))
        for note in call.customer.notes:
            if vulnerability.IN_NOTES.search(note):
                signals.append(Signal("worry", 0.6, "context", note))
        for prior in recent_unresolved(call):
            what = f"earlier contact: {prior.issue or 'an issue'} - {prior.outcome}".strip()
            signals.append(Signal("frustration", 0.8, "context", what))
            weight = 1.0 if NO_SHOW.search(prior.outcome) else 0.6
            signals.append(Signal("distrust", weight, "context", what))
        return tuple(signals)
