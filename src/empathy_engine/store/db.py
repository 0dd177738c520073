"""Database URLs, engines and migrations: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

#: Where the Alembic scripts live inside the package (they ship with it).
MIGRATIONS = "empathy_engine.store:migrations"


class DatabaseError(Exception):
    """A database problem a user can fix (bad URL, missing driver, server unreachable)."""


def default_url() -> str:
    """A SQLite file in the user's data directory: embedded, zero set-up."""
    from platformdirs import user_data_dir

    return f"sqlite:///{Path(user_data_dir('empathy-engine', appauthor=False)) / 'empathy.db'}"


def normalize_url(url: str) -> str:
    """`postgres://` and `postgresql://` mean psycopg 3 (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL (readers never block the writer) and foreign keys."""
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"EMPATHY_DATABASE_URL {url!r} is not a database URL; "
            "use sqlite:///path/to/file.db or postgresql://user:password@host/dbname"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if backend == "postgresql":
        if parsed.get_driver_name() == "psycopg" and find_spec("psycopg") is None:
            raise DatabaseError("PostgreSQL needs the psycopg driver: pip install 'empathy-engine[postgres]'")
        return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    raise DatabaseError(f"unsupported database {backend!r} in {safe_url(url)}; use sqlite or postgresql")


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL + NORMAL: a commit survives the process being killed (only power loss can
        # lose the last transactions), and costs no fsync.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


#: PostgreSQL advisory lock key for schema changes ("empathy" in ASCII, as a number).
SCHEMA_LOCK = 0x656D7061746879


def serialise_schema_changes(connection: Connection) -> None:
    """On PostgreSQL, wait for any other process changing the schema or its grants, until this
    transaction ends: replicas that start together would otherwise run the same migration or GRANT
    at once and fail with "tuple concurrently updated". (SQLite's write lock already does this.)"""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration (a no-op when it already is)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:  # batch mode rebuilds tables: dropping the old one must not cascade (outside a transaction)
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                serialise_schema_changes(connection)
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").first()):
                    raise DatabaseError(f"a migration left a row of {broken[0]} without its parent row")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def open_database(url: str, owner_url: str | None = None) -> Engine:
    """make_engine + migrate, with failures turned into a `DatabaseError` that says what to do.

    `owner_url` (PostgreSQL): the role that owns the tables runs the migrations and then grants
    `url`'s role row access only, so the service cannot switch row-level security off (store/roles.py).
    """
    from sqlalchemy.exc import SQLAlchemyError

    engine = make_engine(url)
    try:
        if owner_url:
            _migrate_as_owner(engine, owner_url)
        else:
            migrate(engine)
    except SQLAlchemyError as e:
        engine.dispose()
        reason = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        raise DatabaseError(f"cannot open the database {safe_url(normalize_url(url))}: {reason}") from None
    except DatabaseError:
        engine.dispose()
        raise
    return engine


def _migrate_as_owner(engine: Engine, owner_url: str) -> None:
    from empathy_engine.store.roles import grant_rows, role_of

    if engine.dialect.name != "postgresql":
        raise DatabaseError(
            "EMPATHY_MIGRATION_DATABASE_URL is for PostgreSQL (row-level security); SQLite has no roles: unset it"
        )
    owner = make_engine(owner_url)
    try:
        migrate(owner)
        role = role_of(engine)
        with owner.begin() as connection:
            serialise_schema_changes(connection)
            grant_rows(connection, role)
    finally:
        owner.dispose()
