"""The cue policy file `empathy learn fit` writes and `--policy FILE` loads (docs/learning.md).

    {"format": "empathy-policy/1",
     "header": {"version": ..., "created": ..., "method": ..., "floor": 0.02, "adopt": true, ...},
     "choices": {"frustration/validate": {"default": {"frustration/validate#1a2b3c": 0.7, ...}}}}

`version` is a hash of `floor` and `choices`, so a policy edited by hand is caught at load (refit
it instead) and two fits that agree get the same version. Every probability is at least `floor`:
exploration never stops, so the loop can keep learning and off-policy estimates stay defined.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "empathy-policy/1"
#: The least probability a fitted policy gives any variant it knows.
DEFAULT_FLOOR = 0.02
MAX_POLICY_BYTES = 16 * 1024 * 1024
_SUM_TOLERANCE = 1e-6


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file and the field."""


def content_version(floor: float, choices: Mapping[str, Any]) -> str:
    """The policy's version: 16 hex digits of SHA-256 over the canonical JSON of what it decides."""
    body = json.dumps({"floor": floor, "choices": choices}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Policy:
    """Per (state, step, context): each variant's probability of being shown."""

    choices: dict[str, dict[str, dict[str, float]]]
    floor: float = DEFAULT_FLOOR
    header: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return str(self.header.get("version") or content_version(self.floor, self.choices))

    def probabilities(self, state: str, step: str, context: str) -> dict[str, float]:
        """variant -> probability (sums to 1, each >= floor); the "default" context when this one has
        no entry; empty when the policy has nothing for the step (the coach then draws uniformly)."""
        by_context = self.choices.get(f"{state}/{step}")
        if not by_context:
            return {}
        return by_context.get(context) or by_context.get("default") or {}

    def to_json(self) -> dict[str, Any]:
        header = {**self.header, "version": content_version(self.floor, self.choices), "floor": self.floor}
        return {"format": FORMAT, "header": header, "choices": self.choices}

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Policy:
        """The policy in `path`; `PolicyError` naming the file and the field when it is unusable."""
        file = Path(path)
        try:
            if file.stat().st_size > MAX_POLICY_BYTES:
                raise PolicyError(f"{file}: the policy is over {MAX_POLICY_BYTES // 2**20} MiB; is it the right file?")
            data = json.loads(file.read_text(encoding="utf-8"))
        except OSError as e:
            raise PolicyError(f"{file}: cannot read the policy: {e.strerror}") from None
        except UnicodeDecodeError:
            raise PolicyError(f"{file}: not UTF-8 text; a policy is the JSON `empathy learn fit` writes") from None
        except json.JSONDecodeError as e:
            raise PolicyError(f"{file}:{e.lineno}: not valid JSON ({e.msg}); refit with `empathy learn fit`") from None
        return cls.from_json(data, str(file))

    @classmethod
    def from_json(cls, data: Any, name: str = "policy") -> Policy:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise PolicyError(f"{name}: format: expected {FORMAT!r}; write the file with `empathy learn fit`")
        header = data.get("header")
        if not isinstance(header, dict):
            raise PolicyError(f"{name}: header: must be an object with version and floor")
        floor = header.get("floor")
        if not isinstance(floor, int | float) or isinstance(floor, bool) or not 0 < floor < 1:
            raise PolicyError(f"{name}: header.floor: must be a number between 0 and 1 (exclusive), got {floor!r}")
        choices = _checked_choices(data.get("choices"), float(floor), name)
        version = header.get("version")
        if version != content_version(float(floor), choices):
            raise PolicyError(
                f"{name}: header.version: {version!r} does not match the policy's content (edited by hand?); "
                "refit it with `empathy learn fit`"
            )
        return cls(choices, float(floor), header)


def _checked_choices(choices: Any, floor: float, name: str) -> dict[str, dict[str, dict[str, float]]]:
    if not isinstance(choices, dict):
        raise PolicyError(f"{name}: choices: must be an object of \"<state>/<step>\": {{context: {{variant: p}}}}")
    for key, by_context in choices.items():
        if not isinstance(by_context, dict):
            raise PolicyError(f"{name}: choices.{key}: must be an object of context: {{variant: probability}}")
        for context, odds in by_context.items():
            where = f"{name}: choices.{key}.{context}"
            if not isinstance(odds, dict) or not odds:
                raise PolicyError(f"{where}: must be a non-empty object of variant: probability")
            for variant, p in odds.items():
                if not isinstance(p, int | float) or isinstance(p, bool) or not floor - 1e-9 <= p <= 1:
                    raise PolicyError(f"{where}.{variant}: probability must be within [floor {floor}, 1], got {p!r}")
            if abs(sum(odds.values()) - 1) > _SUM_TOLERANCE:
                raise PolicyError(f"{where}: probabilities sum to {sum(odds.values()):.6f}, not 1")
    return choices
