"""REST: customers (the CRM context of calls) - create, update, read, list, CSV import."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request

from empathy_engine.ingest.live import CALL_ID
from empathy_engine.service.authz import require
from empathy_engine.service.csv_import import COLUMNS, CsvError, CustomerFacts, parse_csv
from empathy_engine.service.json_body import SafeJsonRoute
from empathy_engine.service.schemas import (
    MAX_OFFSET,
    CustomerCreate,
    CustomerOut,
    CustomerPage,
    CustomerUpdate,
    ImportReport,
    PriorContactIn,
)
from empathy_engine.service.services import Services, ServicesDep
from empathy_engine.service.tenancy import TenantDep
from empathy_engine.store import customers as store
from empathy_engine.store.writer import WriteTimeout

# Every route here needs a credential whose role may use the CRM (admin, or an integration key
# with the customers scope).
router = APIRouter(
    prefix="/v1/customers",
    tags=["customers"],
    route_class=SafeJsonRoute,
    dependencies=[Depends(require("customers", "use the CRM"))],
)
CustomerId = Annotated[str, Path(pattern=CALL_ID.pattern)]


def _contacts(items: list[PriorContactIn]) -> list[store.ContactRecord]:
    return [store.ContactRecord(c.at.isoformat() if c.at else None, c.issue, c.outcome) for c in items]


@router.post("", response_model=CustomerOut, status_code=201)
def create_customer(s: ServicesDep, tenant: TenantDep, body: CustomerCreate) -> dict[str, Any]:
    """Add a customer. Calls whose `customer.id` names it get its notes and prior contacts as context."""
    created = s.write(
        tenant,
        lambda c: store.create_customer(c, tenant, body.id, body.name, body.notes, _contacts(body.prior_contacts)),
    )
    if created is None:
        raise HTTPException(409, f"customer {body.id!r} already exists; use PATCH /v1/customers/{body.id} to change it")
    return created.to_dict()


@router.get("", response_model=CustomerPage)
def list_customers(
    s: ServicesDep,
    tenant: TenantDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    total, found = s.read(tenant, lambda c: store.list_customers(c, tenant, limit, offset))
    return {"total": total, "customers": [f.to_dict() for f in found]}


@router.get("/{customer_id}", response_model=CustomerOut)
def get_customer(s: ServicesDep, tenant: TenantDep, customer_id: CustomerId) -> dict[str, Any]:
    found = s.read(tenant, lambda c: store.get_customer(c, tenant, customer_id))
    if found is None:
        raise HTTPException(404, f"no customer {customer_id!r}")
    return found.to_dict()


@router.patch("/{customer_id}", response_model=CustomerOut)
def update_customer(s: ServicesDep, tenant: TenantDep, customer_id: CustomerId, body: CustomerUpdate) -> dict[str, Any]:
    """Change a customer: the fields given replace the stored ones (calls already started keep theirs)."""
    fields = body.model_dump(exclude_unset=True)
    if "prior_contacts" in fields:
        fields["prior_contacts"] = _contacts(body.prior_contacts or [])
    if fields.get("notes") is None:
        fields.pop("notes", None)
    updated = s.write(tenant, lambda c: store.update_customer(c, tenant, customer_id, fields))
    if updated is None:
        raise HTTPException(404, f"no customer {customer_id!r}; create it with POST /v1/customers")
    return updated.to_dict()


@router.post(
    "/import",
    response_model=ImportReport,
    responses={503: {"description": "the database is busy; what was imported stays, send the file again"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}, "example": f"{','.join(COLUMNS)}\n"}},
        }
    },
)
async def import_customers(s: ServicesDep, tenant: TenantDep, request: Request) -> dict[str, Any]:
    """Import notes and prior contacts from CSV (body: the CSV file, `Content-Type: text/csv`).

    Columns: customer_id (required), name, note, contact_at, contact_issue, contact_outcome;
    one note and/or one prior contact per row; unknown columns are ignored. Customers are
    created as needed; a note or contact already stored is not added again, so importing the
    same file twice changes nothing. Bad rows are reported by line and skipped.
    """
    data = await request.body()  # the body-limit middleware stops an oversized one while it arrives
    try:
        # Off the loop, and paced: a 3 MB file takes the CPU (and the GIL) for a while.
        parsed = await asyncio.to_thread(parse_csv, data, IMPORT_PAUSE)
    except CsvError as e:
        raise HTTPException(422, str(e)) from None
    totals = {"customers_created": 0, "notes_added": 0, "contacts_added": 0}
    errors = list(parsed.errors)
    for batch in _batches(parsed.customers):
        began = time.perf_counter()
        merged = await _store_batch(s, tenant, batch)
        # Paced: the import takes at most about a quarter of the writer's and the CPU's time, so
        # live calls' writes and the engine keep the rest however large the file is (at a thousand
        # calls they need about two thirds of the GIL: half for the import was too much).
        await asyncio.sleep((time.perf_counter() - began) * IMPORT_PAUSE)
        for customer_id, m in merged.items():
            totals["customers_created"] += m.created
            totals["notes_added"] += m.notes_added
            totals["contacts_added"] += m.contacts_added
            errors += _refusals(customer_id, m, parsed.customers[customer_id])
    errors.sort()
    return {"rows": parsed.rows, **totals, "errors": [{"line": n, "error": e} for n, e in errors]}


#: An import is stored in transactions of about this many notes and contacts, through the
#: group-commit writer: live calls' writes wait for one such batch at most, never for a whole file.
IMPORT_BATCH_FACTS = 250
#: After each batch the import waits this many times as long as the batch took.
IMPORT_PAUSE = 3.0


def _batches(customers: dict[str, CustomerFacts]) -> Iterator[dict[str, store.Facts]]:
    batch: dict[str, store.Facts] = {}
    size = 0
    for customer_id, facts in customers.items():
        batch[customer_id] = store.Facts(facts.name, facts.notes, facts.contacts)
        size += 1 + len(facts.notes) + len(facts.contacts)
        if size >= IMPORT_BATCH_FACTS:
            yield batch
            batch, size = {}, 0
    if batch:
        yield batch


async def _store_batch(s: Services, tenant: str, batch: dict[str, store.Facts]) -> dict[str, store.MergeCount]:
    try:
        return await s.writer.run(tenant, lambda c: store.merge_customers(c, tenant, batch), timeout=IMPORT_WAIT_S)
    except WriteTimeout:
        raise HTTPException(
            503,
            "the database is busy (another process holds its write lock); the customers imported so far are "
            "stored - send the file again in a moment (what is already stored is not added twice)",
            headers={"Retry-After": "5"},
        ) from None


#: How long one import batch may wait for the database's write lock before the import answers 503.
IMPORT_WAIT_S = 30.0


def _refusals(customer_id: str, merged: store.MergeCount, facts: CustomerFacts) -> list[tuple[int, str]]:
    out = [
        (
            facts.lines.get(n, 0),
            f"customer {customer_id} has {store.MAX_NOTES} notes, the most one may have; this note was not added",
        )
        for n in merged.notes_refused
    ]
    out += [
        (
            facts.lines.get(c, 0),
            f"customer {customer_id} has {store.MAX_CONTACTS} prior contacts, the most one "
            "may have; this contact was not added",
        )
        for c in merged.contacts_refused
    ]
    return out
