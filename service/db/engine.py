"""Engine, session factory and the per-request session (one transaction per request)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from litestar.datastructures import State
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from service.settings import DatabaseSettings


def make_engine(settings: DatabaseSettings) -> AsyncEngine:
    """Create the process's engine; connections are checked before use after idling."""
    return create_async_engine(
        settings.url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_pre_ping=True,
        echo=settings.echo,
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (responses are built after it)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def provide_db_session(state: State) -> AsyncIterator[AsyncSession]:
    """Yield the request's session; commit when the handler succeeded, roll back otherwise.

    This is the one place a request's transaction is committed: services only flush.
    """
    sessionmaker: async_sessionmaker[AsyncSession] = state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()
