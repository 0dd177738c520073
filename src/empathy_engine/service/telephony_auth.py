"""The upgrade gate of WS /v1/telephony/{vendor}: which platform may stream, checked before accept.

Reads the settings once per app into `Credentials` and a `NonceCache` (service/vendor_auth.py holds
the vendors' rules), works out the public URL the platform called, and refuses a request that does
not prove its origin with an HTTP status on the upgrade itself: no socket is ever opened for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import WebSocket
from fastapi.responses import JSONResponse

from empathy_engine.service.http_signature import canonical_field
from empathy_engine.service.settings import Settings
from empathy_engine.service.vendor_auth import (
    DEFAULT_TENANT,
    Credential,
    Credentials,
    NonceCache,
    Refused,
    Verified,
    decode_client_secret,
    public_url,
    verify_audiohook,
    verify_twilio,
)

log = logging.getLogger(__name__)

#: The setting that enables each vendor, for the log line of a refused stream.
NEEDS = {
    "twilio": "EMPATHY_TWILIO_AUTH_TOKEN",
    "audiohook": "EMPATHY_AUDIOHOOK_API_KEY (and EMPATHY_AUDIOHOOK_CLIENT_SECRET)",
}


def credentials_from(settings: Settings) -> Credentials:
    """Today's credentials: the settings' one Twilio token and one AudioHook key, the default tenant's."""
    twilio = []
    if settings.twilio_auth_token is not None and settings.twilio_auth_token.get_secret_value():
        twilio.append(Credential(DEFAULT_TENANT, settings.twilio_auth_token.get_secret_value().encode("utf-8")))
    audiohook = []
    if settings.audiohook_api_key is not None and settings.audiohook_api_key.get_secret_value():
        secret = settings.audiohook_client_secret
        key = decode_client_secret(secret.get_secret_value()) if secret is not None else b""
        audiohook.append(Credential(DEFAULT_TENANT, key, settings.audiohook_api_key.get_secret_value()))
    return Credentials(twilio, audiohook)


@dataclass
class Gate:
    """One app's telephony gate: its credentials and the nonces its AudioHook upgrades have used."""

    settings: Settings
    credentials: Credentials
    nonces: NonceCache


def gate_of(websocket: WebSocket) -> Gate:
    state = websocket.app.state
    gate = getattr(state, "telephony_gate", None)
    if gate is None:  # built on first use: settings are read once, the nonce cache lives with the app
        settings: Settings = state.settings
        gate = state.telephony_gate = Gate(settings, credentials_from(settings), NonceCache())
    return gate


def upgrade_url(websocket: WebSocket, settings: Settings) -> str:
    """The URL the platform called: EMPATHY_PUBLIC_BASE_URL + path, else the request's own scheme and Host
    (from X-Forwarded-Proto/-Host only when EMPATHY_TRUST_FORWARDED_HEADERS says a proxy sets them)."""
    scheme, host = websocket.url.scheme, websocket.headers.get("host", websocket.url.netloc)
    if settings.trust_forwarded_headers:
        scheme = _first(websocket.headers.get("x-forwarded-proto")) or scheme
        host = _first(websocket.headers.get("x-forwarded-host")) or host
    return public_url(settings.public_base_url, scheme, host, websocket.url.path, websocket.url.query)


def _first(value: str | None) -> str | None:
    """The client-most value of a forwarded header that proxies appended to ("https, http" -> "https")."""
    return value.split(",")[0].strip() or None if value else None


def _headers(websocket: WebSocket) -> dict[str, str]:
    """Lower-case header names -> their value as a signature covers it (repeats joined by ', ')."""
    values: dict[str, list[str]] = {}
    for name, value in websocket.headers.raw:
        values.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    return {name: canonical_field(found) for name, found in values.items()}


async def admit(websocket: WebSocket, vendor: str) -> Verified | None:
    """The platform's proof on this upgrade, or None once the upgrade has been refused (and logged)."""
    gate = gate_of(websocket)
    if not gate.settings.telephony_auth:  # EMPATHY_TELEPHONY_AUTH=false: open, for tests and demos only
        return Verified(vendor, DEFAULT_TENANT, None, signed=False)
    peer = f"{websocket.client.host}:{websocket.client.port}" if websocket.client else "?"
    try:
        if not gate.credentials.configured(vendor):
            raise Refused(
                401 if vendor == "audiohook" else 403,
                f"{vendor} streams are not enabled on this server",
                f"no {vendor} credential is configured: set {NEEDS[vendor]} "
                "(or EMPATHY_TELEPHONY_AUTH=false for an open local demo, which is unsafe)",
            )
        url = upgrade_url(websocket, gate.settings)
        if vendor == "twilio":
            return verify_twilio(url, _headers(websocket), gate.credentials)
        return verify_audiohook(url, _headers(websocket), gate.credentials, gate.nonces)
    except Refused as refused:
        log.warning("telephony: %s stream from %s refused (%d): %s", vendor, peer, refused.status, refused.detail)
        await _deny(websocket, refused)
        return None


async def _deny(websocket: WebSocket, refused: Refused) -> None:
    """The refusal as the upgrade's HTTP response; a server without that extension closes with 1008 (HTTP 403)."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(JSONResponse({"detail": refused.reason}, status_code=refused.status))
    else:
        await websocket.close(code=1008, reason=refused.reason[:120])
