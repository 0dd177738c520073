"""`empathy serve --demo`: the built-in calls, played through the real streaming API.

It is an ordinary client of the server it runs beside, so what a new user sees in the
browser is exactly what a contact centre's integration would produce.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from empathy_engine.client import CallStream, StreamError, header_of
from empathy_engine.demo import CALLS, load_call

log = logging.getLogger(__name__)

STAGGER_S = 4.0  # calls start a few seconds apart, so the board fills up as you watch
PAUSE_BETWEEN_ROUNDS_S = 15.0
PARTIAL_LEAD_S = 1.2  # a customer's words show up as "speaking" this long before they finish


async def play_call(
    base_url: str,
    conversation: dict[str, Any],
    call_id: str,
    speed: float,
    sleep: Callable[[float], Any] = asyncio.sleep,
) -> dict[str, Any]:
    """Stream one conversation in (sped-up) real time: partial words first, then each final turn."""
    async with await CallStream.connect(base_url, call_id) as call:
        await call.start(header_of({**conversation, "id": call_id}))
        clock = 0.0
        for turn in conversation["turns"]:
            t = turn.get("t")
            wait = max(0.0, ((t or clock) - clock) / speed)
            words = turn["text"].split()
            if turn["speaker"] == "customer" and len(words) > 6 and wait > PARTIAL_LEAD_S:
                await sleep(wait - PARTIAL_LEAD_S)
                await call.say("customer", " ".join(words[: len(words) // 2]) + " …", t, final=False)
                await sleep(PARTIAL_LEAD_S)
            else:
                await sleep(wait)
            clock = t if t is not None else clock
            await call.say(turn["speaker"], turn["text"], t)
        return await call.end()


async def run_demo(base_url: str, public_url: str, speed: float, rounds: int | None = None) -> None:
    """Play every built-in call, staggered, round after round (until stopped or `rounds` ran)."""
    played = 0
    while rounds is None or played < rounds:
        stamp = time.strftime("%H%M%S")
        tasks = []
        for i, name in enumerate(CALLS):
            conversation = load_call(name).model_dump(mode="json", exclude_none=True)
            call_id = f"{conversation['id']}-{stamp}"
            print(f"  demo call {name.replace('_', ' ')}: {public_url}/agent/{call_id}", flush=True)
            delay = i * STAGGER_S / speed
            tasks.append(asyncio.create_task(_play_later(delay, base_url, conversation, call_id, speed)))
        await asyncio.gather(*tasks)
        played += 1
        if rounds is None or played < rounds:
            await asyncio.sleep(PAUSE_BETWEEN_ROUNDS_S)


async def _play_later(delay: float, base_url: str, conversation: dict[str, Any], call_id: str, speed: float) -> None:
    await asyncio.sleep(delay)
    try:
        await play_call(base_url, conversation, call_id, speed)
    except (StreamError, OSError) as e:  # the demo must never take the server down
        log.warning("demo call %s stopped: %s", call_id, e)
