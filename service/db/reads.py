"""Raw reads: a read-only request's one pooled connection, without an ORM session around it.

The work-order list and the day bundle are the requests phones and consoles make most, and
every statement they send is fixed SQL on the asyncpg connection (``service.db.driver``). Even
then, the ``AsyncSession`` they were sent through cost more Python than their SQL: its
transaction bookkeeping on first use, a greenlet hop per call, the commit and close at the end
(profiled under wrk: a tenth of the list's CPU), and the handler's two dependencies (session and
actor) were resolved in a task group of their own.

A route with ``RAW_READS`` in its opt therefore gets ``RequestReads`` instead: authentication
checks the token's session on a connection checked out of the same pool (the check is still
the request's first statement, retried on a connection the server has closed), the handler's
reads use that connection, and ``RequestSessionCloser`` returns it when the response is sent.
No BEGIN/COMMIT (every statement reads alone, as in the read-only sessions), except behind
PgBouncer in transaction mode, where no statement may run outside a transaction: there the
connection's reads share one, ended before it goes back to the pool.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar.di import NamedDependency
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.engine.interfaces import PoolProxiedConnection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from service.common.actor import Actor
from service.db.driver import DISCONNECTED, pool_capacity, retry_first
from service.db.engine import behind_pgbouncer, close_request_session

# Route handlers with this opt (GETs whose reads are all raw SQL) get RequestReads.
RAW_READS = "naryad_raw_reads"
_REQUEST_READS = "naryad.request_reads"


class RequestReads:
    """The request's pooled connection (checked out at its first statement) and its caller."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.actor: Actor | None = None  # set once authentication has checked the session
        self._pooled: PoolProxiedConnection | None = None
        self._transaction: Any = None  # behind PgBouncer only

    @property
    def checked_actor(self) -> Actor:
        """The caller whose session the request's first statement found live."""
        if self.actor is None:
            raise NotAuthorizedException("Authentication required")
        return self.actor

    async def connection(self) -> asyncpg.Connection[Any]:
        """The asyncpg connection, checked out of the engine's pool on first use."""
        if self._pooled is None:
            self._pooled = await self.engine.raw_connection()
        driver: asyncpg.Connection[Any] = self._pooled.driver_connection
        if self._transaction is None and behind_pgbouncer(self.engine):
            self._transaction = driver.transaction(readonly=True)
            await self._transaction.start()
        return driver

    async def first_fetchval(self, sql: str, *args: Any) -> Any:
        """``fetchval`` as the request's first statement, sent again on a closed connection
        (``service.db.driver.retry_first``, as for a session's first statement)."""
        return await retry_first(
            self.connection, self._drop, pool_capacity(self.engine.pool), sql, *args
        )

    async def _drop(self) -> None:
        """Discard the connection the server closed; the next use checks out another."""
        pooled, self._pooled, self._transaction = self._pooled, None, None
        if pooled is not None:
            await greenlet_spawn(pooled.invalidate)

    async def close(self) -> None:
        """End the reads' transaction (PgBouncer) and return the connection to the pool."""
        pooled, self._pooled = self._pooled, None
        if pooled is None:
            return
        try:
            if self._transaction is not None:
                transaction, self._transaction = self._transaction, None
                await transaction.rollback()  # it only read
        except DISCONNECTED:
            await greenlet_spawn(pooled.invalidate)
            return
        await greenlet_spawn(pooled.close)


# A handler's parameter of this name and type gets the request's RequestReads.
Reads = NamedDependency[RequestReads]


def wants_raw_reads(scope: Scope, opt: Any) -> bool:
    """Whether the route reads raw (``RAW_READS``) and the request is a GET or HEAD."""
    return bool(opt.get(RAW_READS)) and scope.get("method") in ("GET", "HEAD")


def open_request_reads(scope: Scope, engine: AsyncEngine) -> RequestReads:
    """The request's RequestReads, kept in the scope until ``close_request_reads``."""
    reads = RequestReads(engine)
    scope.setdefault("state", {})[_REQUEST_READS] = reads
    return reads


def request_reads(scope: Scope) -> RequestReads | None:
    """The request's RequestReads, if authentication opened them."""
    reads = scope.get("state", {}).get(_REQUEST_READS)
    return reads if isinstance(reads, RequestReads) else None


async def provide_reads(scope: Scope) -> RequestReads:
    """The ``reads`` dependency of a RAW_READS route: the connection and the checked caller."""
    reads = request_reads(scope)
    if reads is None or reads.actor is None:
        # A RAW_READS route outside bearer authentication: a mistake in the route, not the call.
        raise NotAuthorizedException("Authentication required")
    return reads


async def close_request_reads(scope: Scope) -> None:
    """Return the request's connection to the pool (nothing to do if none was opened)."""
    reads = scope.get("state", {}).pop(_REQUEST_READS, None)
    if isinstance(reads, RequestReads):
        await reads.close()


class RequestSessionCloser(ASGIMiddleware):
    """Closes a session, or returns the raw reads' connection, that authentication opened for
    the request, once the handler is done (whether or not it used them)."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Run the request; then close what it left open."""
        try:
            await next_app(scope, receive, send)
        finally:
            try:
                await close_request_session(scope)
            finally:
                await close_request_reads(scope)
