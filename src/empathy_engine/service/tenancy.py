"""Which tenant a request acts for: the one place the service decides it.

The tenant always comes from the credential (`state.principal`, set by service/guard.py). A
request without one has no tenant: it is refused here, never served as some default tenant's.
(`empathy serve --demo` on loopback authenticates every request as the demo principal, of the
default tenant.)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from starlette.requests import HTTPConnection


def tenant_of(conn: HTTPConnection) -> str:
    """The tenant of the principal the connection authenticated as; 401 when it has none."""
    principal = getattr(conn.state, "principal", None)
    if principal is None:
        raise HTTPException(401, "this needs a credential: an API key (Authorization: Bearer ...) or a login")
    return str(principal.tenant_id)


#: A route's tenant, as a FastAPI dependency.
TenantDep = Annotated[str, Depends(tenant_of)]
