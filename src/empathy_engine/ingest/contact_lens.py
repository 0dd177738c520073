"""Amazon Connect Contact Lens analysis output (the post-contact JSON file): one contact per file.

The fields read: `CustomerMetadata.ContactId` (the call id), `Channel`, `Participants`
(`ParticipantId` -> `ParticipantRole`) and `Transcript[]` (`ParticipantId`, `Content`,
`BeginOffsetMillis`, `EndOffsetMillis`). CUSTOMER and AGENT turns are kept; SYSTEM, CUSTOM_BOT and
SUPERVISOR turns are skipped unless `--speaker` maps them. Everything else (sentiment, categories,
redaction, loudness) is Contact Lens's own reading and is not used.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from empathy_engine.events import Speaker
from empathy_engine.ingest.conversation import InputError, Loaded
from empathy_engine.ingest.transcripts import (
    FormatError,
    ReadOptions,
    Segment,
    call_id_from,
    conversation_of,
    load_json_object,
    merge_runs,
    millis,
    one_call,
    speaker_of,
    text_of,
)

#: Amazon's participant roles; the ones mapped to None are other parties, skipped.
ROLES: Mapping[str, Speaker | None] = {
    "customer": "customer",
    "agent": "agent",
    "system": None,
    "custom_bot": None,
    "supervisor": None,
}
ROLE_FIX = "expected CUSTOMER, AGENT, SYSTEM, CUSTOM_BOT or SUPERVISOR (map others with --speaker ROLE=customer)"


def transcript_items(obj: Mapping[str, Any], name: str, what: str) -> list[Any]:
    """The document's `Transcript` list, or a FormatError naming what kind of file was expected."""
    items = obj.get("Transcript")
    if not isinstance(items, list):
        raise FormatError(f"{name}: Transcript", f"is missing or not a list; is this {what}?")
    return items


def segments_of(items: list[Any], name: str, options: ReadOptions, role_of: Any) -> list[Segment]:
    """The turns of an Amazon `Transcript` list (Contact Lens and Transcribe Call Analytics share it).
    `role_of(item, where)` gives the item's participant role as written in the file."""
    speakers = options.speaker_names(ROLES)
    out = []
    for i, item in enumerate(items):
        where = f"{name}: Transcript[{i}]"
        if not isinstance(item, dict):
            raise FormatError(where, f"expected an object, got {type(item).__name__}")
        speaker = speaker_of(role_of(item, where), speakers, f"{where}.ParticipantRole", ROLE_FIX)
        if speaker is None:
            continue
        text = text_of(item.get("Content"), f"{where}.Content")
        t, end = millis(item, "BeginOffsetMillis", where), millis(item, "EndOffsetMillis", where)
        out.append(Segment(speaker, text, t, end))
    return merge_runs(out)


def convert(data: bytes, name: str, options: ReadOptions) -> dict[str, Any]:
    """The conversation v1 object of one Contact Lens output file."""
    obj = load_json_object(data, name, "Contact Lens analysis output")
    items = transcript_items(obj, name, "Amazon Connect Contact Lens analysis output")
    roles = {
        p.get("ParticipantId"): p.get("ParticipantRole") for p in obj.get("Participants") or [] if isinstance(p, dict)
    }

    def role_of(item: dict[str, Any], where: str) -> Any:
        # Voice files name the participant by id (roles in `Participants`); some write the role itself.
        pid = item.get("ParticipantId")
        return item.get("ParticipantRole") or roles.get(pid) or pid

    metadata = obj.get("CustomerMetadata")
    contact = metadata.get("ContactId") if isinstance(metadata, dict) else None
    return amazon_call(obj, contact, segments_of(items, name, options, role_of), name)


def amazon_call(obj: Mapping[str, Any], call_id: Any, segments: list[Segment], name: str) -> dict[str, Any]:
    """The conversation of an Amazon output file (Contact Lens or Transcribe): its own id when it
    names one, else one from the file name; its `Channel` as the header's channel."""
    channel = obj.get("Channel")
    header = {"channel": channel.lower() if isinstance(channel, str) else None}
    return conversation_of(call_id if isinstance(call_id, str) and call_id else call_id_from(name), segments, header)


def read_contact_lens(data: bytes, name: str, base: Path | None, options: ReadOptions) -> Iterator[Loaded | InputError]:
    """The contact in one Contact Lens output file's bytes, as the JSON reader would give it."""
    return one_call(name, base, convert, data, name, options)
