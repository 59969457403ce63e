"""Scale-out: two API processes behind HAProxy against one, in the same run.

Two clusters from infra/cluster.sh (the script behind `make cluster`) run side by side on the
bench database, each HAProxy -> API processes -> PgBouncer -> PostgreSQL, one with one API
process and one with two (no workers: nothing in the background competes). In interleaved
rounds wrk loads a list (GET /mobile/v1/day, twelve visits) through each proxy; the figure is
the median per-round ratio with its spread. Then sync pushes (one note each, a fresh
Idempotency-Key per push, eight phones at once) through each proxy, also interleaved: pushes
are tens of milliseconds each, so an httpx loop does not cap them the way it caps /health.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tests.bench.bench_mobile import PASSWORD, VISITS, prepare
from tests.bench.support import (
    Target,
    bench_database_url,
    interleaved,
    migrate,
    ratios,
    recreate_database,
    spread,
)
from tests.cluster import running_cluster

ROUNDS = 5
SECONDS = 3.0
PHONES = 8
PUSH_SECONDS = 4.0


async def push_rate(base: str, headers: dict[str, str], visit_id: str) -> float:
    """Pushes per second that PHONES concurrent phones complete through the proxy."""
    done = 0
    deadline = time.perf_counter() + PUSH_SECONDS

    async def phone(client: httpx.AsyncClient) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            op = {
                "id": str(uuid.uuid4()),
                "type": "note",
                "visit_id": visit_id,
                "device_time": datetime.now(UTC).isoformat(),
                "payload": {"text": "bench"},
            }
            response = await client.post(
                "/mobile/v1/sync/push",
                json={"operations": [op]},
                headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            )
            if response.status_code != 200:
                raise RuntimeError(f"push: {response.status_code} {response.text[:200]}")
            done += 1

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await asyncio.gather(*(phone(client) for _ in range(PHONES)))
    return done / (time.perf_counter() - started)


def main() -> None:
    """Print list and push throughput of two API processes over one, both behind HAProxy."""
    url = bench_database_url()
    asyncio.run(recreate_database(url))
    migrate(url)
    asyncio.run(prepare(url))
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="naryad-bench-")))
        env = {"NARYAD_LOG_LEVEL": "WARNING", "NARYAD_S3_BUCKET": "naryad-bench-cluster"}
        bases = {
            n: stack.enter_context(
                running_cluster(scratch / f"api{n}", url, api=n, workers=0, extra_env=env)
            ).url
            for n in (1, 2)
        }
        login = httpx.post(
            f"{bases[1]}/api/v1/auth/login",
            json={"username": "mobile-bench", "password": PASSWORD, "device_id": "bench-phone"},
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        day = httpx.get(f"{bases[2]}/mobile/v1/day", headers=headers).json()
        assert len(day["visits"]) == VISITS, len(day["visits"])
        visit_id = day["visits"][0]["visit_id"]

        rates = interleaved(
            {f"{n} API": Target(f"{bases[n]}/mobile/v1/day", headers) for n in (1, 2)},
            ROUNDS,
            SECONDS,
        )
        per_round = ratios(rates["2 API"], rates["1 API"])
        print(
            f"list GET /mobile/v1/day through HAProxy: 1 API process "
            f"{statistics.median(rates['1 API']):.0f} req/s, 2 API processes "
            f"{statistics.median(rates['2 API']):.0f} req/s (medians of {ROUNDS} rounds)"
        )
        print(f"  2 processes / 1 process: {spread(per_round)}")

        pushes: dict[int, list[float]] = {1: [], 2: []}
        for n in (1, 2):
            asyncio.run(push_rate(bases[n], headers, visit_id))  # warm up
        for _ in range(ROUNDS):
            for n in (1, 2):
                pushes[n].append(asyncio.run(push_rate(bases[n], headers, visit_id)))
        print(
            f"sync push (one note, {PHONES} phones) through HAProxy: 1 API process "
            f"{statistics.median(pushes[1]):.0f} pushes/s, 2 API processes "
            f"{statistics.median(pushes[2]):.0f} pushes/s (medians of {ROUNDS} rounds)"
        )
        print(f"  2 processes / 1 process: {spread(ratios(pushes[2], pushes[1]))}")


if __name__ == "__main__":
    main()
