"""Guarantees the database itself gives: no double booking, append-only audit, schema = models."""

from __future__ import annotations

import asyncio
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.services import record, verify_chain
from service.common.actor import Role
from service.db.base import Base
from service.db.migrate import include_name, include_object
from service.db.models import AuditEntry, Visit
from service.scheduling.services import _lost_to_overlap
from tests.integration.builders import Builder

pytestmark = pytest.mark.asyncio


async def test_two_concurrent_overlapping_bookings_one_wins(build: Builder) -> None:
    area = await build.area()
    tech = await build.person(Role.TECHNICIAN, area.territory)
    assert tech.technician is not None
    first, second = await build.order(area), await build.order(area)
    start = datetime(2031, 3, 2, 4, 0, tzinfo=UTC)
    barrier = asyncio.Barrier(2)

    async def book(order_id: Any, offset_minutes: int) -> str:
        async with build.sessionmaker() as session:
            window_start = start + timedelta(minutes=offset_minutes)
            session.add(
                Visit(
                    work_order_id=order_id,
                    technician_id=tech.technician.id,  # type: ignore[union-attr]
                    agreed_window=Range(window_start, window_start + timedelta(hours=2)),
                )
            )
            await barrier.wait()  # both transactions insert at the same moment
            try:
                await session.commit()
            except DBAPIError as exc:
                # Refused by the constraint, or (both checking at once) by deadlock detection.
                return "refused" if _lost_to_overlap(exc) else repr(exc)
            return "booked"

    outcomes = await asyncio.gather(book(first.id, 0), book(second.id, 90))
    assert sorted(outcomes) == ["booked", "refused"]
    assert await build.count(Visit, Visit.technician_id == tech.technician.id) == 1


async def test_a_deadlock_between_overlapping_inserts_counts_as_lost_to_overlap(
    build: Builder,
) -> None:
    # Forced: A holds its row while B's check waits on it; A then inserts a row that overlaps
    # B's and waits on B. PostgreSQL fails one of them; the service reads that as an overlap.
    area = await build.area()
    tech = await build.person(Role.TECHNICIAN, area.territory)
    assert tech.technician is not None
    orders = [await build.order(area) for _ in range(4)]
    start = datetime(2031, 5, 4, 4, 0, tzinfo=UTC)

    def visit(order: Any, minutes: int) -> Visit:
        begin = start + timedelta(minutes=minutes)
        return Visit(
            work_order_id=order.id,
            technician_id=tech.technician.id,  # type: ignore[union-attr]
            agreed_window=Range(begin, begin + timedelta(minutes=30)),
        )

    async def flush(session: AsyncSession) -> DBAPIError | None:
        try:
            await session.flush()
        except DBAPIError as exc:
            await session.rollback()  # the victim lets the other one go on
            return exc
        return None

    async with build.sessionmaker() as a, build.sessionmaker() as b:
        a.add(visit(orders[0], 0))
        await a.flush()
        b.add(visit(orders[1], 60))
        await b.flush()  # no overlap with A's row
        b.add(visit(orders[2], 0))  # overlaps A's row: B's check waits for A
        waiting = asyncio.create_task(flush(b))
        await asyncio.sleep(0.3)
        a.add(visit(orders[3], 60))  # overlaps B's first row: A waits for B
        errors = [e for e in await asyncio.gather(flush(a), waiting) if e is not None]
        await a.rollback()
        await b.rollback()

    assert len(errors) == 1
    assert getattr(errors[0].orig, "sqlstate", None) == "40P01"
    assert _lost_to_overlap(errors[0])


async def test_adjacent_and_cancelled_windows_do_not_conflict(build: Builder) -> None:
    area = await build.area()
    tech = await build.person(Role.TECHNICIAN, area.territory)
    assert tech.technician is not None
    start = datetime(2031, 4, 1, 4, 0, tzinfo=UTC)
    await build.visit(await build.order(area), tech.technician, start=start)
    # [) bounds: a window starting where the previous one ends does not overlap it.
    await build.visit(await build.order(area), tech.technician, start=start + timedelta(hours=2))
    await build.visit(
        await build.order(area),
        tech.technician,
        start=start + timedelta(hours=1),
        status="cancelled",
    )
    with pytest.raises(IntegrityError, match="ex_visits_technician_no_overlap"):
        await build.visit(
            await build.order(area), tech.technician, start=start + timedelta(hours=1)
        )


async def test_one_live_visit_per_order(build: Builder) -> None:
    area = await build.area()
    first = await build.person(Role.TECHNICIAN, area.territory)
    second = await build.person(Role.TECHNICIAN, area.territory)
    assert first.technician is not None
    assert second.technician is not None
    order = await build.order(area)
    start = datetime(2031, 5, 1, 4, 0, tzinfo=UTC)
    await build.visit(order, first.technician, start=start, status="completed")
    await build.visit(order, first.technician, start=start + timedelta(days=1))
    with pytest.raises(IntegrityError, match="uq_visits_one_live_per_order"):
        await build.visit(order, second.technician, start=start + timedelta(days=2))


async def test_audit_log_is_append_only_and_chained(build: Builder) -> None:
    async with build.sessionmaker() as session:
        entry = await record(session, None, "test.appended", "test", "1", after={"n": 1})
        await session.commit()
    for statement in (
        "UPDATE audit_log SET action = 'forged' WHERE id = :id",
        "DELETE FROM audit_log WHERE id = :id",
    ):
        async with build.sessionmaker() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement), {"id": entry.id})
    async with build.sessionmaker() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(text("TRUNCATE audit_log"))
    async with build.sessionmaker() as session:
        report = await verify_chain(session)
    assert report.intact
    assert report.entries == await build.count(AuditEntry)


async def test_concurrent_appends_never_fork_the_chain(build: Builder) -> None:
    async def append(n: int) -> None:
        async with build.sessionmaker() as session:
            await record(session, None, "test.concurrent", "test", str(n))
            await session.commit()

    await asyncio.gather(*(append(n) for n in range(8)))
    async with build.sessionmaker() as session:
        assert (await verify_chain(session)).intact


async def test_migrations_match_the_models(build: Builder) -> None:
    async with build.sessionmaker() as session:
        connection = await session.connection()

        def diff(sync_connection: Any) -> list[Any]:
            context = MigrationContext.configure(
                sync_connection,
                opts={
                    "include_name": include_name,
                    "include_object": include_object,
                    "compare_type": True,
                },
            )
            # Every warning is an error here: a warning means a part was not compared (an
            # index expression with its operator class inside, a column of an unknown type).
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                return compare_metadata(context, Base.metadata)

        assert await connection.run_sync(diff) == []


async def test_the_comparison_sees_the_phone_trigram_indexes(fresh_build: Builder) -> None:
    """The expression indexes are compared, not skipped: one that drifted shows up as a diff.

    On a database of its own, the customers' phone index is rebuilt over another expression.
    """
    async with fresh_build.sessionmaker() as session:
        await session.execute(text("DROP INDEX ix_customers_phones_trgm"))
        await session.execute(
            text(
                "CREATE INDEX ix_customers_phones_trgm ON customers "
                "USING gin (lower(full_name) gin_trgm_ops)"
            )
        )
        await session.commit()
        connection = await session.connection()

        def diff(sync_connection: Any) -> list[Any]:
            context = MigrationContext.configure(
                sync_connection,
                opts={"include_name": include_name, "include_object": include_object},
            )
            return compare_metadata(context, Base.metadata)

        changes = await connection.run_sync(diff)
    assert {(c[0], c[1].name) for c in changes} == {
        ("remove_index", "ix_customers_phones_trgm"),
        ("add_index", "ix_customers_phones_trgm"),
    }
