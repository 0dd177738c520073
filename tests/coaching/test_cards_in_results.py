"""Cards as users meet them: in `empathy analyze` results, the text timeline, and a user playbook."""

from __future__ import annotations

import json
from pathlib import Path

from empathy_engine.coaching.playbook import load_playbook, shipped_text
from empathy_engine.demo import CALLS, load_call
from empathy_engine.pipeline import Engine
from tests.cli.test_analyze import DEMO, run


def test_cards_on_customer_turns_and_followed_filled_in(engine: Engine) -> None:
    seen_followed = set()
    for name in CALLS:
        result = engine.analyze(load_call(name).events()).to_dict()
        turns = result["turns"]
        for i, turn in enumerate(turns):
            if turn["speaker"] != "customer":
                assert "cues" not in turn
                continue
            assert len(turn["cues"]) <= 1  # at most one new card per customer turn
            for card in turn["cues"]:
                assert set(card) >= {"id", "state", "why", "do", "say", "avoid", "priority", "source", "followed"}
                nxt = turns[i + 1] if i + 1 < len(turns) else None
                if nxt and nxt["speaker"] == "agent":
                    assert nxt["follow_through"] == {"card": card["id"], "followed": card["followed"]}
                    seen_followed.add(card["followed"])
                else:
                    assert card["followed"] is None
    assert seen_followed == {True, False}


def test_cards_never_repeat_once_acted_on(engine: Engine) -> None:
    for name in CALLS:
        turns = engine.analyze(load_call(name).events()).to_dict()["turns"]
        followed = [c["id"] for t in turns for c in t.get("cues", []) if c["followed"]]
        assert len(followed) == len(set(followed))


def test_cards_in_the_text_timeline() -> None:
    out = run(str(DEMO / "holiday_furnace.json"), "--format", "text")
    assert "CUE · urgency" in out.stdout and "say:" in out.stdout and "avoid:" in out.stdout
    assert "not followed" in out.stdout and "followed" in out.stdout


def test_cards_user_playbook_changes_the_cards(tmp_path: Path) -> None:
    custom = tmp_path / "ours.yaml"
    custom.write_text(
        "states:\n"
        "  urgency:\n"
        "    priority: 1\n"
        "    steps:\n"
        "      - id: right_now\n"
        "        do: Say we are on our way\n"
        "        expects: [urgency_ack]\n"
        "        say: [\"Summit Heating is on it, {name} - a van leaves in ten minutes.\"]\n"
    )
    out = run(str(DEMO / "holiday_furnace.json"), "--format", "json", "--playbook", str(custom))
    assert out.returncode == 0, out.stderr
    cards = [c for t in json.loads(out.stdout)["turns"] for c in t.get("cues", [])]
    urgency = [c for c in cards if c["state"] == "urgency"]
    assert urgency[0]["id"] == "urgency/right_now"
    # The customer's name is PII, masked before the engine reads the call (privacy/): no name to fill in.
    assert urgency[0]["say"].startswith("Summit Heating is on it") and "Dana" not in urgency[0]["say"]
    merged = load_playbook(custom)  # states the file does not name keep the shipped paths
    assert merged.states["frustration"] == load_playbook().states["frustration"]
    assert [s.id for s in merged.states["urgency"].steps] == ["right_now"]


def test_cards_broken_playbook_names_the_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    lines = shipped_text().splitlines()
    target = next(i for i, line in enumerate(lines) if "expects: [budget_ack]" in line)
    lines[target] = lines[target].replace("budget_ack", "budget_hug")
    broken.write_text("\n".join(lines))
    out = run(str(DEMO / "cost_worry.json"), "--playbook", str(broken))
    assert out.returncode == 2
    assert f"{broken}:{target + 1}:" in out.stderr and "expects[0]" in out.stderr
    assert "Traceback" not in out.stderr
    not_yaml = tmp_path / "tabs.yaml"
    not_yaml.write_text("states:\n\t- oops: [\n")
    out = run(str(DEMO / "cost_worry.json"), "--playbook", str(not_yaml))
    assert out.returncode == 2 and f"{not_yaml}:2: not valid YAML" in out.stderr


def test_exemplars_build_then_used_by_analyze(tmp_path: Path) -> None:
    import subprocess
    import sys

    library = tmp_path / "exemplars.jsonl"
    built = subprocess.run(
        [sys.executable, "-m", "empathy_engine", "exemplars", "build", str(DEMO), "-o", str(library)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert built.returncode == 0, built.stderr
    rows = [json.loads(line) for line in library.read_text().splitlines()]
    assert rows and all({"state", "step", "customer", "agent", "source", "fingerprint"} <= set(r) for r in rows)
    out = run(str(DEMO / "cost_worry.json"), "--format", "json", "--exemplars", str(library))
    cards = [c for t in json.loads(out.stdout)["turns"] for c in t.get("cues", [])]
    assert any(c["source"] == "exemplar" and c["exemplar"].startswith("demo-") for c in cards)


def test_cards_playbook_with_the_wrong_shape_is_a_clear_error(tmp_path: Path) -> None:
    for body, expected in [
        ("version: 1\nstates:\n  - frustration\n", "'states' must be a mapping"),
        ("version: 1\nsafety:\n  - gas\n", "each entry of 'safety' must be a mapping"),
    ]:
        broken = tmp_path / "shape.yaml"
        broken.write_text(body)
        out = run(str(DEMO / "cost_worry.json"), "--playbook", str(broken))
        assert out.returncode == 2 and expected in out.stderr and "Traceback" not in out.stderr
