"""calls, turns, customers, prior contacts, outcomes

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Migrations are frozen: they spell the types out rather than import the models, so a later
change to models.py never rewrites history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.String(length=200), primary_key=True),
        sa.Column("header", sa.JSON(), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("turn_count", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=True),
        _when("created_at"),
        _when("updated_at"),
        _when("ended_at", nullable=True),
        sa.CheckConstraint("status IN ('live', 'ended')", name="ck_calls_status"),
    )
    op.create_index("ix_calls_created_at", "calls", ["created_at"])
    op.create_index("ix_calls_customer_id", "calls", ["customer_id"])
    op.create_index("ix_calls_status", "calls", ["status"])
    op.create_table(
        "customers",
        sa.Column("id", sa.String(length=200), primary_key=True),
        sa.Column("name", sa.String(length=500), nullable=True),
        sa.Column("notes", sa.JSON(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
    )
    op.create_table(
        "outcomes",
        sa.Column("call_id", sa.String(length=200), sa.ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("csat", sa.Integer(), nullable=True),
        sa.Column("resolved", sa.Boolean(), nullable=True),
        sa.Column("referral", sa.Boolean(), nullable=True),
        sa.Column("review_text", sa.Text(), nullable=True),
        _when("recorded_at"),
        sa.CheckConstraint("csat IS NULL OR (csat BETWEEN 1 AND 5)", name="ck_outcomes_csat"),
    )
    op.create_table(
        "prior_contacts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "customer_id", sa.String(length=200), sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("at", sa.String(length=40), nullable=True),
        sa.Column("issue", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
    )
    op.create_index("ix_prior_contacts_customer_id", "prior_contacts", ["customer_id"])
    op.create_table(
        "turns",
        sa.Column("call_id", sa.String(length=200), sa.ForeignKey("calls.id", ondelete="CASCADE"), nullable=False),
        sa.Column("turn_index", sa.Integer(), nullable=False),
        sa.Column("speaker", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("t", sa.Float(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        _when("received_at"),
        sa.CheckConstraint("speaker IN ('customer', 'agent')", name="ck_turns_speaker"),
        sa.PrimaryKeyConstraint("call_id", "turn_index"),
    )


def downgrade() -> None:
    op.drop_table("turns")
    op.drop_index("ix_prior_contacts_customer_id", table_name="prior_contacts")
    op.drop_table("prior_contacts")
    op.drop_table("outcomes")
    op.drop_table("customers")
    op.drop_index("ix_calls_status", table_name="calls")
    op.drop_index("ix_calls_customer_id", table_name="calls")
    op.drop_index("ix_calls_created_at", table_name="calls")
    op.drop_table("calls")
