"""Statements sent straight to a session's asyncpg connection share the session's transaction.

SQLAlchemy's adapter sends BEGIN lazily; the hot reads of ``service.db.driver`` go past it.
A plain session (every session behind PgBouncer in transaction mode, where a statement outside
a transaction may meet another server connection) must have begun; an AUTOCOMMIT read session
must not.
"""

from __future__ import annotations

import msgspec
from sqlalchemy import text

from service.db.driver import driver_connection
from service.db.engine import make_engine, make_read_sessionmaker, make_sessionmaker
from service.settings import Settings

XID = "SELECT pg_current_xact_id()::text"


async def test_a_plain_session_reads_inside_its_transaction(settings: Settings) -> None:
    engine = make_engine(settings.database)
    try:
        async with make_sessionmaker(engine)() as session:
            driver = await driver_connection(session)
            first = await driver.fetchval(XID)
            assert await driver.fetchval(XID) == first
            # The ORM's next statement runs in the same transaction, and its COMMIT ends it.
            assert (await session.execute(text(XID))).scalar_one() == first
            await session.commit()
            driver = await driver_connection(session)
            assert await driver.fetchval(XID) != first
    finally:
        await engine.dispose()


async def test_a_read_session_sends_no_begin(settings: Settings) -> None:
    engine = make_engine(settings.database)
    try:
        async with make_read_sessionmaker(engine)() as session:
            driver = await driver_connection(session)
            assert await driver.fetchval(XID) != await driver.fetchval(XID)
    finally:
        await engine.dispose()


async def test_behind_pgbouncer_a_read_session_is_one_transaction(settings: Settings) -> None:
    database = msgspec.structs.replace(settings.database, pgbouncer=True)
    engine = make_engine(database)
    try:
        async with make_read_sessionmaker(engine)() as session:
            driver = await driver_connection(session)
            assert await driver.fetchval(XID) == await driver.fetchval(XID)
    finally:
        await engine.dispose()
