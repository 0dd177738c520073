"""Load benchmark for the live service: N concurrent calls over loopback, each sending a
customer or agent utterance every 2-5 s, latency measured at the client (send -> insight).

    .venv/bin/python benchmarks/load.py                      # 100, 250, 500, 1000 calls, 60 s each
    .venv/bin/python benchmarks/load.py --calls 1000 --duration 120 --json
    .venv/bin/python benchmarks/load.py --calls 1000 --disturb none,import,max-texts

--disturb runs each level again while something else loads the server (issue 12's attacks):
`import` posts 100,000-row CRM CSV imports (3.2 MB each, new customers every time) back to back
for the whole window; `max-texts` has two more calls send utterances of the largest size the
server accepts (EMPATHY_MAX_UTTERANCE_CHARS, 5,000 characters by default) back to back; `audio`
runs eight real-time Twilio Media Streams of audio-only calls (benchmarks/audio_streams.py; needs
espeak-ng), recognised by the server's recogniser, and reports the turns each call yielded. Only
the N ordinary calls are measured; what the disturbance did is reported beside them.

It starts `empathy serve` on a free loopback port with a fresh SQLite database (or uses
--url, which must be a loopback address), so every insight is stored before it is answered,
exactly as in production. Bounded: each level runs for --duration seconds after its calls
are connected, the whole run has a hard deadline, and it stops by itself.

Not a unit test: it takes minutes and needs both cores. The README's "Live service" section
has the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import os
import platform
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from websockets.exceptions import ConnectionClosed

from empathy_engine.client import CallStream, StreamError, header_of
from empathy_engine.demo import CALLS, load_call

TARGET_CALLS = 1000
TARGET_P99_MS = 100.0
REPLY_TIMEOUT_S = 10.0  # an insight later than this counts as dropped
IMPORT_ROWS = 100_000
MAX_TEXT_CHARS = 5000  # the server's default EMPATHY_MAX_UTTERANCE_CHARS
DISTURBANCES = ("none", "import", "max-texts", "audio")
#: Real-time audio-only calls of the `audio` disturbance (issue 13: eight, beside the JSON calls).
AUDIO_STREAMS = 8


@dataclass
class Level:
    calls: int
    latencies: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)  # the server's own latency_ms: receipt -> reply
    sent: int = 0
    answered: int = 0
    errors: int = 0
    dropped: int = 0
    failed_calls: int = 0
    loop_lag_ms: list[float] = field(default_factory=list)
    connect_s: float = 0.0
    window_s: float = 0.0
    disturbance: str = "none"
    disturbed: dict[str, Any] = field(default_factory=dict)  # what the disturbance did meanwhile

    def figures(self) -> dict[str, Any]:
        lat = sorted(self.latencies)

        def pct(p: float) -> float | None:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))], 2) if lat else None

        return {
            "calls": self.calls,
            "disturbance": self.disturbance,
            "utterances": self.sent,
            "per_second": round(self.sent / self.window_s, 1) if self.window_s else 0.0,
            "p50_ms": pct(0.50),
            "p90_ms": pct(0.90),
            "p99_ms": pct(0.99),
            "max_ms": round(lat[-1], 2) if lat else None,
            "server_p50_ms": _pct(self.server_ms, 0.50),
            "server_p99_ms": _pct(self.server_ms, 0.99),
            "mean_ms": round(statistics.fmean(lat), 2) if lat else None,
            "errors": self.errors,
            "dropped": self.dropped + (self.sent - self.answered - self.errors - self.dropped),
            "failed_calls": self.failed_calls,
            "client_loop_lag_p99_ms": round(sorted(self.loop_lag_ms)[int(0.99 * len(self.loop_lag_ms))], 2)
            if self.loop_lag_ms
            else None,
            "connect_s": round(self.connect_s, 1),
            **({"disturbed": self.disturbed} if self.disturbed else {}),
        }


def _pct(values: list[float], p: float) -> float | None:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2) if ordered else None


def conversations() -> list[dict[str, Any]]:
    return [load_call(name).model_dump(mode="json", exclude_none=True) for name in CALLS]


async def one_call(
    base_url: str,
    call_id: str,
    conversation: dict[str, Any],
    level: Level,
    ready: asyncio.Event,
    measuring: asyncio.Event,
    stop_at: list[float],
    gaps: tuple[float, float],
    rng: random.Random,
    connected: list[int],
) -> None:
    try:
        call = await CallStream.connect(base_url, call_id, open_timeout=60)
        await call.start(header_of({**conversation, "id": call_id}))
    except (TimeoutError, OSError, StreamError) as e:
        level.failed_calls += 1
        print(f"  call {call_id} could not start: {e}", file=sys.stderr)
        connected[0] += 1
        if connected[0] >= level.calls:
            ready.set()
        return
    connected[0] += 1
    if connected[0] >= level.calls:
        ready.set()
    turns = conversation["turns"]
    i = 0
    try:
        await ready.wait()
        await asyncio.sleep(rng.uniform(0, gaps[1]))  # spread the calls over the cycle
        while time.monotonic() < stop_at[0]:
            turn = turns[i % len(turns)]
            i += 1
            counted = measuring.is_set()
            sent = time.perf_counter()
            try:
                reply = await asyncio.wait_for(call.say(turn["speaker"], turn["text"], turn.get("t")), REPLY_TIMEOUT_S)
            except TimeoutError:
                if counted:
                    level.sent += 1
                    level.dropped += 1
                break  # the connection is no longer usable for request/reply
            except StreamError:
                if counted:
                    level.sent += 1
                    level.errors += 1
                continue
            took = (time.perf_counter() - sent) * 1000
            if counted:
                level.sent += 1
                level.answered += 1
                level.latencies.append(took)
                level.server_ms.append(float(reply["latency_ms"]))
                assert reply["type"] == "insight"
            await asyncio.sleep(rng.uniform(*gaps))
        with contextlib.suppress(StreamError, asyncio.TimeoutError):
            await asyncio.wait_for(call.end(), REPLY_TIMEOUT_S)
    except (OSError, ConnectionClosed) as e:  # connection lost
        level.failed_calls += 1
        print(f"  call {call_id} lost its connection: {e}", file=sys.stderr)
    finally:
        with contextlib.suppress(Exception):
            await call.close()


async def watch_loop_lag(level: Level, stop: asyncio.Event) -> None:
    """How late this process's own event loop wakes up: latency the client adds, not the server."""
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.05)
        level.loop_lag_ms.append((time.perf_counter() - before - 0.05) * 1000)


def crm_csv(rows: int, prefix: str) -> bytes:
    """A CRM export of `rows` rows (3.2 MB for 100,000): per customer a name and a note, a note, a prior contact."""
    lines = ["customer_id,name,note,contact_at,contact_issue,contact_outcome"]
    for i in range(rows):
        c, kind = divmod(i, 3)
        if kind == 0:
            lines.append(f"{prefix}{c:05d},Pat {c},calls after 5pm,,,")
        elif kind == 1:
            lines.append(f"{prefix}{c:05d},,has a dog,,,")
        else:
            lines.append(f"{prefix}{c:05d},,,2025-11-{1 + c % 28:02d},no heat,fixed")
    return ("\n".join(lines) + "\n").encode()


_imports = [int(time.time()) % 1000]  # distinct customer ids per import, also against a reused --url server


def post_csv(base_url: str, body: bytes) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{base_url}/v1/customers/import",
        data=body,
        headers={"Content-Type": "text/csv", "Authorization": f"Bearer {os.environ.get('EMPATHY_API_KEY', '')}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=600) as reply:  # noqa: S310 (loopback only, checked)
        return json.loads(reply.read())  # type: ignore[no-any-return]


def import_bodies(duration: float) -> list[bytes]:
    """The CSV files to import, made before the window opens (making one stalls this process's loop)."""
    bodies = []
    for _ in range(max(2, int(duration / 4))):
        _imports[0] += 1
        bodies.append(crm_csv(IMPORT_ROWS, f"i{_imports[0]:03d}-"))  # new customers every time: no import is a no-op
    return bodies


async def keep_importing(base_url: str, level: Level, stop: asyncio.Event, bodies: list[bytes]) -> None:
    """100,000-row imports, one after the other, each of new customers, until the window ends."""
    durations, rows = [], 0
    while not stop.is_set():
        body = bodies[len(durations) % len(bodies)]
        t = time.perf_counter()
        report = await asyncio.to_thread(post_csv, base_url, body)
        durations.append(round(time.perf_counter() - t, 1))
        rows += report["rows"]
    level.disturbed = {"imports": len(durations), "rows_imported": rows, "import_s": durations, "csv_bytes": len(body)}


async def keep_sending_max_texts(base_url: str, level: Level, stop: asyncio.Event, chars: int) -> None:
    """Two more calls, each sending utterances of `chars` characters back to back."""
    sentence = "The heat is out again and nobody came last time, I am so frustrated with all of this. "
    text = (sentence * (chars // len(sentence) + 1))[:chars]
    sent = [0, 0]
    took: list[float] = []

    async def one(n: int) -> None:
        call = await CallStream.connect(base_url, f"max-text-{int(time.time())}-{n}", open_timeout=60)
        await call.start({"service": "hvac"})
        try:
            while not stop.is_set():
                t = time.perf_counter()
                await asyncio.wait_for(call.say("customer", text), REPLY_TIMEOUT_S * 3)
                took.append((time.perf_counter() - t) * 1000)
                sent[n] += 1
        finally:
            with contextlib.suppress(Exception):
                await call.close()

    await asyncio.gather(one(0), one(1))
    level.disturbed = {"max_texts": sum(sent), "text_chars": chars, "max_text_p50_ms": _pct(took, 0.5)}


async def run_level(
    base_url: str, calls: int, duration: float, gaps: tuple[float, float], seed: int, disturbance: str = "none"
) -> Level:
    level = Level(calls, disturbance=disturbance)
    bodies = import_bodies(duration) if disturbance == "import" else []
    ready, measuring, stop_lag = asyncio.Event(), asyncio.Event(), asyncio.Event()
    stop_at = [float("inf")]
    rng = random.Random(seed)
    convs = conversations()
    connected = [0]
    stamp = f"{int(time.time())}-{calls}"
    began = time.monotonic()
    tasks = []
    for n in range(calls):
        conv = convs[n % len(convs)]
        call_id = f"load-{stamp}-{n}"
        tasks.append(
            asyncio.create_task(
                one_call(
                    base_url,
                    call_id,
                    conv,
                    level,
                    ready,
                    measuring,
                    stop_at,
                    gaps,
                    random.Random(rng.random()),
                    connected,
                )
            )
        )
        if n % 50 == 49:
            await asyncio.sleep(0.05)  # a ramp, not a thundering herd of handshakes
    await asyncio.wait_for(ready.wait(), timeout=120)
    level.connect_s = time.monotonic() - began
    # Let the spread-out first utterances settle into their cycle, then measure.
    await asyncio.sleep(gaps[1])
    measuring.set()
    lag = asyncio.create_task(watch_loop_lag(level, stop_lag))
    disturb = asyncio.create_task(_disturb(base_url, level, stop_lag, bodies))
    window_start = time.monotonic()
    stop_at[0] = window_start + duration
    await asyncio.gather(*tasks)
    level.window_s = min(time.monotonic(), stop_at[0]) - window_start
    stop_lag.set()
    await lag
    await disturb
    return level


async def _disturb(base_url: str, level: Level, stop: asyncio.Event, bodies: list[bytes]) -> None:
    if level.disturbance == "import":
        await keep_importing(base_url, level, stop, bodies)
    elif level.disturbance == "max-texts":
        await keep_sending_max_texts(base_url, level, stop, MAX_TEXT_CHARS)
    elif level.disturbance == "audio":
        from audio_streams import keep_streaming_audio  # needs espeak-ng and the voice extra

        level.disturbed = await keep_streaming_audio(base_url, AUDIO_STREAMS, stop, os.environ["EMPATHY_LOAD_READ_KEY"])


def loopback_only(url: str) -> None:
    host = urlparse(url).hostname or ""
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise SystemExit(f"refusing {url}: the load benchmark only targets loopback addresses")


def start_server(database_url: str | None, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "EMPATHY_LOG_LEVEL": "warning"}
    env["EMPATHY_DATABASE_URL"] = database_url or f"sqlite:///{log.parent / 'load.db'}"
    # The server needs a credential and the calls send it (CallStream reads EMPATHY_API_KEY).
    made = subprocess.run(
        # stream for the calls, customers for the import disturbance
        [sys.executable, "-m", "empathy_engine", "keys", "create", "--scope", "stream", "--scope", "customers",
         "--name", "load benchmark"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    os.environ["EMPATHY_API_KEY"] = made.stdout.strip().splitlines()[-1]
    reader = subprocess.run(  # the audio disturbance reads its calls back
        [sys.executable, "-m", "empathy_engine", "keys", "create", "--role", "admin", "--name", "load reader"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    os.environ["EMPATHY_LOAD_READ_KEY"] = reader.stdout.strip().splitlines()[-1]
    env["EMPATHY_TELEPHONY_AUTH"] = "false"  # the audio streams come unsigned; loopback only (checked)
    process = subprocess.Popen(
        [sys.executable, "-m", "empathy_engine", "serve", "--port", str(port)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited:\n{log.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            time.sleep(0.5)
            return process, url
        time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start within 60 s")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", default="100,250,500,1000", help="comma-separated concurrency levels")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds per level (max 600)")
    parser.add_argument("--gap", default="2,5", help="seconds between a call's utterances: min,max")
    parser.add_argument("--url", help="an already running server (loopback only); default: start one")
    parser.add_argument("--database-url", help="database for the server it starts (default: fresh SQLite)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--disturb", default="none", help=f"comma-separated, each level runs once per item: {', '.join(DISTURBANCES)}"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    levels = [int(n) for n in args.calls.split(",")]
    disturbances = args.disturb.split(",")
    if not set(disturbances) <= set(DISTURBANCES):
        raise SystemExit(f"--disturb takes {', '.join(DISTURBANCES)} (comma-separated), not {args.disturb!r}")
    gaps = tuple(float(g) for g in args.gap.split(","))
    if len(gaps) != 2 or not 0 < gaps[0] <= gaps[1] or not 0 < args.duration <= 600 or max(levels) > 5000:
        raise SystemExit("--gap needs 0 < min <= max, --duration 1-600 s, and at most 5000 calls")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 2 sockets per call on loopback

    with tempfile.TemporaryDirectory(prefix="empathy-load-") as tmp:
        process = None
        url = args.url
        if url:
            loopback_only(url)
        else:
            process, url = start_server(args.database_url, Path(tmp) / "server.log")
        try:
            with contextlib.suppress(ImportError):
                import uvloop

                asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
            results = []
            runs = [(calls, d) for calls in levels for d in disturbances]
            deadline = time.monotonic() + sum(args.duration + 180 for _ in runs)  # hard bound
            for calls, disturbance in runs:
                if time.monotonic() > deadline:
                    break
                print(f"level {calls} calls, disturbance {disturbance}: connecting…", file=sys.stderr, flush=True)
                level = asyncio.run(run_level(url, calls, args.duration, gaps, args.seed, disturbance))  # type: ignore[arg-type]
                figures = level.figures()
                results.append(figures)
                print(f"  {json.dumps(figures)}", file=sys.stderr, flush=True)
        finally:
            if process is not None:
                process.terminate()
                process.wait(15)
    report = {
        "machine": machine(),
        "gap_s": list(gaps),
        "duration_s": args.duration,
        "levels": results,
        "target": {"calls": TARGET_CALLS, "p99_ms": TARGET_P99_MS, "dropped": 0},
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"\n{report['machine']}; each call sends an utterance every {gaps[0]:g}-{gaps[1]:g} s\n")
    print("| concurrent calls | while | utterances/s | p50 ms | p99 ms | max ms | errors | dropped | meanwhile |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        print(
            f"| {r['calls']:,} | {r['disturbance']} | {r['per_second']} | {r['p50_ms']} | {r['p99_ms']} "
            f"| {r['max_ms']} | {r['errors']} | {r['dropped'] + r['failed_calls']} | {json.dumps(r.get('disturbed'))} |"
        )


if __name__ == "__main__":
    main()
