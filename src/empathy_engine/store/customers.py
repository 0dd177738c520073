"""Customers: the CRM context (notes, prior contacts) the engine reads when a call starts.

Every function takes the tenant: two tenants may have a customer with the same id, and each
sees only its own (store/tenancy.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, func, insert, select, update

from empathy_engine.privacy import Entity, mask_of, redact_text
from empathy_engine.store.models import CustomerRow, PriorContactRow, utcnow
from empathy_engine.store.tenancy import mine

# Declarative __table__ is typed as a FromClause; it is the Table that insert/update/delete take.
_customers = cast(Table, CustomerRow.__table__)
_contacts = cast(Table, PriorContactRow.__table__)

#: What one customer may hold (REST and CSV import refuse more, saying so): a note's length,
#: and a customer's notes and prior contacts.
MAX_NOTE_CHARS = 2000
MAX_NOTES = 200
MAX_CONTACTS = 500
#: What a call takes of them, newest first: the engine reads every note when a call starts
#: (about 8 ms for a 2,000-character note) and every cockpit frame carries them.
NOTES_IN_CALL = 20
NOTE_CHARS_IN_CALL = 4000
CONTACTS_IN_CALL = 20


@dataclass(frozen=True, slots=True)
class ContactRecord:
    at: str | None = None  # ISO 8601, as given
    issue: str = ""
    outcome: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "issue": self.issue, "outcome": self.outcome}


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    id: str
    name: str | None
    notes: tuple[str, ...]
    prior_contacts: tuple[ContactRecord, ...]
    created_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "notes": list(self.notes),
            "prior_contacts": [c.to_dict() for c in self.prior_contacts],
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class MergeCount:
    created: bool
    notes_added: int
    contacts_added: int
    #: Notes and contacts not added because the customer already holds MAX_NOTES / MAX_CONTACTS.
    notes_refused: tuple[str, ...] = ()
    contacts_refused: tuple[ContactRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class Facts:
    """What an import says about one customer."""

    name: str | None
    notes: list[str]
    contacts: list[ContactRecord]


def trim_for_call(header: dict[str, Any]) -> dict[str, Any]:
    """The call header with the customer's newest notes (NOTES_IN_CALL, NOTE_CHARS_IN_CALL in all)
    and prior contacts (CONTACTS_IN_CALL) only: a customer with hundreds of long notes must not
    make every start frame megabytes long, nor the engine read them all."""
    customer = header.get("customer")
    if not isinstance(customer, dict):
        return header
    notes = [n[:MAX_NOTE_CHARS] for n in customer.get("notes") or []]
    kept: list[str] = []
    total = 0
    for note in reversed(notes):
        if len(kept) == NOTES_IN_CALL:
            break
        if total + len(note) <= NOTE_CHARS_IN_CALL:
            kept.append(note)
            total += len(note)
    kept.reverse()
    contacts = list(customer.get("prior_contacts") or [])
    if kept == customer.get("notes", []) and len(contacts) <= CONTACTS_IN_CALL:
        return header
    trimmed = {**customer, "notes": kept}
    if "prior_contacts" in customer:
        trimmed["prior_contacts"] = contacts[-CONTACTS_IN_CALL:]
    return {**header, "customer": trimmed}


def _contacts_of(connection: Connection, tenant_id: str, ids: list[str]) -> dict[str, list[ContactRecord]]:
    out: dict[str, list[ContactRecord]] = {i: [] for i in ids}
    if ids:
        rows = connection.execute(
            select(_contacts)
            .where(mine(_contacts, tenant_id), _contacts.c.customer_id.in_(ids))
            .order_by(_contacts.c.id)
        )
        for r in rows:
            out[r.customer_id].append(ContactRecord(r.at, r.issue, r.outcome))
    return out


def _records(connection: Connection, tenant_id: str, rows: list[Any]) -> list[CustomerRecord]:
    contacts = _contacts_of(connection, tenant_id, [r.id for r in rows])
    return [
        CustomerRecord(r.id, r.name, tuple(r.notes or ()), tuple(contacts[r.id]), r.created_at, r.updated_at)
        for r in rows
    ]


def get_customer(connection: Connection, tenant_id: str, customer_id: str) -> CustomerRecord | None:
    row = connection.execute(
        select(_customers).where(mine(_customers, tenant_id), _customers.c.id == customer_id)
    ).first()
    return _records(connection, tenant_id, [row])[0] if row else None


def list_customers(
    connection: Connection, tenant_id: str, limit: int = 50, offset: int = 0
) -> tuple[int, list[CustomerRecord]]:
    theirs = mine(_customers, tenant_id)
    total = connection.execute(select(func.count()).select_from(_customers).where(theirs)).scalar_one()
    page = select(_customers).where(theirs).order_by(_customers.c.id).limit(limit).offset(offset)
    return total, _records(connection, tenant_id, list(connection.execute(page)))


def masked_name(name: str | None) -> str | None:
    """A customer's name is PII (privacy/): stored as its mask, so no screen or audit shows it."""
    return mask_of(Entity.NAME) if name and name.strip() else name


def masked_contacts(contacts: Iterable[ContactRecord]) -> list[ContactRecord]:
    return [ContactRecord(c.at, redact_text(c.issue), redact_text(c.outcome)) for c in contacts]


def _add_contacts(connection: Connection, tenant_id: str, customer_id: str, contacts: Iterable[ContactRecord]) -> int:
    values = [{"tenant_id": tenant_id, "customer_id": customer_id, **c.to_dict()} for c in contacts]
    if values:
        connection.execute(insert(_contacts), values)
    return len(values)


def create_customer(
    connection: Connection,
    tenant_id: str,
    customer_id: str,
    name: str | None,
    notes: list[str],
    contacts: list[ContactRecord],
) -> CustomerRecord | None:
    """Store a new customer (PII masked, as every write here); None (nothing written) when the tenant
    already has one with that id."""
    name, notes, contacts = masked_name(name), [redact_text(n) for n in notes], masked_contacts(contacts)
    here = [mine(_customers, tenant_id), _customers.c.id == customer_id]
    if connection.execute(select(_customers.c.id).where(*here)).first():
        return None
    now = utcnow()
    connection.execute(
        insert(_customers).values(
            tenant_id=tenant_id, id=customer_id, name=name, notes=list(notes), created_at=now, updated_at=now
        )
    )
    _add_contacts(connection, tenant_id, customer_id, contacts)
    return get_customer(connection, tenant_id, customer_id)


def update_customer(
    connection: Connection, tenant_id: str, customer_id: str, fields: dict[str, Any]
) -> CustomerRecord | None:
    """Replace the fields given (`name`, `notes`, `prior_contacts`); None when there is no such customer."""
    if get_customer(connection, tenant_id, customer_id) is None:
        return None
    values: dict[str, Any] = {"updated_at": utcnow()}
    if "name" in fields:
        values["name"] = masked_name(fields["name"])
    if "notes" in fields:
        values["notes"] = [redact_text(n) for n in fields["notes"]]
    connection.execute(
        update(_customers).where(mine(_customers, tenant_id), _customers.c.id == customer_id).values(**values)
    )
    if "prior_contacts" in fields:
        connection.execute(delete(_contacts).where(mine(_contacts, tenant_id), _contacts.c.customer_id == customer_id))
        _add_contacts(connection, tenant_id, customer_id, masked_contacts(fields["prior_contacts"]))
    return get_customer(connection, tenant_id, customer_id)


def merge_customer(
    connection: Connection,
    tenant_id: str,
    customer_id: str,
    name: str | None,
    notes: list[str],
    contacts: list[ContactRecord],
) -> MergeCount:
    """Add notes and contacts a customer does not have yet (an import run twice adds nothing)."""
    return merge_customers(connection, tenant_id, {customer_id: Facts(name, notes, contacts)})[customer_id]


def merge_customers(connection: Connection, tenant_id: str, batch: dict[str, Facts]) -> dict[str, MergeCount]:
    """`merge_customer` for a batch of one tenant's customers, in a few statements (an import of
    100,000 rows runs as many such batches, each its own short transaction). PII is masked first."""
    batch = {
        i: Facts(masked_name(f.name), [redact_text(n) for n in f.notes], masked_contacts(f.contacts))
        for i, f in batch.items()
    }
    ids = list(batch)
    theirs = mine(_customers, tenant_id)
    existing = {r.id: r for r in connection.execute(select(_customers).where(theirs, _customers.c.id.in_(ids)))}
    known_contacts = _contacts_of(connection, tenant_id, list(existing))
    now = utcnow()
    created_rows: list[dict[str, Any]] = []
    contact_rows: list[dict[str, Any]] = []
    out: dict[str, MergeCount] = {}
    for customer_id, facts in batch.items():
        row = existing.get(customer_id)
        had_notes = tuple(row.notes or ()) if row is not None else ()
        had_contacts = known_contacts.get(customer_id, [])
        notes = [n for n in dict.fromkeys(facts.notes) if n not in had_notes]
        contacts = [c for c in dict.fromkeys(facts.contacts) if c not in had_contacts]
        room_notes, room_contacts = max(0, MAX_NOTES - len(had_notes)), max(0, MAX_CONTACTS - len(had_contacts))
        notes, notes_refused = notes[:room_notes], tuple(notes[room_notes:])
        contacts, contacts_refused = contacts[:room_contacts], tuple(contacts[room_contacts:])
        contact_rows += [{"tenant_id": tenant_id, "customer_id": customer_id, **c.to_dict()} for c in contacts]
        if row is None:
            created_rows.append(
                {
                    "tenant_id": tenant_id,
                    "id": customer_id,
                    "name": facts.name,
                    "notes": notes,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        else:
            values: dict[str, Any] = {}
            if facts.name and facts.name != row.name:
                values["name"] = facts.name
            if notes:
                values["notes"] = [*had_notes, *notes]
            if values or contacts:
                connection.execute(
                    update(_customers).where(theirs, _customers.c.id == customer_id).values(**values, updated_at=now)
                )
        out[customer_id] = MergeCount(row is None, len(notes), len(contacts), notes_refused, contacts_refused)
    if created_rows:
        connection.execute(insert(_customers), created_rows)
    if contact_rows:
        connection.execute(insert(_contacts), contact_rows)
    return out
