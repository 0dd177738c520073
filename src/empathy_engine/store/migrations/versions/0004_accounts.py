"""accounts: teams, users, API keys, browser sessions, WebSocket tickets

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Every account row belongs to a tenant. No secret is stored: keys, session cookies and tickets
are kept as SHA-256 hashes of random 256-bit values, passwords as salted scrypt hashes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ROLES = "'agent', 'supervisor', 'qa_lead', 'admin'"


def _tenant() -> sa.Column[str]:
    return sa.Column("tenant_id", sa.String(length=200), sa.ForeignKey("tenants.id"), nullable=False)


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("tenant_id", sa.String(length=200), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("name", sa.String(length=200), primary_key=True),
        _when("created_at"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _tenant(),
        sa.Column("login", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=500), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("team", sa.String(length=200), nullable=True),
        _when("created_at"),
        _when("disabled_at", nullable=True),
        sa.UniqueConstraint("tenant_id", "login", name="uq_users_tenant_login"),
        sa.CheckConstraint(f"role IN ({ROLES})", name="ck_users_role"),
    )
    op.create_index("ix_users_tenant_id", "users", ["tenant_id"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=40), primary_key=True),
        _tenant(),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("team", sa.String(length=200), nullable=True),
        sa.Column("login", sa.String(length=200), nullable=True),
        _when("created_at"),
        _when("last_used_at", nullable=True),
        _when("revoked_at", nullable=True),
        sa.CheckConstraint(f"role IN ({ROLES}, 'integration')", name="ck_api_keys_role"),
    )
    op.create_index("ix_api_keys_tenant_id", "api_keys", ["tenant_id"])
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(length=64), primary_key=True),
        _tenant(),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        _when("created_at"),
        _when("expires_at"),
    )
    for column in ("tenant_id", "user_id", "expires_at"):
        op.create_index(f"ix_sessions_{column}", "sessions", [column])
    op.create_table(
        "tickets",
        sa.Column("token_hash", sa.String(length=64), primary_key=True),
        _tenant(),
        sa.Column("issued_to", sa.String(length=200), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        _when("used_at", nullable=True),
    )
    for column in ("tenant_id", "expires_at"):
        op.create_index(f"ix_tickets_{column}", "tickets", [column])


def downgrade() -> None:
    for table in ("tickets", "sessions", "api_keys", "users", "teams"):
        op.drop_table(table)
