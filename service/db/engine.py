"""Engine, session factory and the per-request session (one transaction per request)."""

from __future__ import annotations

import uuid
import weakref
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from litestar.datastructures import State
from litestar.types import Scope
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from service.db.savepoints import use_one_savepoint_name
from service.settings import DatabaseSettings


def _unique_statement_name() -> str:
    # PgBouncer may hand the next transaction another server connection: names must not clash.
    return f"__naryad_{uuid.uuid4().hex}__"


# Engines built with NARYAD_DB_PGBOUNCER=1 (see ``behind_pgbouncer``).
_BEHIND_PGBOUNCER: weakref.WeakSet[Engine] = weakref.WeakSet()


def behind_pgbouncer(engine: AsyncEngine) -> bool:
    """Whether the engine reaches PostgreSQL through PgBouncer in transaction mode.

    Then no statement may run outside a transaction: asyncpg prepares a statement and runs it
    in two round trips, and without a transaction open PgBouncer may hand the second one to
    another server connection, where the statement does not exist.
    """
    return engine.sync_engine in _BEHIND_PGBOUNCER


def make_engine(settings: DatabaseSettings) -> AsyncEngine:
    """Create the process's engine.

    No pre-ping (it cost a round trip per checkout): connections are recycled by age, and a
    request whose first statement meets a connection the server has closed retries once (see
    ``service.auth.sessions.request_session_is_live``). Behind PgBouncer in transaction mode
    (``NARYAD_DB_PGBOUNCER=1``) nothing is prepared under a reusable name or cached per
    connection, since the next transaction may run on another server connection.
    """
    connect_args: dict[str, Any] = {}
    if settings.pgbouncer:
        connect_args = {
            "statement_cache_size": 0,  # asyncpg's own cache
            "prepared_statement_cache_size": 0,  # SQLAlchemy's cache in its asyncpg adapter
            "prepared_statement_name_func": _unique_statement_name,
        }
    engine = create_async_engine(
        settings.url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_recycle=settings.pool_recycle_seconds,
        pool_pre_ping=False,
        echo=settings.echo,
        connect_args=connect_args,
    )
    use_one_savepoint_name(engine)
    if settings.pgbouncer:
        _BEHIND_PGBOUNCER.add(engine.sync_engine)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (responses are built after it)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def make_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for read-only requests: each statement runs alone, no BEGIN/COMMIT round trips.

    Behind PgBouncer they are plain transactions instead (see ``behind_pgbouncer``).
    """
    if behind_pgbouncer(engine):
        return make_sessionmaker(engine)
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"),
        expire_on_commit=False,
        autoflush=False,
    )


def make_snapshot_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose transaction reads one snapshot throughout (REPEATABLE READ)."""
    return async_sessionmaker(
        engine.execution_options(isolation_level="REPEATABLE READ"),
        expire_on_commit=False,
        autoflush=False,
    )


# Route handlers with this opt read only: their statements need no shared transaction.
READ_ONLY = "naryad_read_only"
# Route handlers with this opt read everything from one snapshot (REPEATABLE READ), which must
# be chosen before the request's first statement, the session check.
SNAPSHOT = "naryad_snapshot"
_REQUEST_SESSION = "naryad.request_session"


def open_request_session(scope: Scope, state: State, opt: Mapping[str, Any]) -> AsyncSession:
    """The request's one session, opened by authentication (its first statement is the check).

    The handler's opt picks its kind (``SNAPSHOT``, ``READ_ONLY`` for GETs, else a plain
    transaction). ``provide_db_session`` hands the same session to the handler;
    ``RequestSessionCloser`` closes it when the handler never asked for it.
    """
    maker: async_sessionmaker[AsyncSession] = state.sessionmaker
    if opt.get(SNAPSHOT):
        maker = state.snapshot_sessionmaker
    elif opt.get(READ_ONLY) and scope.get("method") in ("GET", "HEAD"):
        maker = state.read_sessionmaker
    session = maker()
    scope.setdefault("state", {})[_REQUEST_SESSION] = session
    return session


def take_request_session(scope: Scope) -> AsyncSession | None:
    """The session authentication opened, now owned by the caller (None: there is none)."""
    session = scope.get("state", {}).pop(_REQUEST_SESSION, None)
    return session if isinstance(session, AsyncSession) else None


def peek_request_session(scope: Scope) -> AsyncSession | None:
    """The session authentication opened, left in the scope for ``RequestSessionCloser``.

    A dependency resolved after the session's (a role check, say) may refuse the request before
    the session's provider runs its cleanup; the closer then still returns the connection.
    """
    session = scope.get("state", {}).get(_REQUEST_SESSION)
    return session if isinstance(session, AsyncSession) else None


async def close_request_session(scope: Scope) -> None:
    """Close the request's session if nobody took it (rolls back whatever it began)."""
    session = take_request_session(scope)
    if session is not None:
        await session.close()


_HELD_TRANSACTION = "naryad.held_transaction"


@dataclass
class HeldTransaction:
    """A request's transaction opened, and committed or rolled back, by a middleware around it.

    The idempotency middleware claims its key in this transaction and stores the response in it,
    so the work and the stored answer commit together or not at all.
    """

    session: AsyncSession
    provided: bool = False  # the handler's dependencies reached the database session
    failed: bool = False  # an exception passed through the handler


def hold_transaction(scope: Scope, session: AsyncSession) -> HeldTransaction:
    """Make ``session`` the request's session; the caller commits or rolls it back."""
    held = HeldTransaction(session)
    scope.setdefault("state", {})[_HELD_TRANSACTION] = held
    return held


def held_transaction(scope: Scope) -> HeldTransaction | None:
    """The transaction a middleware holds for this request, if any."""
    held = scope.get("state", {}).get(_HELD_TRANSACTION)
    return held if isinstance(held, HeldTransaction) else None


def release_transaction(scope: Scope) -> None:
    """The middleware is done with the request's transaction."""
    scope.get("state", {}).pop(_HELD_TRANSACTION, None)


async def provide_db_session(state: State, scope: Scope) -> AsyncIterator[AsyncSession]:
    """Yield the request's session; commit when the handler succeeded, roll back otherwise.

    This is the one place a request's transaction is committed: services only flush. When a
    middleware holds the transaction (idempotent mobile POSTs), it commits instead, after the
    response is built and before it is sent.
    """
    held = held_transaction(scope)
    if held is not None:
        # The middleware's transaction is the request's: a session authentication opened for
        # its check has done its job.
        await close_request_session(scope)
        held.provided = True
        try:
            yield held.session
        except BaseException:
            held.failed = True
            raise
        else:
            await held.session.flush()
        return
    sessionmaker: async_sessionmaker[AsyncSession] = state.sessionmaker
    async with peek_request_session(scope) or sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()
