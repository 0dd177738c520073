"""Transcript formats in (ingest/formats.py): each reader gives the JSON reader's own events for its
fixture, and a bad file an error that names the file, the line or field, and the fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from empathy_engine.events import CallStarted, Utterance
from empathy_engine.ingest.conversation import InputError, Loaded, read_bytes
from empathy_engine.ingest.formats import InputFormat, ReadOptions, expand, parse_columns, parse_speakers, read
from empathy_engine.ingest.transcripts import MAX_FILE_BYTES
from tests.conftest import REPO

FIXTURES = REPO / "tests" / "fixtures" / "transcripts"


def _read(path: Path, fmt: InputFormat = InputFormat.auto, options: ReadOptions | None = None) -> list[Any]:
    return list(read([path], fmt, options))


def _v1_events(obj: dict[str, Any], base: Path) -> list[Any]:
    """The events the JSON reader gives for the same conversation written as v1."""
    [loaded] = read_bytes(json.dumps(obj).encode(), "same.json", base, jsonl=False)
    assert isinstance(loaded, Loaded), loaded
    return loaded.events()


def _turns(item: Loaded) -> list[tuple[str, str, float | None, float | None]]:
    return [(e.speaker, e.text, e.t, e.end) for e in item.events() if isinstance(e, Utterance)]


def test_csv_fixture_gives_each_call_in_order_of_first_row() -> None:
    furnace, leak = _read(FIXTURES / "calls.csv")
    assert isinstance(furnace, Loaded) and isinstance(leak, Loaded)
    assert (furnace.conversation.id, leak.conversation.id) == ("csv-furnace", "csv-leak")
    assert furnace.where == f"{FIXTURES / 'calls.csv'}:2"
    expected = {
        "id": "csv-furnace",
        "service": "hvac",
        "customer": {"name": "Dana Reyes"},
        "turns": [
            {
                "speaker": "customer",
                "t": 3,
                "text": "Hi, my furnace stopped working last night and it's freezing in here.",
            },
            {
                "speaker": "agent",
                "t": 9,
                "text": "I'm sorry, that sounds miserable. Let's get someone out to you today.",
            },
            {"speaker": "customer", "text": "Thank you, that would be great.", "t": 16},
        ],
    }
    assert furnace.events() == _v1_events(expected, FIXTURES)
    assert _turns(leak)[1] == ("agent", "Yes, I can book a plumber for this afternoon.", 7.0, None)


def test_csv_columns_are_configurable_and_times_may_be_date_times(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "Conversation;Who;Utterance;Start\n"
        "c-9;Caller;my heat is out;2025-12-25T07:40:00-05:00\n"
        "c-9;Rep;I'm on it;2025-12-25T07:40:06.5-05:00\n"
    )
    options = ReadOptions(
        columns=parse_columns(["call_id=Conversation,speaker=Who", "text=Utterance,time=Start"]),
        speakers=parse_speakers(["caller=customer", "REP=agent"]),
    )
    [call] = _read(path, InputFormat.csv, options)
    assert isinstance(call, Loaded)
    assert _turns(call) == [("customer", "my heat is out", 0.0, 6.5), ("agent", "I'm on it", 6.5, None)]
    start = call.events()[0]
    assert isinstance(start, CallStarted) and start.started_at is not None and start.started_at.hour == 7


def test_csv_without_a_call_id_column_is_one_call_named_after_the_file(tmp_path: Path) -> None:
    path = tmp_path / "monday call.csv"
    path.write_text("speaker,text\ncustomer,hello\nagent,hi there\n")
    [call] = _read(path)
    assert isinstance(call, Loaded) and call.conversation.id == "monday-call"


@pytest.mark.parametrize(
    ("content", "where", "expected"),
    [
        (
            "call_id,who,text\nc1,customer,hi\n",
            ":1",
            "no 'speaker' column (the speaker); the header has: call_id, who, "
            "text. Name yours with --csv-columns speaker=YOUR_HEADER",
        ),
        (
            "call_id,speaker,text\nc1,customer,hi\nc1,robot,beep\n",
            ":3",
            "column speaker: speaker 'robot' is not "
            "customer or agent; use customer or agent, or map the name with --speaker NAME=customer",
        ),
        ("call_id,speaker,text\nc1,customer,\n", ":2", "column text: the text is missing or empty"),
        ("call_id,speaker,text,time\nc1,customer,hi,soon\n", ":2", "column time: 'soon' is not a time; use seconds"),
        ("call_id,speaker,text,time\nc1,customer,hi,-3\n", ":2", "is not a time"),
        ('call_id,speaker,text\nc1,customer,"never closed\n', ":2", "not valid CSV"),
        ("", "", "the file is empty"),
        ("call_id,speaker,text\n", "", "no rows after the header"),
    ],
)
def test_csv_bad_file_names_the_line_and_the_fix(tmp_path: Path, content: str, where: str, expected: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    errors = [e for e in _read(path) if isinstance(e, InputError)]
    assert errors, "a bad file must give an error"
    assert errors[0].where.startswith(f"{path}{where}") and errors[0].where[len(f"{path}{where}") :][:1] in ("", ":")
    assert expected in str(errors[0])


def test_csv_bad_row_fails_its_own_call_only(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("call_id,speaker,text\ngood,customer,hello\nbad,bot,beep\ngood,agent,hi\n")
    good, bad = _read(path)
    assert isinstance(good, Loaded) and len(_turns(good)) == 2
    assert isinstance(bad, InputError) and bad.id == "bad" and bad.where.startswith(f"{path}:3:")


def test_webvtt_fixture_joins_one_speakers_cues_and_drops_markup() -> None:
    [call] = _read(FIXTURES / "call.vtt")
    assert isinstance(call, Loaded) and call.conversation.id == "call"
    expected = {
        "id": "call",
        "turns": [
            {
                "speaker": "customer",
                "text": "This is the third time I've called about the same leak. Nobody showed up last time.",
                "t": 1.0,
                "end": 7.0,
            },
            {
                "speaker": "agent",
                "text": "I'm so sorry about that & I can see the missed visit.",
                "t": 7.2,
                "end": 12.0,
            },
            {"speaker": "customer", "text": "Fine. When can someone come?", "t": 12.5, "end": 15.0},
        ],
    }
    assert call.events() == _v1_events(expected, FIXTURES)


@pytest.mark.parametrize(
    ("content", "line", "expected"),
    [
        ("hello\n", 1, "not a WebVTT file: the first line must be WEBVTT"),
        (
            "WEBVTT\n\n00:01.000 --> 00:02.000\n<v Customer>hi\n\n00:02.000 -> 00:03.000\n<v Agent>hey\n",
            6,
            "is not a cue timing line; write it as 00:00:01.000 --> 00:00:04.000",
        ),
        ("WEBVTT\n\n00:01.000 --> 00:02.000\njust words\n", 4, "has no speaker; use <v Customer> or <v Agent>"),
        (
            "WEBVTT\n\n00:01.000 --> 00:02.000\n<v Roger Bingham>hi\n",
            4,
            "speaker 'Roger Bingham' is not customer or "
            "agent; use <v Customer> or <v Agent>, or map the name with --speaker",
        ),
    ],
)
def test_webvtt_bad_file_names_the_line_and_the_fix(tmp_path: Path, content: str, line: int, expected: str) -> None:
    path = tmp_path / "bad.vtt"
    path.write_text(content)
    [error] = _read(path)
    assert isinstance(error, InputError)
    assert error.where.startswith(f"{path}:{line}")
    assert expected in error.message


def test_webvtt_voice_names_can_be_mapped(tmp_path: Path) -> None:
    path = tmp_path / "named.vtt"
    path.write_text("WEBVTT\n\n00:01.000 --> 00:02.000\n<v Roger Bingham>hi\n")
    [call] = _read(path, options=ReadOptions(speakers=parse_speakers(["roger bingham=customer"])))
    assert isinstance(call, Loaded) and _turns(call) == [("customer", "hi", 1.0, 2.0)]


def test_contact_lens_fixture_keeps_customer_and_agent_turns() -> None:
    [call] = _read(FIXTURES / "contact_lens.json", InputFormat.contact_lens)
    assert isinstance(call, Loaded)
    expected = {
        "id": "cl-contact-7",
        "channel": "voice",
        "turns": [
            {
                "speaker": "customer",
                "text": "My water heater is leaking all over the garage. I don't know what to do.",
                "t": 2.0,
                "end": 7.0,
            },
            {
                "speaker": "agent",
                "text": "Let's take care of that. First, turn the cold water valve above the heater clockwise.",
                "t": 7.6,
                "end": 13.0,
            },
            {"speaker": "customer", "text": "Okay, done. Thank you.", "t": 14.0, "end": 16.0},
        ],
    }
    assert call.events() == _v1_events(expected, FIXTURES)


def test_transcribe_fixture_reads_roles_and_offsets() -> None:
    [call] = _read(FIXTURES / "transcribe.json", InputFormat.transcribe)
    assert isinstance(call, Loaded) and call.conversation.id == "tca-job-12"
    assert _turns(call) == [
        ("agent", "Thanks for calling, how can I help?", 0.5, 2.6),
        ("customer", "I was quoted one price and charged almost double.", 3.0, 6.4),
        ("agent", "I understand, let me look at the invoice with you line by line.", 6.9, 10.1),
    ]


def test_genesys_fixture_orders_phrases_skips_the_ivr_and_joins_the_agent() -> None:
    [call] = _read(FIXTURES / "genesys.json", InputFormat.genesys)
    assert isinstance(call, Loaded) and call.conversation.id == "gen-conv-3"
    assert call.conversation.channel == "call"
    assert _turns(call) == [
        ("customer", "We have no heat, and my baby is here.", 1.2, 3.8),
        ("agent", "I'm so sorry. Let's get you warm. A technician can be there within the hour.", 4.5, 8.7),
    ]


def _vendor(tmp_path: Path, obj: Any) -> Path:
    path = tmp_path / "vendor.json"
    path.write_text(json.dumps(obj) if not isinstance(obj, str) else obj)
    return path


@pytest.mark.parametrize(
    ("fmt", "obj", "where", "expected"),
    [
        (
            InputFormat.contact_lens,
            {"Transcript": [{"ParticipantId": "CUSTOMER", "Content": ""}]},
            ": Transcript[0].Content",
            "the text is missing or empty",
        ),
        (
            InputFormat.contact_lens,
            {"Transcript": [{"ParticipantId": "MANAGER", "Content": "hi"}]},
            ": Transcript[0].ParticipantRole",
            "speaker 'MANAGER' is not customer or agent; expected CUSTOMER, AGENT",
        ),
        (
            InputFormat.contact_lens,
            {"Version": "1.1.0"},
            ": Transcript",
            "is missing or not a list; is this Amazon Connect Contact Lens analysis output?",
        ),
        (InputFormat.contact_lens, '{"Transcript": [\n  {,}]}', ":2", "malformed JSON at column"),
        (
            InputFormat.transcribe,
            {"Transcript": [{"ParticipantRole": "AGENT", "Content": "hi", "BeginOffsetMillis": "soon"}]},
            ": Transcript[0].BeginOffsetMillis",
            'expected milliseconds (a number >= 0), got "soon"',
        ),
        (
            InputFormat.transcribe,
            {"jobName": "x", "results": {"transcripts": []}},
            ": results",
            "standard Amazon Transcribe job's output, which does not say who is the customer",
        ),
        (InputFormat.transcribe, ["not", "an", "object"], "", "expected a JSON object"),
        (
            InputFormat.genesys,
            {"transcripts": [{"phrases": [{"participantPurpose": "robot", "text": "hi"}]}]},
            ": transcripts[0].phrases[0].participantPurpose",
            "expected external (the customer) or internal (the agent)",
        ),
        (InputFormat.genesys, {"transcripts": [{}]}, ": transcripts[0].phrases", "is missing or not a list"),
        (InputFormat.genesys, {"conversationId": "x"}, ": transcripts", "is this a Genesys Cloud transcript?"),
        (
            InputFormat.genesys,
            {"transcripts": [{"phrases": [{"participantPurpose": "ivr", "text": "hold"}]}]},
            "",
            "no customer or agent turns in the transcript",
        ),
    ],
)
def test_vendor_bad_file_names_the_field_and_the_fix(
    tmp_path: Path, fmt: InputFormat, obj: Any, where: str, expected: str
) -> None:
    path = _vendor(tmp_path, obj)
    [error] = _read(path, fmt)
    assert isinstance(error, InputError)
    assert error.where == f"{path}{where}"
    assert expected in error.message


@pytest.mark.parametrize(
    ("fixture", "hint"),
    [("contact_lens.json", "contact-lens"), ("transcribe.json", "transcribe"), ("genesys.json", "genesys")],
)
def test_a_vendor_file_read_as_v1_says_which_format_to_pass(fixture: str, hint: str) -> None:
    [error] = _read(FIXTURES / fixture)
    assert isinstance(error, InputError)
    assert error.message.endswith(f"pass --input-format {hint}")


def test_folders_give_the_files_of_the_chosen_format(tmp_path: Path) -> None:
    for name in ("a.csv", "b.vtt", "c.json", "d.jsonl", "e.txt"):
        (tmp_path / name).write_text("")
    assert [p.name for p in expand([str(tmp_path)]) if p] == ["a.csv", "b.vtt", "c.json", "d.jsonl"]
    assert [p.name for p in expand([str(tmp_path)], InputFormat.genesys) if p] == ["c.json"]
    with pytest.raises(FileNotFoundError):
        expand([str(tmp_path / "missing.csv")])


def test_a_transcript_file_over_the_cap_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: the reader must refuse it from its size alone
    [error] = _read(path)
    assert isinstance(error, InputError) and error.where == str(path)
    assert "a transcript file may have at most" in error.message


@pytest.mark.parametrize(
    ("parse", "value", "expected"),
    [
        (parse_columns, ["speaker"], "write ROLE=HEADER"),
        (parse_columns, ["who=Role"], "the roles are call_id, speaker, text"),
        (parse_speakers, ["Caller=bot"], "write NAME=customer or NAME=agent"),
    ],
)
def test_bad_reading_options_say_how_to_write_them(parse: Any, value: list[str], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        parse(value)


READERS_BY_FIXTURE = {
    "calls.csv": InputFormat.csv,
    "call.vtt": InputFormat.webvtt,
    "contact_lens.json": InputFormat.contact_lens,
    "transcribe.json": InputFormat.transcribe,
    "genesys.json": InputFormat.genesys,
}


@pytest.mark.parametrize("fixture", list(READERS_BY_FIXTURE))
def test_damaged_files_give_errors_never_exceptions(tmp_path: Path, fixture: str) -> None:
    """1,000 random cuts, byte flips and splices of each fixture: every one reads as calls or
    InputErrors (what a user sees), never as an exception (a traceback)."""
    import random

    rng = random.Random(fixture)
    original = (FIXTURES / fixture).read_bytes()
    path = tmp_path / fixture
    outcomes = {"loaded": 0, "error": 0}
    for _ in range(1000):
        data = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(data) + 1)
            choice = rng.random()
            if choice < 0.3:
                del data[at:]
            elif choice < 0.6:
                data[at : at + 1] = bytes([rng.randrange(256)])
            else:
                data[at:at] = rng.choice([b"\n", b",", b'"', b"{", b"-->", b"<v ", b"\xff", b"null", b"-1"])
        path.write_bytes(bytes(data))
        for item in read([path], READERS_BY_FIXTURE[fixture]):
            assert isinstance(item, Loaded | InputError)
            outcomes["loaded" if isinstance(item, Loaded) else "error"] += 1
            if isinstance(item, Loaded):
                item.events()
    assert outcomes["error"] > 0 and outcomes["loaded"] > 0, outcomes
