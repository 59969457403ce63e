"""The coordinators' desk (/coordinate) at 1,000,000 work orders and 10,000 escalations.

The orders are the overdue board's large data set (tests/bench/bench_coordination.py: three
territories, 1,000,000 orders of which about 7,000 are open and 5,600 overdue, three years of
history and a KPI month). On top of it: distinct customer phones, a second coordinator on duty
for one territory (so "mine" is not everything), a tenth of the overdue orders taken or handed
over, and 10,000 unacknowledged escalations addressed to dispatchers, coordinators and
supervisors. A coordinator signs in through the staff form; the desk's first page ("mine", the
default), everyone's, and a search by part of a phone are measured with wrk in interleaved
rounds against /health on the same server (tests/bench/support.py), and the plans of the
list's query are printed with their execution times.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from service.auth.passwords import hash_password
from service.common.actor import Actor, Role
from service.db.engine import make_sessionmaker
from service.staff.coordinate import CoordinatorWorkspace, WorkspaceFilters, _bind
from tests.bench.bench_api import _nodes
from tests.bench.bench_coordination import (
    _publish_checklists,
    _territories,
    _vacuum,
    populate_large,
    populate_small,
)
from tests.bench.bench_dispatch_board import PASSWORD, sign_in
from tests.bench.support import bench_database_url, compare, live_server, migrate, recreate_database

ESCALATIONS = 10_000
# A customer's phone is +7701 and seven digits; the search asks for the seven digits of a
# customer with an overdue order (which one depends on the random ids of the data set).
PHONE_OF_OVERDUE = """
    SELECT right(c.phones[1], 7) FROM work_orders wo JOIN customers c ON c.id = wo.customer_id
    WHERE wo.status IN ('new', 'scheduled', 'in_progress', 'on_hold')
      AND wo.control_deadline < now()
    ORDER BY wo.number LIMIT 1
"""

DESK = [
    # Every customer a phone of their own; every fifth order its own contact phone.
    """
    UPDATE customers
    SET phones = ARRAY['+7701' || lpad(replace(full_name, 'Клиент ', ''), 7, '0')]
    """,
    """
    UPDATE work_orders SET contact_phones = ARRAY['+7702' || right(number, 7)]
    WHERE right(number, 1) IN ('0', '5')
    """,
    # Айгерим sorts before Координатор: she is on duty for the third territory.
    """
    INSERT INTO users (id, username, password_hash, role, full_name)
    VALUES (:colleague, 'bench-coordinator-2', 'x', 'coordinator', 'Айгерим Бенч'),
           (gen_random_uuid(), 'bench-supervisor', 'x', 'supervisor', 'Супервайзер')
    """,
    """
    INSERT INTO user_territories
    SELECT :colleague, id FROM territories WHERE code = 'B3'
    """,
    """
    INSERT INTO user_territories
    SELECT u.id, t.id FROM users u CROSS JOIN territories t WHERE u.username = 'bench-supervisor'
    """,
    "UPDATE users SET password_hash = :password WHERE username = 'bench-coordinator'",
    # A tenth of the overdue orders have an owner who took them (alternately either coordinator).
    """
    INSERT INTO order_owners (work_order_id, user_id, since, note)
    SELECT id,
           CASE WHEN rn % 20 = 0 THEN CAST(:coordinator AS uuid) ELSE CAST(:colleague AS uuid) END,
           now(), 'bench'
    FROM (
        SELECT id, row_number() OVER (ORDER BY id) AS rn FROM work_orders
        WHERE status IN ('new', 'scheduled', 'in_progress', 'on_hold') AND control_deadline < now()
    ) o WHERE rn % 10 = 0
    """,
    # 10,000 pending escalations: each overdue order's warning, breach and head, oldest first.
    """
    INSERT INTO escalations (id, work_order_id, target, level, due_at, recipient_role,
                             recipient_ids, created_at)
    SELECT gen_random_uuid(), o.id, 'resolution', l.level, o.control_deadline, l.role, '{}',
           o.control_deadline + l.shift
    FROM work_orders o
    CROSS JOIN (VALUES ('warning', 'dispatcher', interval '-2 hours'),
                       ('breach', 'coordinator', interval '0'),
                       ('head', 'supervisor', interval '4 hours')) AS l(level, role, shift)
    WHERE o.status IN ('new', 'scheduled', 'in_progress', 'on_hold') AND o.control_deadline < now()
    ORDER BY o.control_deadline, o.id, l.shift
    LIMIT :escalations
    """,
]


def _bench_url() -> str:
    url = make_url(bench_database_url())
    return url.set(database=f"{url.database}_coordinate").render_as_string(hide_password=False)


async def populate_desk(url: str, coordinator: uuid.UUID) -> None:
    """Phones, a second coordinator, owners and the escalations on the large data set."""
    engine = create_async_engine(url)
    params = {
        "coordinator": coordinator,
        "colleague": uuid.uuid4(),
        "password": hash_password(PASSWORD),
        "escalations": ESCALATIONS,
    }
    try:
        async with engine.begin() as connection:
            for statement in DESK:
                clause = text(statement)
                names = set(clause.compile().params)
                await connection.execute(clause, {k: v for k, v in params.items() if k in names})
    finally:
        await engine.dispose()
    await _vacuum(url)


def prepare(url: str) -> uuid.UUID:
    """The whole data set in a new database; returns the signed-in coordinator's user id."""
    asyncio.run(recreate_database(url))
    migrate(url)
    _publish_checklists(url)
    now = datetime.now(UTC)
    month_start = (now - timedelta(days=30)).replace(minute=0, second=0, microsecond=0)
    coordinator = uuid.uuid4()
    asyncio.run(populate_small(url, coordinator, month_start))
    asyncio.run(populate_large(url, coordinator, month_start))
    asyncio.run(populate_desk(url, coordinator))
    return coordinator


async def phone_search(url: str) -> str:
    """Digits of a phone whose customer has an overdue order."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return str((await connection.execute(text(PHONE_OF_OVERDUE))).scalar_one())
    finally:
        await engine.dispose()


async def list_plans(url: str, actor: Actor, phone: str) -> dict[str, tuple[float, list[str], int]]:
    """Per view: the list query's execution time (ms, EXPLAIN ANALYZE), its nodes, its rows."""
    engine = create_async_engine(url)
    views = {
        "mine": WorkspaceFilters(),
        "everyone's": WorkspaceFilters(mine=False),
        "phone search": WorkspaceFilters(mine=False, q=phone),
    }
    found: dict[str, tuple[float, list[str], int]] = {}
    try:
        async with make_sessionmaker(engine)() as session:
            workspace = CoordinatorWorkspace(session, actor)
            now = datetime.now(UTC)
            for name, filters in views.items():
                sql, params = workspace.page_sql(filters, now)
                raw = (
                    await session.execute(_bind(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}"), params)
                ).scalar_one()
                plan = raw if isinstance(raw, list) else json.loads(raw)
                rows = len((await session.execute(_bind(sql), params)).all())
                found[name] = (float(plan[0]["Execution Time"]), _nodes(plan[0]["Plan"]), rows)
    finally:
        await engine.dispose()
    return found


def main() -> None:
    """Print the figures."""
    started = time.perf_counter()
    url = _bench_url()
    coordinator = prepare(url)
    print(f"populated in {time.perf_counter() - started:.0f} s", flush=True)
    territories = asyncio.run(_territories(url))
    phone = asyncio.run(phone_search(url))
    actor = Actor(user_id=coordinator, role=Role.COORDINATOR, territory_ids=frozenset(territories))
    pages = {
        "first page (mine)": "/coordinate",
        "everyone's": "/coordinate?view=all",
        "phone search": f"/coordinate?view=all&q={phone}",
    }
    figures = {}
    with live_server(url) as base:
        headers = sign_in(base, "bench-coordinator")
        for name, path in pages.items():
            body = httpx.get(base + path, headers=headers, timeout=60).text
            assert "<tr data-order=" in body, f"{path}: no orders shown"
            figures[name] = asyncio.run(compare(base, path, "/health", headers))
    plans = asyncio.run(list_plans(url, actor, phone))
    for name, (subject, bare, ratio) in figures.items():
        print(
            f"desk {name} at 1,000,000 orders, {ESCALATIONS:,} escalations: {subject:,.1f} req/s, "
            f"/health {bare:,.0f} req/s, ratio {ratio:.4f}"
        )
    for name, (ms, nodes, rows) in plans.items():
        seq = any(n.startswith("Seq Scan on work_orders") for n in nodes)
        print(
            f"list query [{name}]: {ms:.1f} ms, {rows} rows; "
            f"{' > '.join(nodes)}{'  << SEQUENTIAL SCAN' if seq else ''}"
        )


if __name__ == "__main__":
    main()
