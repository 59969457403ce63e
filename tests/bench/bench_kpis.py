"""KPIs for a month of 100,000 orders among 1,000,000: the service (daily aggregates plus the
records for the rest of the period) against the eight queries it replaced (kept in tests as the
reference), on the same data in the same run.

After populating, the worker's refresh sums the past days (as it would within five minutes of
the writes); the period's partial first and last days and today are still read from the records.

The data is bench_coordination's: its small and large populations. Each round computes the month
once with each, interleaved, in one session (its plans warm); the figure is the median of the
per-round ratios, new / old, with their spread. Both must agree: the figures are compared.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from service.board.kpis import STATEMENT_SETTINGS, KpiQuery, KpiService
from service.common.actor import Actor, Role
from service.db.engine import make_sessionmaker
from tests.bench.bench_coordination import (
    MONTH,
    _bench_url,
    _publish_checklists,
    _territories,
    populate_large,
    populate_small,
    refresh,
)
from tests.bench.support import migrate, recreate_database
from tests.integration.board.kpi_reference import ReferenceKpis

ROUNDS = 5


def _comparable(kpis: Any) -> Any:
    figures = msgspec.to_builtins(kpis)
    figures["overdue"].pop("as_of")
    return figures


async def rounds(url: str, actor: Actor, query: KpiQuery) -> list[tuple[float, float]]:
    """(old ms, new ms) per round, after one warm-up of each; the answers must agree."""
    engine = create_async_engine(url)
    timings = []
    try:
        async with make_sessionmaker(engine)() as session:
            # Both under the settings the service sets (no JIT), from the first statement on.
            await session.execute(text(STATEMENT_SETTINGS))
            old_service, new_service = ReferenceKpis(session, actor), KpiService(session, actor)
            old = _comparable(await old_service.compute(query))
            new = _comparable(await new_service.compute(query))
            if old != new:
                raise RuntimeError(f"the figures differ:\nold {old}\nnew {new}")
            for _ in range(ROUNDS):
                started = time.perf_counter()
                await old_service.compute(query)
                old_ms = (time.perf_counter() - started) * 1000
                started = time.perf_counter()
                await new_service.compute(query)
                timings.append((old_ms, (time.perf_counter() - started) * 1000))
    finally:
        await engine.dispose()
    return timings


def main() -> None:
    """Print old and new milliseconds and the ratio (median and spread)."""
    started = time.perf_counter()
    url = _bench_url()
    asyncio.run(recreate_database(url))
    migrate(url)
    _publish_checklists(url)
    now = datetime.now(UTC)
    month_start = (now - timedelta(days=30)).replace(minute=0, second=0, microsecond=0)
    coordinator = uuid.uuid4()
    asyncio.run(populate_small(url, coordinator, month_start))
    asyncio.run(populate_large(url, coordinator, month_start))
    print(f"populated 1,000,000 orders in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    summed = asyncio.run(refresh(url, now.date()))
    took = time.perf_counter() - started
    print(f"summed {summed} days into kpi_days in {took:.1f} s", flush=True)
    territories = asyncio.run(_territories(url))
    actor = Actor(user_id=coordinator, role=Role.COORDINATOR, territory_ids=frozenset(territories))
    query = KpiQuery(start=month_start, end=month_start + timedelta(days=30))
    timings = asyncio.run(rounds(url, actor, query))
    ratios = [new / old for old, new in timings]
    print(
        f"KPIs over a month of {MONTH:,} orders: eight queries (before)"
        f" {statistics.median(o for o, _ in timings):,.0f} ms, daily aggregates (after)"
        f" {statistics.median(n for _, n in timings):,.0f} ms (medians of {ROUNDS} rounds)"
    )
    print(
        f"after / before: {statistics.median(ratios):.3f}"
        f" (rounds {min(ratios):.3f} to {max(ratios):.3f}); same figures from both"
    )


if __name__ == "__main__":
    main()
