"""`empathy serve`: clear errors instead of tracebacks, and the demo through the real API."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner
from websockets.exceptions import ConnectionClosed

from empathy_engine.cli import app
from empathy_engine.client import SyncCallStream
from empathy_engine.demo import CALLS
from empathy_engine.perception.vad import vad_setting
from empathy_engine.pipeline import Engine
from empathy_engine.service.app import create_app
from empathy_engine.service.demo import run_demo
from empathy_engine.service.settings import Settings
from tests.service.servers import ThreadedServer, free_port


def test_serve_port_in_use_is_a_clear_error(sqlite_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--port", str(port)], env={"EMPATHY_DATABASE_URL": sqlite_url})
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output and "Traceback" not in result.output


def test_serve_names_its_recogniser_and_refuses_a_bad_one(sqlite_url: str) -> None:
    env = {"EMPATHY_DATABASE_URL": sqlite_url, "EMPATHY_RECOGNISER": "whisper-large"}
    result = CliRunner().invoke(app, ["serve", "--port", str(free_port())], env=env)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "EMPATHY_RECOGNISER='whisper-large': use one of auto, whisper-base, whisper-tiny.en, pocketsphinx" in (
        result.output
    )
    with socket.socket() as taken:  # a start that fails later still said what audio streams would get
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env["EMPATHY_RECOGNISER"] = "pocketsphinx"
        result = CliRunner().invoke(app, ["serve", "--port", str(taken.getsockname()[1])], env=env)
    assert "audio-only streams: pocketsphinx" in result.output


def test_serve_names_its_voice_activity_rule_and_refuses_a_bad_one(sqlite_url: str) -> None:
    env = {"EMPATHY_DATABASE_URL": sqlite_url, "EMPATHY_VAD": "webrtc"}
    result = CliRunner().invoke(app, ["serve", "--port", str(free_port())], env=env)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "EMPATHY_VAD='webrtc': use one of auto, silero, energy" in result.output
    for setting, said in (("energy", "voice activity: energy"), ("auto", f"voice activity: {vad_setting({})}")):
        with socket.socket() as taken:  # a start that fails later still said how audio is cut
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            env["EMPATHY_VAD"] = setting
            result = CliRunner().invoke(app, ["serve", "--port", str(taken.getsockname()[1])], env=env)
        assert said in result.output


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://u:hunter2@127.0.0.1:1/db", "cannot open the database postgresql+psycopg://u:***@127.0.0.1:1/db"),
        ("oracle://x", "unsupported database 'oracle'"),
    ],
)
def test_serve_bad_database_is_a_clear_error(url: str, message: str) -> None:
    result = CliRunner().invoke(app, ["serve", "--port", str(free_port())], env={"EMPATHY_DATABASE_URL": url})
    assert result.exit_code == 1 and message in result.output
    assert "hunter2" not in result.output and "Traceback" not in result.output


def test_serve_bad_setting_is_a_clear_error() -> None:
    result = CliRunner().invoke(app, ["serve"], env={"EMPATHY_BOARD_INTERVAL_S": "soon"})
    assert result.exit_code == 1 and "EMPATHY_BOARD_INTERVAL_S" in result.output


def test_serve_bad_playbook_is_a_clear_error(sqlite_url: str, tmp_path: Path) -> None:
    broken = tmp_path / "ours.yaml"
    broken.write_text("states:\n  urgency:\n    steps: 3\n")
    env = {"EMPATHY_DATABASE_URL": sqlite_url, "EMPATHY_PLAYBOOK": str(broken)}
    result = CliRunner().invoke(app, ["serve", "--port", str(free_port())], env=env)
    assert result.exit_code == 1 and "EMPATHY_PLAYBOOK" in result.output and str(broken) in result.output
    assert "Traceback" not in result.output


def test_serve_frames_over_the_hard_cap_close_the_socket_with_1009(engine: Engine, sqlite_url: str) -> None:
    settings = Settings(database_url=sqlite_url, max_event_bytes=16 * 1024)
    app_ = create_app(settings, engine=engine)
    with ThreadedServer(app_, ws_max_size=settings.ws_max_size) as server:
        with SyncCallStream.connect(server.base_url, "big-1") as call:
            call.start()
            refused = call.send_raw(json.dumps({"type": "utterance", "speaker": "customer", "text": "x" * 20_000}))
            assert refused["code"] == "frame_too_large"  # over the event limit: an error, the call goes on
            assert call.say("customer", "still there?")["turn"] == 0
            with pytest.raises(ConnectionClosed) as closed:
                call.send_raw("x" * (settings.ws_max_size + 1))  # over the hard cap: the socket is closed
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_demo_plays_the_builtin_calls_through_the_websocket_api(engine: Engine, sqlite_url: str) -> None:
    # The demo's own server: open (`empathy serve --demo` on loopback), so the page reads need no key.
    with ThreadedServer(create_app(Settings(database_url=sqlite_url), engine=engine, open_demo=True)) as server:
        asyncio.run(run_demo(server.base_url, server.base_url, speed=10_000, rounds=1))
        calls = httpx.get(f"{server.base_url}/v1/calls").json()
    assert calls["total"] == len(CALLS)
    assert all(c["status"] == "ended" and c["turn_count"] >= 10 for c in calls["calls"])
    assert {c["id"].rsplit("-", 1)[0] for c in calls["calls"]} == {f"demo-{n.replace('_', '-')}" for n in CALLS}
