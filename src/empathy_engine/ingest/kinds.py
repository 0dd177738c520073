"""The input formats' names: light on purpose, the command line imports it when it starts."""

from __future__ import annotations

from enum import StrEnum


class InputFormat(StrEnum):
    """`--input-format`: auto picks by extension (ingest/formats.py)."""

    auto = "auto"
    json = "json"
    csv = "csv"
    webvtt = "webvtt"
    contact_lens = "contact-lens"
    transcribe = "transcribe"
    genesys = "genesys"
