"""Where the audit's calls come from: an iterator of conversations (or of reasons one is unreadable).

Conversation files, or the service's database. Anything that yields objects with `where` and
`events()` (readable calls) or `where`, `message` and `id` (unreadable ones) can be audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from empathy_engine.audit.runner import Conversation, Unreadable
from empathy_engine.ingest.conversation import InputError, Loaded, expand, parse, read_inputs

#: What the audit reads: readable conversations and the reasons others are unreadable, one at a time.
CallSource = Iterable[Conversation | Unreadable]


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


def from_store(url: str) -> Iterator[Loaded | InputError]:
    """The ended calls in the service's database (`empathy serve`'s EMPATHY_DATABASE_URL), one at a time.

    Each stored call becomes the conversation it was (header and transcript), so the audit runs
    the same pipeline over it as over a file. Raises the store's DatabaseError for a bad URL.
    """
    from empathy_engine.store import calls as store
    from empathy_engine.store.db import open_database

    engine = open_database(url)
    try:
        with engine.connect() as connection:
            offset = 0
            while True:
                _, page = store.list_calls(connection, "ended", 200, offset)
                if not page:
                    return
                for record in page:
                    turns = store.get_turns(connection, record.id)
                    obj = {**record.header, "id": record.id}
                    obj["turns"] = [{"speaker": t.speaker, "text": t.text, "t": t.t} for t in turns]
                    yield parse(obj, f"database call {record.id}", None)
                offset += len(page)
    finally:
        engine.dispose()


def count_store(url: str) -> int:
    """How many ended calls the database holds, for the progress bar."""
    from empathy_engine.store import calls as store
    from empathy_engine.store.db import open_database

    engine = open_database(url)
    try:
        with engine.connect() as connection:
            return store.list_calls(connection, "ended", 1, 0)[0]
    finally:
        engine.dispose()
