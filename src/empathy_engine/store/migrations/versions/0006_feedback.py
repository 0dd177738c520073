"""feedback: agents' word on the cards ("helpful", "wrong_read"), tenant rows like the others

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

One row per (tenant, call, turn, who, kind): pressing the same button again is the same row.
A row belongs to a stored turn of its own tenant (the foreign key includes the tenant) and goes
with it. On PostgreSQL the table gets the same FORCEd row-level security as 0005's tables: a row
is visible and writable only when its tenant_id equals the transaction's `empathy.tenant_id`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLE = "feedback"
POLICY = "tenant_isolation"
SAME_TENANT = "tenant_id = current_setting('empathy.tenant_id', true)"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("tenant_id", sa.String(length=200), nullable=False),
        sa.Column("call_id", sa.String(length=200), nullable=False),
        sa.Column("turn_index", sa.Integer(), nullable=False),
        sa.Column("given_by", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("card_id", sa.String(length=200), nullable=False),
        sa.Column("agent_id", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('helpful', 'wrong_read')", name="ck_feedback_kind"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_feedback_tenant"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "call_id", "turn_index"],
            ["turns.tenant_id", "turns.call_id", "turns.turn_index"],
            name="fk_feedback_turn",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "call_id", "turn_index", "given_by", "kind", name="pk_feedback"),
    )
    op.create_index("ix_feedback_tenant_agent_created", TABLE, ["tenant_id", "agent_id", "created_at"])
    op.create_index("ix_feedback_tenant_kind_created", TABLE, ["tenant_id", "kind", "created_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {TABLE} FORCE ROW LEVEL SECURITY")  # the table's owner too
        op.execute(f"CREATE POLICY {POLICY} ON {TABLE} USING ({SAME_TENANT}) WITH CHECK ({SAME_TENANT})")


def downgrade() -> None:
    # Its indexes and policy go with it. IF EXISTS: SQLite's driver commits DDL as it goes, so a
    # downgrade that an older migration refuses further down may already have dropped it.
    op.execute(f"DROP TABLE IF EXISTS {TABLE}")
