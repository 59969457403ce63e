"""Pool sizing per process, PgBouncer transaction mode, and the gzip level."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from service.db.engine import make_engine
from service.settings import Settings, SettingsError, load_settings


def test_defaults_let_eight_processes_share_a_hundred_connections() -> None:
    database = load_settings({}).database
    assert 8 * (database.pool_size + database.max_overflow) <= 80
    assert database.pgbouncer is False
    engine = make_engine(database)
    pool: Any = engine.sync_engine.pool
    assert pool.size() == database.pool_size
    assert pool._pre_ping is False  # no round trip per checkout
    assert pool._recycle == database.pool_recycle_seconds


def test_gzip_level_is_low_by_default_and_bounded() -> None:
    assert load_settings({}).server.gzip_level == 1
    assert load_settings({"NARYAD_GZIP_LEVEL": "0"}).server.gzip_level == 0
    with pytest.raises(SettingsError, match="NARYAD_GZIP_LEVEL"):
        load_settings({"NARYAD_GZIP_LEVEL": "10"})


@pytest.mark.asyncio
async def test_pgbouncer_mode_prepares_nothing_under_a_reused_name(settings: Settings) -> None:
    database = load_settings(
        {"NARYAD_DATABASE_URL": settings.database.url, "NARYAD_DB_PGBOUNCER": "1"}
    ).database
    assert database.pgbouncer
    engine = make_engine(database)
    try:
        async with engine.connect() as connection:
            for _ in range(3):
                assert (await connection.execute(text("SELECT 1 + 1"))).scalar() == 2
            names = (
                (await connection.execute(text("SELECT name FROM pg_prepared_statements")))
                .scalars()
                .all()
            )
    finally:
        await engine.dispose()
    # Only the statement reading the list is prepared at that moment, under a fresh unique
    # name: nothing is kept for later, nothing can collide when a transaction pooler hands the
    # next transaction another server connection.
    ours = [name for name in names if name.startswith("__naryad_")]
    assert len(ours) == 1


@pytest.mark.asyncio
async def test_list_is_gzipped_at_the_configured_level(client: Any, golden: None) -> None:
    from tests.integration.reads import golden_data
    from tests.integration.reads.conftest import log_in

    headers = await log_in(client, golden_data.DISPATCHER_NAME)
    response = await client.get(
        "/api/v1/work-orders",
        params={"territory_id": str(golden_data.TERRITORY)},
        headers={**headers, "Accept-Encoding": "gzip"},
    )
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert len(response.json()["items"]) == 50


@pytest.mark.asyncio
async def test_pull_reads_one_snapshot(client: Any, settings: Settings) -> None:
    from sqlalchemy.ext.asyncio import AsyncSession

    from service.db.engine import SNAPSHOT, make_snapshot_sessionmaker, open_request_session

    # The route is marked, so authentication opens its session at REPEATABLE READ.
    pull = next(
        route
        for route in client.app.routes
        if route.path == "/mobile/v1/sync/pull"  # type: ignore[union-attr]
    )
    handler = next(
        h
        for h in pull.route_handlers  # type: ignore[union-attr]
        if "GET" in h.http_methods
    )
    assert handler.opt.get(SNAPSHOT)
    engine = make_engine(settings.database)
    try:

        class State:
            sessionmaker = None  # not to be chosen
            snapshot_sessionmaker = make_snapshot_sessionmaker(engine)

        scope: dict[str, Any] = {"method": "GET"}
        session: AsyncSession = open_request_session(scope, State(), handler.opt)  # type: ignore[arg-type]
        async with session:
            level = await session.scalar(text("SELECT current_setting('transaction_isolation')"))
        assert level == "repeatable read"
    finally:
        await engine.dispose()
