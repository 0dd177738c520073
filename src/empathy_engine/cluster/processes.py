"""The processes of a local cluster: started detached, known by pid *and* start time, stopped exactly.

A pid alone may be reused by an unrelated process once ours has gone; each process is recorded
with its start time (/proc/<pid>/stat, field 22), and only a process with both is signalled.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: Debian package of each binary a cluster runs, for the error when one is missing.
PACKAGES = {
    "haproxy": "haproxy",
    "redis-server": "redis-server",
    "initdb": "postgresql",
    "pg_ctl": "postgresql",
}
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


class ClusterError(RuntimeError):
    """What went wrong, said for the person running the command (no traceback)."""


@dataclass(frozen=True, slots=True)
class Process:
    """One process of the cluster, as cluster.json records it."""

    name: str
    pid: int
    started: int  # clock ticks after boot (/proc/<pid>/stat field 22)
    port: int | None = None
    #: The signal that stops it cleanly (PostgreSQL: SIGINT, its fast shutdown; SIGTERM would
    #: wait for every client to leave).
    stop_signal: int = signal.SIGTERM

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def binary(name: str) -> str:
    """The path of a binary the cluster needs, or an error that names its Debian package."""
    found = shutil.which(name) or shutil.which(name, path=str(POSTGRES_BIN))
    if found is None:
        package = PACKAGES.get(name, name)
        raise ClusterError(f"{name} is not installed: apt-get install {package} (Debian), then run this again")
    return found


def start_time(pid: int) -> int | None:
    """The process's start time, or None when no such process runs (a zombie counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, which may hold spaces
    if fields[0] == "Z":
        return None
    return int(fields[19])


def alive(process: Process) -> bool:
    return start_time(process.pid) == process.started


def record(name: str, pid: int, port: int | None = None, stop_signal: int = signal.SIGTERM) -> Process:
    started = start_time(pid)
    if started is None:
        raise ClusterError(f"{name} (pid {pid}) exited at once; see its log")
    return Process(name, pid, started, port, stop_signal)


def spawn(name: str, args: list[str], log: Path, env: dict[str, str] | None = None, port: int | None = None) -> Process:
    """Start a process in its own session (it outlives this command; Ctrl-C here does not reach it)."""
    with log.open("ab") as out:
        child = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True
        )
    return record(name, child.pid, port)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_for_port(name: str, port: int, process: Process, within_s: float, log: Path) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not alive(process):
            raise ClusterError(f"{name} stopped while starting; its log: {log}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise ClusterError(f"{name} did not listen on port {port} within {within_s:g} s; its log: {log}")


def wait_healthy(name: str, url: str, within_s: float, log: Path, process: Process | None = None) -> None:
    """Until GET url answers 200 (a replica's /v1/health: the database answers there)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if process is not None and not alive(process):
            raise ClusterError(f"{name} stopped while starting; its log: {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 (a loopback URL we built)
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise ClusterError(f"{name} was not healthy at {url} within {within_s:g} s; its log: {log}")


def stop(processes: list[Process], grace_s: float = 10.0) -> list[Process]:
    """Stop these processes in this order (the front first, the database last), each with its stop
    signal, then SIGKILL what is left after `grace_s` in all; returns those that were running."""
    deadline = time.monotonic() + grace_s
    running = [p for p in processes if alive(p)]
    for process in running:
        _signal(process, process.stop_signal)
        _wait_gone([process], min(2.0, deadline - time.monotonic()))  # the next one after this one
    left = _wait_gone(running, deadline - time.monotonic())
    for process in left:
        _signal(process, signal.SIGKILL)
    still = _wait_gone(left, 5.0)
    if still:
        names = ", ".join(f"{p.name} (pid {p.pid})" for p in still)
        raise ClusterError(f"could not stop {names}, even with SIGKILL")
    return running


def _signal(process: Process, number: int) -> None:
    if alive(process):  # checked again right before: never a reused pid
        try:
            os.kill(process.pid, number)
        except ProcessLookupError:
            pass


def _wait_gone(processes: list[Process], within_s: float) -> list[Process]:
    deadline = time.monotonic() + within_s
    left = [p for p in processes if alive(p)]
    while left and time.monotonic() < deadline:
        _reap()
        time.sleep(0.05)
        left = [p for p in left if alive(p)]
    return left


def _reap() -> None:
    """Collect our own exited children (processes started by this very command) so they go."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass
