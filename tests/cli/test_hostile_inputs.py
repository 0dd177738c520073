"""`analyze` and `audit` on the hostile inputs of issue 12, as a user runs them (real processes):
a clear error per bad input, the good inputs still done, never a traceback, and an audit's JSON,
CSV and report are each whole or absent (written to a temporary file, then renamed)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from empathy_engine.audit.writers import AtomicFile, CsvWriter, neutralise
from empathy_engine.ingest.audio import MAX_AUDIO_BYTES, AudioError, read_wav, write_wav
from tests.cli.test_analyze import run
from tests.conftest import conversation

GOOD = json.dumps(conversation(("customer", "My heating is off and it is freezing."), ("agent", "I'm sorry.")))


def _hostile_folder(folder: Path) -> Path:
    """One good call and the attacks: deep nesting, a 5,000-digit number, NaN, NUL, a bad call id."""
    folder.mkdir(exist_ok=True)
    (folder / "good.json").write_text(GOOD)
    (folder / "deep.json").write_text('{"id": "deep", "turns": ' + "[" * 50_000 + "]" * 50_000 + "}")
    (folder / "digits.json").write_text('{"id": "digits", "turns": [{"speaker": "customer", "text": "hi", "t": '
                                        + "9" * 5000 + "}]}")  # fmt: skip
    bad_lines = [
        '{"id": "nan", "turns": [{"speaker": "customer", "text": "hi", "t": NaN}]}',
        '{"id": "nul", "turns": [{"speaker": "customer", "text": "a\\u0000b"}]}',
        json.dumps(conversation(("customer", "hi"), id="../../etc/passwd")),
        json.dumps(conversation(("customer", "I want a refund now."), id="good-2")),
    ]
    (folder / "more.jsonl").write_text("\n".join(bad_lines) + "\n")
    return folder


def test_analyze_reports_each_attack_and_analyses_the_rest(tmp_path: Path) -> None:
    folder = _hostile_folder(tmp_path / "calls")
    out = run(str(folder), "--format", "jsonl")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert sorted(r["id"] for r in results if "error" not in r) == ["call-1", "good-2"]
    errors = " ".join(r["error"] for r in results if "error" in r)
    for reason in ("nested too deeply", "5000 digits", "NaN is not a JSON number", "NUL character",
                   "a call id is 1-200 letters"):  # fmt: skip
        assert reason in errors and reason in out.stderr
    assert "5 conversation(s) could not be read" in out.stderr


def test_audio_paths_to_a_fifo_or_dev_zero_are_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    calls = tmp_path / "calls.jsonl"
    rows = []
    for i, audio in enumerate([str(fifo), "/dev/zero", str(tmp_path)]):
        row = conversation(("customer", "hello there"), id=f"audio-{i}")
        row["turns"][0]["audio"] = audio
        rows.append(json.dumps(row))
    calls.write_text("\n".join([*rows, GOOD]) + "\n")
    started = time.monotonic()
    out = run(str(calls), "--format", "jsonl")
    assert time.monotonic() - started < 60  # before: the FIFO hung forever, /dev/zero ate 4 GB
    assert out.returncode == 1 and "Traceback" not in out.stderr
    results = {r["id"]: r for r in map(json.loads, out.stdout.splitlines())}
    for i in range(3):
        assert "not a regular file" in results[f"audio-{i}"]["error"]
    assert "error" not in results["call-1"]


def test_audio_reader_caps_the_size_and_reads_real_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    wav = write_wav(tmp_path / "tone.wav", np.sin(np.arange(8000) / 5.0) * 0.3, 8000)
    assert read_wav(wav).samples.shape == (8000, 1)
    monkeypatch.setattr("empathy_engine.ingest.audio.MAX_AUDIO_BYTES", 1000)
    with pytest.raises(AudioError, match=r"tone.wav: audio file is 16044 bytes; at most 1000 are read"):
        read_wav(wav)
    assert MAX_AUDIO_BYTES == 1 << 30


def test_audit_skips_each_attack_and_writes_whole_outputs(tmp_path: Path) -> None:
    folder = _hostile_folder(tmp_path / "calls")
    outputs = {"--json": tmp_path / "audit.json", "--csv": tmp_path / "audit.csv", "--report": tmp_path / "a.html"}
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text(f"call_id,csat\ncall-1,1e400\ncall-1,NaN\ncall-1,{'9' * 5000}\ngood-2,4\n")
    cmd = [sys.executable, "-m", "empathy_engine", "audit", str(folder), "--workers", "1", "--outcomes", str(outcomes)]
    cmd += [a for flag, path in outputs.items() for a in (flag, str(path))]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    document = json.loads(outputs["--json"].read_text())  # whole: it parses
    assert sorted(c["id"] for c in document["calls"]) == ["call-1", "good-2"]
    reasons = " ".join(f["reason"] for f in document["failed_inputs"])
    assert "nested too deeply" in reasons and "5000 digits" in reasons and "NUL character" in reasons
    assert sum("column csat: expected a whole number 1-5" in f["reason"] for f in document["failed_inputs"]) == 3
    assert len(list(csv.DictReader(outputs["--csv"].open()))) == 2
    assert outputs["--report"].read_text().rstrip().endswith("</html>")
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_audit_that_stops_part_way_leaves_no_truncated_file(tmp_path: Path) -> None:
    """An audit failing after calls were written (its summary step) is a clear error; the old output stays."""
    (tmp_path / "calls").mkdir()
    (tmp_path / "calls" / "good.json").write_text(GOOD)
    target = tmp_path / "audit.json"
    target.write_text('{"previous": "audit"}')
    cmd = [sys.executable, "-c", _STOPS_MID_AUDIT, str(tmp_path / "calls"), str(target)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr and "the audit stopped: RuntimeError: disk on fire" in out.stderr
    assert "nothing partial was left" in out.stderr
    assert json.loads(target.read_text()) == {"previous": "audit"}
    assert not list(tmp_path.glob(".*.tmp"))


# The real `empathy audit` command, with the summary step failing after the calls were written.
_STOPS_MID_AUDIT = """
import sys
import empathy_engine.audit.job as job
def broken(*args, **kwargs):
    raise RuntimeError("disk on fire")
job._summary = broken
from empathy_engine.cli import main
sys.argv = ["empathy", "audit", sys.argv[1], "--json", sys.argv[2], "--workers", "1"]
main()
"""


def test_csv_cells_that_spreadsheets_run_as_formulas_are_neutralised(tmp_path: Path) -> None:
    attacks = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
    assert [neutralise(a) for a in attacks] == ["'" + a for a in attacks]
    assert neutralise("fine text") == "fine text" and neutralise(-3) == -3 and neutralise(None) is None
    path = tmp_path / "audit.csv"
    writer = CsvWriter(path)
    writer.rows([{"call_id": "c1", "first_miss_quote": attack, "turns": -1} for attack in attacks])
    writer.close()
    rows = list(csv.DictReader(path.open(newline="")))
    assert [r["first_miss_quote"] for r in rows] == ["'" + a for a in attacks]
    assert {r["turns"] for r in rows} == {"-1"}  # numbers are not text: left as they are


def test_audit_csv_neutralises_a_formula_spoken_by_the_customer(tmp_path: Path) -> None:
    call = conversation(("customer", "=HYPERLINK(\"http://evil\") this is the third time I'm calling!!"),
                        ("agent", "Our hours are nine to five."), id="formula", agent={"id": "=agent"})  # fmt: skip
    (tmp_path / "calls.jsonl").write_text(json.dumps(call) + "\n")
    out_csv = tmp_path / "audit.csv"
    cmd = [sys.executable, "-m", "empathy_engine", "audit", str(tmp_path / "calls.jsonl"), "--csv", str(out_csv)]
    out = subprocess.run([*cmd, "--workers", "1"], capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    row = next(csv.DictReader(out_csv.open(newline="")))
    assert row["agent_id"] == "'=agent"
    assert all(not v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values())


def test_atomic_file_discard_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    path.write_text("old")
    out = AtomicFile(path)
    out.f.write("half")
    out.discard()
    assert path.read_text() == "old" and list(tmp_path.iterdir()) == [path]
