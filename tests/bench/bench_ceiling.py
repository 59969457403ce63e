"""Headline: naryad / ceiling on the work-order list and the day bundle, same data, same run.

The ceiling (tests/bench/ceiling.py) answers the same requests with the same bytes (proven by
tests/integration/reads/test_ceiling_matches.py) straight from asyncpg and msgspec. Both run as
one uvicorn process pinned to the same CPU; wrk takes turns on them in interleaved rounds.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from service.db.engine import make_sessionmaker
from tests.bench.support import (
    ROOT,
    Target,
    bench_database_url,
    ceiling_server,
    interleaved,
    live_server,
    migrate,
    ratios,
    recreate_database,
    spread,
)
from tests.integration.reads import golden_data

ORDERS = 100_000
ROUNDS = 5
SECONDS = 3.0


async def prepare(url: str) -> None:
    """The golden data set (a technician's day of five visits) with 100k orders to list."""
    engine = create_async_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            await golden_data.insert(session, orders=ORDERS)
            await session.commit()
        async with engine.connect() as connection:
            await connection.exec_driver_sql("COMMIT")
            await connection.exec_driver_sql("ANALYZE")
    finally:
        await engine.dispose()


def log_in(base: str, username: str, device_id: str | None = None) -> dict[str, str]:
    """Bearer headers of a real login (a live server-side session)."""
    body = {"username": username, "password": golden_data.PASSWORD}
    if device_id:
        body |= {"device_id": device_id, "app_version": "bench"}
    response = httpx.post(f"{base}/api/v1/auth/login", json=body, timeout=30)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def main() -> None:
    """Print the headline ratios."""
    url = bench_database_url()
    asyncio.run(recreate_database(url))
    migrate(url)
    subprocess.run(
        [sys.executable, "-m", "service.cli", "checklists", "publish"],
        check=True,
        env={**os.environ, "NARYAD_DATABASE_URL": url},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    asyncio.run(prepare(url))
    list_path = f"/api/v1/work-orders?limit=50&territory_id={golden_data.TERRITORY}"
    day_path = f"/mobile/v1/day?date={golden_data.DAY.isoformat()}"
    with live_server(url) as naryad, ceiling_server(url) as ceiling:
        staff = log_in(naryad, golden_data.DISPATCHER_NAME)
        phone = log_in(naryad, golden_data.TECH_NAME, "bench-phone")
        day = httpx.get(naryad + day_path, headers=phone, timeout=30)
        assert day.status_code == 200, day.text
        for path, headers in ((list_path, staff), (day_path, phone)):
            ours = httpx.get(naryad + path, headers=headers, timeout=30)
            theirs = httpx.get(ceiling + path, headers=headers, timeout=30)
            assert ours.content == theirs.content, f"{path}: naryad and the ceiling differ"
        unchanged = {**phone, "If-None-Match": day.headers["etag"]}
        rates = interleaved(
            {
                "list naryad": Target(naryad + list_path, staff),
                "list ceiling": Target(ceiling + list_path, staff),
                "day naryad": Target(naryad + day_path, phone),
                "day ceiling": Target(ceiling + day_path, phone),
                "304 naryad": Target(naryad + day_path, unchanged),
                "304 ceiling": Target(ceiling + day_path, unchanged),
            },
            ROUNDS,
            SECONDS,
        )
    visits = len(day.json()["visits"])
    print(f"{ORDERS:,} orders; a day of {visits} visits ({len(day.content):,} B)")
    for name, rate in rates.items():
        print(f"  {name:12} {spread(rate, 0)} req/s")
    for what in ("list", "day", "304"):
        per_round = ratios(rates[f"{what} naryad"], rates[f"{what} ceiling"])
        print(f"naryad/ceiling {what}: {spread(per_round)}")


if __name__ == "__main__":
    main()
