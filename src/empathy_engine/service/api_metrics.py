"""GET /metrics: the server's Prometheus metrics (service/metrics.py counts them).

The metrics are server-wide (every tenant's counts), so only a credential of the default
tenant, the operator's, may read them: an admin, or an integration key with the `metrics` scope
(`empathy keys create --scope metrics`), sent as `Authorization: Bearer`,
which is what Prometheus's `authorization` (or `bearer_token`) scrape setting sends.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from empathy_engine.service import access
from empathy_engine.service.authz import CurrentDep, denied
from empathy_engine.store.models import DEFAULT_TENANT

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format (or OpenMetrics)"}},
)
async def metrics(request: Request, principal: CurrentDep) -> Response:
    """Prometheus metrics of the whole server (docs/operations.md). Needs a credential of the
    default tenant: an admin, or an integration key with the `metrics` scope."""
    if not access.may(principal, "metrics"):
        raise denied(principal, "read the metrics (an admin, or an integration key with the metrics scope, may)")
    if principal.tenant_id != DEFAULT_TENANT:
        raise HTTPException(
            403, f"the metrics cover every tenant, so only a credential of the {DEFAULT_TENANT!r} tenant may read them"
        )
    registry: CollectorRegistry = request.app.state.metrics_registry
    # The format the scraper asks for: Prometheus's text format, or OpenMetrics when it says so.
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(registry), media_type=content_type)
