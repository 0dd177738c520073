"""Idle live calls end by themselves: a call with no event for `EMPATHY_IDLE_CALL_MINUTES` is
ended as abandoned (its summary stored as for any ended call, with `abandoned` in its extra
results saying why), so started-never-ended calls cannot pile up in memory and on the board.
Calls restored after a restart count their idle time from their last stored event.
"""

from __future__ import annotations

import asyncio
import logging
import time

from empathy_engine.ingest.live import ProtocolError
from empathy_engine.service.live import LiveCall
from empathy_engine.service.live_call import LiveCallService
from empathy_engine.service.services import Services

log = logging.getLogger(__name__)

#: Calls ended at once per round: each is a small write, shared with the live calls' commits.
EXPIRE_AT_ONCE = 100


def idle_calls(services: Services, idle_s: float) -> list[LiveCall]:
    now = time.monotonic()
    return [c for c in services.live.calls.values() if not c.ended and now - c.last_event >= idle_s]


async def end_abandoned(services: Services, live: LiveCall, idle_s: float) -> bool:
    """End one idle call as abandoned; False when it could not be (it ended, or a write failed)."""
    call = LiveCallService(services, live.tenant_id, live.id)
    note = {
        "abandoned": {
            "reason": "idle",
            "idle_minutes": round(idle_s / 60, 2),
            "message": f"no event for {idle_s / 60:g} minutes (EMPATHY_IDLE_CALL_MINUTES): ended as abandoned",
        }
    }
    try:
        return await call.finish(live, note) is not None
    except ProtocolError as e:  # database_busy: it stays live and is tried again next round
        if e.code == "taken_over":  # another replica streams it: not idle, and not this one's
            return False
        log.warning("idle call %s could not be ended yet: %s", live.id, e.message)
    except Exception:
        log.exception("idle call %s could not be ended", live.id)
    return False


async def expire_once(services: Services, idle_s: float) -> int:
    """End every call idle for `idle_s` or longer; how many were ended."""
    ended = 0
    due = idle_calls(services, idle_s)
    for start in range(0, len(due), EXPIRE_AT_ONCE):
        done = await asyncio.gather(*(end_abandoned(services, c, idle_s) for c in due[start : start + EXPIRE_AT_ONCE]))
        ended += sum(done)
    if ended:
        log.info("ended %d idle call(s) as abandoned", ended)
    return ended


async def run_expiry(services: Services, idle_minutes: float) -> None:
    """Look for idle calls every quarter of the idle time (at most every 30 s)."""
    idle_s = idle_minutes * 60
    while True:
        await asyncio.sleep(min(30.0, idle_s / 4))
        await expire_once(services, idle_s)
