"""Built-in home-services calls, played through the live pipeline in real time."""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib import resources

from rich.console import Console

from empathy_engine.events import CallStarted, Utterance
from empathy_engine.ingest.conversation import ConversationV1
from empathy_engine.pipeline import Engine
from empathy_engine.render import render_header, render_summary, render_turn

#: Play order: the story the demo tells.
CALLS = ("holiday_furnace", "flooded_basement", "cost_worry", "resigned_customer")


def load_call(name: str) -> ConversationV1:
    if name not in CALLS:
        raise KeyError(f"no demo call {name!r}; choose one of {', '.join(CALLS)}")
    data = (resources.files("empathy_engine") / "demo" / "calls" / f"{name}.json").read_text()
    return ConversationV1.model_validate_json(data)


def play(
    console: Console,
    engine: Engine,
    conversation: ConversationV1,
    speed: float,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Feed the call to a live session one utterance at a time, waiting as the real call would."""
    events = conversation.events()
    start = events[0]
    assert isinstance(start, CallStarted)
    render_header(console, start)
    session = engine.open(start)
    clock = 0.0
    for event in events[1:]:
        if not isinstance(event, Utterance):
            continue
        if speed > 0 and event.t is not None and event.t > clock:
            sleep((event.t - clock) / speed)
            clock = event.t
        render_turn(console, event, session.feed(event))
    render_summary(console, session.memory.summary())
