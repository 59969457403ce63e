"""Per-address rate limits of the auth surfaces, answered before any body is read."""

from __future__ import annotations

import msgspec
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from service.auth.throttle import LoginThrottle, surface_of
from service.errors import PROBLEM_JSON, Problem, send_raw


def client_address(scope: Scope) -> str:
    """The caller's address as the server saw it.

    Behind a proxy, uvicorn has already replaced it with the X-Forwarded-For address, but
    only for proxies listed in NARYAD_TRUSTED_PROXIES (``naryad serve`` passes them on).
    """
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class LoginRateLimitMiddleware(ASGIMiddleware):
    """429 with Retry-After once an address exceeds a surface's limit in the window."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Count protected requests in the shared store; let everything else straight on."""
        surface = surface_of(str(scope.get("method", "")), scope["path"])
        if surface is not None:
            throttle: LoginThrottle = scope["litestar_app"].state.login_throttle
            retry_after = await throttle.hit(surface, client_address(scope))
            if retry_after is not None:
                problem = Problem(
                    type="https://naryad.dev/problems/too-many-requests",
                    title="Too many requests",
                    status=429,
                    detail="Too many attempts from this address; try again later",
                    instance=scope["path"],
                )
                headers = [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"retry-after", str(retry_after).encode()),
                ]
                await send_raw(send, 429, msgspec.json.encode(problem), headers)
                return
        await next_app(scope, receive, send)
