"""Alembic environment: run on the connection the application hands over (see store.db.migrate)."""

from __future__ import annotations

from alembic import context

from empathy_engine.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable by running alembic by hand
    raise SystemExit("run migrations through empathy_engine.store.db.migrate(engine)")

# Batch mode lets later migrations alter SQLite tables (it rebuilds them); PostgreSQL ignores it.
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
