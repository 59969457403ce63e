"""The benchmark's ceiling answers naryad's bytes, so naryad/ceiling compares equal work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.settings import Settings
from tests.bench.ceiling import Ceiling
from tests.integration.reads import golden_data
from tests.integration.reads.conftest import log_in

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def ceiling(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The ceiling app on the test database, called in process."""
    app = Ceiling(settings)
    app.pool = await asyncpg.create_pool(
        settings.database.url.replace("+asyncpg", ""), min_size=1, max_size=2
    )
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ceiling") as client:
            yield client
    finally:
        await app.pool.close()


async def test_list_pages_are_the_same_bytes(
    client: Any, ceiling: httpx.AsyncClient, golden: None
) -> None:
    headers = await log_in(client, golden_data.DISPATCHER_NAME)
    params: dict[str, str] = {"territory_id": str(golden_data.TERRITORY)}
    for _ in range(2):  # the first page, then the page after its cursor
        ours = await client.get("/api/v1/work-orders", params=params, headers=headers)
        theirs = await ceiling.get("/api/v1/work-orders", params=params, headers=headers)
        assert ours.status_code == theirs.status_code == 200
        assert theirs.content == ours.content
        params["cursor"] = ours.json()["next_cursor"]
    assert params["cursor"] is None or len(ours.json()["items"]) == 10
    phone = await log_in(client, golden_data.TECH_NAME, "ceiling-phone-list")
    ours = await client.get("/api/v1/work-orders", params={"limit": "3"}, headers=phone)
    theirs = await ceiling.get("/api/v1/work-orders", params={"limit": "3"}, headers=phone)
    assert ours.status_code == 200
    assert theirs.content == ours.content


async def test_day_bundle_is_the_same_bytes_and_etag(
    client: Any, ceiling: httpx.AsyncClient, golden: None
) -> None:
    headers = await log_in(client, golden_data.TECH_NAME, "ceiling-phone-day")
    params = {"date": golden_data.DAY.isoformat()}
    ours = await client.get("/mobile/v1/day", params=params, headers=headers)
    theirs = await ceiling.get("/mobile/v1/day", params=params, headers=headers)
    assert ours.status_code == theirs.status_code == 200
    assert theirs.content == ours.content
    assert theirs.headers["etag"] == ours.headers["etag"]
    revalidated = await ceiling.get(
        "/mobile/v1/day", params=params, headers={**headers, "If-None-Match": ours.headers["etag"]}
    )
    assert revalidated.status_code == 304


async def test_ceiling_checks_the_session_like_naryad(
    client: Any,
    ceiling: httpx.AsyncClient,
    golden: None,
    test_sessions: async_sessionmaker[AsyncSession],
) -> None:
    headers = await log_in(client, golden_data.DISPATCHER_NAME)
    assert (await ceiling.get("/api/v1/work-orders", headers=headers)).status_code == 200
    async with test_sessions() as session:
        await session.execute(
            text("UPDATE auth_sessions SET revoked_at = now() WHERE user_id = :u"),
            {"u": golden_data.DISPATCHER},
        )
        await session.commit()
    for app in (client, ceiling):
        refused = await app.get("/api/v1/work-orders", headers=headers)
        assert refused.status_code == 401
    forged = {"Authorization": headers["Authorization"][:-2] + "xx"}
    assert (await ceiling.get("/api/v1/work-orders", headers=forged)).status_code == 401
