"""Fixtures of the read-path tests: the fixed data set and logins of its people."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.integration.reads import golden_data


async def log_in(client: Any, username: str, device_id: str | None = None) -> dict[str, str]:
    """Bearer headers of a fresh login."""
    body = {"username": username, "password": golden_data.PASSWORD}
    if device_id:
        body |= {"device_id": device_id, "app_version": "2.3.1"}
    response = await client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
async def golden(client: Any, test_sessions: async_sessionmaker[AsyncSession]) -> None:
    """The fixed rows in the test database."""
    async with test_sessions() as session:
        await golden_data.insert(session)
        await session.commit()
