"""`empathy cluster up/down`: PostgreSQL, Redis, HAProxy and N `empathy serve` replicas on loopback.

`up` writes DIR/cluster.json (mode 600: it holds the admin key it created): the front URL, each
replica's id and port, and every process with its pid and start time; `down` stops exactly those
processes (its stop signal, then SIGKILL after a grace) and nothing else. For development and
tests; docs/deploy.md has the same topology on real machines.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from empathy_engine.cluster.processes import ClusterError, Process

cluster_app = typer.Typer(
    no_args_is_help=True, help="A local cluster: several replicas behind HAProxy (docs/deploy.md)."
)
STATE = "cluster.json"
Folder = Annotated[Path, typer.Option("--dir", help="The cluster's folder: its config, data, logs and cluster.json.")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


@cluster_app.command("up")
def up(
    folder: Folder,
    replicas: Annotated[int, typer.Option("--replicas", min=1, max=32, help="How many `empathy serve` replicas.")] = 3,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="The front (HAProxy) port; 0: a free one.")] = 0,
) -> None:
    """Start the cluster and wait until every part is healthy; prints the front URL."""
    from empathy_engine.extras import command_needs

    command_needs("postgres", "empathy cluster up")
    command_needs("cluster", "empathy cluster up")
    if (folder / STATE).exists():
        raise _fail(
            f"{folder / STATE} exists: a cluster may be running there; `empathy cluster down --dir {folder}` first"
        )
    started: list[Process] = []
    try:
        state = _up(folder.resolve(), replicas, port, started)
    except ClusterError as e:
        _stop_quietly(started)
        raise _fail(str(e)) from None
    except BaseException:
        _stop_quietly(started)  # Ctrl-C while starting: nothing is left behind
        raise
    typer.echo(f"cluster up: {state['front']} ({replicas} replicas, {state['database']['kind']} PostgreSQL)")
    typer.echo(
        f"  state, pids and the admin key: {folder / STATE} (mode 600); stop: empathy cluster down --dir {folder}"
    )


def _up(folder: Path, replicas: int, port: int, started: list[Process]) -> dict[str, Any]:
    from empathy_engine.cluster import postgres
    from empathy_engine.cluster.processes import binary, free_port

    binary("haproxy"), binary("redis-server")  # before anything starts: a missing one names its package
    logs = folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    database = postgres.existing()
    if database is None:
        binary("initdb")
        database = postgres.start_private(folder, logs)
        assert database.process is not None
        started.append(database.process)
    admin_key = _prepare_database(database)
    redis = _start_redis(folder, logs)
    started.append(redis)
    redis_url = f"redis://127.0.0.1:{redis.port}/0"
    servers = [_start_replica(i + 1, database, redis_url, logs) for i in range(replicas)]
    started.extend(servers)
    _wait(servers, logs)  # before HAProxy: it must see every replica up from the start, or the
    front = _start_haproxy(folder, logs, port or free_port(), servers)  # hash moves calls as they rise
    started.append(front)
    _wait_front(folder, front, len(servers), logs)
    return _write_state(folder, front, servers, started, database, redis_url, admin_key)


def _prepare_database(database: Any) -> str:
    """Migrate once (not N replicas at once) and create the cluster's admin key: its secret."""
    from empathy_engine.store import accounts
    from empathy_engine.store.db import DatabaseError, open_database
    from empathy_engine.store.models import DEFAULT_TENANT

    try:
        db = open_database(database.url, database.migration_url)
    except DatabaseError as e:
        raise ClusterError(str(e)) from None
    try:
        with db.begin() as connection:
            return accounts.create_key(connection, DEFAULT_TENANT, "admin", name="empathy cluster up")[1]
    finally:
        db.dispose()


def _start_redis(folder: Path, logs: Path) -> Process:
    from empathy_engine.cluster.processes import binary, free_port, spawn, wait_for_port

    data = folder / "redis"
    data.mkdir(exist_ok=True)
    port = free_port()
    # Loopback only and nothing persisted: it carries board rows and frames, never the record.
    args = [binary("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = spawn("redis", [*args, "--dir", str(data)], logs / "redis.log", port=port)
    wait_for_port("redis-server", port, process, 10, logs / "redis.log")
    return process


def _start_replica(number: int, database: Any, redis_url: str, logs: Path) -> Process:
    from empathy_engine.cluster.processes import free_port, spawn

    port = free_port()
    name = f"replica-{number}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMPATHY_")} | {
        "EMPATHY_DATABASE_URL": database.url,
        "EMPATHY_REDIS_URL": redis_url,
        "EMPATHY_REPLICA_ID": name,
        "EMPATHY_HOST": "127.0.0.1",
        "EMPATHY_PORT": str(port),
        "EMPATHY_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "EMPATHY_LOG_FORMAT": "json",
    }
    if database.migration_url:
        env["EMPATHY_MIGRATION_DATABASE_URL"] = database.migration_url
    for kept in ("EMPATHY_PLAYBOOK", "EMPATHY_EXEMPLARS", "EMPATHY_IDLE_CALL_MINUTES", "EMPATHY_BOARD_INTERVAL_S"):
        if kept in os.environ:
            env[kept] = os.environ[kept]
    args = [sys.executable, "-m", "empathy_engine", "serve"]
    return spawn(name, args, logs / f"{name}.log", env=env, port=port)


def _start_haproxy(folder: Path, logs: Path, port: int, servers: list[Process]) -> Process:
    import subprocess

    from empathy_engine.cluster.haproxy import Backend, haproxy_config
    from empathy_engine.cluster.processes import binary, spawn, wait_for_port

    backends = [Backend(s.name, "127.0.0.1", s.port or 0) for s in servers]
    config = folder / "haproxy.cfg"
    import resource

    # Two file descriptors a proxied connection: within this machine's limit, or HAProxy refuses to start.
    most = min(50_000, (resource.getrlimit(resource.RLIMIT_NOFILE)[1] - 100) // 2)
    socket = str(folder / "haproxy.sock")
    config.write_text(haproxy_config("127.0.0.1", port, backends, admin_socket=socket, max_connections=most))
    checked = subprocess.run([binary("haproxy"), "-c", "-q", "-f", str(config)], capture_output=True, text=True)
    if checked.returncode != 0:
        raise ClusterError(f"haproxy refuses {config}: {checked.stderr.strip()[:500]}")
    process = spawn("haproxy", [binary("haproxy"), "-db", "-f", str(config)], logs / "haproxy.log", port=port)
    wait_for_port("haproxy", port, process, 10, logs / "haproxy.log")
    return process


def _wait(servers: list[Process], logs: Path) -> None:
    from empathy_engine.cluster.processes import wait_healthy

    for server in servers:  # loading the engine takes a few seconds each, in parallel
        wait_healthy(server.name, f"http://127.0.0.1:{server.port}/v1/health", 120, logs / f"{server.name}.log", server)


def _wait_front(folder: Path, front: Process, replicas: int, logs: Path) -> None:
    """Until HAProxy answers and counts every replica up in every backend (its admin socket)."""
    import time

    from empathy_engine.cluster.haproxy import servers_up
    from empathy_engine.cluster.processes import wait_healthy

    wait_healthy("haproxy", f"http://127.0.0.1:{front.port}/v1/health", 20, logs / "haproxy.log", front)
    deadline = time.monotonic() + 20
    while (up := servers_up(folder / "haproxy.sock")) < 3 * replicas:
        if time.monotonic() > deadline:
            raise ClusterError(
                f"HAProxy sees {up} of {3 * replicas} replica servers up; its log: {logs / 'haproxy.log'}"
            )
        time.sleep(0.2)


def _write_state(
    folder: Path,
    front: Process,
    servers: list[Process],
    started: list[Process],
    database: Any,
    redis_url: str,
    admin_key: str,
) -> dict[str, Any]:
    from empathy_engine.store.db import safe_url

    state = {
        "front": f"http://127.0.0.1:{front.port}",
        "admin_key": admin_key,
        "database": {"kind": database.kind, "url": safe_url(database.url)},
        "redis": redis_url,
        "replicas": [{"id": s.name, "port": s.port, "url": f"http://127.0.0.1:{s.port}"} for s in servers],
        "processes": [p.to_dict() for p in started],
    }
    path = folder / STATE
    path.touch(mode=0o600)
    path.write_text(json.dumps(state, indent=2) + "\n")
    return state


def _stop_quietly(started: list[Process]) -> None:
    from empathy_engine.cluster.processes import stop

    try:
        stop(list(reversed(started)), grace_s=5)
    except ClusterError as e:
        typer.echo(f"warning: {e}", err=True)


@cluster_app.command("down")
def down(
    folder: Folder,
    grace: Annotated[float, typer.Option("--grace", min=0, max=300, help="Seconds to stop before SIGKILL.")] = 10.0,
) -> None:
    """Stop exactly the processes `up` started there (front first, database last), then forget them."""
    from empathy_engine.cluster.processes import stop

    path = folder / STATE
    try:
        state = json.loads(path.read_text())
        processes = [Process(**p) for p in state["processes"]]
    except FileNotFoundError:
        raise _fail(f"no cluster at {folder}: {path} does not exist") from None
    except (ValueError, KeyError, TypeError) as e:
        raise _fail(f"{path} is not a cluster.json written by `empathy cluster up` ({e})") from None
    order = [p for p in processes if p.name == "haproxy"] + [p for p in processes if p.name.startswith("replica")]
    order += [p for p in reversed(processes) if p not in order]  # redis, then the database
    try:
        stopped = stop(order, grace)
    except ClusterError as e:
        raise _fail(str(e)) from None
    path.unlink()
    typer.echo(f"cluster down: stopped {len(stopped)} of {len(processes)} processes (the others had already gone)")
