"""Amazon Transcribe Call Analytics output (a post-call analytics job's transcript JSON).

The fields read: `JobName` (the call id), `Channel` and `Transcript[]` (`ParticipantRole` AGENT or
CUSTOMER, `Content`, `BeginOffsetMillis`, `EndOffsetMillis`). Transcribe's own sentiment, loudness,
categories and summaries are not used. A plain Transcribe job (`results.transcripts`, no roles) says
nothing about who spoke and is refused with a message saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from empathy_engine.ingest.contact_lens import amazon_call, segments_of, transcript_items
from empathy_engine.ingest.conversation import InputError, Loaded
from empathy_engine.ingest.transcripts import (
    FormatError,
    ReadOptions,
    load_json_object,
    one_call,
)


def convert(data: bytes, name: str, options: ReadOptions) -> dict[str, Any]:
    """The conversation v1 object of one Call Analytics output file."""
    obj = load_json_object(data, name, "Transcribe Call Analytics output")
    if "results" in obj and "Transcript" not in obj:
        raise FormatError(
            f"{name}: results",
            "this is a standard Amazon Transcribe job's output, which does not say who is the customer "
            "and who the agent; run a Call Analytics job (or convert the file to CSV with a speaker column)",
        )
    items = transcript_items(obj, name, "Amazon Transcribe Call Analytics output")

    def role_of(item: dict[str, Any], where: str) -> Any:
        return item.get("ParticipantRole")

    return amazon_call(obj, obj.get("JobName"), segments_of(items, name, options, role_of), name)


def read_transcribe(data: bytes, name: str, base: Path | None, options: ReadOptions) -> Iterator[Loaded | InputError]:
    """The call in one Call Analytics output file's bytes, as the JSON reader would give it."""
    return one_call(name, base, convert, data, name, options)
