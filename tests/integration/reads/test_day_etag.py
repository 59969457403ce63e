"""The day bundle's ETag (a version vector) changes with everything the bundle shows, only then."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.integration.reads import golden_data
from tests.integration.reads.conftest import log_in

pytestmark = pytest.mark.asyncio

ORDER = "00000000-0000-4000-8002-000000000001"  # the order of visit 1, on the golden day
SITE = "00000000-0000-4000-8001-000000000002"  # that order's site
# Each change touches one thing the phone shows; each is undone after its check.
CHANGES = [
    (
        "UPDATE work_orders SET description = description || '!' WHERE id = :order",
        "UPDATE work_orders SET description = rtrim(description, '!') WHERE id = :order",
    ),
    (
        "UPDATE sites SET access_notes = 'Новый код' WHERE id = :site",
        "UPDATE sites SET access_notes = 'Код домофона 2' WHERE id = :site",
    ),
    (
        "UPDATE customers SET full_name = 'Иван' WHERE id = :customer",
        "UPDATE customers SET full_name = 'Нұрланова Әлия' WHERE id = :customer",
    ),
    (
        "UPDATE visits SET planned_start = now() WHERE work_order_id = :order",
        "UPDATE visits SET planned_start = NULL WHERE work_order_id = :order",
    ),
]


async def execute(sessions: async_sessionmaker[AsyncSession], statement: str) -> None:
    """Run one statement on the fixed data and commit it."""
    async with sessions() as session:
        await session.execute(
            text(statement),
            {"order": ORDER, "site": SITE, "customer": golden_data.CUSTOMER},
        )
        await session.commit()


async def test_etag_follows_the_content(
    client: Any, golden: None, test_sessions: async_sessionmaker[AsyncSession]
) -> None:
    headers = await log_in(client, golden_data.TECH_NAME, "etag-phone")
    params = {"date": golden_data.DAY.isoformat()}

    async def fetch(etag: str | None = None) -> Any:
        extra = {"If-None-Match": etag} if etag else {}
        return await client.get("/mobile/v1/day", params=params, headers={**headers, **extra})

    first = await fetch()
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert (await fetch(etag)).status_code == 304
    other_day = await client.get("/mobile/v1/day", params={"date": "2031-03-05"}, headers=headers)
    assert other_day.headers["etag"] != etag
    for change, undo in CHANGES:
        await execute(test_sessions, change)
        changed = await fetch(etag)
        assert changed.status_code == 200, change
        assert changed.headers["etag"] != etag
        assert changed.json()["etag"] == changed.headers["etag"]
        assert changed.content != first.content
        await execute(test_sessions, undo)
        etag = (await fetch()).headers["etag"]
    assert (await fetch(etag)).status_code == 304
    assert (await fetch()).content == first.content  # every change was undone
