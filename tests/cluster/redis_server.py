"""A real redis-server (Debian's redis-server package) on a free loopback port, for one test."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REDIS = "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(folder: Path, port: int) -> subprocess.Popen[bytes]:
    args = [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen([*args, "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"redis-server did not listen on {port} within 10 s")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    if not shutil.which(REDIS):
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server; .ci/run does)")
    port = free_port()
    process = start_redis(tmp_path, port)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)
