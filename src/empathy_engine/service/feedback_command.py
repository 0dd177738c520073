"""`empathy feedback export`: the review queue of "wrong read" turns as JSONL for annotation, from the
service's database (EMPATHY_DATABASE_URL, or --database). Registered in cli.py; heavy imports
stay inside. The shape is in docs/learning.md, "Agents' feedback"."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

feedback_app = typer.Typer(
    help="Agents' feedback on the cards ('serve' extra): the review queue of readings they called wrong.",
    no_args_is_help=True,
)


@feedback_app.callback()
def _feedback() -> None:
    from empathy_engine.extras import command_needs

    command_needs("serve", "empathy feedback")


def _fail(message: str) -> typer.Exit:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True, highlight=False).print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(2)


def parse_since(value: str | None) -> datetime | None:
    """`--since` as a UTC time: a date (midnight UTC), or an ISO 8601 time (no offset: UTC)."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _fail(
            f"--since {value!r} is not a date or time; use e.g. 2026-12-01 or 2026-12-01T09:00:00+01:00"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _write(lines: list[dict[str, Any]], output: Path | None) -> None:
    """All the lines, or nothing: a file is written beside its target and renamed into place."""
    text = "".join(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n" for line in lines)
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        return
    folder = output.resolve().parent
    if not folder.is_dir():
        raise _fail(f"-o {output}: the folder {folder} does not exist")
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@feedback_app.command("export")
def export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="The JSONL file to write (- or none: stdout).")
    ] = None,
    database: Annotated[
        str | None,
        typer.Option("--database", help="Database URL. Default: EMPATHY_DATABASE_URL, else the user's SQLite file."),
    ] = None,
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant whose feedback to export.")] = "default",
    since: Annotated[
        str | None, typer.Option("--since", help="Only feedback given since then: a date (UTC) or an ISO 8601 time.")
    ] = None,
) -> None:
    """Write the turns agents called a wrong read, one JSON line each, for annotation.

    Example: empathy feedback export --since 2026-12-01 -o queue.jsonl
    """
    from empathy_engine.service.settings import Settings
    from empathy_engine.store.db import DatabaseError, open_database
    from empathy_engine.store.review_queue import review_queue
    from empathy_engine.store.tenancy import bind_tenant

    after = parse_since(since)
    try:
        db = open_database(database or Settings().database_url)
    except DatabaseError as e:
        raise _fail(str(e)) from None
    try:
        with db.connect() as connection:
            bind_tenant(connection, tenant)
            lines = list(review_queue(connection, tenant, after))
    finally:
        db.dispose()
    _write(lines, output)
    where = f" to {output}" if output is not None and str(output) != "-" else ""
    typer.echo(f"{len(lines)} wrong-read turn(s) of tenant {tenant!r}{where}", err=True)
