"""`empathy audit --scheduler`: the same audit on a real Dask cluster (a scheduler and two worker
processes), equal to the local run, also when a worker is killed mid-audit (issue 15)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed")

from distributed import Client  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CALLS = 300


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("calls")
    generator = [sys.executable, str(REPO / "benchmarks" / "generate_calls.py"), str(out), "--calls", str(CALLS)]
    subprocess.run(generator, check=True, capture_output=True)
    return out


def _audit(calls: Path, json_out: Path, *options: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "empathy_engine", "audit", str(calls / "calls-000.jsonl"), "--json", str(json_out)]
    cmd += ["--outcomes", str(calls / "outcomes.csv"), "--reviews", str(calls / "reviews.csv"), *options]
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # type: ignore[return-value]


def _finished(process: Any, timeout: float = 240) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=timeout)
    return process.returncode, stderr


def _comparable(path: Path) -> dict[str, Any]:
    """The audit JSON without what differs between any two runs: when it ran, and how fast."""
    doc = json.loads(path.read_text())
    for part in (doc, doc.get("summary", {})):
        part.get("audit", {}).pop("generated_at", None)
        part.pop("run", None)
    return doc


@pytest.fixture(scope="module")
def local_run(calls: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("local") / "audit.json"
    code, stderr = _finished(_audit(calls, out, "--workers", "1"))
    assert code == 0, stderr
    return _comparable(out)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, dict[str, int]]]:
    """A scheduler and two single-threaded workers ("a", "b"), each its own process, on loopback."""
    address_file = tmp_path / "scheduler.json"
    common = ["--host", "127.0.0.1", "--no-dashboard"]
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", *common]
        + ["--port", "0", "--scheduler-file", str(address_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(address_file), *common]
            + ["--nthreads", "1", "--no-nanny", "--name", name, "--memory-limit", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name in ("a", "b")
    ]
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(address_file.read_text())["address"]
        with Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
        yield address, {"a": workers[0].pid, "b": workers[1].pid}  # --no-nanny: the process is the worker
    finally:
        for p in [*workers, scheduler]:
            p.kill()
            p.wait(timeout=30)


def test_dask_audit_equals_the_local_run(calls: Path, local_run: dict[str, Any], cluster: Any, tmp_path: Path) -> None:
    address, _ = cluster
    out = tmp_path / "audit.json"
    code, stderr = _finished(_audit(calls, out, "--scheduler", address, "--stats"))
    assert code == 0, stderr
    assert "2 workers" in stderr  # the cluster's workers, not this machine's cores
    distributed = _comparable(out)
    assert distributed["summary"]["calls"] == CALLS
    assert distributed == local_run


def test_dask_audit_survives_a_worker_killed_midway(
    calls: Path, local_run: dict[str, Any], cluster: Any, tmp_path: Path
) -> None:
    address, pids = cluster
    out = tmp_path / "audit.json"
    audit = _audit(calls, out, "--scheduler", address)
    with Client(address, timeout=30, set_as_default=False) as client:
        held = _wait_until_worker_holds_tasks(client, "a", audit)
        os.kill(pids["a"], signal.SIGKILL)  # no goodbye: the scheduler finds out when the connection drops
    code, stderr = _finished(audit)
    assert code == 0, stderr
    assert held > 0  # the killed worker had chunks in hand, so they were moved to "b" and redone
    assert _comparable(out) == local_run


#: How long worker "a" must have held chunks before it is killed. It was 2 s, but on a faster host
#: the whole audit of 300 calls sometimes ended within 2 s of the first chunk (CI, 2026-12-02).
HOLD_BEFORE_KILL_S = 0.5


def _wait_until_worker_holds_tasks(client: Client, name: str, audit: Any) -> int:
    """How many chunks worker `name` is working on, once it has worked on some for a while (so the
    kill lands mid-audit, after the workers loaded their engines), or fail if the audit ends first."""
    first_seen = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and audit.poll() is None:
        by_name = {w["name"]: addr for addr, w in client.scheduler_info()["workers"].items()}
        held = len(client.processing().get(by_name.get(name, ""), ()))
        if held and first_seen is None:
            first_seen = time.monotonic()
        if held and first_seen is not None and time.monotonic() - first_seen > HOLD_BEFORE_KILL_S:
            return held
        time.sleep(0.1)
    pytest.fail("the audit ended (or never started) before the worker could be killed mid-audit")


def test_dask_audit_with_no_scheduler_there_is_a_clear_error(
    calls: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from typer.testing import CliRunner

    from empathy_engine.audit import dask_executor
    from empathy_engine.cli import app

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT_S", 1.0)
    out = tmp_path / "audit.json"
    args = ["audit", str(calls / "calls-000.jsonl"), "--json", str(out), "--scheduler", f"tcp://127.0.0.1:{port}"]
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 2, run.output
    assert f"no Dask scheduler answered at tcp://127.0.0.1:{port}" in run.output
    assert "dask scheduler" in run.output and "Traceback" not in run.output
    assert not out.exists()  # nothing half-written


@pytest.fixture(scope="module")
def service_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A service database (SQLite) holding 130 ended calls: three pages of ids for the workers."""
    from empathy_engine.service.app import create_app
    from empathy_engine.service.settings import Settings
    from tests.service.auth import admin_client
    from tests.service.helpers import demo_conversation, header

    url = f"sqlite:///{tmp_path_factory.mktemp('service') / 'service.db'}"
    names = ["cost_worry", "flooded_basement", "holiday_furnace", "resigned_customer"]
    with admin_client(create_app(Settings(database_url=url))) as client:
        for n in range(130):
            conversation = demo_conversation(names[n % len(names)])
            with client.websocket_connect(f"/v1/calls/stored-{n:03d}/stream") as ws:
                ws.send_text(json.dumps({"type": "start", "call": header(conversation)}))
                ws.receive_json()
                for turn in conversation["turns"][:6]:
                    ws.send_text(json.dumps({"type": "utterance", "speaker": turn["speaker"], "text": turn["text"]}))
                    ws.receive_json()
                ws.send_text(json.dumps({"type": "end"}))
                ws.receive_json()
        deadline = time.monotonic() + 120
        while client.get("/v1/calls", params={"status": "ended", "limit": 1}).json()["total"] < 130:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    return url


def test_dask_audit_of_the_database_has_workers_read_their_pages(
    service_database: str, cluster: Any, tmp_path: Path
) -> None:
    address, _ = cluster
    outputs = {}
    for name, options in (("local", ["--workers", "1"]), ("dask", ["--scheduler", address])):
        out = tmp_path / f"{name}.json"
        cmd = [sys.executable, "-m", "empathy_engine", "audit", "--database", service_database, "--json", str(out)]
        run = subprocess.run([*cmd, *options], capture_output=True, text=True, timeout=240, check=False)
        assert run.returncode == 0, run.stderr
        outputs[name] = _comparable(out)
    assert outputs["dask"]["summary"]["calls"] == 130
    assert outputs["dask"] == outputs["local"]


def test_dask_pages_of_ids_go_to_workers_as_they_are_and_a_vanished_call_is_reported(service_database: str) -> None:
    from empathy_engine.audit.runner import audit_chunk, chunks
    from empathy_engine.audit.sources import StoredRange, store_ranges

    pages = list(store_ranges(service_database, "default", 64))
    assert [len(p.ids) for p in pages] == [64, 64, 2]
    assert list(chunks(iter(pages), 64, lambda f: None)) == pages  # ids only: no transcript leaves the driver
    gone = StoredRange(service_database, "default", (pages[2].ids[0], "no-such-call"))
    result = audit_chunk(gone)
    assert result.calls == 1
    assert [(f.id, f.reason) for f in result.failures] == [("no-such-call", "it is no longer in the database")]
