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
    name, notes, contacts = masked_name(name), [redact_text(n) for n in notes], masked_contacts(contacts)
    existing = get_customer(connection, tenant_id, customer_id)
    if existing is None:
        create_customer(
            connection, tenant_id, customer_id, name, list(dict.fromkeys(notes)), list(dict.fromkeys(contacts))
        )
        return MergeCount(True, len(set(notes)), len(set(contacts)))
    new_notes = [n for n in dict.fromkeys(notes) if n not in existing.notes]
    new_contacts = [c for c in dict.fromkeys(contacts) if c not in existing.prior_contacts]
    values: dict[str, Any] = {}
    if name and name != existing.name:
        values["name"] = name
    if new_notes:
        values["notes"] = [*existing.notes, *new_notes]
    if values or new_contacts:
        values["updated_at"] = utcnow()
        connection.execute(
            update(_customers).where(mine(_customers, tenant_id), _customers.c.id == customer_id).values(**values)
        )
    _add_contacts(connection, tenant_id, customer_id, new_contacts)
    return MergeCount(False, len(new_notes), len(new_contacts))
