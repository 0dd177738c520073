"""Where the audit's calls come from: an iterator of conversations (or of reasons one is unreadable).

Conversation files, or the service's database. Anything that yields objects with `where` and
`events()` (readable calls) or `where`, `message` and `id` (unreadable ones) can be audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from empathy_engine.events import Event
from empathy_engine.ingest.conversation import InputError, Loaded, expand, parse, read_inputs
from empathy_engine.perception.prosody import VoiceReading

if TYPE_CHECKING:
    from empathy_engine.store.calls import CallRecord, TurnRecord
    from empathy_engine.store.replay import EngineRecord


@dataclass(frozen=True, slots=True)
class StoredCall:
    """An ended call of the service's database, with what its exact replay needs (store/replay.py):
    the voice reading the live engine had for each turn, and the engine settings the call ran with."""

    loaded: Loaded
    voices: tuple[VoiceReading | None, ...]
    engine: EngineRecord | None  # None: stored before settings were kept; the audit's own are used

    @property
    def where(self) -> str:
        return self.loaded.where

    def events(self) -> list[Event]:
        return self.loaded.events()


def from_files(paths: list[str]) -> Iterator[Loaded | InputError]:
    """Conversation v1 files and folders (see docs/conversation-format.md), one call at a time.

    Raises FileNotFoundError (before yielding anything) for a path that does not exist.
    """
    return read_inputs(expand(paths))


def count_inputs(paths: list[str]) -> int | None:
    """How many conversations the files hold, for the progress bar (None for stdin)."""
    total = 0
    for f in expand(paths):
        if f is None:
            return None
        total += sum(1 for line in f.open("rb") if line.strip()) if f.suffix == ".jsonl" else 1
    return total


def from_store(url: str, tenant_id: str) -> Iterator[StoredCall | InputError]:
    """One tenant's ended calls in the service's database (`empathy serve`'s EMPATHY_DATABASE_URL), one at a time.

    Each stored call becomes the conversation it was (header and transcript), with each turn's
    stored voice and the call's engine settings, so the audit replays exactly what ran live.
    Raises the store's DatabaseError for a bad URL.
    """
    from empathy_engine.store import calls as store
    from empathy_engine.store.db import open_database
    from empathy_engine.store.tenancy import bind_tenant

    engine = open_database(url)
    try:
        with engine.connect() as connection:
            bind_tenant(connection, tenant_id)  # one transaction for the whole read: bound once
            offset = 0
            while True:
                _, page = store.list_calls(connection, tenant_id, "ended", 200, offset)
                if not page:
                    return
                for record in page:
                    yield stored_call(record, store.get_turns(connection, tenant_id, record.id))
                offset += len(page)
    finally:
        engine.dispose()


def stored_call(record: CallRecord, turns: list[TurnRecord]) -> StoredCall | InputError:
    """One stored call as the audit reads it, or why it cannot be read."""
    from empathy_engine.store.replay import EngineRecord, reading_from_json

    obj = {**record.header, "id": record.id}
    obj["turns"] = [{"speaker": t.speaker, "text": t.text, "t": t.t, "end": t.end} for t in turns]
    loaded = parse(obj, f"database call {record.id}", None)
    if isinstance(loaded, InputError):
        return loaded
    voices = tuple(reading_from_json(t.voice) for t in turns)
    return StoredCall(loaded, voices, EngineRecord.from_json(record.engine) if record.engine else None)


def count_store(url: str, tenant_id: str) -> int:
    """How many ended calls the tenant has in the database, for the progress bar."""
    from empathy_engine.store import calls as store
    from empathy_engine.store.db import open_database
    from empathy_engine.store.tenancy import bind_tenant

    engine = open_database(url)
    try:
        with engine.connect() as connection:
            bind_tenant(connection, tenant_id)
            return store.list_calls(connection, tenant_id, "ended", 1, 0)[0]
    finally:
        engine.dispose()
