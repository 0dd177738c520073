"""tenants: the organisations one server keeps apart

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Every credential belongs to one tenant, and every row the service keeps will carry the tenant
it belongs to (later migrations). Rows stored before tenants existed belong to `default`, the
tenant a single-team install never has to name.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tenants = op.create_table(
        "tenants",
        sa.Column("id", sa.String(length=200), primary_key=True),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.bulk_insert(tenants, [{"id": "default", "name": "Default", "created_at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table("tenants")
