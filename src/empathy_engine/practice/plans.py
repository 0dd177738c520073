"""Coaching plans from an audit: per agent, the skills they miss most, the quotes that show it, and
the built-in scenarios that train them (docs/practice.md, "Coaching plans"). Records of practice
runs go to a JSON-lines file, so a later look (`empathy practice --history`) shows the trend."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from empathy_engine.coaching.playbook import Playbook, load_playbook
from empathy_engine.practice.scenario import Scenario, ScenarioError, builtin_scenarios
from empathy_engine.privacy import redact_text

PLAN_VERSION = 1
SKILLS_PER_PLAN = 3
SCENARIOS_PER_PLAN = 3
QUOTES_PER_SKILL = 2
QUOTE_CHARS = 280
#: A plan or records file bigger than this is not one of ours.
MAX_PLAN_BYTES = 1024 * 1024
MAX_RECORDS_BYTES = 16 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class PlanError(ValueError):
    """A plan or records file that cannot be used; the message names the file and the fix."""


def _clip(text: str) -> str:
    text = " ".join(redact_text(text).split())  # audit quotes are masked already; masked again, to be sure
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1].rstrip() + "…"


def _step_of(playbook: Playbook, state: str, do: str) -> str | None:
    """The playbook step whose `do` the advice began with (a rider may have added to it)."""
    path = playbook.states.get(state)  # type: ignore[call-overload]
    if path is None:
        return None
    prefixes = [(s.id, s.do.split("{")[0].strip()) for s in path.steps]
    return next((step for step, prefix in prefixes if prefix and do.startswith(prefix)), None)


def _skill(miss: Mapping[str, Any], playbook: Playbook) -> dict[str, Any]:
    state = str(miss["state"])
    quotes = list(miss.get("quotes") or [])[:QUOTES_PER_SKILL]
    advice = next((a for q in quotes for a in q.get("advice") or () if a.get("state") == state), None)
    step = _step_of(playbook, state, str(advice.get("do", ""))) if advice else None
    return {
        "skill": f"{state}/{step}" if step else state,
        "state": state,
        "do": str(advice.get("do", "")) if advice else f"Respond to the customer's {state.replace('_', ' ')}",
        "say": str(advice.get("say", "")) if advice else "",
        "missed_calls": int(miss.get("missed_calls", 0)),
        "judged_calls": int(miss.get("judged_calls", 0)),
        "why": str(miss.get("text", "")),
        "quotes": [
            {
                "call_id": str(q.get("call_id", "")),
                "customer": _clip(str(q.get("quote", ""))),
                "reply": _clip(str(q.get("reply", ""))),
            }
            for q in quotes
        ],  # fmt: skip
    }


def scenarios_for(states: list[str], scenarios: Mapping[str, Scenario]) -> list[str]:
    """The scenarios that train `states` best: the most of them, the most-missed one weighing most."""
    weight = {s: len(states) - i for i, s in enumerate(states)}
    ranked = sorted(
        ((sum(weight.get(t, 0) for t in set(sc.trains)), sc.id) for sc in scenarios.values()),
        key=lambda x: (-x[0], x[1]),
    )
    return [sid for points, sid in ranked if points > 0][:SCENARIOS_PER_PLAN]


def plan_for(agent: Mapping[str, Any], playbook: Playbook, scenarios: Mapping[str, Scenario]) -> dict[str, Any]:
    misses = [m for m in agent.get("top_misses") or () if int(m.get("missed_calls", 0)) > 0]
    skills = [_skill(m, playbook) for m in misses[:SKILLS_PER_PLAN]]
    return {
        "version": PLAN_VERSION,
        "agent": str(agent["agent"]),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "calls": int(agent.get("calls", 0)),
        "missed_cues": int(agent.get("missed_cues", 0)),
        "skills": skills,
        "scenarios": scenarios_for([s["state"] for s in skills], scenarios),
    }


def file_name(agent: str) -> str:
    """A plan's file name: the agent id made safe for any file system (with a short hash of the id
    when that changed it, so "a/1" and "a_1" never share a file)."""
    safe = _UNSAFE.sub("_", agent)[:80] or "agent"
    if safe != agent:
        safe += "-" + hashlib.sha256(agent.encode("utf-8")).hexdigest()[:8]
    return f"plan-{safe}.json"


def write_plans(folder: Path, summary: Mapping[str, Any], playbook_path: Path | None = None) -> list[Path]:
    """One plan file per audited agent with at least one missed cue; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    playbook, scenarios = load_playbook(playbook_path), builtin_scenarios()
    written = []
    for agent in summary.get("agents") or ():
        plan = plan_for(agent, playbook, scenarios)
        if not plan["skills"]:
            continue
        path = folder / file_name(plan["agent"])
        path.write_text(json.dumps(plan, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


@dataclass(frozen=True, slots=True)
class Plan:
    path: Path
    agent: str
    scenarios: tuple[Scenario, ...]
    skills: tuple[str, ...]


def read_plan(path: Path) -> Plan:
    try:
        if path.stat().st_size > MAX_PLAN_BYTES:
            raise PlanError(f"{path}: {path.stat().st_size} bytes; a plan is at most {MAX_PLAN_BYTES}")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise PlanError(f"{path}: cannot read the plan: {e.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PlanError(f"{path}: not a plan (JSON written by `empathy audit --plans`): {e}") from None
    if not isinstance(data, dict) or data.get("version") != PLAN_VERSION or not isinstance(data.get("agent"), str):
        raise PlanError(f"{path}: not a version {PLAN_VERSION} plan; write it again with `empathy audit --plans DIR`")
    known = builtin_scenarios()
    ids = data.get("scenarios")
    if not isinstance(ids, list) or not ids:
        raise PlanError(f"{path}: field 'scenarios': a plan lists at least one scenario id")
    if unknown := [s for s in ids if s not in known]:
        raise PlanError(f"{path}: field 'scenarios': no built-in scenario {unknown[0]!r}; use {', '.join(known)}")
    skills = tuple(str(s.get("skill", "")) for s in data.get("skills") or () if isinstance(s, dict))
    return Plan(path, data["agent"], tuple(known[s] for s in ids), skills)


def record_path(plan: Path) -> Path:
    """Where a plan's practice runs are recorded by default: beside the plan."""
    return plan.with_name("practice-records.jsonl")


def append_record(path: Path, record: Mapping[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(dict(record), ensure_ascii=False) + "\n")


def read_records(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON-lines file; a broken line names its line number."""
    try:
        if path.stat().st_size > MAX_RECORDS_BYTES:
            raise PlanError(f"{path}: larger than {MAX_RECORDS_BYTES} bytes; split it by period")
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise PlanError(f"{path}: cannot read the records: {e.strerror}") from None
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            out.append({"agent": str(r["agent"]), "scenario": str(r["scenario"]), "score": int(r["score"]),
                        "at": str(r["at"])})  # fmt: skip
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            raise PlanError(f"{path}:{n}: not a practice record (agent, scenario, score, at)") from None
    return out


def history(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per agent and scenario, in time order: runs, first and last score, the change."""
    runs: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for r in records:
        runs.setdefault((r["agent"], r["scenario"]), []).append((r["at"], r["score"]))
    out = []
    for (agent, scenario), scores in sorted(runs.items()):
        scores.sort()
        first, last = scores[0][1], scores[-1][1]
        out.append({"agent": agent, "scenario": scenario, "runs": len(scores), "first": first, "last": last,
                    "best": max(s for _, s in scores), "change": last - first, "last_at": scores[-1][0]})  # fmt: skip
    return out


__all__ = ["PlanError", "ScenarioError", "append_record", "history", "read_plan", "read_records", "write_plans"]
