"""Headline: naryad / ceiling on the work-order list and the day bundle, same data, same run.

The ceiling (tests/bench/ceiling.py) answers the same requests with the same bytes (proven by
tests/integration/reads/test_ceiling_matches.py) straight from asyncpg and msgspec. Both run as
one uvicorn process (httptools, uvloop) pinned to the same CPU; wrk takes turns on them in
interleaved rounds. Two figures per request: naryad's share of the ceiling's throughput, and
the ceiling's CPU per request over naryad's (the same share measured in the server's own CPU
time, which other work on a shared machine does not move).

``NARYAD_BENCH_REUSE=1`` keeps the data set of an earlier run (its database is this bench's
own) instead of building it again: for measuring one change after another.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import asyncpg
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
ROUNDS = 7
SECONDS = 3.0
LIST_PATH = f"/api/v1/work-orders?limit=50&territory_id={golden_data.TERRITORY}"
DAY_PATH = f"/mobile/v1/day?date={golden_data.DAY.isoformat()}"


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


async def _prepared(url: str) -> bool:
    """Whether the database already holds this bench's data set."""
    try:
        connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    except (OSError, asyncpg.PostgresError):
        return False
    try:
        count = await connection.fetchval("SELECT count(*) FROM work_orders")
    except asyncpg.PostgresError:
        return False
    finally:
        await connection.close()
    return bool(count and count >= ORDERS)


def build(url: str) -> None:
    """The bench database from scratch: schema, published checklists, the data set."""
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


def log_in(base: str, username: str, device_id: str | None = None) -> dict[str, str]:
    """Bearer headers of a real login (a live server-side session)."""
    body = {"username": username, "password": golden_data.PASSWORD}
    if device_id:
        body |= {"device_id": device_id, "app_version": "bench"}
    response = httpx.post(f"{base}/api/v1/auth/login", json=body, timeout=30)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@dataclass(frozen=True)
class Reads:
    """naryad and the ceiling serving the data set, and the callers' headers."""

    naryad: str
    ceiling: str
    staff: dict[str, str]
    phone: dict[str, str]


@contextmanager
def served_reads(device_id: str = "bench-phone") -> Iterator[Reads]:
    """Both servers on the bench database (built unless NARYAD_BENCH_REUSE finds it ready),
    a dispatcher's and a technician's phone's login, both answering the same bytes."""
    url = bench_database_url("_reads")
    if not (os.environ.get("NARYAD_BENCH_REUSE") and asyncio.run(_prepared(url))):
        build(url)
    with live_server(url) as naryad, ceiling_server(url) as ceiling:
        reads = Reads(
            naryad,
            ceiling,
            log_in(naryad, golden_data.DISPATCHER_NAME),
            log_in(naryad, golden_data.TECH_NAME, device_id),
        )
        for path, headers in ((LIST_PATH, reads.staff), (DAY_PATH, reads.phone)):
            ours = httpx.get(naryad + path, headers=headers, timeout=30)
            theirs = httpx.get(ceiling + path, headers=headers, timeout=30)
            assert ours.status_code == 200, ours.text
            assert ours.content == theirs.content, f"{path}: naryad and the ceiling differ"
        yield reads


def main() -> None:
    """Print the headline ratios."""
    with served_reads() as reads:
        naryad, ceiling, staff, phone = reads.naryad, reads.ceiling, reads.staff, reads.phone
        day = httpx.get(naryad + DAY_PATH, headers=phone, timeout=30)
        unchanged = {**phone, "If-None-Match": day.headers["etag"]}
        cpu: dict[str, list[float]] = {}
        rates = interleaved(
            {
                "list naryad": Target(naryad + LIST_PATH, staff),
                "list ceiling": Target(ceiling + LIST_PATH, staff),
                "day naryad": Target(naryad + DAY_PATH, phone),
                "day ceiling": Target(ceiling + DAY_PATH, phone),
                "304 naryad": Target(naryad + DAY_PATH, unchanged),
                "304 ceiling": Target(ceiling + DAY_PATH, unchanged),
            },
            ROUNDS,
            SECONDS,
            cpu,
        )
    visits = len(day.json()["visits"])
    print(f"{ORDERS:,} orders; a day of {visits} visits ({len(day.content):,} B)")
    for name, rate in rates.items():
        per_request = f", {spread(cpu[name], 0)} CPU us/request" if name in cpu else ""
        print(f"  {name:12} {spread(rate, 0)} req/s{per_request}")
    for what in ("list", "day", "304"):
        per_round = ratios(rates[f"{what} naryad"], rates[f"{what} ceiling"])
        print(f"naryad/ceiling {what}: {spread(per_round)} (throughput)")
        if f"{what} naryad" in cpu and f"{what} ceiling" in cpu:
            # Ceiling CPU / naryad CPU: the same direction as the throughput ratio.
            by_cpu = ratios(cpu[f"{what} ceiling"], cpu[f"{what} naryad"])
            print(f"naryad/ceiling {what}: {spread(by_cpu)} (CPU per request)")


if __name__ == "__main__":
    main()
