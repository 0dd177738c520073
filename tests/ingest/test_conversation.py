from __future__ import annotations

import json
from pathlib import Path

import pytest

from empathy_engine.events import CallEnded, CallStarted, Utterance
from empathy_engine.ingest.conversation import MAX_TEXT_CHARS, InputError, Loaded, expand, read_bytes, read_inputs
from tests.conftest import conversation, write_jsonl


def _read(data: bytes, jsonl: bool = True) -> list[Loaded | InputError]:
    return list(read_bytes(data, "calls.jsonl", Path("/data"), jsonl))


def test_conversation_events_follow_the_turns() -> None:
    obj = conversation(("customer", "the heat's out"), ("agent", "sorry to hear that"), service="hvac")
    obj["customer"] = {"name": "Dana", "notes": ["elderly mother"], "prior_contacts": [{"outcome": "tech no-show"}]}
    obj["turns"][0]["audio"] = "clip.wav"
    [loaded] = _read(json.dumps(obj).encode())
    assert isinstance(loaded, Loaded)
    start, first, second, end = loaded.events()
    assert isinstance(start, CallStarted) and start.service == "hvac"
    assert start.customer.notes == ("elderly mother",)
    assert start.customer.prior_contacts[0].outcome == "tech no-show"
    assert first == Utterance("customer", "the heat's out", 0.0, "/data/clip.wav", end=5.0)
    assert isinstance(second, Utterance) and second.speaker == "agent"
    assert isinstance(end, CallEnded)


def test_conversation_unknown_fields_are_ignored() -> None:
    obj = conversation(("customer", "hi"), crm_id=77)
    obj["turns"][0]["sentiment"] = "n/a"
    [loaded] = _read(json.dumps(obj).encode())
    assert isinstance(loaded, Loaded)


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"id": "a"}, "field turns: is required"),
        ({"id": "a", "turns": []}, "field turns: has no turns"),
        ({"id": "a", "turns": [{"speaker": "bot", "text": "hi"}]}, "field turns[0].speaker"),
        ({"id": "a", "turns": [{"speaker": "customer", "text": ""}]}, "field turns[0].text: is empty"),
        ({"id": "a", "turns": [{"speaker": "customer", "text": "x" * (MAX_TEXT_CHARS + 1)}]}, "at most"),
        ({"id": 42, "turns": [{"speaker": "customer", "text": "hi"}]}, "field id: input should be a valid string"),
        ({"id": "a", "turns": [{"speaker": "customer", "text": 5}]}, "field turns[0].text"),
        ({"id": "a", "turns": "hello"}, "field turns"),
        (["not", "an", "object"], "expected a JSON object"),
    ],
)
def test_conversation_bad_input_names_the_line_and_field(obj: object, expected: str) -> None:
    [error] = _read(b"\n" + json.dumps(obj).encode())
    assert isinstance(error, InputError)
    assert error.where == "calls.jsonl:2"
    assert expected in error.message


def test_conversation_bad_input_keeps_the_id_when_it_is_known() -> None:
    [error] = _read(json.dumps({"id": "call-9", "turns": []}).encode())
    assert isinstance(error, InputError) and error.id == "call-9"


def test_conversation_malformed_json_and_invalid_utf8_do_not_stop_the_rest() -> None:
    good = json.dumps(conversation(("customer", "hi")))
    data = b"{not json\n" + good.encode() + b"\n" + b'{"id": "\xff"}\n' + good.encode()
    results = _read(data)
    assert [type(r).__name__ for r in results] == ["InputError", "Loaded", "InputError", "Loaded"]
    assert "malformed JSON" in str(results[0]) and "calls.jsonl:1" in str(results[0])
    assert "invalid UTF-8" in str(results[2]) and "calls.jsonl:3" in str(results[2])


def test_conversation_json_file_may_hold_an_array(tmp_path: Path) -> None:
    path = tmp_path / "two.json"
    path.write_text(json.dumps([conversation(("customer", "a"), id="x"), conversation(("customer", "b"), id="y")]))
    ids = [r.conversation.id for r in read_inputs([path]) if isinstance(r, Loaded)]
    assert ids == ["x", "y"]


def test_conversation_folders_expand_to_their_json_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write_jsonl(tmp_path / "sub" / "b.jsonl", [conversation(("customer", "b"))])
    (tmp_path / "a.json").write_text(json.dumps(conversation(("customer", "a"))))
    (tmp_path / "notes.txt").write_text("ignored")
    assert [p.name for p in expand([str(tmp_path)]) if p] == ["a.json", "b.jsonl"]
    with pytest.raises(FileNotFoundError):
        expand([str(tmp_path / "missing.json")])
