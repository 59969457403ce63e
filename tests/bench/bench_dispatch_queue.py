"""The dispatch queue page at 100,000 orders, against /health.

One territory with 100,000 work orders (a fifth of them waiting: new or on hold, the rest
scheduled, in progress, completed or closed) from 2,000 customers. A dispatcher signs in through
the staff form; the queue's first page (sorted by control deadline), its page filtered to one
type and priority, and a search by part of a customer's phone are each measured with wrk in
interleaved rounds against /health on the same server (tests/bench/support.py).
"""

from __future__ import annotations

import asyncio
import time as clock

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from service.db.engine import make_sessionmaker
from tests.bench.bench_dispatch_board import add_territory_and_dispatcher, sign_in
from tests.bench.support import compare, fresh_bench_database, live_server, print_against_health

ORDERS = 100_000
CUSTOMERS = 2_000


async def populate(url: str) -> str:
    """The territory, its dispatcher and the orders; returns the territory's id."""
    engine = create_async_engine(url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as session:
            territory = add_territory_and_dispatcher(session, "BENCHQ", "Bench queue territory")
            await session.commit()
            territory_id = territory.id
    finally:
        await engine.dispose()
    connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        # Set-based inserts: 100,000 ORM objects would take minutes to build.
        await connection.execute(
            """
            INSERT INTO customers (id, territory_id, full_name, preferred_language, phones)
            SELECT gen_random_uuid(), $1, 'Customer ' || c, 'ru',
                   ARRAY['+7701' || lpad(c::text, 7, '0')]
            FROM generate_series(1, $2) AS c
            """,
            territory_id,
            CUSTOMERS,
        )
        await connection.execute(
            """
            INSERT INTO sites (id, customer_id, territory_id, address, location)
            SELECT gen_random_uuid(), id, territory_id, 'Bench street ' || full_name,
                   ST_SetSRID(ST_MakePoint(76.9 + random() * 0.1, 43.2 + random() * 0.1), 4326)
                       ::geography
            FROM customers WHERE territory_id = $1
            """,
            territory_id,
        )
        await connection.execute(
            """
            INSERT INTO work_orders (id, number, type, priority, status, description,
                requested_services, required_skills, equipment, contact_phones, customer_id,
                site_id, territory_id, version, control_deadline)
            SELECT gen_random_uuid(), 'WO-BQ-' || lpad(i::text, 7, '0'),
                   (ARRAY['repair', 'installation', 'meter_check'])[1 + i % 3],
                   (ARRAY['low', 'normal', 'high', 'urgent'])[1 + i % 4],
                   -- By i / customers, not i: a customer's orders are i = n, n + 2,000, ...,
                   -- so i % 10 would give all 50 of them one status (a searched customer's
                   -- orders all closed, none in the queue). This way each has every status.
                   (ARRAY['new', 'on_hold', 'scheduled', 'in_progress', 'completed',
                          'closed', 'completed', 'closed', 'completed', 'closed'])
                       [1 + (i / $3) % 10],
                   'Bench order ' || i, '{}', ARRAY['repair'], '[]'::jsonb,
                   s.phones, s.customer_id, s.site_id, $1, 1,
                   now() + make_interval(mins => (i * 7919) % 20000 - 5000)
            FROM generate_series(1, $2) AS i
            JOIN (
                SELECT row_number() OVER (ORDER BY c.id) AS n, c.phones,
                       c.id AS customer_id, si.id AS site_id
                FROM customers c JOIN sites si ON si.customer_id = c.id
            ) s ON s.n = 1 + i % $3
            """,
            territory_id,
            ORDERS,
            CUSTOMERS,
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return str(territory_id)


def main() -> None:
    """Print the figures."""
    started = clock.perf_counter()
    url = fresh_bench_database("_queue")
    territory = asyncio.run(populate(url))
    print(f"populated {ORDERS:,} orders in {clock.perf_counter() - started:.0f} s", flush=True)
    pages = {
        "first page": f"/dispatch?territory={territory}",
        "type + priority filter": f"/dispatch?territory={territory}&type=repair&priority=urgent",
        "search by phone digits": "/dispatch?q=0001234",
    }
    figures = {}
    with live_server(url) as base:
        headers = sign_in(base)
        for name, path in pages.items():
            body = httpx.get(base + path, headers=headers).text
            assert "WO-BQ-" in body, f"{path}: no orders shown"
            figures[name] = asyncio.run(compare(base, path, "/health", headers))
    print_against_health(f"queue, {ORDERS:,} orders,", figures)


if __name__ == "__main__":
    main()
