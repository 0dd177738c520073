"""Which tenant a request or WebSocket acts for: the one place the service decides it.

The tenant always comes from the credential (`state.principal`, set by authentication). Until
every route requires one, a connection without a principal acts for the default tenant.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from empathy_engine.store.models import DEFAULT_TENANT


def tenant_of(conn: HTTPConnection) -> str:
    """The tenant of the principal the connection authenticated as; DEFAULT_TENANT when it has none."""
    principal = getattr(conn.state, "principal", None)
    if principal is None:
        return DEFAULT_TENANT
    return str(principal.tenant_id)


#: A route's tenant, as a FastAPI dependency (REST routes and WebSockets alike).
TenantDep = Annotated[str, Depends(tenant_of)]
