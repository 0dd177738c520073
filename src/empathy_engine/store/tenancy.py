"""Tenants in the store: the app's own filter on every query, and the PostgreSQL setting behind it.

Two walls keep one tenant's rows from another. The first is the app's: every store function
takes the tenant and every WHERE clause names it (`mine`). The second is PostgreSQL's row-level
security (migration 0005): each table's policy admits only rows whose tenant_id equals the
transaction's `empathy.tenant_id` setting, which `bind_tenant` sets. The app connects as a role
that does not own the tables, so it cannot switch the policies off (docs/security.md).

`FILTER_ON` exists for one test: with the app's filter off, the cross-tenant suite proves that
row-level security alone holds. Nothing else may change it.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import ColumnElement, Connection, Table, bindparam, insert, select, text, true

from empathy_engine.store.models import DEFAULT_TENANT, TenantRow, utcnow

#: The app's own tenant filter (see the module docstring): never switched off outside a test.
FILTER_ON = True

#: The transaction-local PostgreSQL setting the row-level security policies read.
SETTING = "empathy.tenant_id"

_tenants = cast(Table, TenantRow.__table__)


def mine(table: Table, tenant_id: str) -> ColumnElement[bool]:
    """The WHERE clause that keeps a query to one tenant's rows (TRUE only when the filter is off)."""
    return table.c.tenant_id == tenant_id if FILTER_ON else true()


def mine_bound(table: Table) -> ColumnElement[bool]:
    """`mine` for a statement built once and run many times: the tenant is its `b_tenant_id` parameter
    (a bound parameter may not share a column's name in an UPDATE)."""
    return table.c.tenant_id == bindparam("b_tenant_id") if FILTER_ON else true()


def bind_tenant(connection: Connection, tenant_id: str) -> None:
    """Put the tenant in this transaction's setting, which the row-level security policies read.

    Transaction-local (`set_config(..., true)`): a pooled connection forgets it at commit or
    rollback, so the next transaction on it sees no rows until it binds its own tenant."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT set_config(:name, :tenant, true)"), {"name": SETTING, "tenant": tenant_id})


def tenant_ids(connection: Connection) -> list[str]:
    """Every tenant (the tenants table itself has no row-level security: it holds only names)."""
    return list(connection.execute(select(_tenants.c.id).order_by(_tenants.c.id)).scalars())


def add_tenant(connection: Connection, tenant_id: str, name: str | None = None) -> bool:
    """Create a tenant; False (nothing written) when it exists already."""
    if connection.execute(select(_tenants.c.id).where(_tenants.c.id == tenant_id)).first():
        return False
    connection.execute(insert(_tenants).values(id=tenant_id, name=name or tenant_id, created_at=utcnow()))
    return True


__all__ = ["DEFAULT_TENANT", "FILTER_ON", "SETTING", "add_tenant", "bind_tenant", "mine", "tenant_ids"]
