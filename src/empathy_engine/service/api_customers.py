"""REST: customers (the CRM context of calls) - create, update, read, list, CSV import."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool

from empathy_engine.ingest.live import CALL_ID
from empathy_engine.service.authz import require
from empathy_engine.service.csv_import import COLUMNS, CsvError, parse_csv
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
from empathy_engine.service.services import ServicesDep
from empathy_engine.service.tenancy import TenantDep
from empathy_engine.store import customers as store

# Every route here needs a credential whose role may use the CRM (admin, or an integration key
# with the customers scope).
router = APIRouter(
    prefix="/v1/customers",
    tags=["customers"],
    route_class=SafeJsonRoute,
    dependencies=[Depends(require("customers", "use the CRM"))],
)
CustomerId = Annotated[str, Path(pattern=CALL_ID.pattern)]
MAX_CSV_BYTES = 20 * 1024 * 1024


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
    size = int(request.headers.get("content-length") or 0)
    if size > MAX_CSV_BYTES:
        raise HTTPException(413, f"the CSV is {size} bytes; at most {MAX_CSV_BYTES} per request - split it")
    data = await request.body()
    if len(data) > MAX_CSV_BYTES:
        raise HTTPException(413, f"the CSV is {len(data)} bytes; at most {MAX_CSV_BYTES} per request - split it")
    try:
        parsed = parse_csv(data)
    except CsvError as e:
        raise HTTPException(422, str(e)) from None

    def save(connection: Any) -> dict[str, int]:
        totals = {"customers_created": 0, "notes_added": 0, "contacts_added": 0}
        for customer_id, facts in parsed.customers.items():
            merged = store.merge_customer(connection, tenant, customer_id, facts.name, facts.notes, facts.contacts)
            totals["customers_created"] += merged.created
            totals["notes_added"] += merged.notes_added
            totals["contacts_added"] += merged.contacts_added
        return totals

    totals = await run_in_threadpool(s.write, tenant, save)
    return {"rows": parsed.rows, **totals, "errors": [{"line": n, "error": e} for n, e in parsed.errors]}
