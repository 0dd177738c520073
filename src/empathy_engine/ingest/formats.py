"""Every transcript format in, one way: files -> `Loaded` conversations (or `InputError`s).

The format comes from `--input-format`, else from the extension: `.json`/`.jsonl` conversation v1,
`.csv`, `.vtt`. The vendors' JSON files (Contact Lens, Transcribe Call Analytics, Genesys Cloud) are
`.json` too, so they are named with `--input-format`; a v1 read of one says which to pass.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from empathy_engine.events import Speaker
from empathy_engine.ingest import contact_lens, csv_transcript, genesys, transcribe, webvtt
from empathy_engine.ingest.conversation import InputError, Loaded, read_inputs
from empathy_engine.ingest.kinds import InputFormat
from empathy_engine.ingest.transcripts import MAX_FILE_BYTES, ReadOptions

__all__ = ["InputFormat", "ReadOptions", "count_inputs", "expand", "parse_columns", "parse_speakers", "read"]


BY_SUFFIX = {".json": InputFormat.json, ".jsonl": InputFormat.json, ".csv": InputFormat.csv, ".vtt": InputFormat.webvtt}
#: The files a folder contributes, per format (auto: every suffix above).
SUFFIXES = {
    InputFormat.auto: frozenset(BY_SUFFIX),
    InputFormat.json: frozenset({".json", ".jsonl"}),
    InputFormat.csv: frozenset({".csv"}),
    InputFormat.webvtt: frozenset({".vtt"}),
    InputFormat.contact_lens: frozenset({".json"}),
    InputFormat.transcribe: frozenset({".json"}),
    InputFormat.genesys: frozenset({".json"}),
}
Reader = Callable[[bytes, str, Path | None, ReadOptions], Iterator[Loaded | InputError]]
READERS: dict[InputFormat, Reader] = {
    InputFormat.csv: csv_transcript.read_csv,
    InputFormat.webvtt: webvtt.read_webvtt,
    InputFormat.contact_lens: contact_lens.read_contact_lens,
    InputFormat.transcribe: transcribe.read_transcribe,
    InputFormat.genesys: genesys.read_genesys,
}


def format_of(file: Path | None, chosen: InputFormat) -> InputFormat:
    """The format to read `file` (None: stdin) with: the chosen one, else by extension (JSON otherwise)."""
    if chosen is not InputFormat.auto:
        return chosen
    return BY_SUFFIX.get(file.suffix.lower(), InputFormat.json) if file is not None else InputFormat.json


def expand(paths: list[str], chosen: InputFormat = InputFormat.auto) -> list[Path | None]:
    """Files to read, in order; `None` stands for stdin. A folder gives its files of the format's
    extensions (every known one for auto). Raises FileNotFoundError for a path that does not exist."""
    out: list[Path | None] = []
    wanted = SUFFIXES[chosen]
    for p in paths or ["-"]:
        path = Path(p)
        if p == "-":
            out.append(None)
        elif path.is_dir():
            out.extend(sorted(f for f in path.rglob("*") if f.suffix.lower() in wanted and f.is_file()))
        elif path.is_file():
            out.append(path)
        else:
            raise FileNotFoundError(p)
    return out


def _bytes(file: Path | None) -> bytes:
    """A whole file (or stdin), refused past MAX_FILE_BYTES before it is all in memory."""
    if file is not None and file.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(
            f"the file is {file.stat().st_size:,} bytes; a transcript file may have at most "
            f"{MAX_FILE_BYTES:,} (split it, or use JSON lines)"
        )
    stream = sys.stdin.buffer if file is None else file.open("rb")
    try:
        data = stream.read(MAX_FILE_BYTES + 1)
    finally:
        if file is not None:
            stream.close()
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"more than {MAX_FILE_BYTES:,} bytes; split it, or use JSON lines")
    return data


def read(
    files: list[Path | None], chosen: InputFormat = InputFormat.auto, options: ReadOptions | None = None
) -> Iterator[Loaded | InputError]:
    """Every conversation in `files` (see `expand`), one file at a time; an unreadable file fails alone."""
    options = options or ReadOptions()
    for file in files:
        fmt = format_of(file, chosen)
        if fmt is InputFormat.json:
            yield from read_inputs([file])
            continue
        name = "<stdin>" if file is None else str(file)
        try:
            data = _bytes(file)
        except OSError as e:
            yield InputError(name, f"cannot read the file: {e.strerror}")
            continue
        except ValueError as e:
            yield InputError(name, str(e))
            continue
        yield from READERS[fmt](data, name, Path.cwd() if file is None else file.parent, options)


def count_inputs(files: list[Path | None], chosen: InputFormat = InputFormat.auto) -> int | None:
    """How many conversations the files hold, for a progress bar; None when that needs reading them
    (stdin, CSV: many calls per file)."""
    total = 0
    for f in files:
        fmt = format_of(f, chosen)
        if f is None or fmt is InputFormat.csv:
            return None
        if f.suffix == ".jsonl" and fmt is InputFormat.json:
            try:
                with f.open("rb") as lines:
                    total += sum(1 for line in lines if line.strip())
            except OSError:
                total += 1  # reported when it is read
        else:
            total += 1
    return total


def parse_columns(values: list[str]) -> dict[str, str]:
    """`--csv-columns speaker=Role,text=Utterance` (repeatable) -> {"speaker": "Role", "text": "Utterance"}."""
    out: dict[str, str] = {}
    for value in values:
        for pair in filter(None, (p.strip() for p in value.split(","))):
            role, sep, header = pair.partition("=")
            if not sep or not header.strip():
                raise ValueError(f"--csv-columns {pair!r}: write ROLE=HEADER, e.g. speaker=Role")
            if role.strip() not in csv_transcript.COLUMNS:
                raise ValueError(f"--csv-columns {pair!r}: the roles are {', '.join(csv_transcript.COLUMNS)}")
            out[role.strip()] = header.strip()
    return out


def parse_speakers(values: list[str]) -> dict[str, Speaker]:
    """`--speaker Caller=customer` (repeatable) -> {"caller": "customer"}: a speaker name of the file
    (CSV speaker cell, WebVTT voice, vendor role or purpose), in any case, and who it is."""
    out: dict[str, Speaker] = {}
    for value in values:
        name, sep, role = value.rpartition("=")
        role = role.strip().lower()
        if not sep or not name.strip() or role not in ("customer", "agent"):
            raise ValueError(f"--speaker {value!r}: write NAME=customer or NAME=agent, e.g. Caller=customer")
        out[name.strip().lower()] = "customer" if role == "customer" else "agent"
    return out
