"""`empathy audit` as a user runs it: a real process, real files, HTML/JSON/CSV out, real exit codes."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from empathy_engine.audit.job import AuditOptions, run_audit
from empathy_engine.audit.runner import PoolExecutor, SerialExecutor
from empathy_engine.audit.sources import from_files
from tests.conftest import REPO, conversation, write_jsonl

DEMO = REPO / "src" / "empathy_engine" / "demo" / "calls"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "empathy_engine", "audit", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four demo calls plus a few made-up ones, and the broken inputs an audit must skip."""
    folder = tmp_path_factory.mktemp("calls")
    for f in DEMO.glob("*.json"):
        shutil.copy(f, folder / f.name)
    extra = [
        conversation(
            ("customer", "This is the third time I'm calling and nobody showed up."),
            ("agent", "The next opening is Friday."),
            ("customer", "Fine. Whatever."),
            id=f"extra-{i}",
            agent={"id": "a-9"},
            customer={"id": "c-1"},
            started_at=f"2025-10-0{i + 1}T10:00:00-04:00",
        )  # fmt: skip
        for i in range(3)
    ]
    write_jsonl(folder / "more.jsonl", extra)
    (folder / "broken.jsonl").write_text('{"id": "half", "turns": [{"speaker": "cust\n' + json.dumps(
        {"id": "robot", "turns": [{"speaker": "robot", "text": "beep"}]}) + "\n")  # fmt: skip
    (folder / "truncated.json").write_text(DEMO.joinpath("cost_worry.json").read_text()[:300])
    return folder


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("outcomes") / "outcomes.csv"
    path.write_text("call_id,csat,resolved,referral,review_text\ndemo-cost-worry,5,yes,yes,She really listened.\n"
                    "extra-0,2,no,no,\nextra-1,nine,no,no,\n")  # fmt: skip
    return path


@pytest.fixture(scope="module")
def audited(
    calls: Path, outcomes: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess[str]]:  # noqa: E501
    out = tmp_path_factory.mktemp("out")
    proc = run(str(calls), "--outcomes", str(outcomes), "--report", str(out / "r.html"), "--json",
               str(out / "a.json"), "--csv", str(out / "a.csv"), "--workers", "2", "--min-calls", "2")  # fmt: skip
    return out, proc


def test_audit_skips_bad_inputs_lists_them_and_exits_1(audited: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, proc = audited
    assert proc.returncode == 1, proc.stderr
    assert "broken.jsonl:1: malformed JSON" in proc.stderr
    assert "broken.jsonl:2: field turns[0].speaker" in proc.stderr
    assert "truncated.json" in proc.stderr
    assert "outcomes.csv:4: column csat" in proc.stderr
    assert "4 input(s) could not be read" in proc.stderr
    assert "audited 7 calls" in proc.stdout


def test_audit_json_has_every_call_every_failure_and_the_summary(
    audited: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:  # noqa: E501
    out, _ = audited
    doc = json.loads((out / "a.json").read_text())
    ids = {c["id"] for c in doc["calls"]}
    assert ids == {"demo-holiday-furnace", "demo-flooded-basement", "demo-cost-worry", "demo-resigned-customer",
                   "extra-0", "extra-1", "extra-2"}  # fmt: skip
    assert len(doc["failed_inputs"]) == 4
    assert all(f["where"] and f["reason"] for f in doc["failed_inputs"])
    s = doc["summary"]
    assert s["calls"] == 7 and s["failed_inputs"] == 4
    assert {a["agent"] for a in s["agents"]} >= {"a-9"}
    for call in doc["calls"]:
        for miss in call["misses"]:
            assert miss["quote"] and miss["advice"]  # the customer's words and what should have happened
    assert s["team"]["csat"]["n"] == 2  # the bad csat row was skipped
    assert set(s["roi"]["inputs"]) >= {"retention_lift", "cost_per_agent"}


def test_audit_csv_one_row_per_call(audited: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = audited
    rows = list(csv.DictReader((out / "a.csv").open()))
    assert len(rows) == 7
    assert {r["call_id"] for r in rows} >= {"extra-0", "demo-cost-worry"}
    assert all(r["source"] for r in rows)


def test_audit_report_is_one_self_contained_file(audited: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = audited
    html = (out / "r.html").read_text()
    assert html.startswith("<!doctype html>")
    assert "<svg" in html and "Agent scorecards" in html and "Lifetime value and ROI" in html
    assert "Skipped inputs (4)" in html and "truncated.json" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # no CDN, no remote anything
    assert "<script" not in html
    assert "nobody showed up" in html  # the quotes behind the misses


def test_audit_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run(str(tmp_path / "nope")).returncode == 2
    proc = run(str(DEMO), "--roi", "margin=3")
    assert proc.returncode == 2 and "NAME=NUMBER" in proc.stderr
    assert run(str(DEMO), "--outcomes", str(tmp_path / "missing.csv")).returncode == 2


def test_audit_clean_inputs_exit_0(tmp_path: Path) -> None:
    proc = run(str(DEMO), "--workers", "1", "--json", str(tmp_path / "a.json"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "a.json").read_text())["failed_inputs"] == []


def test_audit_executor_is_swappable_serial_and_pool_agree(calls: Path) -> None:
    def summary(executor: SerialExecutor | PoolExecutor) -> dict:
        s = run_audit(from_files([str(calls)]), AuditOptions(chunk=2), executor=executor).summary
        return {k: v for k, v in s.items() if k not in {"audit", "run"}}

    assert summary(SerialExecutor()) == summary(PoolExecutor(2))
