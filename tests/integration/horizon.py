"""Waiting for the pull cursor's horizon to pass what a test has committed.

A pull returns a change once every transaction older than it has finished, cluster-wide
(``SyncService.pull``: the cursor is ``pg_snapshot_xmin``). Other test processes and other
databases on the same server keep their own transactions open for as long as their tests
take, so a change a test has just committed may be withheld from a pull for seconds: right
for the phones, and a race for a test that pulls at once. A test waits here first.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

HORIZON = "SELECT (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint"


async def horizon_passed(
    sessions: async_sessionmaker[AsyncSession], timeout_seconds: float = 120.0
) -> None:
    """Return once every transaction begun before the call, anywhere on the server, has ended:
    a pull after it includes every change committed before it."""
    async with sessions() as session:
        now = int(await session.scalar(text("SELECT pg_current_xact_id()::text::bigint")) or 0)
        await session.commit()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_seconds
    while True:
        async with sessions() as session:
            horizon = int(await session.scalar(text(HORIZON)) or 0)
        if horizon > now:
            return
        if loop.time() > deadline:
            raise AssertionError(f"a transaction older than {now} ran past {timeout_seconds} s")
        await asyncio.sleep(0.05)
