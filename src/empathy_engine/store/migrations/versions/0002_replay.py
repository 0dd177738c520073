"""exact replay: each turn's end and voice features, each call's engine settings

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

A restarted server and an audit of stored calls replay every turn through the engine. To give
exactly the live results they need what the live engine had: the settings it ran with (model,
playbook, holiday calendar, policy version) and, for calls heard over telephony, the tone of
voice of each turn (it came from audio that is not kept). Rows stored before this migration
have none of it (NULL): they replay as before, with the server's settings and without voice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as calls:
        calls.add_column(sa.Column("engine", sa.JSON(), nullable=True))
    with op.batch_alter_table("turns") as turns:
        turns.add_column(sa.Column("end_t", sa.Float(), nullable=True))
        turns.add_column(sa.Column("voice", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("turns") as turns:
        turns.drop_column("voice")
        turns.drop_column("end_t")
    with op.batch_alter_table("calls") as calls:
        calls.drop_column("engine")
