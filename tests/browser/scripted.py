"""The real engine with scripted cue cards, so the page tests know which card must show.

Cards follow the documented shape (advice.py CueCard.to_dict); a customer turn that
mentions gas gets a safety card, as the coach's safety rules would give.
"""

from __future__ import annotations

from typing import Any

from empathy_engine.events import CallStarted, Utterance
from empathy_engine.pipeline import CallSession, Engine
from empathy_engine.results import Insight


def scripted_card(result: dict[str, Any], text: str) -> dict[str, Any] | None:
    index, primary = result["index"], result["primary"]
    if "gas" in text.lower():
        return {
            "id": "safety/gas",
            "state": "safety",
            "why": "smell gas",
            "do": "Get everyone out of the house now",
            "say": "Please leave the house now and call us from outside.",
            "avoid": ["Asking for the account first"],
            "priority": 0,
            "source": "safety",
            "followed": None,
        }
    if primary in ("neutral", "satisfaction"):
        return None
    why = next((e["quote"] for e in result["evidence"] if e["state"] == primary), "")
    return {
        "id": f"{primary}/scripted-{index}",
        "state": primary,
        "why": why,
        "do": f"Scripted step {index}",
        "say": f"Scripted phrase for turn {index}.",
        "avoid": ["Policy recital"],
        "priority": 1,
        "source": "playbook",
        "followed": None,
    }


class _Carded:
    def __init__(self, turn: Insight, card: dict[str, Any] | None) -> None:
        self.turn, self.card = turn, card

    def to_dict(self) -> dict[str, Any]:
        out = self.turn.to_dict()
        out["cues"] = [self.card] if self.card else []
        return out


class _ScriptedSession(CallSession):
    def feed(self, utterance: Utterance, voice: Any = None) -> Any:
        turn = super().feed(utterance, voice)
        if utterance.speaker != "customer":
            return turn
        return _Carded(turn, scripted_card(turn.to_dict(), utterance.text))


class ScriptedCardsEngine(Engine):
    def open(self, call: CallStarted, explain: bool | None = None) -> CallSession:
        return _ScriptedSession(self, call, self.settings.explain if explain is None else explain)
