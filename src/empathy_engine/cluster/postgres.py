"""The cluster's database: a private PostgreSQL in DIR (initdb and pg_ctl), or an existing one.

A private one listens on loopback only, with a table owner that migrates (EMPATHY_MIGRATION_
DATABASE_URL) and a service role that owns nothing, so row-level security binds the replicas
(docs/security.md). Its passwords are random and written to DIR/cluster.env (mode 600) only.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from empathy_engine.cluster.processes import ClusterError, Process, binary, free_port, record

OWNER, SERVICE, DATABASE = "empathy_owner", "empathy_app", "empathy"


@dataclass(frozen=True, slots=True)
class Database:
    url: str  # EMPATHY_DATABASE_URL of the replicas
    migration_url: str | None  # EMPATHY_MIGRATION_DATABASE_URL
    kind: str  # "private" (started here) or "existing"
    process: Process | None = None


def existing() -> Database | None:
    """EMPATHY_DATABASE_URL when it names a PostgreSQL server (SQLite cannot be shared by replicas)."""
    url = os.environ.get("EMPATHY_DATABASE_URL")
    if not url:
        return None
    if not url.startswith(("postgresql:", "postgres:", "postgresql+psycopg:")):
        raise ClusterError(
            "EMPATHY_DATABASE_URL must be a PostgreSQL URL for a cluster (replicas cannot share SQLite); "
            "unset it to have a private PostgreSQL started in --dir"
        )
    return Database(url, os.environ.get("EMPATHY_MIGRATION_DATABASE_URL"), "existing")


def start_private(folder: Path, logs: Path) -> Database:
    """initdb (once) and pg_ctl start in folder/postgres, on a free loopback port."""
    if os.geteuid() == 0:
        raise ClusterError(
            "PostgreSQL's initdb refuses to run as root: run `empathy cluster up` as an ordinary user, or set "
            "EMPATHY_DATABASE_URL (and EMPATHY_MIGRATION_DATABASE_URL) to an existing PostgreSQL server"
        )
    data = folder / "postgres"
    passwords = folder / "postgres.passwords"
    if not data.exists():
        owner_password, service_password = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        _initdb(data, owner_password, logs)
        passwords.write_text(f"{owner_password}\n{service_password}\n")
        passwords.chmod(0o600)
        fresh = True
    else:
        owner_password, service_password = passwords.read_text().split()
        fresh = False
    port = free_port()
    options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={data}"
    log = logs / "postgres.log"
    _run([binary("pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "60", "start"], log)
    pid = int((data / "postmaster.pid").read_text().split()[0])
    process = record("postgres", pid, port, stop_signal=signal.SIGINT)
    owner_url = f"postgresql://{OWNER}:{owner_password}@127.0.0.1:{port}/{DATABASE}"
    if fresh:
        _create_roles(f"postgresql://{OWNER}:{owner_password}@127.0.0.1:{port}/postgres", service_password)
    service_url = f"postgresql://{SERVICE}:{service_password}@127.0.0.1:{port}/{DATABASE}"
    return Database(service_url, owner_url, "private", process)


def _initdb(data: Path, owner_password: str, logs: Path) -> None:
    data.mkdir(parents=True, mode=0o700)
    secret = data.parent / ".initdb-password"
    secret.write_text(owner_password + "\n")
    secret.chmod(0o600)
    try:
        args = [binary("initdb"), "-D", str(data), "-U", OWNER, "--pwfile", str(secret), "-E", "UTF8"]
        _run([*args, "--auth-local=scram-sha-256", "--auth-host=scram-sha-256"], logs / "initdb.log")
    finally:
        secret.unlink(missing_ok=True)


def _create_roles(admin_url: str, service_password: str) -> None:
    """The service's role (owns nothing, cannot bypass row-level security) and the database."""
    from sqlalchemy import create_engine, text

    from empathy_engine.store.db import normalize_url

    engine = create_engine(normalize_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:
            role = f"CREATE ROLE {SERVICE} LOGIN NOSUPERUSER NOCREATEDB NOBYPASSRLS PASSWORD :password"
            c.execute(text(role.replace(":password", _literal(service_password))))
            c.execute(text(f"CREATE DATABASE {DATABASE} OWNER {OWNER}"))
    finally:
        engine.dispose()


def _literal(value: str) -> str:
    """A SQL string literal (CREATE ROLE takes no bind parameters); token_urlsafe has no quotes."""
    return "'" + value.replace("'", "''") + "'"


def _run(args: list[str], log: Path) -> None:
    with log.open("ab") as out:
        done = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        raise ClusterError(f"{Path(args[0]).name} failed (exit {done.returncode}); its log: {log}")
