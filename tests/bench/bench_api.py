"""Work-order list throughput against a bare JSON endpoint, and its plan at 100k orders."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from service.common.actor import Actor, Role
from service.db.driver import driver_connection
from service.db.engine import make_sessionmaker
from service.db.models import Territory, User
from service.demo.seed import seed
from service.orders.services import WorkOrderFilters, list_sql, read_page
from tests.bench.support import (
    bench_database_url,
    bench_token,
    compare,
    live_server,
    migrate,
    recreate_database,
)

ORDERS = 100_000

BULK_ORDERS = """
INSERT INTO work_orders (id, number, type, priority, status, description, requested_services,
    required_skills, equipment, contact_phones, customer_id, site_id, territory_id,
    control_deadline, version, created_at, updated_at)
SELECT gen_random_uuid(), 'WO-B-' || lpad(g::text, 7, '0'),
    (ARRAY['installation','repair','construction','meter_check'])[1 + g % 4],
    (ARRAY['low','normal','high','urgent'])[1 + g % 4],
    (ARRAY['new','scheduled','in_progress','completed','closed','cancelled','on_hold'])[1 + g % 7],
    'Заявка ' || g, '{}', '{}', '[]', '{}', s.customer_id, s.id, s.territory_id,
    now() + ((g % 96) - 48) * interval '1 hour', 1,
    now() - (g * interval '13 seconds'), now()
FROM generate_series(1, :n) AS g
JOIN LATERAL (SELECT * FROM sites ORDER BY id OFFSET (g % 200) LIMIT 1) s ON true
"""


async def prepare(url: str) -> Actor:
    """Demo data plus 100k orders; returns the demo dispatcher as an actor."""
    engine = create_async_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            await seed(session)
            await session.execute(text(BULK_ORDERS), {"n": ORDERS})
            await session.commit()
        async with engine.connect() as connection:
            await connection.execute(text("COMMIT"))
            await connection.execute(text("ANALYZE"))
        async with make_sessionmaker(engine)() as session:
            dispatcher = await session.scalar(select(User).where(User.username == "dispatcher"))
            territories = (await session.scalars(select(Territory.id))).all()
            assert dispatcher is not None
            return Actor(
                user_id=dispatcher.id, role=Role.DISPATCHER, territory_ids=frozenset(territories)
            )
    finally:
        await engine.dispose()


async def explain(url: str, actor: Actor) -> list[tuple[str, list[str]]]:
    """Plan node types of the list query for typical requests."""
    engine = create_async_engine(url)
    plans = []
    try:
        async with make_sessionmaker(engine)() as session:
            driver = await driver_connection(session)
            first_page = await read_page(driver, actor, WorkOrderFilters(), None, 50)
            cases = {
                "first page": (WorkOrderFilters(), None),
                "page 2 (cursor)": (WorkOrderFilters(), first_page.next_cursor),
                "territory": (WorkOrderFilters(territory_id=next(iter(actor.territory_ids))), None),
                "status=new": (WorkOrderFilters(status=("new",)), None),
                "text search": (WorkOrderFilters(q="Заявка 4242"), None),
            }
            for name, (filters, cursor) in cases.items():
                sql, args = list_sql(actor, filters, cursor, 50)
                raw = await driver.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args)
                plan = raw if isinstance(raw, list) else json.loads(raw)
                plans.append((name, _nodes(plan[0]["Plan"])))
    finally:
        await engine.dispose()
    return plans


def _nodes(node: dict[str, object]) -> list[str]:
    label = str(node["Node Type"])
    if "Relation Name" in node:
        label += f" on {node['Relation Name']}"
    if "Index Name" in node:
        label += f" using {node['Index Name']}"
    found = [label]
    for child in node.get("Plans", []) or []:  # type: ignore[union-attr]
        found.extend(_nodes(child))
    return found


def main() -> None:
    """Print the figures."""
    url = bench_database_url()
    asyncio.run(recreate_database(url))
    migrate(url)
    actor = asyncio.run(prepare(url))
    token = asyncio.run(bench_token(url, actor))
    headers = {"Authorization": f"Bearer {token}"}
    with live_server(url) as base:
        listed, bare, ratio = asyncio.run(
            compare(base, "/api/v1/work-orders?limit=50", "/health", headers)
        )
    print(f"GET /api/v1/work-orders?limit=50 at {ORDERS:,} orders: {listed:,.0f} req/s")
    print(f"GET /health (bare JSON, same server):        {bare:,.0f} req/s")
    print(f"ratio list/bare: {ratio:.3f} (the list costs {1 / ratio:.1f}x a bare response)")
    for name, nodes in asyncio.run(explain(url, actor)):
        seq = any(n.startswith("Seq Scan on work_orders") for n in nodes)
        print(f"plan [{name}]: {' > '.join(nodes)}{'  << SEQUENTIAL SCAN' if seq else ''}")


if __name__ == "__main__":
    main()
