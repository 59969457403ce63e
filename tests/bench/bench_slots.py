"""Slot search cost: 2,000 technicians with 50,000 visits against 200 with 5,000."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from service.common.actor import Actor, Role
from service.db.engine import make_sessionmaker
from service.db.models import WorkOrder
from service.scheduling.services import SlotService
from tests.bench.support import bench_database_url, migrate, recreate_database

VISITS_PER_TECHNICIAN = 25
DAYS = 3

POPULATE = [
    """
    INSERT INTO territories (id, code, name, time_zone, area)
    VALUES (:territory, 'BENCH', 'Bench', 'Asia/Almaty',
            ST_Multi(ST_MakeEnvelope(76.0, 43.0, 78.0, 44.0, 4326)))
    """,
    """
    INSERT INTO users (id, username, password_hash, role, full_name)
    SELECT gen_random_uuid(), 'bench' || g, 'x', 'technician', 'Tech ' || g
    FROM generate_series(1, :technicians) g
    """,
    """
    INSERT INTO technicians (id, user_id, full_name, phone, skills, home_base, time_zone)
    SELECT gen_random_uuid(), u.id, u.full_name, '+77010000000', '{repair,installation}',
           ST_SetSRID(ST_MakePoint(76.0 + random() * 2, 43.0 + random()), 4326)::geography,
           'Asia/Almaty'
    FROM users u WHERE u.username LIKE 'bench%'
    """,
    "INSERT INTO technician_territories SELECT id, :territory FROM technicians",
    """
    INSERT INTO technician_shifts (id, technician_id, weekday, starts, ends)
    SELECT gen_random_uuid(), t.id, d, '09:00', '18:00'
    FROM technicians t, generate_series(0, 6) d
    """,
    """
    INSERT INTO customers (id, territory_id, full_name, phones, preferred_language)
    VALUES (:customer, :territory, 'Bench', '{+77010000000}', 'ru')
    """,
    """
    INSERT INTO sites (id, customer_id, territory_id, address, location)
    SELECT gen_random_uuid(), :customer, :territory, 'Site ' || g,
           ST_SetSRID(ST_MakePoint(76.0 + random() * 2, 43.0 + random()), 4326)::geography
    FROM generate_series(1, 500) g
    """,
    # One order per booked visit: one two-hour visit a day per technician, at varying hours.
    """
    WITH slots AS (
        SELECT t.id AS technician_id, n,
               (date_trunc('day', now() AT TIME ZONE 'Asia/Almaty') + interval '1 day'
                 + n * interval '1 day' + (9 + 2 * (n % 4)) * interval '1 hour')
                 AT TIME ZONE 'Asia/Almaty' AS starts,
               row_number() OVER () AS k
        FROM technicians t, generate_series(0, :per_technician - 1) n
    ), orders AS (
        INSERT INTO work_orders (id, number, type, priority, status, description,
            requested_services, required_skills, equipment, contact_phones, customer_id, site_id,
            territory_id, version, created_at, updated_at)
        SELECT gen_random_uuid(), 'WO-S-' || k, 'repair', 'normal', 'scheduled', '', '{}',
               '{repair}', '[]', '{}', :customer,
               (SELECT id FROM sites ORDER BY id OFFSET (k % 500) LIMIT 1), :territory, 1,
               now(), now()
        FROM slots
        RETURNING id, number
    )
    INSERT INTO visits (id, work_order_id, technician_id, agreed_window, status, version,
                        created_at, updated_at)
    SELECT gen_random_uuid(), o.id, s.technician_id,
           tstzrange(s.starts, s.starts + interval '2 hours'), 'planned', 1, now(), now()
    FROM slots s JOIN orders o ON o.number = 'WO-S-' || s.k
    """,
    """
    INSERT INTO work_orders (id, number, type, priority, status, description, requested_services,
        required_skills, equipment, contact_phones, customer_id, site_id, territory_id, version,
        created_at, updated_at)
    SELECT :target, 'WO-TARGET', 'repair', 'normal', 'new', '', '{}', '{repair}', '[]', '{}',
           :customer, (SELECT id FROM sites ORDER BY id LIMIT 1), :territory, 1, now(), now()
    """,
]


async def measure(url: str, technicians: int) -> tuple[float, int]:
    """Median seconds of one slot search over three days, and slots found."""
    engine = create_async_engine(url)
    ids = {"territory": uuid.uuid4(), "customer": uuid.uuid4(), "target": uuid.uuid4()}
    try:
        async with make_sessionmaker(engine)() as session:
            for statement in POPULATE:
                await session.execute(
                    text(statement),
                    {**ids, "technicians": technicians, "per_technician": VISITS_PER_TECHNICIAN},
                )
            await session.commit()
        async with engine.connect() as connection:
            await connection.execute(text("COMMIT"))
            await connection.execute(text("ANALYZE"))
        actor = Actor(user_id=uuid.uuid4(), role=Role.ADMIN, territory_ids=frozenset())
        timings = []
        found = 0
        start_day = (datetime.now(UTC) + timedelta(days=2)).date()
        async with make_sessionmaker(engine)() as session:
            assert await session.scalar(select(WorkOrder.id).where(WorkOrder.id == ids["target"]))
            for _ in range(7):
                started = time.perf_counter()
                offer = await SlotService(session, actor).offer(ids["target"], start_day, DAYS)
                timings.append(time.perf_counter() - started)
                found = len(offer.slots)
        return statistics.median(timings[2:]), found
    finally:
        await engine.dispose()


def run(technicians: int) -> tuple[float, int, int]:
    """Fresh database, populate, measure."""
    url = bench_database_url()
    asyncio.run(recreate_database(url))
    migrate(url)
    seconds, slots = asyncio.run(measure(url, technicians))
    return seconds, slots, technicians * VISITS_PER_TECHNICIAN


def main() -> None:
    """Print the figures."""
    small, small_slots, small_visits = run(200)
    large, large_slots, large_visits = run(2000)
    print(
        f"slot search, 200 technicians / {small_visits:,} visits:   "
        f"{small * 1000:.1f} ms ({small_slots} slots over {DAYS} days)"
    )
    print(
        f"slot search, 2,000 technicians / {large_visits:,} visits: "
        f"{large * 1000:.1f} ms ({large_slots} slots over {DAYS} days)"
    )
    print(f"ratio large/small: {large / small:.2f} for 10x the data (sub-linear when < 10)")


if __name__ == "__main__":
    main()
