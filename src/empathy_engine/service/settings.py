"""Service settings, read from the environment (EMPATHY_*) and a `.env` file.

Every setting is documented in docs/protocol.md ("Settings"); a test fails when one is not.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from empathy_engine.service.vendor_auth import decode_client_secret
from empathy_engine.store.db import default_url


class Settings(BaseSettings):
    """How `empathy serve` runs. Built when asked for, never at import time."""

    # hide_input_in_errors: a bad secret setting is never echoed into an error message or a log.
    model_config = SettingsConfigDict(env_prefix="EMPATHY_", env_file=".env", extra="ignore", hide_input_in_errors=True)

    database_url: str = Field(
        default_factory=default_url,
        description="SQLAlchemy URL: sqlite:///file.db (default: under the user's data directory) "
        "or postgresql://user:password@host/dbname.",
    )
    migration_database_url: str | None = Field(
        default=None,
        description="PostgreSQL only: a URL of the role that owns the tables. Migrations run as it, and it "
        "grants database_url's role row access only, so the service cannot switch row-level security off "
        "(docs/security.md, 'Tenants and row-level security'). Unset: the service's own role migrates.",
    )
    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port to listen on.")
    max_event_bytes: int = Field(
        default=128 * 1024,
        ge=1024,
        le=1024 * 1024,
        description="Largest event a stream accepts; a bigger one gets a frame_too_large error.",
    )
    holiday_country: str = Field(default="US", description="Public-holiday calendar for call context.")
    holiday_subdivision: str | None = Field(default=None, description="State or province of that calendar.")
    playbook: Path | None = Field(
        default=None, description="A user playbook YAML overriding the shipped one (see `empathy playbook`)."
    )
    exemplars: Path | None = Field(
        default=None, description="An exemplar library from `empathy exemplars build`: proven phrasings for the cards."
    )
    policy: Path | None = Field(
        default=None, description="A cue policy from `empathy learn fit`: which phrasing each card shows."
    )
    lexicon: Path | None = Field(
        default=None,
        description="A lexicon YAML extending the idiom explainer's shipped one (docs/practice.md, 'Lexicon files').",
    )
    board_interval_s: float = Field(
        default=0.5, gt=0, le=10, description="Least time between two supervisor board updates."
    )
    board_dropped_s: float = Field(
        default=60.0,
        gt=0,
        le=24 * 3600,
        description="A live call whose stream connection dropped leaves the board after this many seconds "
        "without a resume (it stays resumable until EMPATHY_IDLE_CALL_MINUTES ends it).",
    )
    log_level: str = Field(default="info", description="uvicorn log level: critical, error, warning, info, debug.")
    audit_report: Path | None = Field(
        default=None, description="An `empathy audit --report` HTML file to serve at /audit, linked from the board."
    )

    # --- limits: what one client may ask of the server (docs/security.md "Limits") ---
    max_body_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="Largest REST request body, counted while it is read (chunked too); a bigger one gets 413.",
    )
    max_utterance_chars: int = Field(
        default=5000,
        ge=100,
        le=20_000,
        description="Longest utterance a live or telephony stream accepts; a longer one gets utterance_too_long.",
    )
    write_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="How long a stream event waits for the database to take its write before a database_busy "
        "refusal (nothing stored; send it again).",
    )
    idle_call_minutes: float = Field(
        default=30.0,
        gt=0,
        le=24 * 60,
        description="A live call with no event for this long is ended as abandoned (restored calls too).",
    )
    max_live_calls: int = Field(
        default=5000,
        ge=1,
        le=100_000,
        description="Most live calls per tenant; a start beyond it gets a too_many_calls refusal.",
    )

    feedback_per_call: int = Field(
        default=20,
        ge=1,
        le=1000,
        description="Most card feedback (helpful / wrong read) one agent may give on one call; more gets 429.",
    )
    feedback_per_hour: int = Field(
        default=120,
        ge=1,
        le=100_000,
        description="Most card feedback one agent may give in any hour, over all calls; more gets 429.",
    )

    health_min_free_mb: int = Field(
        default=64,
        ge=0,
        description="Free space (MiB) the SQLite database's folder needs; below it /v1/health is 503 (disk: low).",
    )

    # --- access (docs/security.md) ---
    allowed_hosts: str = Field(
        default="",
        description="Host names this server answers to, comma-separated (`*`: any). Default: 127.0.0.1, "
        "localhost, ::1 and EMPATHY_HOST. Behind a proxy: the public name, e.g. empathy.example.com.",
    )
    allowed_origins: str = Field(
        default="",
        description="Origins whose pages may open WebSockets and make cookie-authenticated changes, "
        "comma-separated (e.g. https://empathy.example.com). Default: the server's own origin (same host).",
    )
    session_hours: float = Field(default=8.0, gt=0, le=24 * 30, description="How long a login lasts.")
    ticket_seconds: int = Field(
        default=60, ge=5, le=600, description="How long a WebSocket ticket (POST /v1/tickets) may wait to be used."
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="Mark the session cookie Secure (https only). Default: when the login came over https "
        "(behind a TLS proxy: when it forwards X-Forwarded-Proto; docs/security.md).",
    )
    auth_recheck_s: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="How often an open WebSocket rechecks its key or session (a revoked key or ended "
        "session closes it within this time; a session's expiry closes it on the second).",
    )

    # Telephony authentication (service/vendor_auth.py, docs/security.md "Telephony authentication").
    telephony_auth: bool = Field(
        default=True,
        description="Check each platform's credential on WS /v1/telephony/{vendor}. False lets anyone "
        "stream audio into calls: UNSAFE, for tests and local demos only.",
    )
    public_base_url: str | None = Field(
        default=None,
        description="The public URL platforms call this server at (https://coach.example.com), when "
        "a proxy sits in front: Twilio signs the URL it called.",
    )
    trust_forwarded_headers: bool = Field(
        default=False,
        description="Read the public scheme and host from X-Forwarded-Proto/-Host "
        "(only behind a proxy that sets them).",
    )
    twilio_auth_token: SecretStr | None = Field(
        default=None, description="The Twilio account's auth token: checks X-Twilio-Signature on Media Streams."
    )
    audiohook_api_key: SecretStr | None = Field(
        default=None, description="The API key of the Genesys AudioHook integration (X-API-KEY)."
    )
    audiohook_client_secret: SecretStr | None = Field(
        default=None,
        description="The AudioHook integration's client secret (base64): its upgrades must then be signed.",
    )

    # --- operations (docs/operations.md) ---
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description="`empathy serve`'s log lines: json (one object a line, with call_id and tenant_id), text, "
        "or auto: text when stderr is a terminal, json otherwise (a service manager, a container, a pipe).",
    )
    webhook_url: str | None = Field(
        default=None,
        description="Where hand-overs and safety alerts are POSTed as signed JSON (https://...); unset: none are.",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        validate_default=True,
        description="The webhook's HMAC-SHA256 key (16+ characters; required with EMPATHY_WEBHOOK_URL): "
        "receivers check the Empathy-Signature header with it.",
    )
    webhook_timeout_s: float = Field(default=5.0, gt=0, le=60, description="How long one webhook delivery may take.")
    webhook_attempts: int = Field(
        default=6, ge=1, le=20, description="Deliveries tried per webhook event before it is given up (and counted)."
    )
    webhook_backoff_s: float = Field(
        default=1.0,
        gt=0,
        le=600,
        description="Wait before the first webhook retry; each further one waits twice as long (with jitter).",
    )
    webhook_queue: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Webhook events waiting to be delivered; one beyond it is dropped (counted and logged).",
    )

    # --- several replicas (docs/deploy.md) ---
    replica_id: str = Field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}",
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9._:@-]+$",
        description="The name this process holds live calls under in the database (their owner) and says in "
        "/v1/health and the X-Empathy-Replica header; default host name:process id.",
    )
    redis_url: SecretStr | None = Field(
        default=None,
        description="redis://host:port/db shared by the replicas: board rows and watchers' frames are published "
        "there, so a board on any replica shows every replica's calls. Unset: one process, nothing published.",
    )
    redis_queue: int = Field(
        default=10_000,
        ge=100,
        le=1_000_000,
        description="Messages waiting to be published to Redis; one beyond it (Redis slow or down) is dropped "
        "and counted in /metrics.",
    )

    @field_validator("public_base_url")
    @classmethod
    def _public_base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("https", "http", "wss", "ws") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(
                f"is {value!r}; give the scheme and host platforms call, e.g. https://coach.example.com "
                "(a path prefix is allowed; no query or fragment)"
            )
        return value.strip().rstrip("/")

    @field_validator("audiohook_client_secret")
    @classmethod
    def _client_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            decode_client_secret(value.get_secret_value())
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(f"is {value!r}; give the receiver's full URL, e.g. https://hooks.example.com/empathy")
        return value.strip()

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None and info.data.get("webhook_url"):
            raise ValueError(
                "is not set, but EMPATHY_WEBHOOK_URL is: every webhook is signed, so set a secret "
                "(16+ random characters, e.g. `openssl rand -hex 32`) that the receiver shares"
            )
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("is too short; use 16 or more random characters (e.g. `openssl rand -hex 32`)")
        return value

    @property
    def ws_max_size(self) -> int:
        """The hard cap uvicorn enforces before the app sees a frame (it closes with 1009)."""
        return self.max_event_bytes * 8
