"""Real servers for tests: `empathy serve` as a child process (to kill it), or uvicorn in a thread."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from tests.service.auth import grant_test_admin, grant_test_admin_session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(base_url: str, timeout: float = 30.0, alive: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise RuntimeError("the server exited while starting")
        try:
            if httpx.get(f"{base_url}/v1/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{base_url} did not become healthy in {timeout} s")


class ServeProcess:
    """`python -m empathy_engine serve` on a loopback port, with its output in a log file."""

    def __init__(
        self,
        database_url: str,
        port: int,
        log: Path,
        module: str = "empathy_engine",
        env: dict[str, str] | None = None,
    ) -> None:
        """`module`: what `python -m` runs (a test launcher may patch the server first); `env`: more settings."""
        self.database_url, self.port, self.log_path = database_url, port, log
        self.module, self.env = module, env or {}
        self.base_url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServeProcess:
        grant_test_admin(self.database_url)  # `empathy serve` refuses to start with no credential at all
        env = {**os.environ, "EMPATHY_DATABASE_URL": self.database_url, "EMPATHY_LOG_LEVEL": "warning", **self.env}
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, "serve", "--port", str(self.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_healthy(self.base_url, alive=lambda: self.process is not None and self.process.poll() is None)
        except Exception:
            self.stop()
            raise RuntimeError(f"server did not start:\n{self.log_path.read_text()}") from None
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash or a pulled plug on the process."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class ThreadedServer:
    """A real uvicorn server for an app object, on a loopback port, in a background thread."""

    def __init__(self, app: Any, port: int | None = None, ws_max_size: int = 1 << 20) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", ws_max_size=ws_max_size, ws="websockets-sansio"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn-test", daemon=True)

    def __enter__(self) -> ThreadedServer:
        settings = getattr(self.server.config.app, "state", None) and self.server.config.app.state.settings
        if settings is not None:
            grant_test_admin(settings.database_url)  # what EMPATHY_API_KEY (tests/conftest.py) names
            grant_test_admin_session(settings.database_url)  # what browsers send (admin_cookies)
        self.thread.start()
        wait_healthy(self.base_url, alive=self.thread.is_alive)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)
