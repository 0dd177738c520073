"""Which vendor's transcript a JSON object looks like, so a v1 read of it can say what to pass."""

from __future__ import annotations

from typing import Any


def vendor_hint(obj: dict[str, Any]) -> str | None:
    """`"... pass --input-format X"` when `obj` is not a v1 conversation but a known vendor file."""
    if "turns" in obj:
        return None
    if isinstance(obj.get("Transcript"), list):
        if "JobName" in obj:
            return "this looks like Amazon Transcribe Call Analytics output: pass --input-format transcribe"
        return "this looks like Amazon Connect Contact Lens output: pass --input-format contact-lens"
    if isinstance(obj.get("transcripts"), list) and "conversationId" in obj:
        return "this looks like a Genesys Cloud transcript: pass --input-format genesys"
    if isinstance(obj.get("results"), dict) and "jobName" in obj:
        return (
            "this looks like a standard Amazon Transcribe job, which does not say who spoke: run a Call "
            "Analytics job and pass --input-format transcribe"
        )
    return None
