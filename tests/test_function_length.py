"""No function in src is over 60 lines (issue 11): a longer one is split by what it does."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "empathy_engine"
MAX_LINES = 60


def _functions() -> list[tuple[str, int]]:
    """Every function and method in the package, as `path:line name`, with its length in lines."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                found.append((f"{path.relative_to(SRC)}:{node.lineno} {node.name}", length))
    return found


def test_function_length_none_over_60_lines() -> None:
    long = [f"{where} is {n} lines" for where, n in _functions() if n > MAX_LINES]
    assert not long


def test_function_length_sees_the_package() -> None:
    names = {where.split()[-1] for where, _ in _functions()}
    assert {"serve", "audit", "run_audit", "audit_call"} <= names
