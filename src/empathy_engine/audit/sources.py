"""Where the audit's calls come from: an iterator of conversations (or of reasons one is unreadable).

Conversation files, or the service's database. Anything that yields objects with `where` and
`events()` (readable calls) or `where`, `message` and `id` (unreadable ones) can be audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from empathy_engine.events import Event
from empathy_engine.ingest import formats
from empathy_engine.ingest.conversation import InputError, Loaded, parse
from empathy_engine.ingest.formats import InputFormat, ReadOptions
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


def from_files(
    paths: list[str], chosen: InputFormat = InputFormat.auto, options: ReadOptions | None = None
) -> Iterator[Loaded | InputError]:
    """Transcript files and folders in any input format (docs/conversation-format.md), one call at a time.

    Raises FileNotFoundError (before yielding anything) for a path that does not exist.
    """
    return formats.read(formats.expand(paths, chosen), chosen, options)


def count_inputs(paths: list[str], chosen: InputFormat = InputFormat.auto) -> int | None:
    """How many conversations the files hold, for the progress bar (None when unknown until read)."""
    return formats.count_inputs(formats.expand(paths, chosen), chosen)


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


@dataclass(frozen=True, slots=True)
class StoredRange:
    """A page of a tenant's ended calls, named by id only, for a worker to read from the database
    itself (`empathy audit --database ... --scheduler ...`): the driver sends ids, not transcripts."""

    url: str
    tenant_id: str
    ids: tuple[str, ...]


def store_ranges(url: str, tenant_id: str, size: int) -> Iterator[StoredRange]:
    """The tenant's ended calls as pages of `size` ids, in `from_store`'s order (so the audit's
    outputs come out in the same order as a local run's). Raises the store's DatabaseError."""
    from empathy_engine.store import calls as store
    from empathy_engine.store.db import open_database
    from empathy_engine.store.tenancy import bind_tenant

    engine = open_database(url)
    try:
        with engine.connect() as connection:
            bind_tenant(connection, tenant_id)
            offset = 0
            while True:
                _, page = store.list_calls(connection, tenant_id, "ended", size, offset)
                if not page:
                    return
                yield StoredRange(url, tenant_id, tuple(record.id for record in page))
                offset += len(page)
    finally:
        engine.dispose()


_databases: dict[str, Any] = {}  # per worker process: one connection pool per database URL


def read_range(page: StoredRange) -> list[StoredCall | InputError]:
    """On a worker: the calls of `page`, read from the database as `from_store` reads them; a call
    gone since the driver listed it is an unreadable input, not a crash."""
    from empathy_engine.store import calls as store
    from empathy_engine.store.db import open_database
    from empathy_engine.store.tenancy import bind_tenant

    if page.url not in _databases:
        _databases[page.url] = open_database(page.url)
    out: list[StoredCall | InputError] = []
    with _databases[page.url].connect() as connection:
        bind_tenant(connection, page.tenant_id)
        for call_id in page.ids:
            record = store.get_call(connection, page.tenant_id, call_id)
            if record is None:
                out.append(InputError(f"database call {call_id}", "it is no longer in the database", call_id))
                continue
            out.append(stored_call(record, store.get_turns(connection, page.tenant_id, call_id)))
    return out


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
