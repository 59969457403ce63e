"""The overdue board's first page at 1,000,000 work orders against 10,000, and the KPIs over a
month of 100,000 orders.

The KPI request is measured as production answers it: after the worker's refresh_kpi_days job
has summed the past days into kpi_days (it runs every five minutes), so only the period's partial
first and last days and today are read from the records. The same request before that refresh
(every day from the records, as on a database no worker has summed yet) is printed beside it.

History (closed, completed, cancelled orders) grows 100x between the two board measurements; the
open backlog grows far less, as it does in a real operation. The board reads open orders through
partial indexes, so its first page should cost about the same at both sizes.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from service.board.kpis import KpiQuery, KpiService
from service.board.overdue import BoardFilters, OverdueBoard
from service.common.actor import Actor, Role
from service.db.driver import driver_connection
from service.db.engine import make_sessionmaker
from service.db.kpi_days import refresh_days
from tests.bench.bench_api import _nodes
from tests.bench.support import (
    bench_database_url,
    bench_token,
    compare,
    live_server,
    migrate,
    recreate_database,
)

SMALL = 10_000
LARGE = 1_000_000
MONTH = 100_000
TECHNICIANS = 400  # 0-199 first visits of the month, 200-299 second visits, 300-399 open orders

SETUP = [
    """
    INSERT INTO territories (id, code, name, time_zone, area)
    SELECT gen_random_uuid(), 'B' || g, 'Bench ' || g, 'Asia/Almaty',
           ST_Multi(ST_MakeEnvelope(70 + g, 43, 70.9 + g, 44, 4326))
    FROM generate_series(1, 3) g
    """,
    """
    INSERT INTO customers (id, territory_id, full_name, phones, preferred_language, segment)
    SELECT gen_random_uuid(), t.id, 'Клиент ' || g, ARRAY['+77010000000'], 'ru',
           CASE WHEN g % 10 = 0 THEN 'b2b' ELSE 'b2c' END
    FROM generate_series(1, 600) g
    JOIN (SELECT id, row_number() OVER (ORDER BY code) - 1 AS rn FROM territories) t
      ON t.rn = g % 3
    """,
    """
    INSERT INTO sites (id, customer_id, territory_id, address, location)
    SELECT gen_random_uuid(), c.id, c.territory_id, 'ул. Тестовая, ' || row_number() OVER (),
           ST_SetSRID(ST_MakePoint(71.5, 43.5), 4326)::geography
    FROM customers c
    """,
    """
    CREATE TABLE bench_sites AS
    SELECT id, customer_id, territory_id, row_number() OVER (ORDER BY id) - 1 AS rn FROM sites
    """,
    """
    INSERT INTO users (id, username, password_hash, role, full_name)
    VALUES (:coordinator, 'bench-coordinator', 'x', 'coordinator', 'Координатор')
    """,
    "INSERT INTO user_territories SELECT :coordinator, id FROM territories",
    """
    INSERT INTO users (id, username, password_hash, role, full_name)
    SELECT gen_random_uuid(), 'bench-tech-' || g, 'x', 'technician', 'Монтёр ' || g
    FROM generate_series(0, :technicians - 1) g
    """,
    """
    INSERT INTO technicians (id, user_id, full_name, phone, skills, home_base)
    SELECT gen_random_uuid(), u.id, u.full_name, '+77010000000', '{repair,installation}',
           ST_SetSRID(ST_MakePoint(71.5, 43.5), 4326)::geography
    FROM users u WHERE u.username LIKE 'bench-tech-%'
    """,
    """
    CREATE TABLE bench_techs AS
    SELECT t.id, replace(u.username, 'bench-tech-', '')::int AS rn
    FROM technicians t JOIN users u ON u.id = t.user_id
    """,
    """
    INSERT INTO technician_territories
    SELECT t.id, s.id FROM technicians t CROSS JOIN territories s
    """,
]

# :first numbers the orders; an order is open when its hash falls under :open_per_mille.
ORDERS = """
INSERT INTO work_orders (id, number, type, priority, status, description, requested_services,
    required_skills, equipment, contact_phones, customer_id, site_id, territory_id,
    control_deadline, version, created_at, updated_at, created_by)
SELECT gen_random_uuid(), 'WO-B-' || lpad(n::text, 7, '0'),
    (ARRAY['installation','repair','repair','construction','meter_check'])[1 + n % 5],
    (ARRAY['low','normal','normal','high','urgent'])[1 + (n / 5) % 5],
    CASE WHEN (n::bigint * 7919) % 1000 < :open_per_mille
         THEN (ARRAY['new','scheduled','in_progress','on_hold'])[1 + n % 4]
         ELSE (ARRAY['completed','closed','closed','cancelled'])[1 + n % 4] END,
    'Заявка ' || n, '{}', '{}', '[]', '{}', s.customer_id, s.id, s.territory_id,
    CASE WHEN (n::bigint * 7919) % 1000 < :open_per_mille
         THEN now() + ((n % 150) - 120) * interval '1 hour'
         ELSE created + interval '2 days' END,
    1, created, created, :coordinator
FROM (
    SELECT g + :first AS n,
           CASE WHEN g <= :month_orders
                THEN CAST(:month_start AS timestamptz) + (g / 200) * interval '1 hour'
                     - interval '20 hours'
                ELSE now() - :spread_days * interval '1 day'
                             * ((g::bigint * 104729) % 100000) / 100000.0
                     - interval '31 days' * (CASE WHEN :month_orders > 0 THEN 1 ELSE 0 END)
           END AS created
    FROM generate_series(1, :n) g
) o
JOIN bench_sites s ON s.rn = o.n % 600
"""

# Events and a live visit for the open orders numbered after :after.
DECORATE_OPEN = [
    """
    CREATE TEMP TABLE fresh_open AS
    SELECT id, status, row_number() OVER (ORDER BY id) + :slot_offset AS slot
    FROM work_orders
    WHERE number > :after
      AND status IN ('new', 'scheduled', 'in_progress', 'on_hold')
    """,
    """
    INSERT INTO work_order_events
        (work_order_id, kind, occurred_at, actor_user_id, actor_role, data)
    SELECT o.id, k.kind, now() - interval '1 day' + k.shift, :coordinator, 'coordinator', '{}'
    FROM fresh_open o
    CROSS JOIN (VALUES ('work_order.created', interval '0'), ('visit.booked', interval '1 hour'))
         AS k(kind, shift)
    """,
    """
    INSERT INTO visits (id, work_order_id, technician_id, agreed_window, status, version,
                        created_at, updated_at)
    SELECT gen_random_uuid(), o.id, t.id,
           tstzrange(now() + interval '1 day' + (o.slot / 100) * interval '1 hour',
                     now() + interval '1 day' + (o.slot / 100 + 1) * interval '1 hour'),
           'planned', 1, now(), now()
    FROM fresh_open o JOIN bench_techs t ON t.rn = 300 + o.slot % 100
    WHERE o.status IN ('scheduled', 'in_progress')
    """,
    "DROP TABLE fresh_open",
]

# The KPI month: the first :month_orders orders of the large batch get visits, reschedules,
# clocks, ratings and some checklists.
MONTH_DATA = [
    """
    CREATE TABLE bench_month AS
    SELECT id, created_at, replace(number, 'WO-B-', '')::int - :first AS g
    FROM work_orders WHERE number > :after AND number <= :last_month
    """,
    """
    INSERT INTO visits (id, work_order_id, technician_id, agreed_window, status, arrived_at,
                        finished_at, version, created_at, updated_at)
    SELECT gen_random_uuid(), m.id, t.id,
           tstzrange(w.start, w.start + interval '1 hour'),
           CASE WHEN m.g % 25 = 0 THEN 'no_access' WHEN m.g % 20 = 0 THEN 'needs_revisit'
                WHEN m.g % 33 = 0 THEN 'cancelled' ELSE 'completed' END,
           CASE WHEN m.g % 25 = 0 OR m.g % 33 = 0 THEN NULL
                ELSE w.start + ((m.g * 37) % 90) * interval '1 minute' END,
           CASE WHEN m.g % 33 = 0 THEN NULL
                ELSE w.start + ((m.g * 37) % 90 + 45) * interval '1 minute' END,
           1, m.created_at + interval '10 minutes', now()
    FROM bench_month m
    JOIN bench_techs t ON t.rn = m.g % 200
    CROSS JOIN LATERAL (
        SELECT CAST(:month_start AS timestamptz) + (m.g / 200) * interval '1 hour' AS start
    ) w
    """,
    """
    INSERT INTO visits (id, work_order_id, technician_id, agreed_window, status, arrived_at,
                        finished_at, version, created_at, updated_at)
    SELECT gen_random_uuid(), m.id, t.id,
           tstzrange(w.start, w.start + interval '1 hour'), 'completed',
           w.start + interval '20 minutes', w.start + interval '80 minutes',
           1, m.created_at + interval '2 days', now()
    FROM bench_month m
    JOIN bench_techs t ON t.rn = 200 + (m.g / 25) % 100
    CROSS JOIN LATERAL (
        SELECT CAST(:month_start AS timestamptz) + interval '2 days'
               + (m.g / 200) * interval '1 hour' AS start
    ) w
    WHERE m.g % 25 = 0
    """,
    """
    INSERT INTO work_order_events (work_order_id, visit_id, kind, occurred_at, data)
    SELECT v.work_order_id, v.id, 'visit.rescheduled', v.created_at + interval '3 hours',
           jsonb_build_object('reason', (ARRAY['customer_request','waiting_for_parts',
               'technician_unavailable','no_access'])[1 + m.g % 4])
    FROM bench_month m JOIN visits v ON v.work_order_id = m.id
    WHERE m.g % 10 = 3
    """,
    """
    INSERT INTO sla_clocks (work_order_id, target, status, measure, target_minutes, started_at,
        due_at, stopped_at, breached_at, settled_at, paused_minutes, computed_at)
    SELECT m.id, k.target, CASE WHEN m.g % 7 = 0 THEN 'breached' ELSE 'met' END, 'business',
           k.minutes, m.created_at, m.created_at + k.minutes * interval '1 minute',
           m.created_at + k.minutes * interval '1 minute' * 0.5,
           CASE WHEN m.g % 7 = 0 THEN m.created_at + k.minutes * interval '1 minute' END,
           m.created_at + k.minutes * interval '1 minute'
               * CASE WHEN m.g % 7 = 0 THEN 1 ELSE 0.5 END,
           0, now()
    FROM bench_month m
    CROSS JOIN (VALUES ('response', 240), ('arrival', 1080), ('resolution', 1440))
        AS k(target, minutes)
    """,
    """
    INSERT INTO ratings (id, work_order_id, visit_id, score, confirmations, created_at)
    SELECT gen_random_uuid(), v.work_order_id, v.id, 1 + (m.g * 13) % 5, '{}',
           v.finished_at + interval '1 hour'
    FROM bench_month m JOIN visits v ON v.work_order_id = m.id
    WHERE m.g % 10 < 3 AND v.status = 'completed' AND v.finished_at < now() - interval '1 hour'
    """,
    """
    INSERT INTO visit_checklists (visit_id, template_key, template_version, content_hash, pinned_at)
    SELECT v.id, t.key, t.version, t.content_hash, now()
    FROM bench_month m JOIN visits v ON v.work_order_id = m.id
    JOIN checklist_templates t ON t.key = 'repair' AND t.version = 1
    WHERE m.g % 50 = 0 AND v.status <> 'cancelled'
    """,
    """
    INSERT INTO checklist_answers (visit_id, step_id, value, photo_ids, received_at)
    SELECT vc.visit_id, s->>'id', 'true'::jsonb, '{}', now()
    FROM visit_checklists vc
    JOIN checklist_templates t ON t.key = vc.template_key AND t.version = vc.template_version,
         jsonb_array_elements(t.content->'phases') p, jsonb_array_elements(p->'steps') s
    WHERE abs(hashtext(vc.visit_id::text || (s->>'id'))) % 10 <> 0
    """,
]


def _params(**values: Any) -> dict[str, Any]:
    return values


async def _run(connection: Any, statements: list[str], params: dict[str, Any]) -> None:
    for statement in statements:
        clause = text(statement)
        names = set(clause.compile().params)
        await connection.execute(clause, {k: v for k, v in params.items() if k in names})


async def _vacuum(url: str) -> None:
    target = make_url(url).set(drivername="postgresql")
    connection = await asyncpg.connect(target.render_as_string(hide_password=False))
    try:
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def populate_small(url: str, coordinator: uuid.UUID, month_start: datetime) -> None:
    """Set-up rows and the first 10,000 orders (20% open)."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("SET LOCAL synchronous_commit = off"))
            await _run(connection, SETUP, _params(coordinator=coordinator, technicians=TECHNICIANS))
            await connection.execute(
                text(ORDERS),
                _params(
                    first=0,
                    n=SMALL,
                    open_per_mille=200,
                    month_orders=0,
                    month_start=month_start,
                    spread_days=60,
                    coordinator=coordinator,
                ),
            )
            await _run(
                connection,
                DECORATE_OPEN,
                _params(after="", slot_offset=0, coordinator=coordinator),
            )
    finally:
        await engine.dispose()
    await _vacuum(url)


async def populate_large(url: str, coordinator: uuid.UUID, month_start: datetime) -> None:
    """990,000 more orders: the KPI month (100,000, with visits) and three years of history."""
    first = SMALL
    after = f"WO-B-{first:07d}"
    last_month = f"WO-B-{first + MONTH:07d}"
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("SET LOCAL synchronous_commit = off"))
            await connection.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            await connection.execute(
                text(ORDERS),
                _params(
                    first=first,
                    n=LARGE - SMALL,
                    open_per_mille=5,
                    month_orders=MONTH,
                    month_start=month_start,
                    spread_days=3 * 365,
                    coordinator=coordinator,
                ),
            )
            await _run(
                connection,
                DECORATE_OPEN,
                _params(after=after, slot_offset=100_000, coordinator=coordinator),
            )
            await _run(
                connection,
                MONTH_DATA,
                _params(first=first, after=after, last_month=last_month, month_start=month_start),
            )
    finally:
        await engine.dispose()
    await _vacuum(url)


async def board_plan(url: str, actor: Actor) -> tuple[list[str], float, float, dict[str, int]]:
    """Node types of the first page's query, its and the counts' execution times, the counts."""
    engine = create_async_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            board = OverdueBoard(session, actor)
            now = datetime.now(UTC)
            timings = []
            nodes: list[str] = []
            driver = await driver_connection(session)
            for sql, args in (
                board.page_sql(BoardFilters(), None, 50, now),
                board.counts_sql(BoardFilters(), now),
            ):
                raw = await driver.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *args)
                plan = raw if isinstance(raw, list) else json.loads(raw)
                timings.append(float(plan[0]["Execution Time"]))
                nodes = nodes or _nodes(plan[0]["Plan"])
            counts = await board.counts(BoardFilters(), now)
            open_orders = await session.scalar(
                text(
                    "SELECT count(*) FROM work_orders "
                    "WHERE status IN ('new', 'scheduled', 'in_progress', 'on_hold')"
                )
            )
            total = await session.scalar(text("SELECT count(*) FROM work_orders"))
    finally:
        await engine.dispose()
    return (
        nodes,
        timings[0],
        timings[1],
        {
            "orders": int(total or 0),
            "open": int(open_orders or 0),
            "on board": counts.total,
        },
    )


async def kpi_families(url: str, actor: Actor, query: KpiQuery) -> dict[str, float]:
    """Milliseconds per KPI family as they were (the reference queries), and of the one
    statement that replaced them; medians of three runs.

    All of them under the settings the service sets for its statement (no JIT, a larger
    work_mem), as bench_kpis measures them: with JIT on, compiling took seconds of what was
    printed as the families' cost, a figure neither the service nor bench_kpis would see.
    """
    from service.board.kpis import MONTH as ONE_STATEMENT
    from service.board.kpis import STATEMENT_SETTINGS
    from tests.integration.board import kpi_reference as kpis

    engine = create_async_engine(url)
    families = {
        "arrival": kpis.ARRIVAL,
        "outcomes": kpis.OUTCOMES,
        "resolution": kpis.RESOLUTION,
        "reschedules": kpis.RESCHEDULES,
        "checklists": kpis.CHECKLISTS,
        "deadlines": kpis.DEADLINES,
        "ratings": kpis.RATINGS,
        "overdue": kpis.OVERDUE,
        "all in one statement": ONE_STATEMENT,
    }
    result: dict[str, float] = {}
    try:
        async with make_sessionmaker(engine)() as session:
            params = KpiService(session, actor).parameters(query, datetime.now(UTC))
            await session.execute(text(STATEMENT_SETTINGS))  # for the session's transaction
            for name, statement in families.items():
                runs = []
                for _ in range(3):
                    started = time.perf_counter()
                    (await session.execute(statement, params)).all()
                    runs.append((time.perf_counter() - started) * 1000)
                result[name] = statistics.median(runs)
    finally:
        await engine.dispose()
    return result


async def latency(base: str, path: str, headers: dict[str, str], rounds: int = 5) -> float:
    """Median milliseconds of sequential requests."""
    runs = []
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        await client.get(path, headers=headers)
        for _ in range(rounds):
            started = time.perf_counter()
            response = await client.get(path, headers=headers)
            runs.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
    return statistics.median(runs)


async def refresh(url: str, today: date) -> int:
    """The worker's refresh_kpi_days job (service.jobs), every stale day at once."""
    engine = create_async_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            summed = await refresh_days(session, today)
            await session.commit()
    finally:
        await engine.dispose()
    return summed


def _bench_url() -> str:
    return bench_database_url("_coordination")


def _publish_checklists(url: str) -> None:
    import os
    import subprocess
    import sys

    from tests.bench.support import ROOT

    env = {**os.environ, "NARYAD_DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "service.cli", "checklists", "publish"],
        check=True,
        env=env,
        cwd=ROOT,
        capture_output=True,
    )


def main() -> None:
    """Print the figures."""
    started = time.perf_counter()
    url = _bench_url()
    asyncio.run(recreate_database(url))
    migrate(url)
    _publish_checklists(url)
    now = datetime.now(UTC)
    month_start = (now - timedelta(days=30)).replace(minute=0, second=0, microsecond=0)
    coordinator = uuid.uuid4()

    asyncio.run(populate_small(url, coordinator, month_start))
    print(f"populated {SMALL:,} orders in {time.perf_counter() - started:.0f} s", flush=True)
    engine_ids = asyncio.run(_territories(url))
    actor = Actor(user_id=coordinator, role=Role.COORDINATOR, territory_ids=frozenset(engine_ids))
    token = asyncio.run(bench_token(url, actor))
    headers = {"Authorization": f"Bearer {token}"}
    board = "/api/v1/coordination/overdue?limit=50"

    figures: dict[int, tuple[float, float, float]] = {}
    plans: dict[int, tuple[list[str], float, float, dict[str, int]]] = {}
    with live_server(url) as base:
        figures[SMALL] = asyncio.run(compare(base, board, "/health", headers))
    plans[SMALL] = asyncio.run(board_plan(url, actor))

    asyncio.run(populate_large(url, coordinator, month_start))
    print(f"populated {LARGE:,} orders in {time.perf_counter() - started:.0f} s", flush=True)
    month = KpiQuery(start=month_start, end=month_start + timedelta(days=30))
    kpi_path = (
        f"/api/v1/coordination/kpis?from={month.start.isoformat().replace('+', '%2B')}"
        f"&to={month.end.isoformat().replace('+', '%2B')}"
    )
    with live_server(url) as base:
        figures[LARGE] = asyncio.run(compare(base, board, "/health", headers))
        unsummed_ms = asyncio.run(latency(base, kpi_path, headers))
        refresh_started = time.perf_counter()
        summed = asyncio.run(refresh(url, now.date()))
        refresh_s = time.perf_counter() - refresh_started
        kpi_ms = asyncio.run(latency(base, kpi_path, headers))
        health_ms = asyncio.run(latency(base, "/health", headers, rounds=20))
    plans[LARGE] = asyncio.run(board_plan(url, actor))
    families = asyncio.run(kpi_families(url, actor, month))

    for size in (SMALL, LARGE):
        listed, bare, ratio = figures[size]
        nodes, page_ms, counts_ms, sizes = plans[size]
        print(
            f"board first page at {sizes['orders']:,} orders ({sizes['open']:,} open, "
            f"{sizes['on board']:,} on the board): {listed:,.0f} req/s, /health {bare:,.0f} req/s, "
            f"ratio {ratio:.3f}; page query {page_ms:.2f} ms, counts query {counts_ms:.2f} ms"
        )
    small_ratio, large_ratio = figures[SMALL][2], figures[LARGE][2]
    print(
        f"board 1M vs 10k (each as a share of /health on the same server): "
        f"{large_ratio / small_ratio:.2f} (1.00 = no slower with 100x the orders)"
    )
    nodes = plans[LARGE][0]
    seq = any(n.startswith("Seq Scan on work_orders") for n in nodes)
    print(
        f"plan [board first page at 1M]: {' > '.join(nodes)}{'  << SEQUENTIAL SCAN' if seq else ''}"
    )
    print(
        f"KPIs over a month of {MONTH:,} orders, as in production (the worker's "
        f"refresh_kpi_days summed {summed} past days into kpi_days in {refresh_s:.1f} s): "
        f"{kpi_ms:,.0f} ms per request ({kpi_ms / health_ms:,.0f}x a bare /health at "
        f"{health_ms:.1f} ms)"
    )
    print(
        f"KPIs over the same month before any refresh (every day from the records): "
        f"{unsummed_ms:,.0f} ms per request ({unsummed_ms / kpi_ms:,.1f}x the summed figure)"
    )
    print("KPI families (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in families.items()))


async def _territories(url: str) -> list[uuid.UUID]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text("SELECT id FROM territories"))).scalars())
    finally:
        await engine.dispose()


if __name__ == "__main__":
    main()
