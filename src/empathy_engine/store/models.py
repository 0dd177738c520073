"""The tables: customers and their prior contacts, calls, turns (utterance + insight), outcomes.

The schema itself is created by the Alembic migrations in `migrations/`; these models are
what the code reads and writes, and a test checks that the two agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

ID_LENGTH = 200


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


#: The tenant of every row stored before tenants existed, and of a single-team install.
DEFAULT_TENANT = "default"


class TenantRow(Base):
    """An organisation one server keeps apart from the others: every credential belongs to one."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def tenant_column(table: str, primary_key: bool = True) -> Mapped[str]:
    """The tenant a row belongs to: part of every key, so two tenants may use the same ids.
    No default: a write that does not name its tenant fails instead of landing in another one."""
    return mapped_column(
        String(ID_LENGTH), ForeignKey("tenants.id", name=f"fk_{table}_tenant"), primary_key=primary_key
    )


class CustomerRow(Base):
    __tablename__ = "customers"

    tenant_id: Mapped[str] = tenant_column("customers")
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    prior_contacts: Mapped[list[PriorContactRow]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="PriorContactRow.id"
    )


class PriorContactRow(Base):
    __tablename__ = "prior_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = tenant_column("prior_contacts", primary_key=False)
    customer_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    # Kept as the ISO 8601 text the user gave: a datetime column would drop its UTC offset,
    # and the engine compares it with the call's local start time.
    at: Mapped[str | None] = mapped_column(String(40))
    issue: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    customer: Mapped[CustomerRow] = relationship(back_populates="prior_contacts")

    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name="fk_prior_contacts_customer",
            ondelete="CASCADE",
        ),
        Index("ix_prior_contacts_tenant_customer", "tenant_id", "customer_id"),
    )


class CallRow(Base):
    __tablename__ = "calls"

    tenant_id: Mapped[str] = tenant_column("calls")
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    #: The conversation v1 header the engine was opened with (CRM data merged in), so a
    #: restarted server rebuilds exactly the same session.
    header: Mapped[dict[str, Any]] = mapped_column(JSON)
    customer_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    status: Mapped[str] = mapped_column(String(10), default="live")
    turn_count: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Conversation-level results beyond the summary (the hand-over of a bot call), once ended.
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: The engine's settings the call ran with (store/replay.py EngineRecord), for exact replay.
    engine: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("status IN ('live', 'ended')", name="ck_calls_status"),
        Index("ix_calls_tenant_created_at", "tenant_id", "created_at"),
        Index("ix_calls_tenant_customer_id", "tenant_id", "customer_id"),
        Index("ix_calls_tenant_status", "tenant_id", "status"),
    )


def _call_key(table: str) -> ForeignKeyConstraint:
    """A row of a call: the call of the same tenant (a tenant's turn can never point at another's call)."""
    return ForeignKeyConstraint(
        ["tenant_id", "call_id"], ["calls.tenant_id", "calls.id"], name=f"fk_{table}_call", ondelete="CASCADE"
    )


class TurnRow(Base):
    """One accepted utterance and the insight it got, written together in one transaction."""

    __tablename__ = "turns"

    tenant_id: Mapped[str] = tenant_column("turns")
    call_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    turn_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    speaker: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    t: Mapped[float | None] = mapped_column(Float)
    #: When the utterance ended (seconds from the call start), if known.
    end_t: Mapped[float | None] = mapped_column(Float)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The tone of voice the live engine was given for this turn (store/replay.py), for exact replay.
    voice: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("speaker IN ('customer', 'agent')", name="ck_turns_speaker"),
        _call_key("turns"),
    )


class OutcomeRow(Base):
    """How the call ended for the business: what later learning correlates the cues with."""

    __tablename__ = "outcomes"

    tenant_id: Mapped[str] = tenant_column("outcomes")
    call_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    csat: Mapped[int | None] = mapped_column(Integer)
    resolved: Mapped[bool | None] = mapped_column(Boolean)
    referral: Mapped[bool | None] = mapped_column(Boolean)
    review_text: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("csat IS NULL OR (csat BETWEEN 1 AND 5)", name="ck_outcomes_csat"),
        _call_key("outcomes"),
    )


class FeedbackRow(Base):
    """An agent's word on one card (migration 0006): "helpful" or "wrong_read" (the reading was wrong).

    A weak signal, capped per agent (service/api_feedback.py), never a reward. One row per
    (turn, who, kind): the same press again is the same row, not a second vote."""

    __tablename__ = "feedback"

    tenant_id: Mapped[str] = tenant_column("feedback")
    call_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    turn_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Who pressed it: `user:<login>` (the cockpit) or `key:<id>` (an integration).
    given_by: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    card_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    #: The call's agent, whom the caps count against ("unknown" when the call names none).
    agent_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    #: Short and redacted before it is stored.
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("kind IN ('helpful', 'wrong_read')", name="ck_feedback_kind"),
        ForeignKeyConstraint(
            ["tenant_id", "call_id", "turn_index"],
            ["turns.tenant_id", "turns.call_id", "turns.turn_index"],
            name="fk_feedback_turn",
            ondelete="CASCADE",
        ),
        Index("ix_feedback_tenant_agent_created", "tenant_id", "agent_id", "created_at"),
        Index("ix_feedback_tenant_kind_created", "tenant_id", "kind", "created_at"),
    )


# --- accounts (migration 0004): who may use the service, and how they prove it ---------------
# Secrets are never stored: a key, a session cookie and a ticket are kept as the SHA-256 of a
# random 256-bit value (nothing to brute-force), a password as a salted scrypt hash.


class TeamRow(Base):
    """A supervisor's team: the agents whose calls the supervisor may follow."""

    __tablename__ = "teams"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserRow(Base):
    """A person who logs in on the pages. An agent's login is the agent id the calls carry."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    login: Mapped[str] = mapped_column(String(ID_LENGTH))
    password_hash: Mapped[str] = mapped_column(String(500))
    role: Mapped[str] = mapped_column(String(20))
    team: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The idiom explainer on this agent's calls (migration 0007; coaching/explainer.py).
    explain: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    __table_args__ = (
        UniqueConstraint("tenant_id", "login", name="uq_users_tenant_login"),
        CheckConstraint("role IN ('agent', 'supervisor', 'qa_lead', 'admin')", name="ck_users_role"),
    )


class ApiKeyRow(Base):
    """A key for programs: `ee_<id>_<secret>`; the id lists and revokes it, the secret is only hashed."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(500), default="")
    role: Mapped[str] = mapped_column(String(20))
    #: Space-separated scopes of an integration key (stream telephony customers outcomes).
    scopes: Mapped[str] = mapped_column(String(200), default="")
    team: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    #: The login a key acts as, for agent keys (its own calls only).
    login: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("role IN ('agent', 'supervisor', 'qa_lead', 'admin', 'integration')", name="ck_api_keys_role"),
    )


class SessionRow(Base):
    """A logged-in browser: the cookie's SHA-256, never the cookie."""

    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class TicketRow(Base):
    """A single-use, short-lived pass for a WebSocket a platform cannot put headers on (`?ticket=`)."""

    __tablename__ = "tickets"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    #: The credential the ticket was issued to: `key:<id>` or `session:<token hash>`.
    issued_to: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
