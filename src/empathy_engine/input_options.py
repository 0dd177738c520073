"""The command-line options that choose how transcripts are read (`analyze`, `audit`, `exemplars build`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from empathy_engine.ingest.kinds import InputFormat

if TYPE_CHECKING:
    from empathy_engine.ingest.formats import ReadOptions

InputFormatOpt = Annotated[
    InputFormat,
    typer.Option(
        "--input-format",
        metavar="FORMAT",
        help="How to read the files: auto (by extension: .json/.jsonl conversation v1, .csv, .vtt), json, csv, "
        "webvtt, contact-lens (Amazon Connect), transcribe (Amazon Transcribe Call Analytics), genesys "
        "(Genesys Cloud). See docs/conversation-format.md.",
    ),
]
CsvColumnsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--csv-columns",
        metavar="ROLE=HEADER",
        help="CSV header names, as ROLE=HEADER pairs (comma-separated or repeated), e.g. "
        "call_id=ConversationID,speaker=Role,text=Utterance,time=Start.",
    ),
]
SpeakerOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--speaker",
        metavar="NAME=ROLE",
        help="Who a speaker name of the files is, as NAME=customer or NAME=agent (repeatable), e.g. Caller=customer.",
    ),
]


def read_options(csv_columns: list[str] | None, speakers: list[str] | None) -> ReadOptions:
    """The reading options from the command line; a ValueError names the bad option and the fix."""
    from empathy_engine.ingest.formats import ReadOptions, parse_columns, parse_speakers

    return ReadOptions(columns=parse_columns(csv_columns or []), speakers=parse_speakers(speakers or []))
