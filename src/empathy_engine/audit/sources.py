"""Where the audit's calls come from: an iterator of conversations (or of reasons one is unreadable).

Files today; the service's database later. Anything that yields objects with `where` and
`events()` (readable calls) or `where`, `message` and `id` (unreadable ones) can be audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from empathy_engine.audit.runner import Conversation, Unreadable
from empathy_engine.ingest.conversation import InputError, Loaded, expand, read_inputs

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


# Seam for the service issue: a `from_store(session, since, until) -> CallSource` beside
# `from_files` will yield the stored calls of the service's database as `Loaded` conversations
# (a ConversationV1 built from each stored row, `where` naming the row), so `empathy audit --db URL`
# and the supervisor board's report run this same audit (`job.run_audit(source, options)`) unchanged.
