"""users.explain: the idiom explainer on an agent's calls

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

An agent marked as needing it gets, on each cue card, one line on what the customer's phrase
usually means in American English (coaching/explainer.py). Off for every existing user.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("explain", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    # Idempotent: on SQLite the drop may already have happened in a downgrade whose later step
    # (0005's refusal while other tenants have rows) failed and was retried.
    bind = op.get_bind()
    if "explain" not in {c["name"] for c in sa.inspect(bind).get_columns("users")}:
        return
    if bind.dialect.name == "sqlite":  # a plain ALTER (SQLite has one since 3.35), no batch rebuild
        op.execute("ALTER TABLE users DROP COLUMN explain")
    else:
        op.drop_column("users", "explain")
