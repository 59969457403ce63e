"""GET /metrics for Prometheus, behind a bearer token or on the loopback address only."""

from __future__ import annotations

import hmac
import ipaddress

from litestar import Controller, Request, Response, get
from litestar.datastructures import State

from service.errors import NotFound, Unauthorized
from service.observability.metrics import CONTENT_TYPE, scrape


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class MetricsController(Controller):
    """Prometheus scrape endpoint (not part of the API contract)."""

    path = "/metrics"
    include_in_schema = False
    opt = {"exclude_from_auth": True}

    @get("/", operation_id="Metrics")
    async def metrics(
        self, request: Request[object, object, State], state: State
    ) -> Response[bytes]:
        """Metrics in the Prometheus text format."""
        token = state.settings.observability.metrics_token
        if token is not None:
            sent = request.headers.get("authorization", "")
            if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
                raise Unauthorized("Send the metrics token: Authorization: Bearer <token>")
        elif not _is_loopback(request.client.host if request.client else None):
            # Without a token only this machine may scrape; to others the path does not exist.
            raise NotFound("Not found")
        return Response(await scrape(state.engine), media_type=CONTENT_TYPE)
