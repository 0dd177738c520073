"""`empathy analyze` and `empathy audit` on every transcript format, as a user runs them: real
processes, the fixture files, the format by extension or by --input-format, real exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

FIXTURES = REPO / "tests" / "fixtures" / "transcripts"
#: fixture -> (the --input-format it needs, the call ids in it)
CASES = {
    "calls.csv": (None, ["csv-furnace", "csv-leak"]),
    "call.vtt": (None, ["call"]),
    "contact_lens.json": ("contact-lens", ["cl-contact-7"]),
    "transcribe.json": ("transcribe", ["tca-job-12"]),
    "genesys.json": ("genesys", ["gen-conv-3"]),
}


def empathy(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "empathy_engine", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize("fixture", list(CASES))
def test_analyze_reads_each_format(fixture: str) -> None:
    fmt, ids = CASES[fixture]
    out = empathy("analyze", str(FIXTURES / fixture), "-f", "jsonl", *(["--input-format", fmt] if fmt else []))
    assert out.returncode == 0, out.stderr
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["id"] for r in results] == ids
    for r in results:
        assert r["turns"] and {t["speaker"] for t in r["turns"]} <= {"customer", "agent"}
        assert "summary" in r


def test_analyze_bad_csv_names_the_file_line_and_fix_and_keeps_the_good_call(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text("call_id,speaker,text\ngood,customer,my sink is leaking\nbad,Caller,hello\n")
    out = empathy("analyze", str(path), "-f", "jsonl")
    assert out.returncode == 1
    assert f"error: {path}:3: column speaker: speaker 'Caller' is not customer or agent" in out.stderr
    assert "--speaker NAME=customer" in out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert lines[0]["id"] == "good" and "turns" in lines[0]
    assert lines[1]["id"] == "bad" and "column speaker" in lines[1]["error"]
    fixed = empathy("analyze", str(path), "-f", "jsonl", "--speaker", "Caller=customer")
    assert fixed.returncode == 0, fixed.stderr


def test_analyze_text_output_of_a_webvtt_call() -> None:
    out = empathy("analyze", str(FIXTURES / "call.vtt"), "-f", "text")
    assert out.returncode == 0, out.stderr
    assert "CUSTOMER  This is the third time I've called about the same leak." in out.stdout


def test_analyze_bad_option_is_a_usage_error() -> None:
    out = empathy("analyze", str(FIXTURES / "calls.csv"), "--csv-columns", "speaker")
    assert out.returncode == 2
    assert "--csv-columns 'speaker': write ROLE=HEADER" in out.stderr


def test_audit_reads_csv_and_webvtt_by_extension_and_vendor_files_by_flag(tmp_path: Path) -> None:
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for name in ("calls.csv", "call.vtt"):
        shutil.copy(FIXTURES / name, mixed / name)
    report = tmp_path / "audit.json"
    out = empathy("audit", str(mixed), "--json", str(report), "--workers", "1")
    assert out.returncode == 0, out.stderr
    audited = json.loads(report.read_text())
    assert sorted(c["id"] for c in audited["calls"]) == ["call", "csv-furnace", "csv-leak"]
    vendor = tmp_path / "vendor.json"
    out = empathy("audit", str(FIXTURES / "genesys.json"), "--input-format", "genesys", "--json", str(vendor),
                  "--workers", "1")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert [c["id"] for c in json.loads(vendor.read_text())["calls"]] == ["gen-conv-3"]


def test_audit_without_the_flag_says_which_format_a_vendor_file_needs(tmp_path: Path) -> None:
    out = empathy("audit", str(FIXTURES / "contact_lens.json"), "--json", str(tmp_path / "a.json"), "--workers", "1")
    assert out.returncode == 1
    assert "this looks like Amazon Connect Contact Lens output: pass --input-format contact-lens" in out.stderr


def test_analyze_reads_a_format_from_stdin() -> None:
    cmd = [sys.executable, "-m", "empathy_engine", "analyze", "-", "--input-format", "webvtt", "-f", "jsonl"]
    data = (FIXTURES / "call.vtt").read_bytes()
    out = subprocess.run(cmd, input=data, capture_output=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    [result] = [json.loads(line) for line in out.stdout.splitlines()]
    assert result["id"] == "stdin" and [t["speaker"] for t in result["turns"]] == ["customer", "agent", "customer"]
