"""Idempotency-Key for mobile POSTs (IETF draft semantics).

The same key and payload replays the stored response; the same key with another payload is 422;
a key whose first request is still running is 409 with Retry-After. Keys are kept 48 hours.

The key is settled in the request's own transaction, before the response leaves:

- the middleware opens the request's database session, takes a transaction-level advisory lock
  on (user, key) and reads the key; the handler's ``db_session`` is that same session;
- the handler's response is buffered; when the handler did not raise and the status is below
  500, the key row with the response is added and the transaction commits: the work and the
  stored answer commit together or not at all, and only then is the response sent, so a resend
  right after it always finds the answer;
- otherwise (an exception in the handler, a 5xx, a failed commit) everything rolls back, nothing
  is stored and a retry with the same key runs again. A killed process loses its connection and
  with it the transaction and the lock: a retry runs at once, no lease to wait for.

What is stored is the uncompressed body with its representation headers (Content-Type, ETag,
Location, ...); compression is applied per delivery by the app's own compression settings,
according to the replaying request's ``Accept-Encoding``. A client that retries through another
stack (or a proxy that rewrites ``Accept-Encoding``) thus always gets an answer it can decode, and
the stored answer never depends on how the first request happened to negotiate.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
from enum import Enum
from typing import Any, cast

import msgspec
from litestar.enums import ParamType, ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.middleware.compression import CompressionMiddleware
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIHeader,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Schema,
)
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.common.actor import Actor
from service.db.base import utcnow
from service.db.engine import hold_transaction, release_transaction, take_request_session
from service.db.models import IdempotencyKey
from service.errors import PROBLEM_JSON, Problem

logger = logging.getLogger(__name__)

HEADER = b"idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
RETRY_AFTER_SECONDS = 1
# First half of the two-int advisory lock key: keeps these locks apart from the other
# advisory locks of the service (those use the one-bigint form or other namespaces).
LOCK_NAMESPACE = 0x1D3E
# Headers that describe one delivery rather than the representation: recomputed every time.
_PER_DELIVERY = frozenset(
    {
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "date",
        "server",
        "set-cookie",
        "idempotent-replayed",
    }
)

RawHeaders = list[tuple[bytes, bytes]]


class StoredResponse(msgspec.Struct, frozen=True):
    """A response as the client must see it, before any content coding."""

    status: int
    headers: list[list[str]]
    body: bytes


def is_idempotent_post(method: str, path: str) -> bool:
    """Mobile POSTs from the technician's app; the customer's signing pages have no key."""
    return (
        method.upper() == "POST"
        and path.startswith("/mobile/v1/")
        and not path.startswith("/mobile/v1/sign/")
    )


def lock_key(user_id: Any, key: str) -> tuple[int, int]:
    """The advisory lock (namespace, hash) that marks a key in progress."""
    digest = hashlib.sha256(f"{user_id}\n{key}".encode()).digest()
    return LOCK_NAMESPACE, int.from_bytes(digest[:4], "big", signed=True)


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """What must match for a key to be replayed rather than refused."""
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def _problem(status: int, title: str, detail: str, path: str) -> StoredResponse:
    slug = title.lower().replace(" ", "-")
    problem = Problem(
        type=f"https://naryad.dev/problems/{slug}",
        title=title,
        status=status,
        detail=detail,
        instance=path,
    )
    return StoredResponse(status, [["content-type", PROBLEM_JSON]], msgspec.json.encode(problem))


def _in_progress(path: str) -> StoredResponse:
    answer = _problem(409, "Conflict", "A request with this Idempotency-Key is in progress", path)
    return StoredResponse(
        answer.status, [*answer.headers, ["retry-after", str(RETRY_AFTER_SECONDS)]], answer.body
    )


def _without_token(value: str, token: str) -> str:
    kept = [part.strip() for part in value.split(",") if part.strip().lower() != token]
    return ", ".join(part for part in kept if part)


def decoded_response(status: int, headers: RawHeaders, body: bytes) -> StoredResponse:
    """The response without its content coding: what is stored and replayed.

    gzip (what the app's compression produces) is undone; any other coding is kept with its
    Content-Encoding header, so it is still replayed exactly as it was first sent.
    """
    encoding = ""
    kept: list[list[str]] = []
    for raw_name, raw_value in headers:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name == "content-encoding":
            encoding = value.strip().lower()
            continue
        if name in _PER_DELIVERY:
            continue
        if name == "vary":
            # The compression middleware adds Accept-Encoding again when it compresses.
            value = _without_token(value, "accept-encoding")
            if not value:
                continue
        kept.append([name, value])
    if encoding == "gzip":
        body = gzip.decompress(body)
    elif encoding and encoding != "identity":
        kept.append(["content-encoding", encoding])
    return StoredResponse(status, kept, body)


async def deliver(
    scope: Scope, receive: Receive, send: Send, answer: StoredResponse, *, replayed: bool
) -> None:
    """Send a stored or middleware answer, compressed as the app would for this request."""
    headers: RawHeaders = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
    headers.append((b"content-length", str(len(answer.body)).encode()))
    if replayed:
        headers.append((REPLAYED_HEADER.lower().encode(), b"true"))

    async def respond(_: Scope, __: Receive, inner_send: Send) -> None:
        await inner_send(
            {"type": "http.response.start", "status": answer.status, "headers": headers}
        )
        await inner_send({"type": "http.response.body", "body": answer.body, "more_body": False})

    app: ASGIApp = respond
    config = scope["litestar_app"].compression_config
    already_coded = any(name == "content-encoding" for name, _ in answer.headers)
    if config is not None and not already_coded:
        app = CompressionMiddleware(app=respond, config=config)
    await app(scope, receive, send)


class _Capture:
    """Buffers the handler's response: nothing leaves before the transaction is settled."""

    def __init__(self) -> None:
        self.status = 500
        self.headers: RawHeaders = []
        self.chunks: list[bytes] = []
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))

    async def forward(self, send: Send) -> None:
        """Send the response exactly as the app produced it for this request."""
        body = b"".join(self.chunks)
        headers = [(k, v) for k, v in self.headers if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


class IdempotencyMiddleware(ASGIMiddleware):
    """Wraps the mobile router's POST handlers."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Replay, refuse, or run the request and store its answer with its work."""
        http = cast("HTTPScope", scope)
        path = http["path"]
        actor = scope.get("user")
        if not is_idempotent_post(http["method"], path) or not isinstance(actor, Actor):
            await next_app(scope, receive, send)  # authentication answers 401
            return
        key = next((v.decode("latin-1") for k, v in http["headers"] if k == HEADER), None)
        if not key or len(key) > MAX_KEY_LENGTH:
            detail = "Send an Idempotency-Key header (1-255 characters)"
            await deliver(
                scope, receive, send, _problem(400, "Bad request", detail, path), replayed=False
            )
            return
        request_body = await _read_body(receive)
        if request_body is _BodyIssue.DISCONNECTED:
            return  # the client left before its body arrived: nothing to run, no one to answer
        fingerprint = request_fingerprint("POST", path, request_body)
        sessionmaker: async_sessionmaker[AsyncSession] = scope["litestar_app"].state.sessionmaker
        # The session authentication opened (and checked the caller in) becomes the held one.
        async with take_request_session(scope) or sessionmaker() as session:
            refusal, replay = await _claim(session, actor, key, path, fingerprint)
            if refusal is not None or replay is not None:
                await session.rollback()  # releases the lock at once
                answer = cast("StoredResponse", refusal or replay)
                await deliver(scope, receive, send, answer, replayed=replay is not None)
                return
            await self._run(scope, send, next_app, session, actor, key, fingerprint, request_body)

    async def _run(
        self,
        scope: Scope,
        send: Send,
        next_app: ASGIApp,
        session: AsyncSession,
        actor: Actor,
        key: str,
        fingerprint: str,
        request_body: bytes,
    ) -> None:
        """Run the handler in the held transaction; commit it with the answer, then send."""
        delivered = False

        async def replay_body() -> Any:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": request_body, "more_body": False}

        capture = _Capture()
        held = hold_transaction(scope, session)
        try:
            await next_app(scope, replay_body, capture)
        except BaseException:
            await session.rollback()
            raise
        finally:
            release_transaction(scope)
        # An error before the handler reached the database (validation, authorization) did no
        # work: nothing to keep. A response the handler returned (not raised) with a 4xx, such
        # as a rejected photo, is kept with the work it recorded.
        keep = (
            capture.started
            and not held.failed
            and capture.status < 500
            and (capture.status < 400 or held.provided)
        )
        if not keep:
            await session.rollback()
            await capture.forward(send)
            return
        answer = decoded_response(capture.status, capture.headers, b"".join(capture.chunks))
        session.add(
            IdempotencyKey(
                user_id=actor.user_id,
                key=key,
                method="POST",
                path=cast("HTTPScope", scope)["path"],
                request_sha256=fingerprint,
                response_status=answer.status,
                response_headers=answer.headers,
                response_body=answer.body,
                created_at=utcnow(),
            )
        )
        try:
            await session.commit()
        except IntegrityError:
            # Another request committed this key first (possible only if it slipped past the
            # lock, e.g. under a stricter isolation level): this work is undone, send its answer.
            await session.rollback()
            await self._answer_after_conflict(scope, send, actor, key, fingerprint)
            return
        except SQLAlchemyError:
            logger.exception("idempotent request not committed; the client may retry")
            await session.rollback()
            await deliver(scope, _no_body, send, _not_applied(scope), replayed=False)
            return
        await capture.forward(send)

    @staticmethod
    async def _answer_after_conflict(
        scope: Scope, send: Send, actor: Actor, key: str, fingerprint: str
    ) -> None:
        path = cast("HTTPScope", scope)["path"]
        sessionmaker: async_sessionmaker[AsyncSession] = scope["litestar_app"].state.sessionmaker
        async with sessionmaker() as session:
            refusal, replay = await _claim(session, actor, key, path, fingerprint)
            await session.rollback()
        if refusal is None and replay is None:
            # Not this key after all (another constraint checked at commit): nothing applied.
            logger.exception("idempotent request not committed; the client may retry")
        answer = refusal or replay or _not_applied(scope)
        await deliver(scope, _no_body, send, answer, replayed=replay is not None)


def _not_applied(scope: Scope) -> StoredResponse:
    detail = "The request was not applied; retry with the same Idempotency-Key"
    return _problem(500, "Server error", detail, cast("HTTPScope", scope)["path"])


async def _no_body() -> Any:
    return {"type": "http.disconnect"}


class _BodyIssue(Enum):
    DISCONNECTED = "disconnected"


async def _read_body(receive: Receive) -> bytes | _BodyIssue:
    """The whole request body, or why there is none to run.

    Its size was bounded upstream: the request guard cuts a body off at the route's limit.
    """
    chunks: list[bytes] = []
    more = True
    while more:
        message: Any = await receive()
        if message["type"] == "http.disconnect":
            return _BodyIssue.DISCONNECTED
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _claim(
    session: AsyncSession, actor: Actor, key: str, path: str, fingerprint: str
) -> tuple[StoredResponse | None, StoredResponse | None]:
    """(refusal, replay); both None: the key is ours for this transaction.

    The lock is tried, never waited for: a second request while the first runs is told to come
    back (409 with Retry-After) instead of holding a connection. Once the first commits, its
    row is visible to the next statement the moment its lock is free.
    """
    namespace, digest = lock_key(actor.user_id, key)
    locked = await session.scalar(select(func.pg_try_advisory_xact_lock(namespace, digest)))
    if not locked:
        return _in_progress(path), None
    row = await session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.user_id == actor.user_id, IdempotencyKey.key == key
        )
    )
    if row is None:
        return None, None
    if row.request_sha256 != fingerprint:
        detail = "This Idempotency-Key was used with another request"
        return _problem(422, "Idempotency key reused", detail, path), None
    return None, StoredResponse(row.response_status, row.response_headers, row.response_body)


# OpenAPI ---------------------------------------------------------------------------------------

_KEY_PARAMETER = Parameter(
    name="Idempotency-Key",
    param_in=ParamType.HEADER,
    required=True,
    description=(
        "A unique key per operation (e.g. a UUID), reused on every retry of it: the same key "
        "and body replay the first answer; the same key with another body is a 422."
    ),
    schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=MAX_KEY_LENGTH),
)
_REPLAYED = OpenAPIHeader(
    description="true: this is the stored answer to an earlier request with the same key",
    required=False,
    schema=Schema(type=OpenAPIType.STRING, enum=["true"]),
)
_RETRY_AFTER = OpenAPIHeader(
    description="Seconds to wait before retrying with the same Idempotency-Key",
    schema=Schema(type=OpenAPIType.INTEGER),
)
_IDEMPOTENCY_ERRORS = {
    "400": "no Idempotency-Key header (or one over 255 characters)",
    "409": "a request with this Idempotency-Key is still in progress (see Retry-After)",
    "422": "this Idempotency-Key was used with another request",
}


def document_idempotency(openapi: OpenAPI) -> None:
    """Declare the key on every mobile POST and the replay header on its stored answers."""
    for path, item in (openapi.paths or {}).items():
        operation = item.post
        if not isinstance(operation, Operation) or not is_idempotent_post("POST", path):
            continue
        operation.parameters = [*(operation.parameters or []), _KEY_PARAMETER]
        for status, response in (operation.responses or {}).items():
            if not isinstance(response, OpenAPIResponse):
                continue
            headers = dict(response.headers or {})
            if status.startswith("2") or status == "422":
                headers[REPLAYED_HEADER] = _REPLAYED
            if status == "409":
                headers["Retry-After"] = _RETRY_AFTER
            if status in _IDEMPOTENCY_ERRORS:
                response.description = f"{response.description}, or {_IDEMPOTENCY_ERRORS[status]}"
            response.headers = headers or None
