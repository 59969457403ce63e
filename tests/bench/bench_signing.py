"""Signing: how long the customer waits after tapping "sign", against GET /health.

Each submit spends a single-use link, so every round uses a fresh visit (one technician per
visit, all on site at once). Rounds interleave a batch of /health calls and one submit; the
figure is the median submit latency over the median /health latency of the same round. The
server runs its embedded worker, so the PDFs of earlier submits are rendered and sealed
alongside, as in production.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from service.auth.passwords import hash_password
from service.db.engine import make_sessionmaker
from service.visit_checklists.registry import publish
from tests.bench.support import bench_database_url, live_server, migrate, recreate_database
from tests.e2e.visit_flow import Phone, signature_body

ROUNDS = 9
HEALTH_CALLS = 20
PASSWORD = "bench-password-123"

SETUP = [
    """INSERT INTO territories (id, code, name, time_zone, area) VALUES (:territory, 'SIG',
       'Bench', 'Asia/Almaty', ST_Multi(ST_MakeEnvelope(76.8, 43.1, 77.1, 43.4, 4326)))""",
    """INSERT INTO customers (id, territory_id, full_name, phones, preferred_language)
       VALUES (:customer, :territory, 'Нұрланова Әлия', '{+77011234567}', 'kk')""",
    """INSERT INTO users (id, username, password_hash, role, full_name)
       SELECT gen_random_uuid(), 'sign-bench-' || g, :password_hash, 'technician', 'Bench Tech'
       FROM generate_series(1, :rounds) g""",
    """INSERT INTO technicians (id, user_id, full_name, phone, skills, home_base, time_zone)
       SELECT gen_random_uuid(), id, 'Сейткали Ерлан ' || username, '+77010000000', '{repair}',
              ST_SetSRID(ST_MakePoint(76.9, 43.2), 4326)::geography, 'Asia/Almaty'
       FROM users WHERE username LIKE 'sign-bench-%'""",
    """INSERT INTO technician_territories SELECT id, :territory FROM technicians""",
    """INSERT INTO sites (id, customer_id, territory_id, address, location)
       SELECT gen_random_uuid(), :customer, :territory, 'пр. Абая, ' || g,
              ST_SetSRID(ST_MakePoint(76.85 + g * 0.01, 43.2 + g * 0.005), 4326)::geography
       FROM generate_series(1, :rounds) g""",
    """WITH s AS (SELECT id, row_number() OVER (ORDER BY address) AS n FROM sites),
       t AS (SELECT id, row_number() OVER (ORDER BY full_name) AS n FROM technicians),
       o AS (
         INSERT INTO work_orders (id, number, type, priority, status, description,
           requested_services, required_skills, equipment, contact_phones, customer_id, site_id,
           territory_id, version, created_at, updated_at)
         SELECT gen_random_uuid(), 'WO-S-' || n, 'repair', 'normal', 'scheduled', 'Нет интернета',
                '{}', '{repair}', '[]', '{}', :customer, id, :territory, 1, now(), now()
         FROM s RETURNING id, number)
       INSERT INTO visits (id, work_order_id, technician_id, agreed_window, status, version,
                           created_at, updated_at)
       SELECT gen_random_uuid(), o.id, t.id,
              tstzrange(CAST(:start AS timestamptz), CAST(:start AS timestamptz)
                        + interval '3 hours'), 'planned', 1, now(), now()
       FROM o JOIN t ON t.n = split_part(o.number, '-', 3)::int""",
]


async def prepare(url: str) -> None:
    """`ROUNDS` technicians, each with one visit now."""
    ids = {k: uuid.uuid4() for k in ("territory", "customer")}
    engine = create_async_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            await publish(session)
            params = {
                **ids,
                "password_hash": hash_password(PASSWORD),
                "rounds": ROUNDS,
                "start": datetime.now(UTC) - timedelta(minutes=30),
            }
            for statement in SETUP:
                await session.execute(text(statement), params)
            await session.commit()
    finally:
        await engine.dispose()


async def signing_links(base: str) -> list[dict[str, str]]:
    """Drive every visit to the signature through the API; the signing links."""
    links = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for n in range(1, ROUNDS + 1):
            login = await client.post(
                "/api/v1/auth/login",
                json={"username": f"sign-bench-{n}", "password": PASSWORD, "device_id": f"b{n}"},
            )
            token = login.json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            (visit,) = (await client.get("/mobile/v1/day", headers=headers)).json()["visits"]
            phone = Phone(client, token, visit["visit_id"], visit["location"])
            here = {**visit["location"], "accuracy_m": 5}
            await phone.push(phone.op("arrived", location=here))
            await phone.answer_until_signing("repair")
            started = await client.post(
                f"/mobile/v1/visits/{visit['visit_id']}/acts",
                json={},
                headers={**headers, "Idempotency-Key": f"act-{visit['visit_id']}"},
            )
            assert started.status_code == 201, started.text
            link = started.json()
            link["path"] = "/mobile/v1/sign/" + link["signing_url"].rsplit("/", 1)[-1]
            links.append(link)
    return links


async def measure(base: str, links: list[dict[str, str]]) -> tuple[list[float], list[float]]:
    """Per round: the median /health latency and one signature submit's latency (seconds)."""
    health, submits = [], []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for _ in range(HEALTH_CALLS):  # warm up
            await client.get("/health")
        for link in links:
            calls = []
            for _ in range(HEALTH_CALLS):
                started = time.perf_counter()
                response = await client.get("/health")
                calls.append(time.perf_counter() - started)
                assert response.status_code == 200
            health.append(statistics.median(calls))
            started = time.perf_counter()
            signed = await client.post(link["path"], json=signature_body(link["snapshot_sha256"]))
            submits.append(time.perf_counter() - started)
            assert signed.status_code == 200, signed.text
    return health, submits


def main() -> None:
    """Print the figures."""
    url = bench_database_url()
    asyncio.run(recreate_database(url))
    migrate(url)
    asyncio.run(prepare(url))
    with live_server(url, {"NARYAD_EMBEDDED_WORKER": "1"}) as base:
        links = asyncio.run(signing_links(base))
        health, submits = asyncio.run(measure(base, links))
    ratios = sorted(s / h for s, h in zip(submits, health, strict=True))
    print(
        f"signature submit: median {statistics.median(submits) * 1000:.0f} ms "
        f"(min {min(submits) * 1000:.0f}, max {max(submits) * 1000:.0f}, {ROUNDS} rounds); "
        f"GET /health median {statistics.median(health) * 1000:.1f} ms; "
        f"submit is {statistics.median(ratios):.0f}x /health "
        f"(spread {ratios[0]:.0f}-{ratios[-1]:.0f}x)"
    )


if __name__ == "__main__":
    main()
