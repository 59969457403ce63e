"""Mobile: one push of 100 operations against 100 pushes of one; the day bundle against /health."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from service.auth.passwords import hash_password
from service.db.engine import make_sessionmaker
from service.visit_checklists.registry import publish
from tests.bench.support import bench_database_url, compare, live_server, migrate, recreate_database

VISITS = 12
PASSWORD = "bench-password-123"

ALMATY = ZoneInfo("Asia/Almaty")

SETUP = [
    """INSERT INTO territories (id, code, name, time_zone, area) VALUES (:territory, 'MOB', 'Bench',
       'Asia/Almaty', ST_Multi(ST_MakeEnvelope(76.8, 43.1, 77.1, 43.4, 4326)))""",
    """INSERT INTO users (id, username, password_hash, role, full_name)
       VALUES (:user, 'mobile-bench', :password_hash, 'technician', 'Bench Tech')""",
    """INSERT INTO technicians (id, user_id, full_name, phone, skills, home_base, time_zone)
       VALUES (:technician, :user, 'Bench Tech', '+77010000000', '{repair}',
               ST_SetSRID(ST_MakePoint(76.9, 43.2), 4326)::geography, 'Asia/Almaty')""",
    "INSERT INTO technician_territories VALUES (:technician, :territory)",
    """INSERT INTO customers (id, territory_id, full_name, phones, preferred_language)
       VALUES (:customer, :territory, 'Нұрланова Әлия', '{+77011234567}', 'kk')""",
    """INSERT INTO sites (id, customer_id, territory_id, address, location)
       SELECT gen_random_uuid(), :customer, :territory, 'пр. Абая, ' || g,
              ST_SetSRID(ST_MakePoint(76.85 + g * 0.01, 43.2 + g * 0.005), 4326)::geography
       FROM generate_series(1, :visits) g""",
    """WITH s AS (SELECT id, row_number() OVER (ORDER BY address) AS n FROM sites),
       o AS (
         INSERT INTO work_orders (id, number, type, priority, status, description,
           requested_services, required_skills, equipment, contact_phones, customer_id, site_id,
           territory_id, version, created_at, updated_at)
         SELECT gen_random_uuid(), 'WO-M-' || n, 'repair', 'normal', 'scheduled', 'Нет интернета',
                '{}', '{repair}', '[]', '{}', :customer, id, :territory, 1, now(), now()
         FROM s RETURNING id, number)
       INSERT INTO visits (id, work_order_id, technician_id, agreed_window, status, version,
                           created_at, updated_at)
       SELECT gen_random_uuid(), o.id, :technician,
              tstzrange(t.start, t.start + interval '40 minutes'), 'planned', 1, now(), now()
       FROM o, LATERAL (SELECT CAST(:day_start AS timestamptz)
                        + (split_part(o.number, '-', 3)::int - 1) * interval '40 minutes'
                        AS start) t""",
]


async def prepare(url: str) -> dict[str, uuid.UUID]:
    """One technician with twelve visits today."""
    ids = {k: uuid.uuid4() for k in ("territory", "user", "technician", "customer")}
    engine = create_async_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            await publish(session)
            params = {
                **ids,
                "password_hash": hash_password(PASSWORD),
                "visits": VISITS,
                # 09:00 on the technician's own day, so all twelve visits fall on it.
                "day_start": datetime.now(ALMATY).replace(
                    hour=9, minute=0, second=0, microsecond=0
                ),
            }
            for statement in SETUP:
                await session.execute(text(statement), params)
            await session.commit()
    finally:
        await engine.dispose()
    return ids


async def pushes(base: str, headers: dict[str, str], visit_id: str) -> tuple[float, float]:
    """Seconds for one push of 100 notes, and for 100 pushes of one note (medians of 3)."""

    def note(i: int) -> dict[str, object]:
        return {
            "id": str(uuid.uuid4()),
            "type": "note",
            "visit_id": visit_id,
            "device_time": datetime.now(UTC).isoformat(),
            "payload": {"text": f"note {i}"},
        }

    batched, single = [], []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for _ in range(3):
            started = time.perf_counter()
            response = await client.post(
                "/mobile/v1/sync/push",
                json={"operations": [note(i) for i in range(100)]},
                headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            )
            assert response.status_code == 200, response.text
            batched.append(time.perf_counter() - started)
            started = time.perf_counter()
            for i in range(100):
                response = await client.post(
                    "/mobile/v1/sync/push",
                    json={"operations": [note(i)]},
                    headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                )
                assert response.status_code == 200, response.text
            single.append(time.perf_counter() - started)
    return statistics.median(batched), statistics.median(single)


def main() -> None:
    """Print the figures."""
    url = bench_database_url()
    asyncio.run(recreate_database(url))
    migrate(url)
    asyncio.run(prepare(url))
    with live_server(url) as base:
        login = httpx.post(
            f"{base}/api/v1/auth/login",
            json={"username": "mobile-bench", "password": PASSWORD, "device_id": "bench-phone"},
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        day = httpx.get(f"{base}/mobile/v1/day", headers=headers).json()
        assert len(day["visits"]) == VISITS, len(day["visits"])
        bundle, bare, ratio = asyncio.run(compare(base, "/mobile/v1/day", "/health", headers))
        batched, single = asyncio.run(pushes(base, headers, day["visits"][0]["visit_id"]))
    print(
        f"GET /mobile/v1/day with {VISITS} visits: {bundle:,.0f} req/s; /health {bare:,.0f} req/s;"
        f" ratio {ratio:.3f}"
    )
    print(
        f"push of 100 operations: {batched * 1000:.0f} ms; "
        f"100 pushes of one: {single * 1000:.0f} ms; batching is {single / batched:.1f}x faster"
    )


if __name__ == "__main__":
    main()
