from __future__ import annotations

from datetime import datetime, timedelta, timezone

from empathy_engine.events import CallStarted, CustomerProfile, PriorContact
from empathy_engine.perception.context import CallContextPerceiver, ContextSettings

EST = timezone(timedelta(hours=-5))


def _states(call: CallStarted, settings: ContextSettings | None = None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for signal in CallContextPerceiver(settings).perceive(call):
        out.setdefault(signal.state, []).append(signal.quote)
    return out


def test_context_public_holiday_and_night_raise_urgency() -> None:
    christmas = _states(CallStarted("c", started_at=datetime(2025, 12, 25, 7, 40, tzinfo=EST)))
    assert any("Christmas" in q for q in christmas["urgency"])
    night = _states(CallStarted("c", started_at=datetime(2025, 3, 4, 2, 10, tzinfo=EST)))
    assert any("02:10" in q for q in night["urgency"])
    tuesday_noon = _states(CallStarted("c", started_at=datetime(2025, 3, 4, 12, 0, tzinfo=EST)))
    assert "urgency" not in tuesday_noon


def test_context_holiday_calendar_is_configurable() -> None:
    boxing_day = CallStarted("c", started_at=datetime(2025, 12, 26, 12, 0, tzinfo=EST))
    assert "urgency" not in _states(boxing_day, ContextSettings(country="US"))
    assert any("Boxing" in q for q in _states(boxing_day, ContextSettings(country="GB"))["urgency"])


def test_context_prior_no_show_raises_distrust_and_frustration() -> None:
    now = datetime(2025, 3, 4, 10, 0, tzinfo=EST)
    prior = PriorContact("no heat", "tech no-show", now - timedelta(days=5))
    states = _states(CallStarted("c", started_at=now, customer=CustomerProfile(prior_contacts=(prior,))))
    assert states["distrust"] and states["frustration"]
    old = PriorContact("no heat", "tech no-show", now - timedelta(days=400))
    assert _states(CallStarted("c", started_at=now, customer=CustomerProfile(prior_contacts=(old,)))) == {}
    fixed = PriorContact("no heat", "resolved on first visit", now - timedelta(days=5))
    assert _states(CallStarted("c", started_at=now, customer=CustomerProfile(prior_contacts=(fixed,)))) == {}


def test_context_notes_about_vulnerable_people_raise_worry() -> None:
    profile = CustomerProfile(notes=("worries about her elderly mother",))
    assert _states(CallStarted("c", customer=profile))["worry"] == ["worries about her elderly mother"]
    assert _states(CallStarted("c", customer=CustomerProfile(notes=("prefers email",)))) == {}


def test_context_prior_contact_without_utc_offset_is_read_as_local() -> None:
    now = datetime(2025, 3, 4, 10, 0, tzinfo=EST)
    naive = PriorContact("no heat", "tech no-show", datetime(2025, 3, 1, 9, 0))
    states = _states(CallStarted("c", started_at=now, customer=CustomerProfile(prior_contacts=(naive,))))
    assert states["distrust"]
