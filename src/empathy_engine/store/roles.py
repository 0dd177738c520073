"""PostgreSQL roles for row-level security: the owner migrates, the service only reads and writes rows.

Row-level security (migration 0005) is FORCEd, so it binds the tables' owner too, but an owner
may switch it off again, and a superuser or BYPASSRLS role is never bound by it. So the service
should connect as a role that owns nothing: `grant_rows` gives such a role exactly the row access
it needs, and `weaknesses` says at start-up when the service's own role defeats the second wall.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

#: The tables under row-level security (migrations 0005 and 0006).
TENANT_TABLES = ("customers", "prior_contacts", "calls", "turns", "outcomes", "feedback")


def role_of(engine: Engine) -> str:
    """The role `engine` connects as (from the server: the URL may leave it to the driver)."""
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT current_user")).scalar_one())


def grant_rows(owner: Connection, role: str) -> None:
    """Let `role` read and write rows of every table of the schema, and nothing else: it cannot
    alter, drop, or switch off row-level security on any of them, nor change the schema version."""
    quoted = owner.dialect.identifier_preparer.quote(role)
    schema = owner.dialect.identifier_preparer.quote(str(owner.execute(text("SELECT current_schema()")).scalar_one()))
    owner.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {quoted}"))
    owner.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {quoted}"))
    owner.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {quoted}"))
    owner.execute(text(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {quoted}"))


def weaknesses(engine: Engine) -> list[str]:
    """Why row-level security would not hold against the role `engine` connects as (empty: it holds)."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as connection:
        superuser, bypass = connection.execute(
            text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).one()
        owned: int = connection.execute(
            text(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
                "AND tableowner = current_user AND tablename = ANY(:tables)"
            ),
            {"tables": list(TENANT_TABLES)},
        ).scalar_one()
    out = []
    if superuser or bypass:
        out.append(
            "the service connects to PostgreSQL as a superuser or BYPASSRLS role, which row-level security "
            "never binds; connect as a role without those attributes (docs/security.md)"
        )
    if owned:
        out.append(
            "the service's PostgreSQL role owns the tables, so it could switch row-level security off; "
            "set EMPATHY_MIGRATION_DATABASE_URL to the owner and connect as a role that owns nothing "
            "(docs/security.md, 'Tenants and row-level security')"
        )
    return out
