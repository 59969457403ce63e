"""Headers every response carries, whichever layer produced it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

HSTS = "max-age=31536000; includeSubDomains"


def security_headers(public_base_url: str) -> Callable[[Message, Scope], Awaitable[None]]:
    """A before_send hook: nosniff always; HSTS when the service is published over https."""
    hsts = public_base_url.lower().startswith("https://")

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        # Set, not add: some handlers (blobs, pages) already send nosniff themselves.
        headers["X-Content-Type-Options"] = "nosniff"
        if hsts:
            headers["Strict-Transport-Security"] = HSTS

    return add_headers
