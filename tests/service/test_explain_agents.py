"""The idiom explainer in the service: on for the calls of agents marked as needing it
(`empathy users create --explain`, `empathy users set`), per tenant, off for everyone else."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from empathy_engine.cli import app
from empathy_engine.events import CallStarted, Utterance
from empathy_engine.ingest.conversation import ConversationV1
from empathy_engine.service.live_call import LiveCallService
from empathy_engine.store import accounts, tenancy
from empathy_engine.store.models import DEFAULT_TENANT
from tests.service.helpers import demo_conversation
from tests.service.servers import free_port
from tests.store.databases import sqlite_url  # noqa: F401  (fixture)

PASSWORD = "correct horse battery"


def explained_lines(client: TestClient, call_id: str, agent: str, tenant: str = DEFAULT_TENANT) -> list[str]:
    """Run the resigned-customer demo call live, taken by `agent`; the explain lines its cards carried."""
    services = client.app.state.services  # type: ignore[attr-defined]
    conversation = {**demo_conversation("resigned_customer"), "id": call_id, "agent": {"id": agent}}
    events = ConversationV1.model_validate(conversation).events()
    start = events[0]
    assert isinstance(start, CallStarted) and start.agent_id == agent
    utterances = [e for e in events if isinstance(e, Utterance)]

    async def call() -> list[dict[str, Any]]:
        service = LiveCallService(services, tenant, call_id)
        await service.start(start)
        replies = [await service.feed(u, time.perf_counter(), turn=i) for i, u in enumerate(utterances)]
        await service.end()
        return [r.result for r in replies]

    assert client.portal is not None
    results = client.portal.call(call)
    return [c["explain"] for r in results for c in r.get("cues", []) if "explain" in c]


def users(client: TestClient, *args: str) -> Any:
    url = client.app.state.services.settings.database_url  # type: ignore[attr-defined]
    return CliRunner().invoke(app, ["users", *args, "--database", url], input=f"{PASSWORD}\n")


def test_a_marked_agent_gets_the_explainer_and_the_setting_switches_it(client: TestClient) -> None:
    made = users(client, "create", "agent-esl", "--explain", "--password-stdin")
    assert made.exit_code == 0, made.output
    assert "idiom explainer on" in made.output
    assert users(client, "create", "agent-native", "--password-stdin").exit_code == 0
    listed = users(client, "list").output.splitlines()
    assert "login\trole\tteam\tcreated\texplain" in listed[0]
    assert [line.split("\t")[-1] for line in listed[1:]] == ["on", "-"]  # by login: agent-esl, agent-native

    marked = explained_lines(client, "explain-1", "agent-esl")
    assert "'I guess it's fine' usually means it isn't: ask what would make it right" in marked
    assert explained_lines(client, "explain-2", "agent-native") == []
    assert explained_lines(client, "explain-3", "nobody-we-know") == []

    switched = users(client, "set", "agent-esl", "--no-explain")
    assert switched.exit_code == 0, switched.output
    assert explained_lines(client, "explain-4", "agent-esl") == []  # a new call follows the new setting
    assert users(client, "set", "agent-native", "--explain").exit_code == 0
    assert explained_lines(client, "explain-5", "agent-native") == marked

    missing = users(client, "set", "no-such-agent", "--explain")
    assert missing.exit_code != 0 and "no user 'no-such-agent'" in missing.output and "Traceback" not in missing.output


def test_the_mark_belongs_to_its_tenant(client: TestClient) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]

    def mark_in_acme(connection: Any) -> None:
        tenancy.add_tenant(connection, "acme")
        accounts.create_user(connection, "acme", "agent-7", PASSWORD, "agent", None, explain=True)

    services.write("acme", mark_in_acme)
    assert explained_lines(client, "tenant-1", "agent-7", tenant="acme")  # acme's agent-7 is marked
    assert explained_lines(client, "tenant-2", "agent-7") == []  # the default tenant's agent-7 is not


def test_serve_refuses_a_broken_lexicon_naming_the_setting_and_the_line(sqlite_url: str, tmp_path: Path) -> None:  # noqa: F811
    broken = tmp_path / "ours.yaml"
    broken.write_text(
        "version: 1\nentries:\n  - id: x\n    kind: idiom\n    phrases: [you people]\n"
        "    signals: [anger]\n    means: m\n"
    )
    env = {"EMPATHY_DATABASE_URL": sqlite_url, "EMPATHY_LEXICON": str(broken)}
    result = CliRunner().invoke(app, ["serve", "--port", str(free_port())], env=env)
    assert result.exit_code == 1
    assert f"EMPATHY_LEXICON: {broken}:6: entries[0].signals[0]" in result.output
    assert "Traceback" not in result.output
