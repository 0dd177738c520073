"""Small helpers shared by the service tests."""

from __future__ import annotations

from typing import Any

from empathy_engine.demo import load_call
from empathy_engine.ingest.conversation import ConversationV1
from empathy_engine.pipeline import Engine

#: Frame fields the stream adds around a turn result.
FRAME_ONLY = ("type", "turn", "provisional", "latency_ms", "duplicate")


def demo_conversation(name: str = "holiday_furnace") -> dict[str, Any]:
    return load_call(name).model_dump(mode="json", exclude_none=True)


def header(conversation: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in conversation.items() if k not in ("turns", "id")}


def turn_result(frame: dict[str, Any]) -> dict[str, Any]:
    """The turn result inside an insight frame (what `empathy analyze` gives for that turn)."""
    return {k: v for k, v in frame.items() if k not in FRAME_ONLY}


def batch_result(engine: Engine, conversation: dict[str, Any], call_id: str) -> dict[str, Any]:
    """What `empathy analyze` says about the same conversation under the same call id."""
    events = ConversationV1.model_validate({**conversation, "id": call_id}).events()
    return engine.analyze(events).to_dict()


def utterance(speaker: str, text: str, **more: Any) -> dict[str, Any]:
    return {"type": "utterance", "speaker": speaker, "text": text, **more}


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """A turn result without the cards' `followed`, which only a finished call can know
    (batch analysis fills it in from the next agent turn; live, it is the agent's next move)."""
    if "cues" not in result:
        return result
    cues = [{k: v for k, v in card.items() if k != "followed"} for card in result["cues"]]
    return {**result, "cues": cues}
