"""Practice mode's JSON API: a scenario played to its report, sessions bounded per person and kept
to their owner, exam mode hiding the card, and nothing unmasked in what comes back."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from empathy_engine.service import api_practice
from tests.practice.scripts import POOR
from tests.service.auth import make_key


def _as(client: TestClient, key: str) -> TestClient:
    return TestClient(client.app, headers={"Authorization": f"Bearer {key}"})


def _start(client: TestClient, scenario: str = "co_alarm", exam: bool = False) -> dict[str, Any]:
    response = client.post("/v1/practice/sessions", json={"scenario": scenario, "exam": exam})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_scenario_played_to_its_report(client: TestClient, sqlite_url: str) -> None:
    agent = _as(client, make_key(sqlite_url, "agent", login="a-1"))
    listed = agent.get("/v1/practice/scenarios").json()
    assert "co_alarm" in {s["id"] for s in listed}
    started = _start(agent)
    assert started["prompt"]["card"]["id"] == "safety/carbon_monoxide"
    assert started["scenario"]["name"] == "Elena Brooks"
    answers = []
    for text in POOR:
        answer = agent.post(f"/v1/practice/sessions/{started['id']}/replies", json={"text": text})
        assert answer.status_code == 200, answer.text
        answers.append(answer.json())
        if "report" in answer.json():
            break
    report = answers[-1]["report"]
    assert report["outcome"] == "hung_up" and report["scenario"] == "co_alarm"
    assert report["skill"]["card"] == "safety/carbon_monoxide"
    assert answers[0]["prompt"]["card"]["id"] == "safety/carbon_monoxide"  # the safety step repeats
    ended = agent.post(f"/v1/practice/sessions/{started['id']}/replies", json={"text": "hello?"})
    assert ended.status_code == 409 and "ended" in ended.json()["detail"]


def test_exam_hides_the_card_and_masks_what_comes_back(client: TestClient, sqlite_url: str) -> None:
    agent = _as(client, make_key(sqlite_url, "agent", login="a-2"))
    started = _start(agent, "routine_tuneup", exam=True)
    assert started["prompt"]["card"] is None and started["exam"] is True
    answer = agent.post(
        f"/v1/practice/sessions/{started['id']}/replies", json={"text": "Your card 4111 1111 1111 1111 is on file."}
    )
    assert answer.status_code == 200
    assert "4111" not in answer.text


def test_sessions_are_their_owners_bounded_per_person_and_inputs_are_checked(
    client: TestClient, sqlite_url: str
) -> None:
    one = _as(client, make_key(sqlite_url, "agent", login="a-3"))
    other = _as(client, make_key(sqlite_url, "supervisor", team="east"))
    ids = [_start(one, "routine_tuneup")["id"] for _ in range(api_practice.MAX_PER_PERSON + 1)]
    first = one.post(f"/v1/practice/sessions/{ids[0]}/replies", json={"text": "Sure."})
    assert first.status_code == 404  # the oldest made room for the newest
    assert one.post(f"/v1/practice/sessions/{ids[-1]}/replies", json={"text": "Sure."}).status_code == 200
    assert other.post(f"/v1/practice/sessions/{ids[-1]}/replies", json={"text": "Sure."}).status_code == 404
    assert one.post("/v1/practice/sessions", json={"scenario": "nope"}).status_code == 422
    assert one.post("/v1/practice/sessions", json={"scenario": "co_alarm", "x": 1}).status_code == 422
    too_long = {"text": "a" * 20_001}
    assert one.post(f"/v1/practice/sessions/{ids[-1]}/replies", json=too_long).status_code == 422
    assert one.post(f"/v1/practice/sessions/{ids[-1]}/replies", json={"text": "   "}).status_code == 422
    integration = _as(client, make_key(sqlite_url, "integration", scopes=("stream",)))
    assert integration.post("/v1/practice/sessions", json={"scenario": "co_alarm"}).status_code == 403


def test_idle_sessions_expire_and_the_server_wide_cap_holds(
    client: TestClient, sqlite_url: str, monkeypatch: Any
) -> None:
    agent = _as(client, make_key(sqlite_url, "agent", login="a-4"))
    started = _start(agent, "routine_tuneup")
    monkeypatch.setattr(api_practice, "IDLE_S", -1.0)  # everything held is now past its expiry
    assert agent.post(f"/v1/practice/sessions/{started['id']}/replies", json={"text": "Sure."}).status_code == 404
    monkeypatch.setattr(api_practice, "IDLE_S", 3600.0)
    monkeypatch.setattr(api_practice, "MAX_SESSIONS", 1)
    _start(agent, "routine_tuneup")
    other = _as(client, make_key(sqlite_url, "agent", login="a-5"))
    full = other.post("/v1/practice/sessions", json={"scenario": "routine_tuneup"})
    assert full.status_code == 503 and "too many practice sessions" in full.json()["detail"]
