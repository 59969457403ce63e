"""Engine, session factory and the per-request session (one transaction per request)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from litestar.datastructures import State
from litestar.types import Scope
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from service.db.savepoints import use_one_savepoint_name
from service.settings import DatabaseSettings


def make_engine(settings: DatabaseSettings) -> AsyncEngine:
    """Create the process's engine; connections are checked before use after idling."""
    engine = create_async_engine(
        settings.url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_pre_ping=True,
        echo=settings.echo,
    )
    use_one_savepoint_name(engine)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (responses are built after it)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


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
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()
