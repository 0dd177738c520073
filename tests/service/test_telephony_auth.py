"""Telephony upgrades over a real server socket: signed as the vendors sign them, or refused.

Twilio: X-Twilio-Signature over the public wss:// URL (403 otherwise). AudioHook: X-API-KEY and an
RFC 9421 signature with a fresh `created` and an unused nonce (401 otherwise). Every signature is
computed here with hmac (tests/service/signing.py), never by the module under test.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from empathy_engine.pipeline import Engine
from empathy_engine.service import telephony
from empathy_engine.service.app import create_app
from empathy_engine.service.settings import Settings
from tests.replay import CALL_SID, CONVERSATION_ID, AudioHookClient, twilio_messages
from tests.service.auth import ADMIN_HEADERS
from tests.service.servers import ThreadedServer
from tests.service.signing import (
    API_KEY,
    CLIENT_SECRET,
    COVERED,
    PUBLIC,
    TWILIO_TOKEN,
    audiohook_headers,
    signed_settings,
    twilio_headers,
    twilio_signature,
)

OTHER_SECRET = "d3Jvbmcgc2VjcmV0IHdyb25nIHNlY3JldCE="
TWILIO = "/v1/telephony/twilio"
AUDIOHOOK = "/v1/telephony/audiohook"


class Deaf:
    """Hears no words: these tests are about who may stream, not what was said."""

    def transcribe(self, samples: object, sample_rate: int) -> str:
        return ""


@pytest.fixture(autouse=True)
def deaf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(telephony, "recogniser", Deaf)


@pytest.fixture
def serve(engine: Engine, sqlite_url: str) -> Iterator[Any]:
    """Start a real uvicorn server with these settings (the signed ones by default); stopped after the test."""
    started: list[ThreadedServer] = []

    def start(**settings: Any) -> ThreadedServer:
        chosen = signed_settings() if not settings else settings
        server = ThreadedServer(create_app(Settings(database_url=sqlite_url, **chosen), engine=engine))
        started.append(server.__enter__())
        return server

    yield start
    for server in started:
        server.__exit__(None, None, None)


def ws_url(server: ThreadedServer, path: str) -> str:
    return server.base_url.replace("http://", "ws://") + path


def refused(server: ThreadedServer, path: str, headers: dict[str, str]) -> tuple[int, str]:
    """The HTTP status and detail of an upgrade the server refuses (fails the test if it accepts)."""
    with pytest.raises(InvalidStatus) as caught, connect(ws_url(server, path), additional_headers=headers):
        pass
    response = caught.value.response
    return response.status_code, json.loads(response.body or b"{}").get("detail", "")


def opened(ws: ClientConnection) -> dict[str, Any]:
    """Send AudioHook's `open` and return the server's answer."""
    ws.send(AudioHookClient().open(customConfig={"customer_id": "cust-7"}))
    return dict(json.loads(ws.recv(timeout=10)))


# --- Twilio -------------------------------------------------------------------------------------


def test_twilio_signed_upgrade_streams_a_call_that_is_stored(serve: Any) -> None:
    server = serve()
    with connect(ws_url(server, TWILIO), additional_headers=twilio_headers()) as ws:
        for frame in twilio_messages(_silent_call(), {"customer_id": "c-7"}):
            ws.send(frame)
        deadline = time.monotonic() + 30
        call_url = f"{server.base_url}/v1/calls/{CALL_SID}"
        while httpx.get(call_url, headers=ADMIN_HEADERS).json().get("status") != "ended":
            assert time.monotonic() < deadline, "the signed stream's call was never ended"
            time.sleep(0.1)


@pytest.mark.parametrize(
    ("case", "headers"),
    [
        ("missing header", {}),
        ("bad signature", {"X-Twilio-Signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}),
        ("another account's token", twilio_headers(token="0" * 32)),
        ("signed for another public URL", twilio_headers(base="https://attacker.example.net")),
        ("signed for another path", twilio_headers(path="/v1/telephony/audiohook")),
        ("signed for plain ws://", twilio_headers(base="http://coach.example.com")),
    ],
)
def test_twilio_upgrade_without_a_valid_signature_is_refused_with_403(
    serve: Any, case: str, headers: dict[str, str]
) -> None:
    status, detail = refused(serve(), TWILIO, headers)
    assert status == 403, case
    assert "X-Twilio-Signature" in detail and TWILIO_TOKEN not in detail


def test_twilio_signature_with_the_default_port_written_is_accepted(serve: Any) -> None:
    signed = {"X-Twilio-Signature": twilio_signature("wss://coach.example.com:443" + TWILIO)}
    with connect(ws_url(serve(), TWILIO), additional_headers=signed):
        pass


def test_twilio_without_a_public_url_signs_the_host_it_reached(serve: Any) -> None:
    server = serve(twilio_auth_token=TWILIO_TOKEN)
    own = server.base_url.replace("http://", "ws://")
    with connect(ws_url(server, TWILIO), additional_headers={"X-Twilio-Signature": twilio_signature(own + TWILIO)}):
        pass
    assert refused(server, TWILIO, twilio_headers())[0] == 403  # the public URL is not this server's own


def test_forwarded_headers_count_only_when_trusted(serve: Any) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "coach.example.com", **twilio_headers()}
    assert refused(serve(twilio_auth_token=TWILIO_TOKEN), TWILIO, forwarded)[0] == 403  # anyone can send them
    trusted = serve(twilio_auth_token=TWILIO_TOKEN, trust_forwarded_headers=True)
    with connect(ws_url(trusted, TWILIO), additional_headers=forwarded):
        pass


# --- AudioHook ----------------------------------------------------------------------------------


def test_audiohook_signed_upgrade_is_answered_opened(serve: Any) -> None:
    with connect(ws_url(serve(), AUDIOHOOK), additional_headers=audiohook_headers()) as ws:
        answer = opened(ws)
    assert answer["type"] == "opened" and answer["parameters"]["media"]


def test_audiohook_replayed_nonce_is_refused(serve: Any) -> None:
    server = serve()
    headers = audiohook_headers()
    with connect(ws_url(server, AUDIOHOOK), additional_headers=headers) as ws:
        assert opened(ws)["type"] == "opened"
    status, detail = refused(server, AUDIOHOOK, headers)  # the very same request, seconds later
    assert status == 401 and "nonce" in detail and "replay" in detail


def _without(headers: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in names}


#: case -> (its upgrade headers, made when the test runs: times are relative to now; a word the refusal names)
BAD_AUDIOHOOK: dict[str, tuple[Callable[[int], dict[str, str]], str]] = {
    "missing X-API-KEY": (lambda now: _without(audiohook_headers(), "X-API-KEY"), "X-API-KEY"),
    "unknown API key": (lambda now: audiohook_headers(api_key="c29tZW9uZSBlbHNlJ3Mga2V5"), "X-API-KEY"),
    "wrong client secret": (lambda now: audiohook_headers(secret=OTHER_SECRET), "signature"),
    "unsigned while a secret is configured": (
        lambda now: _without(audiohook_headers(), "Signature", "Signature-Input"),
        "signed",
    ),
    "keyid is not the API key": (lambda now: audiohook_headers(keyid="b3RoZXIga2V5"), "keyid"),
    "created a minute ahead": (lambda now: audiohook_headers(created=now + 60), "future"),
    "created a minute ago": (lambda now: audiohook_headers(created=now - 60), "old"),
    "expired": (lambda now: audiohook_headers(created=now, expires=now - 30), "expired"),
    "short nonce": (lambda now: audiohook_headers(nonce="abc"), "nonce"),
    "signed for another authority": (lambda now: audiohook_headers(authority="attacker.example.net"), "signature"),
    "signed for another path": (lambda now: audiohook_headers(target="/v1/telephony/twilio"), "signature"),
    "session id left uncovered": (
        lambda now: audiohook_headers(covered=COVERED[:3] + COVERED[4:]),
        "audiohook-session-id",
    ),
}


@pytest.mark.parametrize("case", list(BAD_AUDIOHOOK))
def test_audiohook_upgrade_failing_a_rule_is_refused_with_401(serve: Any, case: str) -> None:
    make, named = BAD_AUDIOHOOK[case]
    status, detail = refused(serve(), AUDIOHOOK, make(int(time.time())))
    assert status == 401, case
    assert named in detail, f"{case}: {detail!r}"
    assert CLIENT_SECRET not in detail


def test_audiohook_signature_input_that_is_not_a_structured_field_gets_a_clear_401(serve: Any) -> None:
    headers = {**audiohook_headers(), "Signature-Input": 'sig1=("@authority";keyid="unterminated'}
    status, detail = refused(serve(), AUDIOHOOK, headers)
    assert status == 401 and "Signature-Input" in detail and "structured-field" in detail


def test_audiohook_api_key_alone_is_enough_only_without_a_client_secret(serve: Any) -> None:
    unsigned = audiohook_headers()
    del unsigned["Signature"], unsigned["Signature-Input"]
    server = serve(public_base_url=PUBLIC, audiohook_api_key=API_KEY)  # Genesys: the secret is optional
    with connect(ws_url(server, AUDIOHOOK), additional_headers=unsigned) as ws:
        assert opened(ws)["type"] == "opened"
    assert refused(server, AUDIOHOOK, {**unsigned, "X-API-KEY": "bm90IHRoZSBrZXk="})[0] == 401


def test_audiohook_session_id_header_binds_the_session(serve: Any) -> None:
    other = "7a3f0f4e-0000-4000-8000-000000000001"  # signed, but for a session the messages do not carry
    with connect(ws_url(serve(), AUDIOHOOK), additional_headers=audiohook_headers(session_id=other)) as ws:
        answer = opened(ws)
    assert answer["type"] == "disconnect" and "session" in answer["parameters"]["info"]


def test_audiohook_open_for_another_organization_than_the_signed_header_gets_a_disconnect(serve: Any) -> None:
    with connect(ws_url(serve(), AUDIOHOOK), additional_headers=audiohook_headers()) as ws:
        ws.send(AudioHookClient().open(organizationId="00000000-1111-4222-8333-444444444444"))
        answer = json.loads(ws.recv(timeout=10))
    assert answer["type"] == "disconnect" and "organizationId" in answer["parameters"]["info"]


# --- Secure by default --------------------------------------------------------------------------


def test_no_credential_configured_refuses_every_vendor_and_says_which_setting(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = serve(public_base_url=PUBLIC)
    with caplog.at_level(logging.WARNING, logger="empathy_engine.service.telephony_auth"):
        assert refused(server, TWILIO, twilio_headers())[0] == 403
        assert refused(server, AUDIOHOOK, audiohook_headers())[0] == 401
    logged = caplog.text
    assert "EMPATHY_TWILIO_AUTH_TOKEN" in logged and "EMPATHY_AUDIOHOOK_API_KEY" in logged


def test_open_mode_accepts_unsigned_streams(serve: Any) -> None:
    server = serve(telephony_auth=False)
    with connect(ws_url(server, TWILIO)), connect(ws_url(server, AUDIOHOOK)) as ws:
        assert opened(ws)["type"] == "opened"
        deadline = time.monotonic() + 30
        while httpx.get(f"{server.base_url}/v1/calls/{CONVERSATION_ID}", headers=ADMIN_HEADERS).status_code != 200:
            assert time.monotonic() < deadline, "the open session's call was never stored"
            time.sleep(0.1)


def test_secrets_never_reach_the_log_or_the_settings_repr(serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    server = serve()
    with caplog.at_level(logging.DEBUG):
        refused(server, TWILIO, twilio_headers(token="0" * 32))
        refused(server, AUDIOHOOK, audiohook_headers(secret=OTHER_SECRET))
    shown = caplog.text + repr(Settings(**signed_settings()))
    assert (
        TWILIO_TOKEN not in shown and CLIENT_SECRET not in shown and API_KEY not in repr(Settings(**signed_settings()))
    )


def _silent_call() -> Any:
    from tests.replay import two_channel_call

    return two_channel_call([("customer", "base_1", 0.5)])
