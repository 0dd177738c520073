"""Scenarios: YAML shipped in the package (practice/scenarios/*.yaml) or given as a file, validated
on load like the playbook: a broken scenario names its file, its line and the fix."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from empathy_engine.coaching.playbook import _line_of, read_user_file
from empathy_engine.events import CallStarted
from empathy_engine.ingest.conversation import CallHeaderV1, call_started
from empathy_engine.taxonomy import BEHAVIOURS as AGENT_BEHAVIOURS
from empathy_engine.taxonomy import STATES as CUSTOMER_STATES

#: A scenario is small: more than this is not a scenario (refused before YAML parses it).
MAX_SCENARIO_BYTES = 64 * 1024
MAX_LINE_CHARS = 600
SCENARIO_ID = r"^[a-z0-9][a-z0-9_-]{0,63}$"
Line = Annotated[str, Field(min_length=1, max_length=MAX_LINE_CHARS)]
Outcome = Literal["resolved", "escalated", "hung_up"]


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message names the file, the line and the field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Beat(_Model):
    """One step of the customer's path: what they say next, by how the agent's last reply landed."""

    #: The customer state this beat plays (documentation, coverage, and what a plan trains).
    state: str
    #: The reply answered the customer (no missed cue) and did what the card asked.
    better: Line
    #: The reply missed the cue or skipped the card: the customer's feeling rises.
    worse: Line
    #: A behaviour the reply showed -> a line that replaces `better` (e.g. budget_ack -> relief).
    behaviours: dict[str, Line] = {}

    @field_validator("state")
    @classmethod
    def _known_state(cls, state: str) -> str:
        if state not in CUSTOMER_STATES:
            raise ValueError(f"unknown state {state!r}; use one of {', '.join(CUSTOMER_STATES)}")
        return state

    @field_validator("behaviours")
    @classmethod
    def _known_behaviours(cls, lines: dict[str, str]) -> dict[str, str]:
        if unknown := sorted(set(lines) - set(AGENT_BEHAVIOURS)):
            raise ValueError(f"unknown behaviour {unknown[0]!r}; use one of {', '.join(AGENT_BEHAVIOURS)}")
        return lines


class GiveUp(_Model):
    """How the call ends when the customer runs out of patience."""

    outcome: Literal["escalated", "hung_up"]
    line: Line


class Scenario(_Model):
    id: Annotated[str, Field(pattern=SCENARIO_ID)]
    title: Annotated[str, Field(min_length=1, max_length=120)]
    #: The customer states the scenario trains (a coaching plan picks scenarios by these).
    trains: Annotated[list[str], Field(min_length=1)]
    #: The call header, as in a conversation file (docs/conversation-format.md): the engine
    #: personalises the cards from it exactly as in a live call.
    call: CallHeaderV1 = CallHeaderV1()
    opening: Line
    beats: Annotated[list[Beat], Field(min_length=1, max_length=20)]
    #: Said when a safety card was up and the reply did not act on it: the safety step repeats.
    safety_repeat: Line | None = None
    #: Missed replies the customer takes before giving up.
    patience: Annotated[int, Field(ge=0, le=10)] = 2
    give_up: GiveUp
    #: Agent replies at most; a call still open then ends as the give-up outcome.
    turn_limit: Annotated[int, Field(ge=1, le=30)] = 8

    @field_validator("trains")
    @classmethod
    def _known_states(cls, states: list[str]) -> list[str]:
        if unknown := [s for s in states if s not in CUSTOMER_STATES]:
            raise ValueError(f"unknown state {unknown[0]!r}; use one of {', '.join(CUSTOMER_STATES)}")
        return states

    @model_validator(mode="after")
    def _reachable(self) -> Scenario:
        if self.turn_limit < len(self.beats):
            raise ValueError(f"turn_limit {self.turn_limit} is below the {len(self.beats)} beats; raise it")
        return self

    def call_started(self, call_id: str) -> CallStarted:
        return call_started(call_id, self.call)

    def states(self) -> set[str]:
        """Every customer state the scenario plays or trains."""
        return {*self.trains, *(b.state for b in self.beats)}


def _read(text: str, name: str) -> tuple[dict[str, Any], yaml.Node | None]:
    if len(text) > MAX_SCENARIO_BYTES:
        raise ScenarioError(f"{name}: the scenario is {len(text)} characters; at most {MAX_SCENARIO_BYTES}")
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                line = event.start_mark.line + 1
                raise ScenarioError(f"{name}:{line}: YAML aliases (*{event.anchor}) are not allowed; write it out")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        raise ScenarioError(f"{where}: not valid YAML: {getattr(e, 'problem', e)}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{name}:1: a scenario is a mapping with id, title, opening, beats and give_up")
    return data, node


def _describe(error: ValidationError, name: str, node: yaml.Node | None) -> str:
    lines = []
    for e in error.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[") or "scenario"
        line = _line_of(node, loc) if node is not None else 1
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "missing":
            msg = f"missing; add '{loc[-1]}:' (docs/practice.md lists every field)"
        elif e["type"] == "extra_forbidden":
            msg = f"unknown field; the fields are those of docs/practice.md ({msg.lower()})"
        lines.append(f"{name}:{line}: {where}: {msg}")
    return "\n".join(lines)


def parse_scenario(text: str, name: str) -> Scenario:
    data, node = _read(text, name)
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(_describe(e, name, node)) from None


def load_scenario_file(path: Path) -> Scenario:
    return parse_scenario(read_user_file(path, "scenario", ScenarioError), str(path))


@cache
def builtin_scenarios() -> dict[str, Scenario]:
    """The shipped scenarios by id, in file-name order (read once: they are frozen; do not change the dict)."""
    folder = resources.files("empathy_engine") / "practice" / "scenarios"
    found: dict[str, Scenario] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            scenario = parse_scenario(entry.read_text(encoding="utf-8"), f"scenarios/{entry.name}")
            found[scenario.id] = scenario
    return found


def find_scenario(name: str) -> Scenario:
    """A built-in scenario by id, or a scenario file by path."""
    scenarios = builtin_scenarios()
    if name in scenarios:
        return scenarios[name]
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return load_scenario_file(path)
    raise ScenarioError(f"no scenario {name!r}: use one of {', '.join(scenarios)} or a .yaml file")
