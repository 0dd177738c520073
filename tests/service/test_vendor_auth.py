"""The vendors' verification rules as pure functions, against the vectors the vendors publish."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random

import pytest
from pydantic import ValidationError

from empathy_engine.service.http_signature import SignatureError, parse_dictionary, serialize_inner_list
from empathy_engine.service.settings import Settings
from empathy_engine.service.vendor_auth import (
    Credential,
    Credentials,
    NonceCache,
    Refused,
    public_url,
    verify_audiohook,
    verify_twilio,
)

# Genesys's AudioHook protocol documentation, "Establishing connection": the example upgrade request
# for wss://audiohook.example.com/api/v1/voicebiometrics/ws, its API key, client secret and signature.
GENESYS_URL = "wss://audiohook.example.com/api/v1/voicebiometrics/ws"
GENESYS_KEY = "SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh"
GENESYS_SECRET = "TXlTdXBlclNlY3JldEtleVRlbGxOby0xITJAMyM0JDU="
GENESYS_HEADERS = {
    "host": "audiohook.example.com",
    "audiohook-organization-id": "d7934305-0972-4844-938e-9060eef73d05",
    "audiohook-correlation-id": "e160e428-53e2-487c-977d-96989bf5c99d",
    "audiohook-session-id": "30b0e395-84d3-4570-ac13-9a62d8f514c0",
    "x-api-key": GENESYS_KEY,
    "signature": "sig1=:NZBwyBHRRyRoeLqy1IzOa9VYBuI8TgMFt2GRDkDuJh4=:",
    "signature-input": 'sig1=("@request-target" "@authority" "audiohook-organization-id" "audiohook-session-id" '
    '"audiohook-correlation-id" "x-api-key");keyid="SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh";'
    'nonce="VGhpc0lzQVVuaXF1ZU5vbmNl";alg="hmac-sha256";created=1641013200;expires=3282026430',
}
GENESYS_CREATED = 1641013200


def genesys_credentials(secret: str = GENESYS_SECRET) -> Credentials:
    return Credentials([], [Credential("default", base64.b64decode(secret), GENESYS_KEY)])


def test_audiohook_the_documented_example_request_verifies() -> None:
    verified = verify_audiohook(GENESYS_URL, GENESYS_HEADERS, genesys_credentials(), NonceCache(), GENESYS_CREATED + 1)
    assert (verified.vendor, verified.tenant_id, verified.key_id, verified.signed) == (
        "audiohook",
        "default",
        GENESYS_KEY,
        True,
    )


@pytest.mark.parametrize(
    "change",
    [
        {"audiohook-session-id": "e160e428-53e2-487c-977d-96989bf5c99d"},  # the ids swapped
        {"audiohook-organization-id": "00000000-0000-0000-0000-000000000000"},
        {"signature": "sig1=:MZBwyBHRRyRoeLqy1IzOa9VYBuI8TgMFt2GRDkDuJh4=:"},  # one bit of the signature
        {"signature": "sig1=:NZBwyBHRRyRoeLqy1IzOa9VYBuI8TgMFt2GRDkDuJh5=:"},  # same bytes, non-canonical text
    ],
)
def test_audiohook_the_documented_request_changed_anywhere_is_refused(change: dict[str, str]) -> None:
    with pytest.raises(Refused) as refused:
        verify_audiohook(GENESYS_URL, GENESYS_HEADERS | change, genesys_credentials(), NonceCache(), GENESYS_CREATED)
    assert refused.value.status == 401


def test_audiohook_the_documented_request_under_another_secret_or_url_is_refused() -> None:
    other = base64.b64encode(b"another secret, same length....").decode()
    for url, credentials in [
        (GENESYS_URL, genesys_credentials(other)),
        ("wss://audiohook.example.com:8443/api/v1/voicebiometrics/ws", genesys_credentials()),
        ("wss://audiohook.example.com/api/v1/voicebiometrics/ws?x=1", genesys_credentials()),
    ]:
        with pytest.raises(Refused, match="does not match"):
            verify_audiohook(url, GENESYS_HEADERS, credentials, NonceCache(), GENESYS_CREATED)


def test_audiohook_clock_window_around_created() -> None:
    def at(now: float) -> str:
        try:
            verify_audiohook(GENESYS_URL, GENESYS_HEADERS, genesys_credentials(), NonceCache(), now)
        except Refused as refused:
            return refused.reason
        return "ok"

    assert at(GENESYS_CREATED - 3) == "ok"  # their clock 3 s ahead of ours: allowed skew
    assert "future" in at(GENESYS_CREATED - 4)
    assert at(GENESYS_CREATED + 13) == "ok"  # 10 s age + 3 s skew
    assert "old" in at(GENESYS_CREATED + 14)


def test_nonce_cache_forgets_only_what_can_no_longer_be_replayed_and_fails_closed_when_full() -> None:
    cache = NonceCache(capacity=2)
    assert cache.add("a" * 22, until=100.0, now=90.0) and not cache.add("a" * 22, until=100.0, now=95.0)
    assert cache.add("b" * 22, until=101.0, now=95.0)
    with pytest.raises(Refused) as full:
        cache.add("c" * 22, until=105.0, now=96.0)
    assert full.value.status == 503
    assert cache.add("c" * 22, until=112.0, now=100.5)  # "a" expired and was dropped
    assert not cache.add("b" * 22, until=111.0, now=100.9)


def test_twilio_signature_over_the_url_computed_independently() -> None:
    token, url = "12345", "wss://coach.example.com/v1/telephony/twilio"
    signature = base64.b64encode(hmac.new(token.encode(), url.encode(), hashlib.sha1).digest()).decode()
    credentials = Credentials([Credential("default", token.encode())], [])
    assert verify_twilio(url, {"x-twilio-signature": signature}, credentials).tenant_id == "default"
    with pytest.raises(Refused, match="does not match"):
        verify_twilio(url.replace("coach", "coach2"), {"x-twilio-signature": signature}, credentials)
    with pytest.raises(Refused, match="no Twilio credential"):
        verify_twilio(url, {"x-twilio-signature": signature}, Credentials([], []))


def test_public_url_from_the_setting_or_the_request() -> None:
    assert public_url("https://coach.example.com/prefix", "ws", "10.0.0.5:8000", "/v1/telephony/twilio", "") == (
        "wss://coach.example.com/prefix/v1/telephony/twilio"
    )
    assert public_url(None, "ws", "127.0.0.1:8000", "/v1/telephony/twilio", "a=1") == (
        "ws://127.0.0.1:8000/v1/telephony/twilio?a=1"
    )
    assert public_url(None, "https", "coach.example.com", "/x", "") == "wss://coach.example.com/x"


@pytest.mark.parametrize(
    "text",
    [
        'sig1=("@authority" "x-api-key";keyid="k"',  # no closing ')'
        'sig1=("@authority""x-api-key")',  # no space between items
        'sig1=("@authority");keyid="k",',  # trailing comma
        'sig1=("@authority");created=1.5',  # a decimal
        'sig1=("@authority");keyid="\\x"',  # a bad escape
        "sig1=:not base64!:",
        "sig1=:AAF=:",  # b"\x00\x01" is "AAE=": "AAF=" sets a padding bit
        "Sig1=:AAEC:",  # keys are lower case
    ],
)
def test_structured_field_parser_refuses_what_the_grammar_does_not_allow(text: str) -> None:
    with pytest.raises(SignatureError, match="structured-field dictionary"):
        parse_dictionary(text, "Signature-Input")


def test_structured_field_parser_reads_the_shapes_audiohook_sends() -> None:
    parsed = parse_dictionary('sig1=("@authority" "x-api-key");keyid="a\\"b";created=-5;x=?1, sig2=:AAEC:', "f")
    assert parsed["sig1"].value == (("@authority", ()), ("x-api-key", ()))
    assert parsed["sig1"].params == (("keyid", 'a"b'), ("created", -5), ("x", True))
    assert parsed["sig2"].value == b"\x00\x01\x02"


def test_settings_refuse_a_client_secret_that_is_not_base64_without_echoing_it() -> None:
    with pytest.raises(ValidationError) as bad:
        Settings(audiohook_client_secret="my secret!")
    assert "audiohook_client_secret" in str(bad.value) and "base64" in str(bad.value)
    assert "my secret!" not in str(bad.value)
    with pytest.raises(ValidationError, match="public_base_url"):
        Settings(public_base_url="coach.example.com")


def test_signature_headers_mutated_at_random_are_refused_cleanly_never_crash() -> None:
    """The parser runs on hostile input before any key is known: 20,000 mutations of the documented
    request's two fields (bytes dropped, doubled, replaced) give a verdict or a Refused, nothing else."""
    rng = random.Random(12)
    alphabet = '()";=:,*?-_ .\\\t\x00\x7f\u00e9aZ09+/'
    outcomes = {"refused": 0, "verified": 0}
    for _ in range(20_000):
        field = rng.choice(["signature-input", "signature"])
        text = list(GENESYS_HEADERS[field])
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(text))
            action = rng.randrange(3)
            if action == 0:
                del text[at]
            elif action == 1:
                text.insert(at, text[at])
            else:
                text[at] = rng.choice(alphabet)
        headers = GENESYS_HEADERS | {field: "".join(text)}
        try:
            verify_audiohook(GENESYS_URL, headers, genesys_credentials(), NonceCache(), GENESYS_CREATED)
        except Refused:
            outcomes["refused"] += 1
            continue
        outcomes["verified"] += 1  # then it only respelled the same field (a space more, "=" padding left out)
        assert _canonical(headers[field], field) == _canonical(GENESYS_HEADERS[field], field)
    assert outcomes["refused"] > 19_000


def _canonical(text: str, field: str) -> object:
    member = parse_dictionary(text, field)["sig1"]
    return serialize_inner_list(member) if field == "signature-input" else member.value
