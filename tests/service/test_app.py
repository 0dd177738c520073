"""The app as a whole: settings are documented and lazy, pages render, errors never show tracebacks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from empathy_engine.service.app import create_app
from empathy_engine.service.services import Services
from empathy_engine.service.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def test_settings_every_one_is_documented() -> None:
    documented = set(re.findall(r"`(EMPATHY_[A-Z_]+)`", DOCS.read_text()))
    for name in Settings.model_fields:
        assert f"EMPATHY_{name.upper()}" in documented, f"EMPATHY_{name.upper()} is not in docs/protocol.md"


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EMPATHY_DATABASE_URL", "sqlite:///x.db")
    monkeypatch.setenv("EMPATHY_PORT", "9001")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("EMPATHY_HOLIDAY_COUNTRY=CA\n")
    settings = Settings()
    assert (settings.database_url, settings.port, settings.holiday_country) == ("sqlite:///x.db", 9001, "CA")


def test_create_app_builds_nothing_until_it_starts(tmp_path: Path) -> None:
    database = tmp_path / "later" / "empathy.db"
    app = create_app(Settings(database_url=f"sqlite:///{database}"))
    assert not database.parent.exists()  # no database, no engine, no thread yet
    assert not hasattr(app.state, "services")


def test_pages_render(client: TestClient) -> None:
    cockpit = client.get("/agent/call-42")
    assert cockpit.status_code == 200 and 'data-call-id="call-42"' in cockpit.text
    assert "/static/cockpit.js" in cockpit.text
    assert "Live calls" in client.get("/supervisor").text
    assert "No calls yet" in client.get("/").text
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/agent/bad%20id").status_code == 422


def test_unexpected_errors_are_json_without_traceback(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(Services, "read", broken)
    quiet = TestClient(client.app, raise_server_exceptions=False, headers=client.headers)
    response = quiet.get("/v1/calls")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error; the server log has the details"}
    assert "secret" not in response.text and "Traceback" not in response.text
