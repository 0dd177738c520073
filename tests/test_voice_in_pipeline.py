"""Audio through `empathy analyze`: per-turn WAVs and a two-channel call recording."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from empathy_engine.ingest.audio import ANALYSIS_RATE, read_wav, write_wav
from tests.cli.test_analyze import run

VOICE = Path(__file__).parent / "fixtures" / "voice"
WORDS = "Okay. I guess it is fine."


def _call(last: str) -> dict:
    turns = []
    for i, (name, text) in enumerate(
        [
            ("base_1", "Hi, I am calling about the furnace in my basement."),
            ("base_2", "It started making a strange noise last night."),
            ("base_3", "The model number is on a sticker near the filter."),
            (last, WORDS),
        ]
    ):
        turns.append({"speaker": "customer", "text": text, "t": 10.0 * i, "audio": f"{name}.wav"})
        turns.append({"speaker": "agent", "text": "Thanks, noted.", "t": 10.0 * i + 5})
    return {"id": f"voice-{last}", "turns": turns}


def test_voice_same_words_flat_vs_raised_move_the_fused_states(tmp_path: Path) -> None:
    calls = tmp_path / "calls.jsonl"
    calls.write_text(json.dumps(_call("fine_flat")) + "\n" + json.dumps(_call("fine_raised")) + "\n")
    for name in ("base_1", "base_2", "base_3", "fine_flat", "fine_raised"):
        (tmp_path / f"{name}.wav").write_bytes((VOICE / f"{name}.wav").read_bytes())
    out = run(str(calls), "--format", "jsonl")
    assert out.returncode == 0, out.stderr
    flat, raised = (json.loads(line)["turns"][6] for line in out.stdout.splitlines())
    assert flat["voice"]["arousal"] < raised["voice"]["arousal"]
    assert flat["states"]["dejection"] > raised["states"]["dejection"]
    assert raised["states"]["frustration"] > flat["states"]["frustration"]
    assert any(e["source"] == "voice" for e in flat["evidence"] + raised["evidence"])


def test_voice_text_only_turns_have_no_voice_field() -> None:
    out = run("-", "--format", "jsonl", stdin=json.dumps(_call("x") | {"turns": [{"speaker": "customer",
                                                                                     "text": WORDS}]}).encode())
    assert "voice" not in json.loads(out.stdout)["turns"][0]


def test_voice_from_a_two_channel_recording(tmp_path: Path) -> None:
    customer = np.concatenate([read_wav(VOICE / f"{n}.wav").channel(0) for n in ("base_1", "fine_raised")])
    agent = np.zeros_like(customer)
    write_wav(tmp_path / "call.wav", np.stack([customer, agent], axis=1), ANALYSIS_RATE)
    split = len(read_wav(VOICE / "base_1.wav").channel(0)) / ANALYSIS_RATE
    call = {
        "id": "recorded",
        "recording": {"path": "call.wav", "channels": {"customer": 0, "agent": 1}},
        "turns": [
            {"speaker": "customer", "text": "Hi, I am calling about the furnace in my basement.", "t": 0.0},
            {"speaker": "customer", "text": WORDS, "t": split},
        ],
    }
    (tmp_path / "call.json").write_text(json.dumps(call))
    out = run(str(tmp_path / "call.json"), "--format", "json")
    assert out.returncode == 0, out.stderr
    first, second = json.loads(out.stdout)["turns"]
    assert first["voice"]["features"]["baseline_turns"] == 0 and second["voice"]["features"]["baseline_turns"] >= 1


def test_voice_bad_audio_is_that_conversation_error(tmp_path: Path) -> None:
    (tmp_path / "bad.wav").write_bytes(b"not a wav at all")
    good = {"id": "good", "turns": [{"speaker": "customer", "text": "hello"}]}
    bad = {"id": "bad", "turns": [{"speaker": "customer", "text": "hello", "audio": "bad.wav"}]}
    (tmp_path / "calls.jsonl").write_text(json.dumps(bad) + "\n" + json.dumps(good) + "\n")
    out = run(str(tmp_path / "calls.jsonl"), "--format", "jsonl")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    first, second = (json.loads(line) for line in out.stdout.splitlines())
    assert first["id"] == "bad" and "bad.wav" in first["error"] and "internal error" not in first["error"]
    assert second["id"] == "good" and "turns" in second
