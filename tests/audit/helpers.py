"""Hand-built engine results (docs/output-format.md) and call records, so audit tests need no model."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from empathy_engine.audit.mapper import audit_call
from empathy_engine.audit.records import CallRecord
from empathy_engine.events import CallStarted, CustomerProfile
from empathy_engine.taxonomy import NEGATIVE_STATES, RESPONSES, STATES

TZ = timezone(timedelta(hours=-5))


def customer(index: int, t: float | None = None, cues: list[dict[str, Any]] | None = None, **scores: float) -> dict:
    states = {s: 0.0 for s in STATES}
    states.update(scores)
    detected = sorted((s for s in STATES if states[s] >= 0.5 and s != "neutral"), key=lambda s: -states[s])
    detected = detected or ["neutral"]
    turn: dict[str, Any] = {
        "index": index,
        "speaker": "customer",
        "states": states,
        "detected": detected,
        "primary": detected[0],
        "intensity": 0.0 if detected == ["neutral"] else round(0.33 + (states[detected[0]] - 0.5) * 1.34, 2),
        "evidence": [{"state": s, "quote": f"quote for {s}", "source": "text"} for s in detected if s != "neutral"],
    }
    if t is not None:
        turn["t"] = t
    if cues is not None:
        turn["cues"] = cues
    return turn


def agent(index: int, behaviours: list[str], missed: bool, t: float | None = None) -> dict:
    turn: dict[str, Any] = {"index": index, "speaker": "agent", "behaviours": behaviours, "missed_cue": missed}
    if t is not None:
        turn["t"] = t
    return turn


def result(call_id: str, turns: list[dict], **extra: Any) -> dict:
    """A result dict whose summary follows docs/output-format.md."""
    customers = [t for t in turns if t["speaker"] == "customer"]
    peak = None
    for t in customers:
        neg = [s for s in t["detected"] if s in NEGATIVE_STATES]
        if neg and (peak is None or t["intensity"] > peak["intensity"]):
            peak = {"state": t["primary"], "intensity": t["intensity"], "turn": t["index"]}
    return {
        "id": call_id,
        "turns": turns,
        "summary": {
            "start": customers[0]["primary"] if customers else None,
            "peak": peak,
            "end": customers[-1]["primary"] if customers else None,
            "empathy_score": None,
            "missed_cues": sum(t.get("missed_cue", False) for t in turns),
        },
        **extra,
    }


def start(call_id: str, agent_id: str = "a-1", customer_id: str | None = "c-1", day: int = 1,
          service: str = "hvac") -> CallStarted:  # fmt: skip
    when = datetime(2025, 9, 1, 10, 0, tzinfo=TZ) + timedelta(days=day - 1)
    return CallStarted(call_id, "voice", "human", service, when, CustomerProfile(id=customer_id), agent_id)


def texts(turns: list[dict]) -> list[str]:
    return [f"words of turn {t['index']}" for t in turns]


def random_record(rng: random.Random, i: int) -> CallRecord:
    """A plausible call record: random states, replies, agents, customers and days."""
    turns: list[dict] = []
    t = 0.0
    for k in range(rng.randint(1, 8)):
        state = rng.choice([*NEGATIVE_STATES, "neutral", "neutral", "satisfaction"])
        scores = {} if state == "neutral" else {state: round(rng.uniform(0.5, 1.0), 3)}
        turns.append(customer(2 * k, t, **scores))
        t += rng.uniform(2, 20)
        pending = state in NEGATIVE_STATES
        answered = pending and rng.random() < 0.6
        behaviour = sorted(RESPONSES[state])[0] if answered else rng.choice(["informational", "none"])  # type: ignore[index]
        turns.append(agent(2 * k + 1, [behaviour], pending and not answered, t))
        t += rng.uniform(2, 20)
    esc = {"at_turn": 1, "reason": "asked_for_human", "handoff": None} if rng.random() < 0.1 else None
    res = result(f"call-{i:04d}", turns, escalation=esc)
    head = start(f"call-{i:04d}", f"a-{rng.randint(1, 4)}", f"c-{rng.randint(1, 30)}", rng.randint(1, 40),
                 rng.choice(["hvac", "plumbing"]))  # fmt: skip
    return audit_call(head, texts(turns), res, f"calls.jsonl:{i + 1}")


def record(call_id: str, agent_id: str, customer_id: str | None, day: int, service: str = "hvac",
           score: float | None = 0.5) -> CallRecord:  # fmt: skip
    """A minimal record for KPI tests: who, when, about what, and its empathy score."""
    turns = [customer(0, 0.0, frustration=0.9), agent(1, ["apologize"], False, 4.0)]
    base = audit_call(start(call_id, agent_id, customer_id, day, service), texts(turns), result(call_id, turns))
    return replace(base, empathy_score=score)
