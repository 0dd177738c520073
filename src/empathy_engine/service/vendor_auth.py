"""Telephony platforms proving who they are on the WebSocket upgrade, as each vendor documents it.

- **Twilio Media Streams**: `X-Twilio-Signature` is base64(HMAC-SHA1(auth token, URL + sorted POST
  parameters)); a WebSocket upgrade has no parameters, so it signs the `wss://` URL Twilio called
  (the PUBLIC one, which a proxy in front of us may have rewritten). A bad or missing signature
  is refused with 403, as Twilio's own webhook middleware does.
- **Genesys AudioHook**: `X-API-KEY` must be a configured key; with a client secret configured
  the request must also carry an HTTP message signature (RFC 9421, hmac-sha256 keyed with the
  base64-decoded secret) covering the AudioHook headers, with `keyid` = the API key, a fresh
  `created`, and a nonce never seen before. Every failure is refused with 401.

Pure functions over (public URL, headers, credentials, clock): the socket glue is service/telephony.py.
The one credential lookup, `Credentials.lookup(vendor, key_id)`, says which tenant a credential
belongs to; today every telephony credential is the "default" tenant's (docs/security.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from empathy_engine.service.http_signature import SignatureError, matches, read_signature

#: What an AudioHook signature must cover (Genesys's reference server requires exactly these).
AUDIOHOOK_COMPONENTS = (
    "@request-target",
    "@authority",
    "audiohook-organization-id",
    "audiohook-session-id",
    "audiohook-correlation-id",
    "x-api-key",
)
#: Clocks differ: `created` may be this far in the future, and a signature this much older than its age limit.
CLOCK_SKEW_S = 3.0
#: A signature older than this is refused (Genesys signs the upgrade the moment it connects).
MAX_SIGNATURE_AGE_S = 10.0
#: At least 128 bits in base64, as Genesys's reference server requires of the nonce.
MIN_NONCE_CHARS = 22
DEFAULT_TENANT = "default"
DEFAULT_PORTS = {"ws": 80, "wss": 443, "http": 80, "https": 443}


@dataclass(frozen=True)
class Credential:
    """A platform's secret and the tenant whose calls it may stream."""

    tenant_id: str
    secret: bytes  # Twilio: the auth token's bytes; AudioHook: the decoded client secret (b"" for none)
    key_id: str | None = None  # AudioHook: the API key this secret belongs to


@dataclass(frozen=True)
class Verified:
    """An upgrade that proved its origin: which platform, for which tenant."""

    vendor: str
    tenant_id: str
    key_id: str | None
    signed: bool


class Refused(Exception):
    """An upgrade that did not prove its origin: the HTTP status, what the caller is told, what is logged."""

    def __init__(self, status: int, reason: str, detail: str | None = None) -> None:
        super().__init__(reason)
        self.status, self.reason, self.detail = status, reason, detail or reason


class Credentials:
    """Every telephony credential this server accepts: (vendor, key id) -> (tenant, secret).

    Twilio has one auth token per account and the upgrade names no account, so its key id is None.
    Per-tenant credentials plug in here: more entries, or a lookup into the store.
    """

    def __init__(self, twilio: list[Credential], audiohook: list[Credential]) -> None:
        self.twilio, self.audiohook = twilio, audiohook

    def configured(self, vendor: str) -> bool:
        return bool(self.twilio if vendor == "twilio" else self.audiohook)

    def lookup(self, vendor: str, key_id: str | None) -> Credential | None:
        if vendor == "twilio":
            return self.twilio[0] if self.twilio else None
        found = None
        for credential in self.audiohook:  # every key compared, in constant time each: no early exit
            if key_id is not None and hmac.compare_digest((credential.key_id or "").encode(), key_id.encode()):
                found = credential
        return found


def decode_client_secret(text: str) -> bytes:
    """The AudioHook client secret as Genesys shows it (base64) -> the HMAC key; ValueError if not base64."""
    try:
        return base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise ValueError("is not base64; paste the client secret as the AudioHook integration shows it") from None


class NonceCache:
    """Nonces of accepted AudioHook signatures, each kept until its signature could no longer be accepted.

    Bounded: only signatures that verified are remembered, so filling it needs the client secret;
    when full of live nonces it refuses (fails closed) rather than forgetting one still replayable.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self.until: OrderedDict[str, float] = OrderedDict()

    def add(self, nonce: str, until: float, now: float) -> bool:
        """Remember `nonce` until `until`; False if it was already seen (a replay)."""
        while self.until and next(iter(self.until.values())) < now:
            self.until.popitem(last=False)
        if nonce in self.until:
            return False
        if len(self.until) >= self.capacity:
            raise Refused(503, "too many AudioHook sessions opened in the last seconds; retry shortly")
        self.until[nonce] = until  # appended in arrival order; every entry lives the same few seconds
        return True


def public_url(base: str | None, scheme: str, host: str, path: str, query: str) -> str:
    """The URL the platform called: `base` (EMPATHY_PUBLIC_BASE_URL) + path when set, else the request's own.

    http(s) schemes become ws(s): Twilio signs the `wss://` URL of the `<Stream>`.
    """
    if base:
        parts = urlsplit(base)
        scheme, host, path = parts.scheme, parts.netloc, parts.path.rstrip("/") + path
    scheme = {"http": "ws", "https": "wss"}.get(scheme, scheme)
    return urlunsplit((scheme, host, path, query, ""))


def _port_variants(url: str) -> list[str]:
    """The URL as given, without its port, and with the scheme's default port: Twilio's own helper
    libraries accept a signature over any of the three (whether Twilio wrote the port varies)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    if parts.port is not None:
        host = host.rsplit(":", 1)[0]
    default = DEFAULT_PORTS.get(parts.scheme)
    variants = [url, parts._replace(netloc=host).geturl()]
    if default is not None:
        variants.append(parts._replace(netloc=f"{host}:{default}").geturl())
    return list(dict.fromkeys(variants))


def verify_twilio(url: str, headers: dict[str, str], credentials: Credentials) -> Verified:
    """Twilio's request signature on a Media Streams upgrade to `url` (the public URL)."""
    signature = headers.get("x-twilio-signature")
    if not signature:
        raise Refused(403, "missing X-Twilio-Signature header; only Twilio may open this stream")
    credential = credentials.lookup("twilio", None)
    if credential is None:
        raise Refused(403, "no Twilio credential is configured", "set EMPATHY_TWILIO_AUTH_TOKEN")
    for candidate in _port_variants(url):
        digest = hmac.new(credential.secret, candidate.encode("utf-8"), hashlib.sha1).digest()
        if hmac.compare_digest(base64.b64encode(digest), signature.strip().encode("utf-8", "replace")):
            return Verified("twilio", credential.tenant_id, None, signed=True)
    raise Refused(
        403,
        "X-Twilio-Signature does not match this stream's URL",
        f"X-Twilio-Signature does not match {url!r} under the configured auth token: check "
        "EMPATHY_TWILIO_AUTH_TOKEN and that EMPATHY_PUBLIC_BASE_URL is the URL in the <Stream>",
    )


def verify_audiohook(
    url: str, headers: dict[str, str], credentials: Credentials, nonces: NonceCache, now: float | None = None
) -> Verified:
    """Genesys AudioHook's API key and (with a client secret) HTTP message signature on an upgrade to `url`."""
    now = time.time() if now is None else now
    api_key = headers.get("x-api-key")
    if not api_key:
        raise Refused(401, "missing X-API-KEY header; set the AudioHook integration's API key")
    credential = credentials.lookup("audiohook", api_key)
    if credential is None:  # keys are random: saying so helps no one guess one, and helps whoever set it up
        raise Refused(
            401,
            "X-API-KEY is not a key configured on this server",
            "X-API-KEY is not EMPATHY_AUDIOHOOK_API_KEY: copy the integration's API key into the setting",
        )
    if "signature" not in headers and "signature-input" not in headers:
        if not credential.secret:  # Genesys makes the client secret optional: without one, the key alone
            return Verified("audiohook", credential.tenant_id, api_key, signed=False)
        raise Refused(401, "the request is not signed; with a client secret configured, every upgrade must be")
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    derived = {"@request-target": target, "@authority": _authority(url), "@method": "GET", "@path": parts.path}
    try:
        signed = read_signature(headers, derived.get)
    except SignatureError as error:
        raise Refused(401, str(error)) from None
    _check_parameters(signed.parameters, signed.components, api_key, now)
    if not credential.secret:
        raise Refused(
            401,
            "the request is signed, but no client secret is configured to check it",
            "a signed AudioHook upgrade: set EMPATHY_AUDIOHOOK_CLIENT_SECRET to the integration's secret",
        )
    if not matches(signed, credential.secret):
        raise Refused(
            401,
            "the signature does not match",
            f"AudioHook signature does not match for {url!r}: check EMPATHY_AUDIOHOOK_CLIENT_SECRET "
            "and that EMPATHY_PUBLIC_BASE_URL is the integration's Connection URI",
        )
    created = signed.parameters["created"]
    assert isinstance(created, int)
    if not nonces.add(str(signed.parameters["nonce"]), created + MAX_SIGNATURE_AGE_S + CLOCK_SKEW_S, now):
        raise Refused(401, "this signature's nonce was used before (a replayed request)")
    return Verified("audiohook", credential.tenant_id, api_key, signed=True)


def _check_parameters(parameters: Mapping[str, object], covered: tuple[str, ...], api_key: str, now: float) -> None:
    """What AudioHook prescribes of a signature before its HMAC is worth computing."""
    missing = [name for name in AUDIOHOOK_COMPONENTS if name not in covered]
    if missing:
        raise Refused(401, f"the signature does not cover {', '.join(missing)}")
    alg, keyid, nonce = parameters.get("alg", "hmac-sha256"), parameters.get("keyid"), parameters.get("nonce")
    if alg != "hmac-sha256":
        raise Refused(401, f"signature alg {alg!r} is not supported; AudioHook signs with 'hmac-sha256'")
    if not isinstance(keyid, str) or not hmac.compare_digest(keyid.encode(), api_key.encode()):
        raise Refused(401, "the signature's keyid is not the X-API-KEY header")
    if not isinstance(nonce, str) or len(nonce) < MIN_NONCE_CHARS:
        raise Refused(401, f"the signature needs a nonce of at least {MIN_NONCE_CHARS} characters")
    created, expires = parameters.get("created"), parameters.get("expires")
    if not isinstance(created, int) or isinstance(created, bool):
        raise Refused(401, "the signature has no integer 'created' time")
    if created > now + CLOCK_SKEW_S:
        raise Refused(401, f"the signature was created {created - now:.0f} s in the future; check the clocks")
    if now - created > MAX_SIGNATURE_AGE_S + CLOCK_SKEW_S:
        age, most = now - created, MAX_SIGNATURE_AGE_S
        raise Refused(401, f"the signature is {age:.0f} s old; at most {most:.0f} s are accepted")
    if expires is not None and (not isinstance(expires, int) or expires < now - CLOCK_SKEW_S):
        raise Refused(401, "the signature has expired")


def _authority(url: str) -> str:
    """RFC 9421 `@authority`: host (lower case) and port, the port left out when it is the scheme's default."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    return host if port is None or port == DEFAULT_PORTS.get(parts.scheme) else f"{host}:{port}"
