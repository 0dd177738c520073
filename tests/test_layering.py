"""The import arrows run down the flow (../shared/DESIGN.md): wire -> perception -> state -> coaching
-> pipeline -> service/audit/cli. Every import in src counts, also those inside functions and
under TYPE_CHECKING, since an arrow back up is a design problem wherever it is written."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "empathy_engine"
CORE = ("perception", "state", "coaching", "results", "advice", "taxonomy", "events", "ingest", "privacy")
ABOVE_CORE = ("pipeline", "service", "store", "audit", "practice", "cli", "render", "bench", "demo", "client")
#: (importing part, parts it must never import)
FORBIDDEN: list[tuple[str, tuple[str, ...]]] = [
    ("results", ("coaching",)),
    ("state", ("coaching",)),
    ("advice", ("perception", "state", "coaching", "results")),
    ("taxonomy", ("perception", "state", "coaching", "results", "advice")),
    # The redactor stands alone: every path (ingest, the pipeline, the service, the store) calls it.
    ("privacy", ("perception", "state", "coaching", "results", "advice", "ingest")),
    *((part, ABOVE_CORE) for part in CORE),
    # Which extra is installed: every layer asks, so it may import none of them.
    ("extras", (*CORE, *ABOVE_CORE)),
]
#: Training-time only: the run-time path must work without them (pyproject's `train` extra).
NEVER_AT_RUN_TIME = ("torch", "transformers", "sklearn", "training")


def _modules() -> dict[str, set[str]]:
    """Each module of the package (dotted, without the package name) and what it imports."""
    found: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        imports: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imports.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imports.add(node.module)
                imports.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[name] = imports
    return found


MODULES = _modules()


def _part(dotted: str) -> str | None:
    """The package part an import names ("empathy_engine.coaching.coach" -> "coaching")."""
    if not dotted.startswith("empathy_engine."):
        return None
    return dotted.split(".")[1]


@pytest.mark.parametrize(("importer", "forbidden"), FORBIDDEN, ids=[f"{p}" for p, _ in FORBIDDEN])
def test_layering_no_import_runs_back_up_the_flow(importer: str, forbidden: tuple[str, ...]) -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in MODULES.items()
        if module.split(".")[0] == importer
        for target in targets
        if _part(target) in forbidden
    )
    assert not wrong


def test_layering_nothing_at_run_time_imports_training_code() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in MODULES.items()
        for target in targets
        if target.split(".")[0] in NEVER_AT_RUN_TIME
    )
    assert not wrong


def test_layering_sees_the_package() -> None:
    # A guard for the guard: the scan must find the modules it checks.
    assert {"results", "state.tracker", "coaching.coach", "pipeline", "service.app"} <= set(MODULES)
