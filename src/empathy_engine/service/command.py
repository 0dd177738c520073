"""`empathy serve`: the live service (registered in cli.py; heavy imports stay inside)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

    import uvicorn
    from rich.console import Console

    from empathy_engine.service.settings import Settings


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on. Default: EMPATHY_HOST, else 127.0.0.1.")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port to listen on. Default: EMPATHY_PORT, else 8000.")
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Run open (no credentials) on a loopback host only, with a banner on every page, and play "
            "the built-in calls through the streaming API, round after round.",
        ),
    ] = False,
    speed: Annotated[float, typer.Option(min=0.1, help="Demo playback speed: 1 is real time, 2 twice as fast.")] = 1.0,
    policy: Annotated[
        Path | None, typer.Option(help="A cue policy from `empathy learn fit`. Default: EMPATHY_POLICY, else none.")
    ] = None,
) -> None:
    """Run the live service ('serve' extra): streaming API, REST API (/docs), cockpit and board.

    Settings come from the environment and .env (EMPATHY_DATABASE_URL, ...; see docs/protocol.md).
    Every request needs a credential (docs/security.md): create the first with
    `empathy keys create --role admin` or `empathy users create`; the server refuses to start
    without any. Only --demo, on a loopback host, runs open.
    """
    import asyncio

    from rich.console import Console

    from empathy_engine.extras import MissingExtra, command_needs, has

    command_needs("serve", "empathy serve")
    from empathy_engine.store.db import safe_url

    err = Console(stderr=True, soft_wrap=True, highlight=False)
    if not has("voice"):  # text streams work without it; say so before a platform connects
        err.print(f"note: {MissingExtra('voice', 'telephony audio')}", markup=False)
    else:
        _say_recogniser(err)
        _say_vad(err)
    given = {"host": host, "port": port, "policy": policy}
    settings = _checked_settings(err, {k: v for k, v in given.items() if v is not None}, demo)
    server = _server(settings, demo)
    shown = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    url = f"http://{shown}:{settings.port}"
    err.print(f"empathy-engine on {url}  ·  database {safe_url(settings.database_url)}")
    err.print(f"  supervisor board: {url}/supervisor   ·   API: {url}/docs   ·   Ctrl-C stops")
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(_run(server, url, speed if demo else None))
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def _check_policy(path: Path | None, fail: Callable[[str], typer.Exit]) -> None:
    """The cue policy file, loaded once to check it (`fail`: how the serve command refuses)."""
    from empathy_engine.learning.policy import Policy, PolicyError

    try:
        if path is not None:
            Policy.load(path)
    except PolicyError as e:
        raise fail(f"EMPATHY_POLICY: {e}") from None


def _say_recogniser(err: Console) -> None:
    """Which recogniser audio-only streams will get (loaded at the first one), or exit 2 on a bad setting."""
    from rich.markup import escape

    from empathy_engine.extras import has
    from empathy_engine.perception.speech import RecogniserError, recogniser_setting

    try:
        name, workers = recogniser_setting()
    except RecogniserError as e:
        err.print(f"[bold red]error:[/] {escape(str(e))}")
        raise typer.Exit(2) from None
    if name.startswith("whisper"):
        err.print(f"  audio-only streams: {name} (faster-whisper, int8, {workers} at once)", markup=False)
    else:
        hint = "" if has("speech") else "; pip install 'empathy-engine[speech]' for Whisper, far fewer word errors"
        err.print(f"  audio-only streams: pocketsphinx{hint}", markup=False)


def _say_vad(err: Console) -> None:
    """Which voice activity rule cuts audio streams into utterances, or exit 2 on a bad EMPATHY_VAD."""
    from rich.markup import escape

    from empathy_engine.perception.vad import VadError, vad_setting

    try:
        name = vad_setting()
    except VadError as e:
        err.print(f"[bold red]error:[/] {escape(str(e))}")
        raise typer.Exit(2) from None
    if name == "silero":
        err.print("  voice activity: silero (Silero VAD v6, onnxruntime)", markup=False)
    else:
        from empathy_engine.perception.silero import available

        hint = "" if available() else "; pip install 'empathy-engine[speech]' for Silero VAD (tells speech from noise)"
        err.print(f"  voice activity: energy{hint}", markup=False)


def _checked_settings(err: Console, overrides: dict[str, Any], demo: bool = False) -> Settings:
    """The settings, once everything a user can get wrong has been checked: each fails now, clearly,
    instead of inside uvicorn (a bad setting, a taken port, the database, the playbook)."""
    import socket

    from pydantic import ValidationError
    from rich.markup import escape

    from empathy_engine.coaching.lexicon import LexiconError, load_lexicon
    from empathy_engine.coaching.playbook import PlaybookError, load_playbook
    from empathy_engine.service.settings import Settings
    from empathy_engine.store.accounts import has_credentials
    from empathy_engine.store.db import DatabaseError, open_database

    def fail(message: str) -> typer.Exit:
        err.print(f"[bold red]error:[/] {escape(message)}")  # [brackets] are text: 'empathy-engine[postgres]'
        return typer.Exit(1)

    try:
        settings = Settings(**overrides)
    except ValidationError as e:
        problems = "; ".join(f"EMPATHY_{'_'.join(map(str, x['loc'])).upper()}: {x['msg']}" for x in e.errors())
        raise fail(f"bad setting: {problems}") from None
    try:
        with socket.create_server((settings.host, settings.port)):
            pass
    except OSError as e:
        raise fail(f"cannot listen on {settings.host}:{settings.port} ({e.strerror}); choose another --port") from None
    try:
        load_playbook(settings.playbook)
    except PlaybookError as e:
        raise fail(f"EMPATHY_PLAYBOOK: {e}") from None
    try:
        load_lexicon(settings.lexicon)
    except LexiconError as e:
        raise fail(f"EMPATHY_LEXICON: {e}") from None
    if settings.exemplars is not None and not settings.exemplars.is_file():
        raise fail(f"EMPATHY_EXEMPLARS: no such file {settings.exemplars}")
    _check_policy(settings.policy, fail)
    if demo and not is_loopback(settings.host):
        raise fail(
            f"--demo runs without credentials, so only on a loopback host (127.0.0.1, ::1, localhost), "
            f"not {settings.host}; drop --demo and create credentials (docs/security.md)"
        )
    try:
        db = open_database(settings.database_url)  # migrations run here, before anyone connects
    except DatabaseError as e:
        raise fail(str(e)) from None
    try:
        with db.connect() as connection:
            anyone = has_credentials(connection)
    finally:
        db.dispose()
    if not demo and not anyone:
        raise fail(
            "no API key or user exists yet, so nobody could use this server: create one first with "
            "`empathy keys create --role admin` (or `empathy users create LOGIN --role admin`); "
            "`empathy serve --demo` runs open on loopback for a look around"
        )
    return settings


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (the serve extra's uvicorn[standard] brings it;
    not on Windows): its loop, sockets and timers are C, so a thousand calls' sockets and the hops
    between a turn's write and its answer cost the event loop less (README, "Load"). None:
    asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _server(settings: Settings, demo: bool) -> uvicorn.Server:
    import uvicorn

    from empathy_engine.service.app import create_app
    from empathy_engine.service.log_format import uvicorn_log_config

    app = create_app(settings, open_demo=demo)  # the host was checked: demo means loopback
    app.state.demo = demo
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=uvicorn_log_config(settings.log_format, settings.log_level),  # json or text (log_format.py)
        ws_max_size=settings.ws_max_size,
        timeout_graceful_shutdown=5,
        # The sans-I/O implementation keeps a third fewer objects per connection than the
        # legacy one, which matters for the garbage collector's pauses at a thousand calls.
        ws="websockets-sansio",
    )
    return uvicorn.Server(config)


async def _run(server: uvicorn.Server, url: str, demo_speed: float | None) -> None:
    """Serve until stopped; with a demo speed, also play the built-in calls once the server is up."""
    import asyncio

    settle = asyncio.create_task(_settle_memory(server))  # held: the loop keeps only weak references
    player = None
    if demo_speed is not None:
        from empathy_engine.service.demo import run_demo

        async def play() -> None:
            while not server.started:
                await asyncio.sleep(0.1)
            await run_demo(url, url, demo_speed)

        player = asyncio.create_task(play())
    try:
        await server.serve()
    finally:
        if player is not None:
            player.cancel()
        settle.cancel()


async def _settle_memory(server: object) -> None:
    """The garbage collector, tuned for a thousand live calls.

    A full collection walks every tracked object: the loaded engine and libraries (~140k) plus
    a couple of hundred per open connection. Left to itself CPython ran one every few seconds
    under load, and each stopped the event loop for 100-500 ms: that was the whole latency
    tail. So, once the app has started: what lives as long as the process is frozen out of the
    collector's sight, young collections run less often, automatic full collections are off,
    and a full collection runs every FULL_COLLECTION_S instead (a few tens of milliseconds,
    rarely enough not to show in the p99; it frees the cycles closed connections leave).
    The GIL's switch interval is shortened at the same time (SWITCH_INTERVAL_S).
    """
    import asyncio
    import gc
    import sys

    while not getattr(server, "started", False):
        await asyncio.sleep(0.1)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    while True:
        await asyncio.sleep(FULL_COLLECTION_S)
        gc.collect()


#: How long a thread may hold the GIL while another waits for it (CPython's default: 5 ms). The
#: database writer thread needs the GIL back after each SQL statement; behind a busy event loop
#: each of those waits took up to the whole interval, and a turn waits for its write.
SWITCH_INTERVAL_S = 0.001
#: Young-generation allocations, middle-generation collections, and a full-collection trigger
#: high enough never to fire (CPython's defaults: 700, 10, 10).
GC_THRESHOLDS = (5000, 20, 1_000_000)
FULL_COLLECTION_S = 300.0
