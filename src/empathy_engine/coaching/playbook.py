"""The playbook: YAML shipped in the package, overridable by a user file, validated with clear errors."""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import re2
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from empathy_engine.taxonomy import NEGATIVE_STATES, AgentBehaviour, CustomerState

PLACEHOLDER = re.compile(r"\{(\w+)\}")
KNOWN_PLACEHOLDERS = frozenset({"name", "person", "relation", "occasion", "issue"})
Phrasing = Annotated[str, Field(min_length=1)]
RiderName = Literal[
    "vulnerable_person", "repeat_contact", "no_show", "out_of_hours", "emergency_service", "routine_service"
]


#: Deeper than any playbook needs (the shipped one is 6 levels); refused before PyYAML recurses.
MAX_YAML_DEPTH = 32
MAX_YAML_BYTES = 1024 * 1024


class PlaybookError(ValueError):
    """A playbook that cannot be used; the message names the file, the line and the field."""


def compile_pattern(pattern: str) -> Any:
    """A hazard pattern compiled with RE2, case-insensitive: matching time is linear in the text,
    so no pattern (`(a+)+$` included) can stall a call. Raises `re2.error` for what RE2 cannot
    run in linear time (backreferences, lookarounds)."""
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # the error comes back to the user in the playbook message instead
    return re2.compile(pattern, options)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_placeholders(phrasings: list[str]) -> list[str]:
    for text in phrasings:
        unknown = set(PLACEHOLDER.findall(text)) - KNOWN_PLACEHOLDERS
        if unknown:
            raise ValueError(f"unknown placeholder {{{sorted(unknown)[0]}}}; use {sorted(KNOWN_PLACEHOLDERS)}")
    return phrasings


class Step(_Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    do: Annotated[str, Field(min_length=1)]
    expects: Annotated[list[AgentBehaviour], Field(min_length=1)]
    say: Annotated[list[Phrasing], Field(min_length=1)]
    avoid: list[str] = []

    _placeholders = field_validator("say")(_check_placeholders)


class StatePath(_Model):
    priority: Annotated[int, Field(ge=1)]
    steps: Annotated[list[Step], Field(min_length=1)]
    avoid: list[str] = []


class Hazard(_Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    patterns: Annotated[list[str], Field(min_length=1)]
    do: Annotated[str, Field(min_length=1)]
    say: Annotated[str, Field(min_length=1)]
    avoid: list[str] = []

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for p in patterns:
            if problem := pattern_problem(p):
                raise ValueError(problem)
        return patterns


def pattern_problem(pattern: str) -> str | None:
    """Why RE2 cannot run `pattern` (None when it can)."""
    try:
        compile_pattern(pattern)
    except re2.error as e:
        reason = e.args[0].decode(errors="replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        return (
            f"pattern {pattern!r} is not a regular expression RE2 can run in linear time ({reason}); "
            "backreferences and lookarounds are not supported - rewrite it without them"
        )
    return None


class Rider(_Model):
    applies_to: list[CustomerState]
    do: Annotated[str, Field(min_length=1)]
    say: Annotated[str, Field(min_length=1)]


class Playbook(_Model):
    version: Literal[1]
    states: dict[CustomerState, StatePath]
    safety: list[Hazard] = []
    riders: dict[RiderName, Rider] = {}

    @field_validator("states")
    @classmethod
    def _every_negative_state(cls, states: dict[CustomerState, StatePath]) -> dict[CustomerState, StatePath]:
        missing = [s for s in NEGATIVE_STATES if s not in states]
        if missing:
            raise ValueError(f"has no path for {', '.join(missing)}")
        return states


def _check_shape(data: dict[str, Any], name: str) -> None:
    """The sections a user file may name must have the shape merging expects."""
    for key, kind, what in (
        ("states", dict, "a mapping of state: path"),
        ("riders", dict, "a mapping of name: rider"),
        ("safety", list, "a list of hazards"),
    ):
        value = data.get(key)
        if value is not None and not isinstance(value, kind):
            raise PlaybookError(f"{name}: '{key}' must be {what}, got {type(value).__name__}")
    if any(not isinstance(h, dict) for h in data.get("safety") or []):
        raise PlaybookError(f"{name}: each entry of 'safety' must be a mapping with id, patterns, do, say")


def _check_patterns(data: dict[str, Any], name: str, node: yaml.Node | None) -> None:
    """A user file's hazard patterns, checked where they are written (the merged list renumbers them)."""
    for i, hazard in enumerate(data.get("safety") or []):
        patterns = hazard.get("patterns")
        for j, pattern in enumerate(patterns if isinstance(patterns, list) else []):
            problem = pattern_problem(pattern) if isinstance(pattern, str) else None
            if problem:
                line = _line_of(node, ("safety", i, "patterns", j)) if node is not None else None
                raise PlaybookError(f"{name}{f':{line}' if line else ''}: safety[{i}].patterns[{j}]: {problem}")


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """A user file replaces the states, hazards and riders it names and keeps the rest."""
    merged = {**base, **{k: v for k, v in override.items() if k not in {"states", "riders", "safety"}}}
    for key in ("states", "riders"):
        merged[key] = {**base.get(key, {}), **(override.get(key) or {})}
    by_id = {h["id"]: h for h in base.get("safety", [])}
    for hazard in override.get("safety") or []:
        by_id[hazard.get("id")] = hazard
    merged["safety"] = list(by_id.values())
    return merged


def _line_of(node: yaml.Node, loc: tuple[Any, ...]) -> int:
    """The line (1-based) of the YAML node at a pydantic error location, or of its nearest parent."""
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        else:
            child = None
        if child is None:
            break
        node = child
    return node.start_mark.line + 1


def _describe(error: ValidationError, name: str, nodes: dict[str, yaml.Node]) -> str:
    lines = []
    for e in error.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
        source = name
        node = nodes.get("user") if "user" in nodes else nodes.get("shipped")
        line = _line_of(node, loc) if node is not None else None
        msg = e["msg"].removeprefix("Value error, ")
        lines.append(f"{source}:{line}: {where}: {msg}" if line else f"{source}: {where}: {msg}")
    return "\n".join(lines)


def _check_structure(text: str, name: str, what: str = "playbook") -> None:
    """Size, depth and aliases, checked on PyYAML's event stream (which does not recurse) before
    anything builds nested objects: deep nesting and alias bombs are refused with a clear error."""
    if len(text) > MAX_YAML_BYTES:
        raise PlaybookError(f"{name}: the {what} is {len(text)} characters; at most {MAX_YAML_BYTES}")
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise PlaybookError(f"{name}:{line}: YAML aliases (*{event.anchor}) are not allowed in a {what}")
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise PlaybookError(f"{name}:{line}: nested too deeply; a {what} has at most {MAX_YAML_DEPTH} levels")
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1


def read_user_file(file: Path, what: str, error: type[ValueError]) -> str:
    """A user's YAML file (a playbook, lexicon or scenario) as text, or `error` saying why not, in
    words that name the file and the fix (never a traceback)."""
    try:
        return file.read_text(encoding="utf-8")
    except OSError as e:
        raise error(f"{file}: cannot read the {what}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise error(f"{file}: not UTF-8 text; save the {what} as UTF-8") from None


def _read_yaml(text: str, name: str) -> tuple[dict[str, Any], yaml.Node | None]:
    try:
        _check_structure(text, name)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        raise PlaybookError(f"{where}: not valid YAML: {getattr(e, 'problem', e)}") from None
    if data is None:
        return {}, node
    if not isinstance(data, dict):
        raise PlaybookError(f"{name}:1: a playbook is a mapping with 'version' and 'states'")
    return data, node


def shipped_text() -> str:
    return (resources.files("empathy_engine") / "coaching" / "playbook.yaml").read_text(encoding="utf-8")


def load_playbook(path: str | Path | None = None) -> Playbook:
    """The shipped playbook, overridden by `path` (or $EMPATHY_PLAYBOOK) when given."""
    path = path or os.environ.get("EMPATHY_PLAYBOOK") or None
    base, base_node = _read_yaml(shipped_text(), "playbook.yaml (shipped)")
    nodes: dict[str, yaml.Node] = {"shipped": base_node} if base_node else {}
    name = "playbook.yaml (shipped)"
    data = base
    if path is not None:
        file = Path(path)
        user, user_node = _read_yaml(read_user_file(file, "playbook", PlaybookError), str(file))
        if user_node is not None:
            nodes["user"] = user_node
        name = str(file)
        _check_shape(user, name)
        _check_patterns(user, name, user_node)
        data = _merge(base, user)
    try:
        return Playbook.model_validate(data)
    except ValidationError as e:
        raise PlaybookError(_describe(e, name, nodes)) from None
