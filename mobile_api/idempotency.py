"""Idempotency-Key for mobile POSTs (IETF draft semantics).

The same key and payload replays the stored response; the same key with another payload is 422;
a key whose first request is still running is 409. Keys are kept 48 hours. Only responses
below 500 are stored: after a server error the client may retry the same key.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any, cast

import msgspec
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send
from sqlalchemy import select

from service.auth.actor import Actor
from service.db.base import utcnow
from service.db.models import IdempotencyKey
from service.errors import PROBLEM_JSON, Problem, send_raw

HEADER = b"idempotency-key"
LEASE = timedelta(seconds=60)
MAX_KEY_LENGTH = 255
MAX_BODY = 1024 * 1024


def _problem(status: int, title: str, detail: str, path: str) -> tuple[int, bytes]:
    slug = title.lower().replace(" ", "-")
    problem = Problem(
        type=f"https://naryad.dev/problems/{slug}",
        title=title,
        status=status,
        detail=detail,
        instance=path,
    )
    return status, msgspec.json.encode(problem)


class IdempotencyMiddleware(ASGIMiddleware):
    """Wraps the mobile router's POST handlers."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Check, replay or record the response for the request's key."""
        http = cast("HTTPScope", scope)
        if http["method"] != "POST" or http["path"].startswith("/mobile/v1/sign/"):
            await next_app(scope, receive, send)
            return
        path = scope["path"]
        key = next((v.decode("latin-1") for k, v in scope["headers"] if k == HEADER), None)
        actor = scope.get("user")
        if not isinstance(actor, Actor):
            await next_app(scope, receive, send)  # authentication answers 401
            return
        if not key or len(key) > MAX_KEY_LENGTH:
            status, body = _problem(
                400, "Bad request", "Send an Idempotency-Key header (1-255 characters)", path
            )
            await send_raw(send, status, body, [(b"content-type", PROBLEM_JSON.encode())])
            return
        chunks = []
        size = 0
        more = True
        while more:
            message: Any = await receive()
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                status, body = _problem(413, "Request body too large", "Body over 1 MiB", path)
                await send_raw(send, status, body, [(b"content-type", PROBLEM_JSON.encode())])
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        request_body = b"".join(chunks)
        fingerprint = hashlib.sha256(
            http["method"].encode() + b" " + path.encode() + b"\n" + request_body
        ).hexdigest()
        sessionmaker = scope["litestar_app"].state.sessionmaker
        decision = await self._claim(sessionmaker, actor, key, path, fingerprint)
        if decision is not None:
            status, body, headers = decision
            await send_raw(send, status, body, headers)
            return

        delivered = False

        async def replay() -> Any:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": request_body, "more_body": False}

        captured: dict[str, Any] = {"status": 500, "headers": [], "body": []}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))
            await send(message)

        try:
            await next_app(scope, replay, capture)
        finally:
            await self._settle(sessionmaker, actor, key, captured)

    @staticmethod
    async def _claim(
        sessionmaker: Any, actor: Actor, key: str, path: str, fingerprint: str
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]] | None:
        """None: go ahead (the key is ours now). Otherwise the response to send instead."""
        now = utcnow()
        async with sessionmaker() as session, session.begin():
            row = await session.scalar(
                select(IdempotencyKey)
                .where(IdempotencyKey.user_id == actor.user_id, IdempotencyKey.key == key)
                .with_for_update()
            )
            if row is None:
                session.add(
                    IdempotencyKey(
                        user_id=actor.user_id,
                        key=key,
                        method="POST",
                        path=path,
                        request_sha256=fingerprint,
                        locked_until=now + LEASE,
                        created_at=now,
                    )
                )
                return None
            if row.request_sha256 != fingerprint:
                status, body = _problem(
                    422,
                    "Idempotency key reused",
                    "This Idempotency-Key was used with another request",
                    path,
                )
                return status, body, [(b"content-type", PROBLEM_JSON.encode())]
            if row.response_status is not None:
                headers = [
                    (k.encode("latin-1"), v.encode("latin-1"))
                    for k, v in (row.response_headers or {}).items()
                ]
                headers.append((b"idempotent-replayed", b"true"))
                return row.response_status, row.response_body or b"", headers
            if row.locked_until is not None and row.locked_until > now:
                status, body = _problem(
                    409, "Conflict", "A request with this Idempotency-Key is in progress", path
                )
                return (
                    status,
                    body,
                    [(b"content-type", PROBLEM_JSON.encode()), (b"retry-after", b"1")],
                )
            row.locked_until = now + LEASE  # the first attempt died: this one takes over
            return None

    @staticmethod
    async def _settle(sessionmaker: Any, actor: Actor, key: str, captured: dict[str, Any]) -> None:
        async with sessionmaker() as session, session.begin():
            row = await session.get(IdempotencyKey, (actor.user_id, key), with_for_update=True)
            if row is None:
                return
            if captured["status"] >= 500:
                await session.delete(row)  # a server error is not an answer: let a retry run
                return
            keep = {b"content-type", b"etag", b"location"}
            row.response_status = captured["status"]
            row.response_headers = {
                k.decode("latin-1"): v.decode("latin-1")
                for k, v in captured["headers"]
                if k.lower() in keep
            }
            row.response_body = b"".join(captured["body"])
            row.locked_until = None
