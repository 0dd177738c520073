"""Platform credentials for tests, signed here with hmac as each vendor documents it (never with the
module under test): Twilio's X-Twilio-Signature and Genesys AudioHook's API key + RFC 9421 signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Any

from tests.replay import ORGANIZATION_ID, SESSION_ID

PUBLIC = "https://coach.example.com"  # EMPATHY_PUBLIC_BASE_URL of the signed tests
TWILIO_TOKEN = "f3b1c2d4e5a6978812345678abcdef01"
API_KEY = "SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh"
CLIENT_SECRET = base64.b64encode(b"a client secret of thirty-two b.").decode()
CORRELATION_ID = "30b0e395-84d3-4570-ac13-9a62d8f514c0"
COVERED = (
    "@request-target",
    "@authority",
    "audiohook-organization-id",
    "audiohook-session-id",
    "audiohook-correlation-id",
    "x-api-key",
)


def signed_settings(**more: Any) -> dict[str, Any]:
    """Settings (as keyword arguments) with every telephony credential the signed tests use."""
    return {
        "public_base_url": PUBLIC,
        "twilio_auth_token": TWILIO_TOKEN,
        "audiohook_api_key": API_KEY,
        "audiohook_client_secret": CLIENT_SECRET,
        **more,
    }


def signed_env() -> dict[str, str]:
    """The same, as the environment of an `empathy serve` process."""
    return {f"EMPATHY_{k.upper()}": str(v) for k, v in signed_settings().items()}


def twilio_signature(url: str, token: str = TWILIO_TOKEN) -> str:
    """base64(HMAC-SHA1(auth token, URL)): an upgrade has no POST parameters to append."""
    return base64.b64encode(hmac.new(token.encode(), url.encode(), hashlib.sha1).digest()).decode()


def twilio_headers(path: str = "/v1/telephony/twilio", base: str = PUBLIC, token: str = TWILIO_TOKEN) -> dict[str, str]:
    url = base.replace("https://", "wss://").replace("http://", "ws://") + path
    return {"X-Twilio-Signature": twilio_signature(url, token)}


def audiohook_headers(
    authority: str = "coach.example.com",
    target: str = "/v1/telephony/audiohook",
    *,
    api_key: str = API_KEY,
    secret: str = CLIENT_SECRET,
    keyid: str | None = None,
    nonce: str | None = None,
    created: int | None = None,
    expires: int | None = None,
    session_id: str = SESSION_ID,
    covered: tuple[str, ...] = COVERED,
) -> dict[str, str]:
    """The upgrade headers Genesys sends, signed: the signature base built line by line per RFC 9421."""
    headers = {
        "Audiohook-Organization-Id": ORGANIZATION_ID,
        "Audiohook-Session-Id": session_id,
        "Audiohook-Correlation-Id": CORRELATION_ID,
        "X-API-KEY": api_key,
    }
    created = int(time.time()) if created is None else created
    params = (
        f';keyid="{keyid or api_key}";nonce="{nonce or secrets.token_urlsafe(16)}";alg="hmac-sha256";created={created}'
    )
    if expires is not None:
        params += f";expires={expires}"
    inner = "(" + " ".join(f'"{name}"' for name in covered) + ")" + params
    values = {"@request-target": target, "@authority": authority, **{k.lower(): v for k, v in headers.items()}}
    lines = [f'"{name}": {values[name]}' for name in covered] + [f'"@signature-params": {inner}']
    digest = hmac.new(base64.b64decode(secret), "\n".join(lines).encode(), hashlib.sha256).digest()
    headers["Signature-Input"] = f"sig1={inner}"
    headers["Signature"] = f"sig1=:{base64.b64encode(digest).decode()}:"
    return headers
