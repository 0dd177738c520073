"""REST request and response bodies (Create / Update / Public split), shown in the OpenAPI docs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from empathy_engine.ingest.live import CALL_ID
from empathy_engine.store.customers import MAX_CONTACTS, MAX_NOTE_CHARS, MAX_NOTES

_ID = CALL_ID.pattern
Note = Annotated[str, StringConstraints(max_length=MAX_NOTE_CHARS)]
#: The largest list offset: far past any real page, far below the 2^63 an SQL integer overflows at.
MAX_OFFSET = 2**31 - 1


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PriorContactIn(_In):
    at: datetime | None = Field(default=None, description="ISO 8601, ideally with its UTC offset")
    issue: str = Field(default="", max_length=2000)
    outcome: str = Field(default="", max_length=2000)


class CustomerCreate(_In):
    id: str = Field(pattern=_ID, description="Your CRM's customer id; calls name it in customer.id")
    name: str | None = Field(default=None, max_length=500)
    notes: list[Note] = Field(default=[], max_length=MAX_NOTES)
    prior_contacts: list[PriorContactIn] = Field(default=[], max_length=MAX_CONTACTS)


class CustomerUpdate(_In):
    """Fields given replace the stored ones; fields left out stay as they are."""

    name: str | None = Field(default=None, max_length=500)
    notes: list[Note] | None = Field(default=None, max_length=MAX_NOTES)
    prior_contacts: list[PriorContactIn] | None = Field(default=None, max_length=MAX_CONTACTS)


class PriorContactOut(BaseModel):
    at: str | None
    issue: str
    outcome: str


class CustomerOut(BaseModel):
    id: str
    name: str | None
    notes: list[str]
    prior_contacts: list[PriorContactOut]
    created_at: str
    updated_at: str


class CustomerPage(BaseModel):
    total: int
    customers: list[CustomerOut]


class ImportProblem(BaseModel):
    line: int
    error: str


class ImportReport(BaseModel):
    rows: int = Field(description="data rows read")
    customers_created: int
    notes_added: int
    contacts_added: int
    errors: list[ImportProblem] = Field(description="rows that were skipped, and why; the others were imported")


class OutcomeIn(_In):
    csat: int | None = Field(default=None, ge=1, le=5, description="customer satisfaction, 1-5")
    resolved: bool | None = None
    referral: bool | None = Field(default=None, description="the customer would refer / did refer someone")
    review_text: str | None = Field(default=None, max_length=20_000)


class OutcomeOut(BaseModel):
    csat: int | None
    resolved: bool | None
    referral: bool | None
    review_text: str | None
    recorded_at: str


class CallOut(BaseModel):
    id: str
    status: Literal["live", "ended"]
    customer_id: str | None
    turn_count: int
    header: dict[str, Any] = Field(description="the conversation v1 header the engine used (CRM data merged in)")
    summary: dict[str, Any] | None = Field(description="the call summary of `empathy analyze`, once ended")
    extra: dict[str, Any] = Field(description="call-level results beyond the summary (escalation of a bot call)")
    created_at: str
    updated_at: str
    ended_at: str | None


class CallPage(BaseModel):
    total: int
    calls: list[CallOut]


class TurnOut(BaseModel):
    index: int
    speaker: Literal["customer", "agent"]
    text: str
    t: float | None
    result: dict[str, Any] = Field(description="the turn result of `empathy analyze` (docs/output-format.md)")
    latency_ms: float = Field(description="time the server took to compute this insight")
    received_at: str | None


class CallDetail(CallOut):
    turns: list[TurnOut]
    outcome: OutcomeOut | None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "missing", "unreachable", "busy"] = Field(
        description="generic on purpose: the log has details"
    )
    disk: Literal["ok", "low", "unknown", "not checked"] = Field(
        description="free space where the SQLite file lives ('not checked' on PostgreSQL)"
    )
    live_calls: int
    version: str
    replica: str = Field(description="the replica that answered (EMPATHY_REPLICA_ID)")


class WhoAmI(BaseModel):
    tenant_id: str
    role: str
    login: str | None
    team: str | None
    key_id: str | None
    scopes: list[str]
    via: str = Field(description="what proved it: key, session, ticket, or demo (an open demo server)")
    expires_at: str | None


class Ticket(BaseModel):
    ticket: str = Field(description="single use; put it on the WebSocket URL as ?ticket=")
    expires_at: str
    query: str
