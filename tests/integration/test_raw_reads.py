"""Raw reads (service.db.reads): the list's and the day's one pooled connection, no session.

Each request's connection goes back to the pool whatever the answer (200, 401 after the session
was revoked, 403 for a wrong role, 4xx for bad input); statements run alone (no BEGIN), except
behind PgBouncer, where the reads share one transaction that ends before the connection returns;
a connection the server has closed is replaced at the request's first statement.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
from litestar import Litestar
from sqlalchemy import update

from service.common.actor import Role
from service.db.engine import make_engine
from service.db.models import AuthSession
from service.db.reads import RequestReads
from service.settings import Settings
from tests.integration.builders import Builder

XID = "SELECT pg_current_xact_id()::text"


async def test_every_answer_returns_the_connection_to_the_pool(
    app: Litestar, client: Any, build: Builder
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    technician = await build.person(Role.TECHNICIAN, area.territory)
    pool = app.state.engine.pool
    capacity = pool.size() + pool._max_overflow
    for _ in range(2 * capacity + 1):  # more than the pool holds: each request gave one back
        listed = await client.get("/api/v1/work-orders", headers=dispatcher.headers)
        assert listed.status_code == 200, listed.text
    bad = await client.get("/api/v1/work-orders?cursor=not-a-cursor", headers=dispatcher.headers)
    assert 400 <= bad.status_code < 500
    assert bad.headers["content-type"].startswith("application/problem+json")
    wrong_role = await client.get("/mobile/v1/day", headers=dispatcher.headers)
    assert wrong_role.status_code == 403
    no_device = await client.get("/mobile/v1/day", headers=technician.headers)
    assert no_device.status_code == 401  # a technician's token without a device
    async with build.sessionmaker() as session:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.id == dispatcher.actor.session)
            .values(revoked_at=datetime.now(UTC))
        )
        await session.commit()
    revoked = await client.get("/api/v1/work-orders", headers=dispatcher.headers)
    assert revoked.status_code == 401
    assert pool.checkedout() == 0


async def test_raw_reads_send_no_begin(settings: Settings) -> None:
    engine = make_engine(settings.database)
    try:
        reads = RequestReads(engine)
        connection = await reads.connection()
        assert await connection.fetchval(XID) != await connection.fetchval(XID)
        await reads.close()
        assert engine.pool.checkedout() == 0
    finally:
        await engine.dispose()


async def test_behind_pgbouncer_raw_reads_are_one_transaction_ended_before_checkin(
    settings: Settings,
) -> None:
    engine = make_engine(msgspec.structs.replace(settings.database, pgbouncer=True))
    try:
        reads = RequestReads(engine)
        connection = await reads.connection()
        assert await connection.fetchval(XID) == await connection.fetchval(XID)
        await reads.close()
        assert not connection.is_in_transaction()
        assert engine.pool.checkedout() == 0
    finally:
        await engine.dispose()


async def test_a_connection_the_server_closed_is_replaced_at_the_first_statement(
    settings: Settings,
) -> None:
    engine = make_engine(settings.database)
    try:
        warm = RequestReads(engine)
        pid = await warm.first_fetchval("SELECT pg_backend_pid()")
        await warm.close()  # back in the pool, where nothing pings it
        other = await asyncpg.connect(settings.database.url.replace("+asyncpg", ""))
        try:
            assert await other.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await other.close()
        reads = RequestReads(engine)
        assert await reads.first_fetchval("SELECT 1") == 1
        assert await reads.first_fetchval("SELECT pg_backend_pid()") != pid
        await reads.close()
        assert engine.pool.checkedout() == 0
    finally:
        await engine.dispose()
