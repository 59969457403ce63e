"""Sync push: one push of 100 operations against 100 pushes of one, in interleaved rounds.

Each round times one batch of 100 notes and then 100 single-note pushes, sequentially over one
keep-alive connection; the figure is the median of the per-round ratios, with their spread. The
httpx client costs each request well under a millisecond, small against a push, but it is
counted on the single-push side, so the ratio leans slightly in the batch's favour.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.bench.bench_mobile import PASSWORD, VISITS, prepare
from tests.bench.support import bench_database_url, live_server, migrate, recreate_database

ROUNDS = 5
BATCH = 100


def _note(visit_id: str, n: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": "note",
        "visit_id": visit_id,
        "device_time": datetime.now(UTC).isoformat(),
        "payload": {"text": f"note {n}"},
    }


async def _push(client: httpx.AsyncClient, headers: dict[str, str], ops: list[Any]) -> None:
    response = await client.post(
        "/mobile/v1/sync/push",
        json={"operations": ops},
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    if response.status_code != 200:
        raise RuntimeError(f"push: {response.status_code} {response.text[:200]}")
    if any(r["status"] != "applied" for r in response.json()["results"]):
        raise RuntimeError("an operation was not applied")


async def rounds(base: str, headers: dict[str, str], visit_id: str) -> list[tuple[float, float]]:
    """(seconds for one push of BATCH, seconds for BATCH pushes of one) per round."""
    timings = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await _push(client, headers, [_note(visit_id, n) for n in range(BATCH)])  # warm up
        for _ in range(10):
            await _push(client, headers, [_note(visit_id, 0)])
        for _ in range(ROUNDS):
            started = time.perf_counter()
            await _push(client, headers, [_note(visit_id, n) for n in range(BATCH)])
            batched = time.perf_counter() - started
            started = time.perf_counter()
            for n in range(BATCH):
                await _push(client, headers, [_note(visit_id, n)])
            timings.append((batched, time.perf_counter() - started))
    return timings


def main() -> None:
    """Print the batch ratio (median and spread over the rounds)."""
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
        timings = asyncio.run(rounds(base, headers, day["visits"][0]["visit_id"]))
    ratios = [single / batched for batched, single in timings]
    batch_ms = statistics.median(b for b, _ in timings) * 1000
    single_ms = statistics.median(s for _, s in timings) * 1000
    print(
        f"push of {BATCH} notes: {batch_ms:.0f} ms; {BATCH} pushes of one: {single_ms:.0f} ms"
        f" (medians of {ROUNDS} interleaved rounds)"
    )
    print(
        f"batching is {statistics.median(ratios):.1f}x faster"
        f" (rounds {min(ratios):.1f}x to {max(ratios):.1f}x)"
    )


if __name__ == "__main__":
    main()
