"""`empathy analyze` as a user runs it: a real process, real files, real exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from empathy_engine.taxonomy import BEHAVIOURS, STATES
from tests.conftest import REPO, conversation, write_jsonl

DEMO = REPO / "src" / "empathy_engine" / "demo" / "calls"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "empathy_engine", "analyze", *args]
    proc = subprocess.run(cmd, input=stdin, capture_output=True, timeout=120, check=False)
    return subprocess.CompletedProcess(cmd, proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def test_analyze_output_contract_on_the_demo_calls() -> None:
    out = run(str(DEMO), "--format", "jsonl")
    assert out.returncode == 0, out.stderr
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(results) == 4
    for result in results:
        source = json.loads((DEMO / f"{result['id'].removeprefix('demo-').replace('-', '_')}.json").read_text())
        assert [t["index"] for t in result["turns"]] == list(range(len(source["turns"])))
        for turn, given in zip(result["turns"], source["turns"], strict=True):
            assert turn["speaker"] == given["speaker"]
            if turn["speaker"] == "customer":
                assert list(turn["states"]) == list(STATES)
                assert all(0.0 <= v <= 1.0 for v in turn["states"].values())
                assert turn["detected"] and set(turn["detected"]) <= set(STATES)
                scores = [turn["states"][s] for s in turn["detected"]]
                assert scores == sorted(scores, reverse=True)
                assert turn["primary"] == turn["detected"][0]
                assert 0.0 <= turn["intensity"] <= 1.0
                for evidence in turn["evidence"]:
                    assert evidence["state"] in turn["detected"]
                    assert evidence["source"] in {"text", "pattern", "context"}
                    assert evidence["quote"]
            else:
                assert turn["behaviours"] and set(turn["behaviours"]) <= set(BEHAVIOURS)
                assert isinstance(turn["missed_cue"], bool)
        summary = result["summary"]
        assert set(summary) == {"start", "peak", "end", "empathy_score", "missed_cues"}
        assert summary["empathy_score"] is None or 0.0 <= summary["empathy_score"] <= 1.0
        assert summary["missed_cues"] == sum(t.get("missed_cue", False) for t in result["turns"])


def test_analyze_evidence_quotes_are_the_customers_own_words() -> None:
    out = run(str(DEMO / "holiday_furnace.json"), "--format", "json")
    result = json.loads(out.stdout)
    source = json.loads((DEMO / "holiday_furnace.json").read_text())
    for turn in result["turns"]:
        for evidence in turn.get("evidence", []):
            if evidence["source"] in {"text", "pattern"}:
                words = evidence["quote"].split(" (")[0]
                assert words.lower() in source["turns"][turn["index"]]["text"].lower()


def test_analyze_bad_inputs_are_reported_and_the_rest_analysed(tmp_path: Path) -> None:
    good = conversation(("customer", "my furnace is out again"), ("agent", "I'm so sorry, let's get someone out today"))
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        json.dumps(good).encode()
        + b"\n"
        + b"{oops\n"
        + json.dumps({"id": "no-turns"}).encode()
        + b"\n"
        + json.dumps({"id": "bad-speaker", "turns": [{"speaker": "robot", "text": "hi"}]}).encode()
        + b"\n"
        + json.dumps({"id": "big", "turns": [{"speaker": "customer", "text": "x" * 1_000_000}]}).encode()
        + b"\n"
        + b'{"id": "latin1", "turns": [{"speaker": "customer", "text": "caf\xe9"}]}\n'
        + json.dumps({**good, "id": "good-2"}).encode()
        + b"\n"
    )
    out = run(str(path), "--format", "jsonl")
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["call-1", None, "no-turns", "bad-speaker", "big", None, "good-2"]
    errors = [line["error"] for line in lines if "error" in line]
    assert errors[0].startswith(f"{path}:2: malformed JSON")
    assert "field turns: is required" in errors[1] and ":3:" in errors[1]
    assert "field turns[0].speaker" in errors[2]
    assert "at most" in errors[3]
    assert "invalid UTF-8" in errors[4] and ":6:" in errors[4]
    for error in errors:
        assert error in out.stderr


def test_analyze_reads_stdin(tmp_path: Path) -> None:
    data = json.dumps(conversation(("customer", "is that going to be expensive? I'm on a fixed income"))).encode()
    out = run("-", "--format", "jsonl", stdin=data)
    assert out.returncode == 0, out.stderr
    [result] = [json.loads(line) for line in out.stdout.splitlines()]
    assert "cost_anxiety" in result["turns"][0]["detected"]


def test_analyze_json_format_is_one_document(tmp_path: Path) -> None:
    single = run(str(DEMO / "cost_worry.json"), "--format", "json")
    assert json.loads(single.stdout)["id"] == "demo-cost-worry"
    several = run(str(DEMO), "--format", "json")
    assert [r["id"] for r in json.loads(several.stdout)] == [
        "demo-cost-worry",
        "demo-flooded-basement",
        "demo-holiday-furnace",
        "demo-resigned-customer",
    ]


def test_analyze_text_format_is_a_timeline() -> None:
    out = run(str(DEMO / "resigned_customer.json"), "--format", "text")
    assert out.returncode == 0
    assert "CUSTOMER" in out.stdout and "AGENT" in out.stdout
    assert "why:" in out.stdout and "empathy score" in out.stdout
    assert "\x1b[" not in out.stdout  # no colour codes when not a terminal


def test_analyze_usage_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    missing = run(str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    bad_format = run(str(DEMO), "--format", "xml")
    assert bad_format.returncode == 2
    empty_dir = run(str(tmp_path))
    assert empty_dir.returncode == 2 and "no transcript files (.csv, .json, .jsonl, .vtt)" in empty_dir.stderr
    for out in (missing, bad_format, empty_dir):
        assert "Traceback" not in out.stderr


def test_analyze_a_folder_of_many_calls(tmp_path: Path) -> None:
    calls = [conversation(("customer", f"the heater in unit {i} is out"), id=f"c{i}") for i in range(60)]
    out = run(str(write_jsonl(tmp_path / "many.jsonl", calls)))
    assert out.returncode == 0
    assert len(out.stdout.splitlines()) == 60


def test_analyze_piped_pretty_json_is_one_document() -> None:
    data = json.dumps(conversation(("customer", "my furnace is out"), ("agent", "sorry!")), indent=0).encode()
    assert b"\n{" in data  # a line starting with "{": still one document, not JSON lines
    out = run("-", "--format", "jsonl", stdin=data)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["id"] == "call-1"


def test_analyze_unknown_model_is_a_clear_usage_error() -> None:
    out = run("-", "--model", "text-emotion-v9", stdin=b'{"id": "x", "turns": [{"speaker": "customer", "text": "hi"}]}')
    assert out.returncode == 2
    assert "unknown text model 'text-emotion-v9'" in out.stderr
    assert "Traceback" not in out.stderr
