"""Service settings, read from the environment (EMPATHY_*) and a `.env` file.

Every setting is documented in docs/protocol.md ("Settings"); a test fails when one is not.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from empathy_engine.store.db import default_url


class Settings(BaseSettings):
    """How `empathy serve` runs. Built when asked for, never at import time."""

    model_config = SettingsConfigDict(env_prefix="EMPATHY_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default_factory=default_url,
        description="SQLAlchemy URL: sqlite:///file.db (default: under the user's data directory) "
        "or postgresql://user:password@host/dbname.",
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
    board_interval_s: float = Field(
        default=0.5, gt=0, le=10, description="Least time between two supervisor board updates."
    )
    log_level: str = Field(default="info", description="uvicorn log level: critical, error, warning, info, debug.")
    audit_report: Path | None = Field(
        default=None, description="An `empathy audit --report` HTML file to serve at /audit, linked from the board."
    )

    health_min_free_mb: int = Field(
        default=64,
        ge=0,
        description="Free space (MiB) the SQLite database's folder needs; below it /v1/health is 503 (disk: low).",
    )

    @property
    def ws_max_size(self) -> int:
        """The hard cap uvicorn enforces before the app sees a frame (it closes with 1009)."""
        return self.max_event_bytes * 8
