"""`empathy cluster up/down` refuses clearly (no traceback) before starting anything it cannot finish."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from empathy_engine.cli import app
from empathy_engine.cluster.haproxy import Backend, haproxy_config
from empathy_engine.cluster.processes import Process, alive, record, stop

runner = CliRunner()


def test_up_names_the_debian_package_of_a_missing_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no haproxy, no redis-server on it
    monkeypatch.setattr("empathy_engine.cluster.processes.POSTGRES_BIN", tmp_path)
    done = runner.invoke(app, ["cluster", "up", "--replicas", "2", "--dir", str(tmp_path / "c")])
    assert done.exit_code == 1
    assert "haproxy is not installed: apt-get install haproxy (Debian)" in done.output
    assert not (tmp_path / "c" / "cluster.json").exists()


def test_up_refuses_a_sqlite_database_replicas_cannot_share(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPATHY_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    done = runner.invoke(app, ["cluster", "up", "--dir", str(tmp_path / "c")])
    assert done.exit_code == 1 and "must be a PostgreSQL URL" in done.output


def test_down_without_a_cluster_says_so(tmp_path: Path) -> None:
    done = runner.invoke(app, ["cluster", "down", "--dir", str(tmp_path)])
    assert done.exit_code == 1 and f"no cluster at {tmp_path}" in done.output


def test_stop_signals_only_the_process_recorded_never_a_reused_pid(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        mine = record("sleeper", child.pid)
        stranger = Process("stranger", child.pid, mine.started + 1)  # same pid, another start time
        assert alive(mine) and not alive(stranger)
        assert stop([stranger], grace_s=0.5) == []  # not ours: left alone
        assert child.poll() is None
        started = time.monotonic()
        assert stop([mine], grace_s=5) == [mine]
        assert not alive(mine) and time.monotonic() - started < 5
    finally:
        child.kill()
        child.wait()


def test_down_stops_a_process_that_ignores_sigterm_with_sigkill(tmp_path: Path) -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True)
    assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
    process = record("stubborn", child.pid)
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "cluster.json").write_text(json.dumps({"processes": [process.to_dict()]}))
    started = time.monotonic()
    done = runner.invoke(app, ["cluster", "down", "--dir", str(folder), "--grace", "1"])
    child.wait(5)
    assert done.exit_code == 0, done.output
    assert not alive(process) and child.returncode == -9 and time.monotonic() - started >= 1  # after the grace
    assert not (folder / "cluster.json").exists()


def test_haproxy_accepts_the_generated_configuration(tmp_path: Path) -> None:
    haproxy = "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        pytest.skip("haproxy is not installed (apt-get install haproxy; .ci/run does)")
    backends = [Backend(f"replica-{i}", "127.0.0.1", 9000 + i) for i in range(3)]
    config = tmp_path / "haproxy.cfg"
    config.write_text(
        haproxy_config("127.0.0.1", 8999, backends, admin_socket=str(tmp_path / "s"), max_connections=1000)
    )
    checked = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    text = config.read_text()
    assert "balance hash path,field(4,/)" in text and "hash-type consistent" in text
    assert text.count("server replica-") == 9 and "uri /v1/health" in text
