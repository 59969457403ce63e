"""Integration fixtures: a data builder with its own engine.

The test client serves the app on its own event loop, so tests never borrow the app's pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from service.db.engine import make_sessionmaker
from service.settings import Settings
from tests.integration.builders import Builder


@pytest.fixture(scope="session")
async def test_sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions for arranging and checking data, separate from the app's."""
    engine = create_async_engine(settings.database.url, pool_size=5)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def web(client: Any) -> AsyncIterator[Any]:
    """The app's client as a browser the staff pages see: no cookies, redirects not followed.

    The jar is emptied before and after (page sessions must not leak across tests), and the
    redirects are left to the test (they are what the sign-in and the forms answer).
    """
    client.cookies.clear()
    follow = client.follow_redirects
    client.follow_redirects = False
    yield client
    client.follow_redirects = follow
    client.cookies.clear()


@pytest.fixture
async def build(
    client: object, settings: Settings, test_sessions: async_sessionmaker[AsyncSession]
) -> Builder:
    """A data builder (the client fixture has started the app)."""
    return Builder(sessionmaker=test_sessions, settings=settings)
