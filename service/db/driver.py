"""The asyncpg connection under a request's session, for the reads every request makes.

The session check, the work-order list and the day bundle run on every request of the phones
and the consoles. Through SQLAlchemy each statement paid for building, cache-key generation,
a greenlet switch, the ORM execution layer and result wrapping: more Python time than the
round trip itself (profiled under wrk: a fifth of the list's CPU). These reads therefore send
fixed SQL with positional parameters straight to the asyncpg connection the request's session
has checked out. It is the same connection, in the same transaction when the session has one
(a read-only session has none), so "one session per request" holds. Behind PgBouncer the
engine configures asyncpg itself not to keep prepared statements, which covers these too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

# What asyncpg raises on a connection the server has closed (a restart, a failover, an idle
# timeout, pg_terminate_backend): the connection is dropped from the pool and the statement,
# the request's first, is sent again on a fresh one.
DISCONNECTED = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    # The server's FATAL notice arriving on an idle connection leaves its protocol in a state
    # no statement can start from ("cannot switch to state ..."): as good as closed.
    asyncpg.exceptions.InternalClientError,
    ConnectionError,
)


async def driver_connection(session: AsyncSession) -> asyncpg.Connection[Any]:
    """The asyncpg connection of the session (checked out on first use), its transaction begun.

    SQLAlchemy's asyncpg adapter sends BEGIN lazily, before its first statement, unless the
    session is AUTOCOMMIT. Statements sent past it must find the same state: a plain or
    REPEATABLE READ session (a write, a pull's snapshot, every session behind PgBouncer, where
    no statement may run outside a transaction) has its transaction begun here; an AUTOCOMMIT
    read session has none, as before.
    """
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    adapter: Any = raw.dbapi_connection
    if adapter is not None and getattr(adapter, "_transaction", True) is None:
        # The adapter's own start (it skips AUTOCOMMIT) so its COMMIT/ROLLBACK end it.
        await adapter._start_transaction()
    driver: asyncpg.Connection[Any] = raw.driver_connection
    return driver


async def _fresh(session: AsyncSession) -> None:
    """Drop the session's pooled connection: the server has closed it."""
    connection = await session.connection()
    await connection.invalidate()
    await session.rollback()


async def first_fetchval(session: AsyncSession, sql: str, *args: Any) -> Any:
    """``fetchval`` as the first statement of a request's session (see ``retry_first``)."""
    return await retry_first(
        lambda: driver_connection(session),
        lambda: _fresh(session),
        _pool_capacity(session),
        sql,
        *args,
    )


async def retry_first(
    connect: Callable[[], Awaitable[asyncpg.Connection[Any]]],
    drop: Callable[[], Awaitable[None]],
    capacity: int,
    sql: str,
    *args: Any,
) -> Any:
    """``fetchval`` as the first statement of a request, sent again on a closed connection.

    ``connect`` gives the request's connection (checked out on first use), ``drop`` discards
    it so that the next ``connect`` checks out another. Nothing ran before the statement, so
    sending it again on another connection is safe (there is no pre-ping: connections are
    recycled by age instead). After a restart every pooled connection is dead: each is dropped
    in turn, at most as many as the pool can hold (``capacity``).
    """
    attempts = 1 + capacity
    for attempt in range(attempts):
        try:
            driver = await connect()
            if driver.is_closed():
                raise asyncpg.exceptions.ConnectionDoesNotExistError("closed")
            return await driver.fetchval(sql, *args)
        except DISCONNECTED:
            if attempt == attempts - 1:
                raise
            await drop()
    raise AssertionError("unreachable")  # pragma: no cover


def _pool_capacity(session: AsyncSession) -> int:
    """How many connections the session's pool may hold (pool size plus overflow)."""
    return pool_capacity(getattr(session.bind, "pool", None))


def pool_capacity(pool: Any) -> int:
    """How many connections a pool may hold (pool size plus overflow; 5 if it cannot say)."""
    size = getattr(pool, "size", None)
    overflow = getattr(pool, "_max_overflow", 0)
    return (size() if callable(size) else 5) + max(int(overflow), 0)
