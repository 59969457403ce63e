"""The queue's search by phone, name and address is answered by indexes (migration 0025).

With a handful of rows PostgreSQL rightly prefers reading the table, so the plan is asked
with sequential scans priced out: what is checked is that each way of matching has an index
the planner can use, which is what keeps the search an index scan at 100,000 orders (the
figures are in `make bench`, bench_dispatch_queue).

Whole-index scans are priced out as well: once the tables had statistics (autovacuum's, during
the suite) the planner read tiny tables through their primary keys in key order, filtering
rows, instead of through the search indexes, and the test failed depending on what ran
before. The tables are analyzed here, so the plan never depends on that; with only bitmap
scans left (the only way GIN indexes are read anyway), each branch starts from its index.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from service.common.actor import Role
from service.staff.queue import QueueFilters, QueueService
from tests.integration.builders import Builder

pytestmark = pytest.mark.asyncio


async def _plan(build: Builder, q: str) -> str:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    async with build.sessionmaker() as session:
        stmt = QueueService(session, dispatcher.actor).query(QueueFilters(q=q), None, 50)
        sql = str(
            stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
        )
        await session.execute(text("ANALYZE customers, sites, work_orders"))
        for scan in ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
            await session.execute(text(f"SET LOCAL {scan} = off"))
        rows = await session.execute(text("EXPLAIN " + sql))
        return "\n".join(r[0] for r in rows)


async def test_a_phone_search_reads_the_phone_trigram_indexes(build: Builder) -> None:
    plan = await _plan(build, "+7 701 123")
    assert "ix_customers_phones_trgm" in plan
    assert "ix_work_orders_contact_phones_trgm" in plan
    assert "ix_customers_name_trgm" in plan


async def test_a_word_search_reads_the_name_address_and_text_indexes(build: Builder) -> None:
    plan = await _plan(build, "Абая")
    assert "ix_customers_name_trgm" in plan
    assert "ix_sites_address_trgm" in plan
    assert "ix_work_orders_search" in plan
    assert "phones_trgm" not in plan  # not a phone: the phone indexes are not read at all
