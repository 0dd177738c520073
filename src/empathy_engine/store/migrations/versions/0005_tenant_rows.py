"""tenant rows: tenant_id on every row, in every key; row-level security on PostgreSQL

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Every row of customers, prior_contacts, calls, turns and outcomes now names its tenant, and
the keys include it, so two tenants may use the same call id or customer id and a row can only
point at a row of its own tenant. Rows stored before belong to `default` (migration 0003).

On PostgreSQL each of these tables also gets row-level security, FORCEd so that it holds for the
tables' owner too: a row is visible and writable only when its tenant_id equals the
transaction's `empathy.tenant_id` setting (store/tenancy.py bind_tenant). A transaction that
sets none sees nothing. See docs/security.md, "Tenants and row-level security".

SQLite cannot alter keys in place: its tables are rebuilt (batch mode), with foreign keys
switched off meanwhile by store.db.migrate (otherwise dropping the old table would cascade).
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: Parents before children: a child's new foreign key needs its parent's new key.
TABLES = ("customers", "prior_contacts", "calls", "turns", "outcomes")
#: The new primary keys (prior_contacts keeps its own serial id).
KEYS = {
    "customers": ["tenant_id", "id"],
    "calls": ["tenant_id", "id"],
    "turns": ["tenant_id", "call_id", "turn_index"],
    "outcomes": ["tenant_id", "call_id"],
}
#: child table: (its column, the parent table, the new constraint's name)
PARENTS = {
    "prior_contacts": ("customer_id", "customers", "fk_prior_contacts_customer"),
    "turns": ("call_id", "calls", "fk_turns_call"),
    "outcomes": ("call_id", "calls", "fk_outcomes_call"),
}
#: table: (index name, columns) before and after
OLD_INDEXES = {
    "calls": [
        ("ix_calls_created_at", ["created_at"]),
        ("ix_calls_customer_id", ["customer_id"]),
        ("ix_calls_status", ["status"]),
    ],
    "prior_contacts": [("ix_prior_contacts_customer_id", ["customer_id"])],
}
NEW_INDEXES = {
    "calls": [
        ("ix_calls_tenant_created_at", ["tenant_id", "created_at"]),
        ("ix_calls_tenant_customer_id", ["tenant_id", "customer_id"]),
        ("ix_calls_tenant_status", ["tenant_id", "status"]),
    ],
    "prior_contacts": [("ix_prior_contacts_tenant_customer", ["tenant_id", "customer_id"])],
}
#: Names for the constraints SQLite reflects without one, so batch mode can drop them.
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}

POLICY = "tenant_isolation"
SAME_TENANT = "tenant_id = current_setting('empathy.tenant_id', true)"


def _postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _old_parent_fks(table: str) -> list[str]:
    """The names of a child table's foreign keys to its parent as 0001 made them (SQLite reflects
    them unnamed: batch mode then knows them by NAMING)."""
    column, parent, _ = PARENTS[table]
    unnamed = NAMING["fk"] % {"table_name": table, "column_0_name": column, "referred_table_name": parent}
    found = sa.inspect(op.get_bind()).get_foreign_keys(table)
    return [
        str(fk["name"] or unnamed)
        for fk in found
        if fk["referred_table"] == parent and fk["constrained_columns"] == [column]
    ]


def upgrade() -> None:
    for table in TABLES:  # existing rows get 'default' from the column default, dropped below
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("tenant_id", sa.String(length=200), nullable=False, server_default="default"))
    if _postgres():  # PostgreSQL will not drop a key that foreign keys still use
        for child in PARENTS:
            for name in _old_parent_fks(child):
                op.drop_constraint(name, child, type_="foreignkey")
    for table in TABLES:
        _rekey(table)
    if _postgres():
        for table in TABLES:
            _row_level_security(table)


def _rekey(table: str) -> None:
    with warnings.catch_warnings():  # batch mode's own note that the rebuilt table's key changed: it is meant to
        warnings.filterwarnings("ignore", "Table '_alembic_tmp_.*primary_key=True, not matching")
        _rekey_now(table)


def _rekey_now(table: str) -> None:
    postgres = _postgres()
    old_pk = sa.inspect(op.get_bind()).get_pk_constraint(table).get("name") if postgres else None
    with op.batch_alter_table(table, recreate="auto" if postgres else "always", naming_convention=NAMING) as batch:
        if table in PARENTS and not postgres:
            for name in _old_parent_fks(table):
                batch.drop_constraint(name, type_="foreignkey")
        for name, _ in OLD_INDEXES.get(table, []):
            batch.drop_index(name)
        batch.alter_column("tenant_id", existing_type=sa.String(length=200), server_default=None)
        if table in KEYS:
            if old_pk:
                batch.drop_constraint(old_pk, type_="primary")
            batch.create_primary_key(f"pk_{table}", KEYS[table])
        batch.create_foreign_key(f"fk_{table}_tenant", "tenants", ["tenant_id"], ["id"])
        if table in PARENTS:
            column, parent, name = PARENTS[table]
            batch.create_foreign_key(name, parent, ["tenant_id", column], ["tenant_id", "id"], ondelete="CASCADE")
        for name, columns in NEW_INDEXES.get(table, []):
            batch.create_index(name, columns)


def _row_level_security(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")  # the tables' owner too
    op.execute(f"CREATE POLICY {POLICY} ON {table} USING ({SAME_TENANT}) WITH CHECK ({SAME_TENANT})")


def downgrade() -> None:
    """Back to one tenant; refused while rows of any other tenant exist (their ids may clash)."""
    postgres = _postgres()
    if postgres:
        for table in TABLES:
            op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    bind = op.get_bind()
    for table in TABLES:
        others: int = bind.execute(sa.text(f"SELECT count(*) FROM {table} WHERE tenant_id <> 'default'")).scalar_one()
        if others:
            raise RuntimeError(f"{table} holds {others} row(s) of tenants other than 'default'; cannot downgrade")
    for child, (_, _, name) in PARENTS.items():
        if postgres:
            op.drop_constraint(name, child, type_="foreignkey")
    for table in TABLES:
        _unkey(table, postgres)


def _unkey(table: str, postgres: bool) -> None:
    with op.batch_alter_table(table, recreate="auto" if postgres else "always") as batch:
        for name, _ in NEW_INDEXES.get(table, []):
            batch.drop_index(name)
        if table in PARENTS and not postgres:
            batch.drop_constraint(PARENTS[table][2], type_="foreignkey")
        batch.drop_constraint(f"fk_{table}_tenant", type_="foreignkey")
        if table in KEYS:
            if postgres:
                batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"{table}_pkey", [c for c in KEYS[table] if c != "tenant_id"])
        batch.drop_column("tenant_id")
        if table in PARENTS:
            column, parent, _ = PARENTS[table]
            batch.create_foreign_key(f"{table}_{column}_fkey", parent, [column], ["id"], ondelete="CASCADE")
        for name, columns in OLD_INDEXES.get(table, []):
            batch.create_index(name, columns)
