"""The leak test: a few hundred labelled PII turns (written, spoken, recogniser text, numbers read
over several turns, partial utterances, CRM notes by REST and CSV) go through a real `empathy
serve`; then an audit of its database writes JSON, CSV and HTML. Every original value is searched
for in the database file, the server log, every watch and board frame, every reply and the audit
files: none may be there. A control value the redactor does not mask proves the search finds
what is there. The server runs at the debug level, whose handshake dumps write request headers: the
admin key, a session cookie and a ticket sent in them are searched for in the log too."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect

from empathy_engine.client import SyncCallStream, stream_url
from tests.service.auth import ADMIN_HEADERS, TEST_ADMIN_KEY
from tests.service.servers import ServeProcess, free_port
from training.pii.generate import cases

HARD = Path(__file__).resolve().parents[2] / "training" / "data" / "pii" / "hard_cases.jsonl"
CONTROL = "Quillfeather"  # said in a turn, no PII: it must be found, or the search proves nothing
SESSION = "leak-session-value-7f3a9c"  # a session cookie and a ticket, sent where a browser sends them
TICKET = "leak-ticket-value-2b8e41"
CREDENTIALS = {TEST_ADMIN_KEY.lower(), TEST_ADMIN_KEY.split("_", 2)[2].lower(), SESSION, TICKET}
ONE_DIGIT = frozenset("zero one two three four five six seven eight nine".split())
HEADER = {"service": "hvac", "started_at": "2025-12-22T09:00:00-05:00"}


def _sample() -> list[dict[str, Any]]:
    """Generated cases of every entity and style (split ones included) and the hand-written ones with PII."""
    generated = [c.to_dict() for c in cases(104, seed=31)]
    hard = [json.loads(line) for line in HARD.read_text(encoding="utf-8").splitlines() if line.strip()]
    return generated + [c for c in hard if c["entities"]]


def _secrets(sample: list[dict[str, Any]]) -> set[str]:
    """The values searched for: long enough that finding one by chance is not a leak."""
    out: set[str] = set()
    for case in sample:
        for e in case["entities"]:
            value = e["value"].strip(" ,.")
            digits = re.sub(r"\D", "", value)
            one_digit = value.lower() in ONE_DIGIT  # the last piece of a split number: "three digits" holds it too
            if not one_digit and ((re.search(r"[A-Za-z]", value) and len(value) >= 4) or len(value) >= 5):
                out.add(value.lower())
            if len(digits) >= 7:
                out.add(digits)
    return out


class Watch(threading.Thread):
    """Reads a watch socket's frames (as text) until it closes or `ended` comes."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.frames = url, []  # type: ignore[var-annotated]
        self.ready = threading.Event()

    def run(self) -> None:
        with connect(self.url, open_timeout=10, additional_headers=ADMIN_HEADERS) as ws:
            self.ready.set()
            while True:
                try:
                    frame = str(ws.recv(timeout=10))
                except (TimeoutError, OSError):
                    return
                self.frames.append(frame)
                if json.loads(frame).get("type") == "ended":
                    return


def _stream(base: str, case: dict[str, Any], frames: list[str]) -> None:
    call_id = f"leak-{case['id']}"
    watch = Watch(stream_url(base, call_id, "watch"))
    with SyncCallStream.connect(base, call_id) as call:
        frames.append(json.dumps(call.start(HEADER)))
        watch.start()
        watch.ready.wait(10)
        for i, turn in enumerate(case["turns"]):
            if turn["speaker"] == "customer" and i % 2 == 0:  # a partial first, as recognisers send
                frames.append(json.dumps(call.say("customer", turn["text"], final=False)))
            frames.append(json.dumps(call.say(turn["speaker"], turn["text"])))
        frames.append(json.dumps(call.say("customer", f"my dog {CONTROL} is barking at the furnace")))
        frames.append(json.dumps(call.end()))
    watch.join(15)
    frames.extend(watch.frames)


def _crm(base: str, frames: list[str]) -> None:
    note = "pays by card 4556 7375 8689 9855, ssn 612-40-3381, call 614-555-0101"
    created = httpx.post(
        f"{base}/v1/customers", json={"id": "c-leak", "name": "Lorraine Oyelaran", "notes": [note]},
        headers=ADMIN_HEADERS,
        timeout=30,
    )
    assert created.status_code == 201
    csv = "customer_id,name,note\nc-csv,Hiroshi Yamamoto,gate code is star 2 7 1 9 pound, wifi password bluejay2207\n"
    imported = httpx.post(
        f"{base}/v1/customers/import", content=csv, headers={"content-type": "text/csv", **ADMIN_HEADERS}, timeout=30
    )
    assert imported.status_code == 200, imported.text
    listed = httpx.get(f"{base}/v1/customers", timeout=30, headers=ADMIN_HEADERS)
    frames.extend([created.text, imported.text, listed.text])
    with SyncCallStream.connect(base, "leak-crm") as call:  # the CRM note becomes the call's context
        frames.append(json.dumps(call.start({**HEADER, "customer": {"id": "c-leak"}})))
        frames.append(json.dumps(call.say("customer", "the heat is out again")))
        frames.append(json.dumps(call.end()))


def _board(base: str, frames: list[str], stop: threading.Event) -> None:
    board = base.replace("http://", "ws://") + "/v1/board/watch"
    headers = {**ADMIN_HEADERS, "Cookie": f"empathy_session={SESSION}"}
    with connect(f"{board}?ticket={TICKET}", open_timeout=10, additional_headers=headers) as ws:
        while not stop.is_set():
            try:
                frames.append(str(ws.recv(timeout=0.5)))
            except TimeoutError:
                continue


def _texts(paths: list[Path]) -> Iterator[tuple[str, str]]:
    for path in paths:
        yield str(path), path.read_bytes().decode("utf-8", errors="replace")


def _database_text(db: Path) -> str:
    """Every value of every table, read through SQLite (the WAL included), plus the raw file bytes."""
    with sqlite3.connect(db) as connection:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = [repr(row) for t in tables for row in connection.execute(f'SELECT * FROM "{t}"')]
    raw = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    return "\n".join(rows) + raw.decode("utf-8", errors="replace")


def test_redaction_nothing_a_customer_said_leaks_into_store_logs_frames_or_audit(tmp_path: Path) -> None:
    sample = _sample()
    assert sum(len(c["turns"]) for c in sample) >= 300
    db = tmp_path / "calls.db"
    log = tmp_path / "server.log"
    server = ServeProcess(f"sqlite:///{db}", free_port(), log, env={"EMPATHY_LOG_LEVEL": "debug"}).start()
    frames: list[str] = []
    board: list[str] = []
    stop = threading.Event()
    board_thread = threading.Thread(target=_board, args=(server.base_url, board, stop), daemon=True)
    board_thread.start()
    try:
        for case in sample:
            _stream(server.base_url, case, frames)
        _crm(server.base_url, frames)
        frames.append(httpx.get(f"{server.base_url}/v1/calls?limit=500", timeout=30, headers=ADMIN_HEADERS).text)
        frames.append(httpx.get(f"{server.base_url}/v1/calls/leak-gen-00003", timeout=30, headers=ADMIN_HEADERS).text)
    finally:
        stop.set()
        board_thread.join(10)
        server.stop()
    out = tmp_path / "audit"
    out.mkdir()
    audit = subprocess.run(
        [sys.executable, "-m", "empathy_engine", "audit", "--database", f"sqlite:///{db}", "--workers", "1",
         "--json", str(out / "calls.jsonl"), "--csv", str(out / "calls.csv"), "--report", str(out / "report.html")],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert audit.returncode == 0, audit.stderr[-2000:]
    places = {
        "database": _database_text(db),
        "server log": log.read_text(encoding="utf-8", errors="replace"),
        "replies and watch frames": "\n".join(frames),
        "board frames": "\n".join(board),
        "audit stderr": audit.stderr + audit.stdout,
        **dict(_texts(sorted(out.iterdir()))),
    }
    assert len(board) > 0 and all(places.values())
    found_control = [where for where, text in places.items() if CONTROL.lower() in text.lower()]
    assert {"database", "replies and watch frames"} <= set(found_control)  # the search does find what is there
    assert re.search(r"(?i)authorization: \[CREDENTIAL\]", places["server log"])  # the header dump, masked
    secrets = _secrets(sample) | {"4556 7375 8689 9855", "4556737586899855", "612-40-3381", "614-555-0101",
                                  "lorraine oyelaran", "hiroshi yamamoto", "bluejay2207"} | CREDENTIALS  # fmt: skip
    leaks = []
    for where, text in places.items():
        low = text.lower()
        for secret in secrets:
            if re.search(rf"(?<![a-z0-9]){re.escape(secret)}(?![a-z0-9])", low):
                leaks.append((where, secret))
    assert not leaks, leaks[:20]
