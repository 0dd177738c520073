"""`empathy practice` and `empathy audit --plans` as a user runs them: real processes, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from empathy_engine.cli import app
from tests.conftest import REPO
from tests.practice.scripts import GOOD, POOR

DEMO = REPO / "src" / "empathy_engine" / "demo" / "calls"


def empathy(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "empathy_engine", *args]
    env = {**os.environ, "COLUMNS": "120"}  # rich wraps at the terminal's width: the same one everywhere
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=180, check=False, env=env)


def test_practice_json_report_from_a_replies_file(tmp_path: Path) -> None:
    replies = tmp_path / "replies.txt"
    replies.write_text("\n".join(POOR) + "\n")
    out = empathy("practice", "co_alarm", "--replies", str(replies), "--format", "json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["scenario"] == "co_alarm" and report["outcome"] == "hung_up"
    assert 0 <= report["score"] <= 20
    first = report["replies"][0]
    assert first["reply"] == POOR[0] and first["branch"] == "safety" and first["grade"] == "missed"
    assert first["playbook"]["card"] == "safety/carbon_monoxide" and first["playbook"]["say"]
    assert report["skill"]["card"] == "safety/carbon_monoxide"
    assert len(report["customer_lines"]) == len(report["replies"]) + 1


def test_practice_lists_scenarios_and_refuses_bad_input_clearly(tmp_path: Path) -> None:
    """In-process (the refusals come before any model loads): each names the file and the fix."""
    runner = CliRunner()
    listed = runner.invoke(app, ["practice", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert {"co_alarm", "christmas_furnace"} <= {s["id"] for s in json.loads(listed.stdout)}
    unknown = runner.invoke(app, ["practice", "no_such_scenario", "--replies", str(tmp_path / "r.txt")])
    assert unknown.exit_code == 2 and "no scenario 'no_such_scenario'" in unknown.stderr
    assert unknown.exception is None or isinstance(unknown.exception, SystemExit)  # no traceback
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    refused = runner.invoke(app, ["practice", "co_alarm", "--replies", str(empty), "--format", "json"])
    assert refused.exit_code == 2 and "no replies; write one agent reply a line" in refused.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\ntitle: y\ntrains: [anger]\n")
    broken = runner.invoke(app, ["practice", str(bad), "--replies", str(empty)])
    assert broken.exit_code == 2 and "bad.yaml:3: trains: unknown state 'anger'" in broken.stderr
    no_file = runner.invoke(app, ["practice", "co_alarm", "--format", "json"])
    assert no_file.exit_code == 2 and "add --replies FILE" in no_file.stderr
    plan = tmp_path / "plan.json"
    plan.write_text('{"version": 1, "agent": "a-1", "scenarios": ["nope"]}')
    no_scenario = runner.invoke(app, ["practice", "--plan", str(plan), "--replies", str(empty)])
    assert (
        no_scenario.exit_code == 2 and "plan.json: field 'scenarios': no built-in scenario 'nope'" in no_scenario.stderr
    )
    records = tmp_path / "records.jsonl"
    records.write_text('{"agent": "a-1", "scenario": "co_alarm", "score": 5, "at": "x"}\nnot json\n')
    history = runner.invoke(app, ["practice", "--history", str(records)])
    assert history.exit_code == 2 and "records.jsonl:2: not a practice record" in history.stderr


def test_plans_from_a_real_audit_are_run_by_practice_and_the_history_shows_the_trend(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    audit = empathy("audit", str(DEMO), "--plans", str(plans), "--workers", "1")
    assert audit.returncode == 0, audit.stderr
    files = sorted(plans.glob("plan-*.json"))
    assert [f.name for f in files] == ["plan-a-11.json", "plan-a-3.json", "plan-a-5.json", "plan-a-8.json"]
    plan = json.loads((plans / "plan-a-11.json").read_text())
    assert plan["agent"] == "a-11" and 2 <= len(plan["skills"]) <= 3
    assert plan["skills"][0]["skill"] == "dejection/probe"
    assert plan["skills"][0]["quotes"][0]["customer"] == "Wednesday. Okay. I guess that's fine."
    assert "[ADDRESS]" in plan["skills"][0]["quotes"][0]["reply"]  # the audit's quotes stay masked
    assert plan["scenarios"][0] == "resigned_fine"

    poor = tmp_path / "poor.txt"
    poor.write_text("\n".join(POOR) + "\n")
    first = empathy("practice", "--plan", str(plans / "plan-a-11.json"), "--replies", str(poor), "--format", "json")
    assert first.returncode == 0, first.stderr
    good = tmp_path / "good"
    good.mkdir()
    for sid in plan["scenarios"]:
        (good / f"{sid}.txt").write_text("\n".join(GOOD[sid]) + "\n")
    second = empathy("practice", "--plan", str(plans / "plan-a-11.json"), "--replies", str(good), "--format", "json")
    assert second.returncode == 0, second.stderr
    assert [r["scenario"] for r in json.loads(second.stdout)] == plan["scenarios"]

    records = plans / "practice-records.jsonl"
    lines = [json.loads(line) for line in records.read_text().splitlines()]
    assert len(lines) == 2 * len(plan["scenarios"])
    assert {r["agent"] for r in lines} == {"a-11"} and all(r["at"] and 0 <= r["score"] <= 100 for r in lines)
    trend = empathy("practice", "--history", str(records), "--format", "json")
    assert trend.returncode == 0, trend.stderr
    rows = json.loads(trend.stdout)
    assert [r["scenario"] for r in rows] == sorted(plan["scenarios"])
    assert all(r["runs"] == 2 and r["change"] > 0 for r in rows), rows


def test_practice_in_the_terminal_shows_the_card_and_an_exam_does_not() -> None:
    typed = "Just so you know, there's a call-out fee.\n/quit\n"
    shown = empathy("practice", "christmas_furnace", stdin=typed)
    assert shown.returncode == 0, shown.stderr
    assert "Customer:" in shown.stdout and "fifty-two degrees" in shown.stdout
    assert "cue card ·" in shown.stdout and "Christmas Day" in shown.stdout  # the card, personalised
    assert "Missed the cue" in shown.stdout and "score" in shown.stdout
    exam = empathy("practice", "christmas_furnace", "--exam", stdin=typed)
    assert exam.returncode == 0, exam.stderr
    played, report = exam.stdout.split("score", 1)
    assert "exam: no cue cards" in played and "cue card ·" not in played
    assert "Christmas Day" in report  # what the playbook would have said, after the fact
