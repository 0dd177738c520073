"""call owner and epoch: which replica holds a live call, and the fence against the one before

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Several `empathy serve` replicas share one PostgreSQL database (docs/deploy.md). Each live
call is held by one of them: `owner` names it (EMPATHY_REPLICA_ID) and `epoch` counts the
take-overs. A replica that resumes a call bumps the epoch in one conditional UPDATE; every
later write of the previous holder names the epoch it held, matches no row and is refused
(`taken_over`). Calls stored before have no owner and epoch 0: the first resume takes them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("calls", sa.Column("owner", sa.String(length=200), nullable=True))
    op.add_column("calls", sa.Column("epoch", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place (no table rebuild). Its DDL is not undone when a later
    # step of a longer downgrade refuses (0005 with other tenants' rows), so a second try finds the
    # columns gone already: drop only what is there.
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("calls")}
    for column in ("epoch", "owner"):
        if column in present:
            op.drop_column("calls", column)
