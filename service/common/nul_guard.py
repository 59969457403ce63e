"""Refuse NUL characters before they reach PostgreSQL, which cannot store them in text."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from service.errors import PROBLEM_JSON, Problem, send_raw

# JSON spells NUL as \u0000; URLs and HTML forms (application/x-www-form-urlencoded) as %00.
_JSON_NUL = b"\\u0000"
_URL_NUL = b"%00"
_FORM = b"application/x-www-form-urlencoded"


def _has_nul(scope: Scope, body: bytes | None, body_nul: bytes) -> bool:
    raw_query: bytes = scope.get("query_string", b"")
    path: str = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
    if _URL_NUL in raw_query or "%00" in path or "\x00" in scope["path"]:
        return True
    return body is not None and (body_nul in body or b"\x00" in body)


class NulGuardMiddleware(ASGIMiddleware):
    """400 for a NUL in the path, the query, a JSON or a form body; other bodies (files) pass."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Check, then hand the untouched request on."""
        headers = dict(scope.get("headers", []))
        media_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        body_nul = _JSON_NUL if media_type.endswith(b"json") else _URL_NUL
        body: bytes | None = None
        if media_type.endswith(b"json") or media_type == _FORM:
            chunks: list[bytes] = []
            more = True
            while more:
                message: Any = await receive()
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            body = b"".join(chunks)
        if _has_nul(scope, body, body_nul):
            problem = Problem(
                type="https://naryad.dev/problems/bad-request",
                title="Bad request",
                status=400,
                detail="NUL characters are not allowed",
                instance=scope["path"],
            )
            await send_raw(
                send, 400, msgspec.json.encode(problem), [(b"content-type", PROBLEM_JSON.encode())]
            )
            return
        if body is None:
            await next_app(scope, receive, send)
            return
        delivered = False

        async def replay() -> Any:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await next_app(scope, replay, send)
