"""Check request bodies while they stream in: size, read time, NUL characters, JSON depth.

The guard runs first among the app's middleware, after routing (so it knows the route's
body limit) and before authentication, rate limiting and any handler. It never buffers a
body: each chunk is counted and scanned as it passes on to whoever reads it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from itertools import accumulate
from typing import Any, Literal

import msgspec
from litestar.config.app import AppConfig
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from service.errors import PROBLEM_JSON, Problem, send_raw

# JSON spells NUL as \u0000; URLs and HTML forms (application/x-www-form-urlencoded) as %00.
_JSON_NUL = b"\\u0000"
_URL_NUL = b"%00"
_FORM = b"application/x-www-form-urlencoded"
# A slow upload must still average this rate once the read timeout's grace is spent, so a
# client trickling a byte at a time cannot hold a connection for hours.
MIN_UPLOAD_BYTES_PER_SECOND = 64 * 1024
# A complete JSON string; removing them all (in C) leaves brackets and at most one quote,
# the start of a string that runs past the end of the piece. Possessive quantifiers: a
# string left open fails in one pass instead of backtracking through it.
_JSON_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
# Inside a string continued from the previous piece: up to and including its closing quote.
_STRING_REST = re.compile(rb'[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
# Keep only brackets, with { } spelled [ ]: nesting is all that is measured.
_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("]"): -1}
_CLOSE_CONNECTION = {"Connection": "close"}


def _ends_in_escape(text: bytes) -> bool:
    """Whether an odd run of backslashes ends the text (the next byte is escaped)."""
    return (len(text) - len(text.rstrip(b"\\"))) % 2 == 1


class JsonDepthScanner:
    """Tracks the nesting depth of a JSON text fed in pieces; strings and escapes are skipped.

    The work per piece is a few C-level passes: strip strings, keep brackets, and only when
    the piece could cross the limit, follow its running depth.
    """

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.depth = 0
        self._in_string = False
        # A backslash ended the previous piece: the first byte of the next one is escaped.
        self._escape_pending = False

    def feed(self, chunk: bytes) -> bool:
        """Scan one piece; True once the depth has exceeded the limit."""
        at = 0
        if self._in_string:
            if self._escape_pending:
                if not chunk:
                    return False
                self._escape_pending = False
                at = 1
            rest = _STRING_REST.match(chunk, at)
            if rest is None:  # the whole piece is inside the string
                self._escape_pending = _ends_in_escape(chunk[at:])
                return False
            self._in_string = False
            at = rest.end()
        outside = _JSON_STRING.sub(b"", chunk[at:] if at else chunk)
        quote = outside.find(b'"')
        if quote >= 0:  # a string opens and runs on into the next piece
            self._in_string = True
            self._escape_pending = _ends_in_escape(chunk)
            outside = outside[:quote]
        return self._add(outside.translate(_SQUARE, _NOT_BRACKET))

    def _add(self, brackets: bytes) -> bool:
        opens = brackets.count(b"[")
        net = 2 * opens - len(brackets)
        if self.depth + opens > self.max_depth:
            # It might cross: follow the running depth (map, accumulate and max run in C).
            deepest = max(accumulate(map(_STEP.__getitem__, brackets), initial=self.depth))
            if deepest > self.max_depth:
                return True
        self.depth += net
        return False


class NulScanner:
    """Finds a pattern in a body fed in pieces, including one split across two pieces."""

    def __init__(self, pattern: bytes) -> None:
        self.pattern = pattern
        self._tail = b""

    def feed(self, chunk: bytes) -> bool:
        """Scan one piece; True when it (or its junction with the last one) holds a NUL."""
        keep = len(self.pattern) - 1
        joint = self._tail + chunk[:keep]
        found = b"\x00" in chunk or self.pattern in chunk or self.pattern in joint
        self._tail = chunk[-keep:] if len(chunk) >= keep else (self._tail + chunk)[-keep:]
        return found


def _problem(status: int, title: str, detail: str, path: str) -> bytes:
    slug = title.lower().replace(" ", "-")
    return msgspec.json.encode(
        Problem(
            type=f"https://naryad.dev/problems/{slug}",
            title=title,
            status=status,
            detail=detail,
            instance=path,
        )
    )


async def _answer(send: Send, status: int, title: str, detail: str, path: str) -> None:
    # Close the connection: the rest of the body was never read and must not be taken for
    # the next request.
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"connection", b"close")]
    await send_raw(send, status, _problem(status, title, detail, path), headers)


def _url_has_nul(scope: Scope) -> bool:
    raw_query: bytes = scope.get("query_string", b"")
    raw_path: bytes = scope.get("raw_path", b"") or b""
    return (
        _URL_NUL in raw_query
        or b"\x00" in raw_query
        or _URL_NUL in raw_path
        or "\x00" in scope["path"]
    )


class RequestGuardMiddleware(ASGIMiddleware):
    """413, 408 or 400 problem+json for bodies too large, too slow, with NULs or nested too deep.

    Limits are per route (``request_max_body_size`` of the handler, its controller or the
    app): the local blob store's signed PUT keeps its larger limit.
    """

    scopes = (ScopeType.HTTP,)

    def __init__(self, *, read_timeout_seconds: float, max_json_depth: int) -> None:
        self.read_timeout = read_timeout_seconds
        self.max_json_depth = max_json_depth

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Refuse what the headers already give away, then watch the body as it is read."""
        path = scope["path"]
        if _url_has_nul(scope):
            await _answer(send, 400, "Bad request", "NUL characters are not allowed", path)
            return
        headers = dict(scope.get("headers", []))
        handler = scope["route_handler"]
        limit = (
            handler.resolve_request_max_body_size()
            if isinstance(handler, HTTPRouteHandler)
            else None
        )
        declared_raw = headers.get(b"content-length")
        declared: int | None = None
        if declared_raw is not None:
            if not declared_raw.isdigit():
                await _answer(send, 400, "Bad request", "Content-Length must be a number", path)
                return
            # Past 18 digits it is over any limit; int() of thousands of digits would raise.
            declared = int(declared_raw) if len(declared_raw) <= 18 else 10**18
        if limit is not None and declared is not None and declared > limit:
            await _answer(
                send, 413, "Request body too large", f"The body may be at most {limit} bytes", path
            )
            return
        body_format = _body_format(handler, headers.get(b"content-type", b""))
        body = _GuardedBody(
            receive,
            limit=limit,
            deadline=self._deadline(declared, limit),
            idle_timeout=self.read_timeout,
            nul=(
                NulScanner(_JSON_NUL if body_format == "json" else _URL_NUL)
                if body_format != "raw"
                else None
            ),
            depth=JsonDepthScanner(self.max_json_depth) if body_format == "json" else None,
        )
        await next_app(scope, body.receive, send)

    def _deadline(self, declared: int | None, limit: int | None) -> float:
        expected = declared if declared is not None else (limit or 0)
        return time.monotonic() + self.read_timeout + expected / MIN_UPLOAD_BYTES_PER_SECOND


def _body_format(handler: object, content_type: bytes) -> Literal["json", "form", "raw"]:
    """How the body will be read: by what the handler decodes, not what the client claims.

    Litestar decodes a `data` body as JSON whatever its Content-Type, so a deep or NUL-laden
    JSON body sent as text/plain must be scanned all the same.
    """
    data = handler.parsed_data_field if isinstance(handler, HTTPRouteHandler) else None
    if data is not None:
        encoding = getattr(data.kwarg_definition, "media_type", None)
        if encoding == RequestEncodingType.URL_ENCODED:
            return "form"
        if encoding in (RequestEncodingType.MULTI_PART, RequestEncodingType.MESSAGEPACK):
            return "raw"  # files and binary: the handler checks them
        return "json"
    # Handlers that read the body themselves (blobs, idempotency replays): trust the type.
    media_type = content_type.split(b";")[0].strip().lower()
    if media_type.endswith(b"json"):
        return "json"
    return "form" if media_type == _FORM else "raw"


class _GuardedBody:
    """The receive callable handed to the app: the same messages, checked on the way."""

    def __init__(
        self,
        receive: Receive,
        *,
        limit: int | None,
        deadline: float,
        idle_timeout: float,
        nul: NulScanner | None,
        depth: JsonDepthScanner | None,
    ) -> None:
        self._receive = receive
        self.limit = limit
        self.deadline = deadline
        self.idle_timeout = idle_timeout
        self.nul = nul
        self.depth = depth
        self.received = 0
        self._complete = False

    async def receive(self) -> ReceiveMessage:
        if self._complete:
            # After the body, receive() only waits for a disconnect: no timeout applies.
            return await self._receive()
        wait = min(self.idle_timeout, self.deadline - time.monotonic())
        try:
            async with asyncio.timeout(max(wait, 0.0)):
                message: Any = await self._receive()
        except TimeoutError:
            raise HTTPException(
                status_code=408,
                detail="The request body did not arrive in time",
                headers=_CLOSE_CONNECTION,
            ) from None
        if message["type"] != "http.request":
            self._complete = True
            return message  # type: ignore[no-any-return]
        chunk: bytes = message.get("body", b"")
        self.received += len(chunk)
        if self.limit is not None and self.received > self.limit:
            raise HTTPException(
                status_code=413,
                detail=f"The body may be at most {self.limit} bytes",
                headers=_CLOSE_CONNECTION,
            )
        # Refused mid-body, the rest is never read: the connection cannot carry another request.
        if self.nul is not None and self.nul.feed(chunk):
            raise HTTPException(
                status_code=400,
                detail="NUL characters are not allowed",
                headers=_CLOSE_CONNECTION,
            )
        if self.depth is not None and self.depth.feed(chunk):
            raise HTTPException(
                status_code=400,
                detail=f"JSON may be nested at most {self.depth.max_depth} levels deep",
                headers=_CLOSE_CONNECTION,
            )
        if not message.get("more_body", False):
            self._complete = True
        return message  # type: ignore[no-any-return]


def guard_requests_first(guard: RequestGuardMiddleware) -> Callable[[AppConfig], AppConfig]:
    """An on_app_init hook that puts the guard before every other middleware (auth included)."""

    def insert(app_config: AppConfig) -> AppConfig:
        app_config.middleware.insert(0, guard)
        return app_config

    return insert
