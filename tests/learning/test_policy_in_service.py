"""The service with a cue policy (EMPATHY_POLICY): every stored call names the policy it was
coached with, the live cards carry variant and propensity, and the stored turns replay identically."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from empathy_engine.coaching.choice import variant_id
from empathy_engine.coaching.playbook import load_playbook
from empathy_engine.learning.policy import Policy
from empathy_engine.learning.stored import from_database
from empathy_engine.pipeline import Engine, EngineSettings
from empathy_engine.service.app import create_app
from empathy_engine.service.settings import Settings
from tests.service.auth import admin_client
from tests.service.helpers import batch_result, comparable, demo_conversation, header, turn_result


def _policy(path: Path) -> Policy:
    """A policy that favours the last phrasing of every step."""
    choices = {}
    for state, steps in load_playbook().states.items():
        for step in steps.steps:
            variants = [variant_id(f"{state}/{step.id}", text) for text in step.say]
            rest = 0.05 * (len(variants) - 1)
            choices[f"{state}/{step.id}"] = {"default": {v: 0.05 for v in variants[:-1]} | {variants[-1]: 1 - rest}}
    policy = Policy(choices, 0.05)
    policy.save(path)
    return Policy.load(path)


def test_policy_version_is_stored_with_every_call_and_replays(tmp_path: Path) -> None:
    url, path = f"sqlite:///{tmp_path / 'empathy.db'}", tmp_path / "policy.json"
    policy = _policy(path)
    conversation = demo_conversation("holiday_furnace")
    with admin_client(create_app(Settings(database_url=url, policy=path))) as client:
        frames = []
        with client.websocket_connect("/v1/calls/learn-1/stream") as ws:
            ws.send_text(json.dumps({"type": "start", "call": header(conversation)}))
            ws.receive_json()
            for turn in conversation["turns"]:
                ws.send_text(json.dumps({"type": "utterance", **turn}))
                frames.append(turn_result(ws.receive_json()))
            ws.send_text(json.dumps({"type": "end"}))
            ws.receive_json()
        stored = client.get("/v1/calls/learn-1").json()
    with sa.create_engine(url).connect() as connection:
        engine_json = connection.execute(sa.text("SELECT engine FROM calls WHERE id = 'learn-1'")).scalar_one()
    record = json.loads(engine_json) if isinstance(engine_json, str) else engine_json
    assert record["policy_version"] == policy.version and record["policy"] == str(path.resolve())
    cards = [c for f in frames for c in f.get("cues", [])]
    assert cards and all("variant" in c and 0 < c["propensity"] <= 1 for c in cards)
    batch = batch_result(Engine(EngineSettings(policy=path)), conversation, "learn-1")
    assert [comparable(t["result"]) for t in stored["turns"]] == [comparable(r) for r in batch["turns"]]
    assert batch["policy"] == policy.version
    without = batch_result(Engine(), conversation, "learn-1")
    assert without["policy"] == "none"
    # `empathy learn fit --database`: the stored cards, read as they were shown, with the call's context
    from_db = list(from_database(url, "default", {}))
    shown = [c for t in batch["turns"] for c in t.get("cues", []) if c["source"] == "playbook"]
    assert [(c.turn, c.variant, c.propensity) for c in from_db] == [
        (t["index"], c["variant"], c["propensity"]) for t in batch["turns"] for c in t.get("cues", []) if c in shown
    ]
    assert {c.context for c in from_db} == {batch["context"]}
