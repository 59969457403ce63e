"""Outbox figures: two worker processes against one, and the claim at 200k finished rows vs none.

Run: ``.venv/bin/python -m tests.bench notifications``. ``naryad worker --once`` processes
deliver to a real webhook receiver on 127.0.0.1 that takes 5 ms per request, as a gateway would;
the rate is timed between the first and the last arrival, so process start-up is left out. The
ratio of two processes to one shows whether ``SKIP LOCKED`` claims let workers add up instead of
queueing on each other (on a 2-core machine shared with PostgreSQL, expect well under 2). The
claim query is timed on an outbox holding only finished rows and on an empty one: the partial
indexes should keep the ratio near 1.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from service.db.engine import make_sessionmaker
from service.notifications import Recipient, enqueue
from service.notifications.channels import build_channels
from service.notifications.worker import Worker
from tests.bench.support import bench_database_url, migrate, recreate_database
from tests.integration.notifications.support import (
    always,
    notify_settings,
    spawn_worker,
    start_receiver,
    worker_env,
)

MESSAGES = 800
ROUNDS = 3
FINISHED_ROWS = 200_000


def _database_url() -> str:
    url = make_url(bench_database_url())
    return url.set(database=f"{url.database}_notify").render_as_string(hide_password=False)


async def _fill(sessions: async_sessionmaker[AsyncSession], count: int) -> None:
    async with sessions() as session:
        for _ in range(count):
            await enqueue(
                session,
                event="visit.en_route",
                event_key=str(uuid.uuid4()),
                channel="sms",
                recipient=Recipient(kind="customer", id=uuid.uuid4(), address="+77011234567"),
                language="ru",
                time_zone="Asia/Almaty",
                context={"eta": datetime(2031, 3, 3, 5, 25, tzinfo=UTC)},
            )
        await session.commit()


async def _deliveries_per_second(
    sessions: async_sessionmaker[AsyncSession], url: str, processes: int
) -> float:
    """``naryad worker --once`` in ``processes`` processes; rate between first and last arrival."""
    server, receiver = start_receiver(always(200), delay=0.005)
    try:
        await _fill(sessions, MESSAGES)
        env = worker_env(url, notify_settings(receiver.url, concurrency=8))
        workers = [await spawn_worker(env, "--once") for _ in range(processes)]
        for worker in workers:
            await worker.communicate()
        if len(set(receiver.delivery_ids())) != MESSAGES:
            raise RuntimeError("not every message arrived")
        arrivals = sorted(hit.at for hit in receiver.hits)
        return (MESSAGES - 1) / (arrivals[-1] - arrivals[0])
    finally:
        server.shutdown()
        server.server_close()


async def _claim_ms(sessions: async_sessionmaker[AsyncSession], worker: Worker) -> float:
    await _fill(sessions, 8)
    started = time.perf_counter()
    claimed = await worker.claim()
    elapsed = time.perf_counter() - started
    async with sessions() as session:
        await session.execute(
            text("DELETE FROM outbox_messages WHERE id = ANY(:ids)"),
            {"ids": [c.id for c in claimed]},
        )
        await session.commit()
    return elapsed * 1000


async def run() -> None:
    """Print the figures."""
    url = _database_url()
    await recreate_database(url)
    await asyncio.to_thread(migrate, url)
    engine = create_async_engine(url, pool_size=4)
    sessions = make_sessionmaker(engine)
    try:
        ratios = []
        for _ in range(ROUNDS):
            one = await _deliveries_per_second(sessions, url, 1)
            two = await _deliveries_per_second(sessions, url, 2)
            ratios.append(two / one)
            print(f"  deliveries/s: 1 worker process {one:6.0f}   2 worker processes {two:6.0f}")
        print(f"two worker processes / one: {statistics.median(ratios):.2f}x")

        config = notify_settings("http://127.0.0.1:9/unused", adapter="log")
        worker = Worker.from_settings(sessions, build_channels(config), config)
        async with sessions() as session:
            await session.execute(text("DELETE FROM outbox_messages"))
            await session.commit()
        empty = statistics.median([await _claim_ms(sessions, worker) for _ in range(20)])
        async with sessions() as session:
            await session.execute(
                text(
                    "INSERT INTO outbox_messages (id, event, channel, recipient_kind, "
                    "recipient_address, language, template, context, time_zone, urgent, "
                    "not_before, dedup_key, status, attempts, next_attempt_at, delivered_at) "
                    "SELECT gen_random_uuid(), 'visit.en_route', 'sms', 'customer', "
                    "'+77011234567', 'ru', 'visit.en_route', '{}', 'UTC', true, now(), "
                    "md5(g::text) || md5((g + 1)::text), "
                    "CASE WHEN g % 10 = 0 THEN 'dead' ELSE 'delivered' END, 1, now(), now() "
                    "FROM generate_series(1, :n) g"
                ),
                {"n": FINISHED_ROWS},
            )
            await session.commit()
            await session.execute(text("ANALYZE outbox_messages"))
        full = statistics.median([await _claim_ms(sessions, worker) for _ in range(20)])
        print(
            f"claim with {FINISHED_ROWS} finished rows / empty outbox: {full / empty:.2f}x "
            f"({full:.2f} ms vs {empty:.2f} ms)"
        )
    finally:
        await engine.dispose()


def main() -> None:
    """Entry point for ``python -m tests.bench``."""
    asyncio.run(run())


if __name__ == "__main__":
    main()
