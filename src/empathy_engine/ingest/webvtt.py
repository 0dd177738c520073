"""WebVTT captions with speaker voice tags (`<v Customer>…`): one call per file.

A cue's time is when its words were said; its voice tag says who said them. NOTE, STYLE and
REGION blocks are skipped, other tags (`<b>`, `<c.x>`, `<00:01.000>`) are dropped and character
references unescaped. Consecutive cues of one speaker become one turn (captions cut at lengths,
not at turns). The call id is the file's name: WebVTT has no place for one.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from empathy_engine.ingest.conversation import InputError, Loaded
from empathy_engine.ingest.transcripts import (
    FormatError,
    ReadOptions,
    Segment,
    call_id_from,
    conversation_of,
    decode,
    merge_runs,
    one_call,
    speaker_of,
    text_of,
)

TIMESTAMP = r"(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})"
TIMING = re.compile(rf"^\s*{TIMESTAMP}\s+-->\s+{TIMESTAMP}(?:\s.*)?$")
VOICE = re.compile(r"<v(?:\.[^\s>]*)?(?:\s+([^>]*))?>", re.IGNORECASE)
END_VOICE = re.compile(r"</v\s*>", re.IGNORECASE)
TAG = re.compile(r"<[^>]*>")
CLOCKISH = re.compile(r"\d:\d\d")
SPACE = re.compile(r"\s+")
SKIPPED_BLOCKS = ("NOTE", "STYLE", "REGION")
SPEAKER_FIX = "use <v Customer> or <v Agent>, or map the name with --speaker 'NAME=customer' (or =agent)"


def _seconds(groups: tuple[str | None, ...]) -> float:
    hours, minutes, seconds, millis = (int(g or 0) for g in groups)
    return hours * 3600 + minutes * 60 + seconds + millis / 1000


def _blocks(lines: list[str]) -> Iterator[tuple[int, list[str]]]:
    """(first line number, lines) of each block after the WEBVTT header, split at blank lines."""
    block: list[str] = []
    start = 0
    for number, line in enumerate(lines, 1):
        if line.strip():
            if not block:
                start = number
            block.append(line)
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


def _voices(payload: str, where: str) -> Iterator[tuple[str, str]]:
    """(voice name, plain text) for each voice span of a cue; text outside every span is an error."""
    opened = list(VOICE.finditer(payload))
    before = TAG.sub("", payload[: opened[0].start()] if opened else payload)
    if before.strip():
        raise FormatError(where, f"cue text {before.strip()[:40]!r} has no speaker; {SPEAKER_FIX}")
    for i, tag in enumerate(opened):
        stop = opened[i + 1].start() if i + 1 < len(opened) else len(payload)
        body = payload[tag.end() : stop]
        if closing := END_VOICE.search(body):
            body = body[: closing.start()]
        yield (tag.group(1) or "").strip(), SPACE.sub(" ", html.unescape(TAG.sub("", body))).strip()


def _cue(start: int, block: list[str], name: str, options: ReadOptions) -> list[Segment]:
    """The segments of one cue block (an optional identifier line, the timing line, the payload)."""
    timing_at = 0 if "-->" in block[0] else 1
    if timing_at >= len(block) or not (timing := TIMING.match(block[timing_at])):
        # Report the line that was meant as the timing (it has a clock in it), else the expected one.
        at = next((i for i, line in enumerate(block[:2]) if CLOCKISH.search(line)), min(timing_at, len(block) - 1))
        raise FormatError(
            f"{name}:{start + at}",
            f"{block[at][:60]!r} is not a cue timing line; write it as 00:00:01.000 --> 00:00:04.000",
        )
    t, end = _seconds(timing.groups()[:4]), _seconds(timing.groups()[4:])
    where = f"{name}:{start + timing_at + 1}"
    segments = []
    for voice, text in _voices("\n".join(block[timing_at + 1 :]), where):
        if not text:
            continue
        speaker = speaker_of(voice, options.speaker_names(), f"{where}: <v {voice}>", SPEAKER_FIX)
        if speaker is not None:
            segments.append(Segment(speaker, text_of(text, where), t, end))
    return segments


def convert(data: bytes, name: str, options: ReadOptions) -> dict[str, Any]:
    """The conversation v1 object of one WebVTT file."""
    lines = decode(data, name).splitlines()
    if not lines or not re.match(r"^WEBVTT(?:[ \t].*)?$", lines[0]):
        raise FormatError(f"{name}:1", "not a WebVTT file: the first line must be WEBVTT")
    segments: list[Segment] = []
    blocks = _blocks(lines)
    next(blocks, None)  # the header block: WEBVTT and its header lines
    for start, block in blocks:
        if block[0].split(" ", 1)[0].split("\t", 1)[0] in SKIPPED_BLOCKS and "-->" not in block[0]:
            continue
        segments.extend(_cue(start, block, name, options))
    return conversation_of(call_id_from(name), merge_runs(segments), {})


def read_webvtt(data: bytes, name: str, base: Path | None, options: ReadOptions) -> Iterator[Loaded | InputError]:
    """The call in one WebVTT file's bytes, as the JSON reader would give it."""
    return one_call(name, base, convert, data, name, options)
