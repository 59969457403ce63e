"""The periodic job schedule is shared: N worker loops run each job once per interval."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.engine import make_engine, make_sessionmaker
from service.db.models import JobSchedule
from service.jobs import Job, JobRunner
from service.settings import Settings


@pytest.fixture
async def two_workers(
    settings: Settings,
) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], async_sessionmaker[AsyncSession]]]:
    """Two engines, as two worker processes would have."""
    engines = [make_engine(settings.database) for _ in range(2)]
    yield make_sessionmaker(engines[0]), make_sessionmaker(engines[1])
    for engine in engines:
        await engine.dispose()


class _Recorder:
    """A job that remembers the database time of each of its runs."""

    def __init__(self) -> None:
        self.started: list[datetime] = []

    async def __call__(self, session: AsyncSession, _: object) -> int:
        self.started.append(await session.scalar(select(func.now())))  # type: ignore[arg-type]
        await asyncio.sleep(0.05)  # long enough for the other loop to try the same row
        return 1


async def _run_loops(runners: list[JobRunner], seconds: float) -> None:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(runner.loop(stop, poll_seconds=0.02)) for runner in runners]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)


async def test_two_worker_loops_run_a_job_once_per_interval(
    two_workers: tuple[async_sessionmaker[AsyncSession], async_sessionmaker[AsyncSession]],
) -> None:
    name = f"test_hourly_{uuid.uuid4().hex[:8]}"
    recorder = _Recorder()
    job = Job(name, timedelta(hours=1), recorder)  # type: ignore[arg-type]
    runners = [JobRunner(sessions, store=None, jobs=[job]) for sessions in two_workers]  # type: ignore[arg-type]
    await _run_loops(runners, 0.8)
    assert len(recorder.started) == 1, "two loops, one interval: one run"

    # The interval passes (moved in the database, the only clock the schedule reads).
    async with two_workers[0]() as session, session.begin():
        await session.execute(
            update(JobSchedule)
            .where(JobSchedule.name == name)
            .values(next_run_at=func.now() - text("interval '1 second'"))
        )
    await _run_loops(runners, 0.8)
    assert len(recorder.started) == 2

    async with two_workers[1]() as session:
        row = await session.get_one(JobSchedule, name)
    assert row.runs == 2
    assert row.last_success_at is not None
    assert row.next_run_at > row.last_success_at + timedelta(minutes=59)


async def test_runs_of_a_short_job_are_an_interval_apart_across_workers(
    two_workers: tuple[async_sessionmaker[AsyncSession], async_sessionmaker[AsyncSession]],
) -> None:
    name = f"test_fast_{uuid.uuid4().hex[:8]}"
    every = timedelta(milliseconds=400)
    recorder = _Recorder()
    job = Job(name, every, recorder)  # type: ignore[arg-type]
    runners = [JobRunner(sessions, store=None, jobs=[job]) for sessions in two_workers]  # type: ignore[arg-type]
    await _run_loops(runners, 2.0)
    starts = sorted(recorder.started)
    assert 2 <= len(starts) <= 6
    gaps = [later - earlier for earlier, later in pairwise(starts)]
    assert min(gaps) >= every


async def test_a_failing_job_is_counted_and_waits_an_interval(
    two_workers: tuple[async_sessionmaker[AsyncSession], async_sessionmaker[AsyncSession]],
) -> None:
    name = f"test_failing_{uuid.uuid4().hex[:8]}"
    calls = 0

    async def fail(_session: AsyncSession, _store: object) -> int:
        nonlocal calls
        calls += 1
        raise RuntimeError("customer +7 700 123 45 67 unreachable")

    job = Job(name, timedelta(hours=1), fail)  # type: ignore[arg-type]
    runners = [JobRunner(sessions, store=None, jobs=[job]) for sessions in two_workers]  # type: ignore[arg-type]
    await _run_loops(runners, 0.5)
    assert calls == 1
    async with two_workers[0]() as session:
        row = await session.get_one(JobSchedule, name)
    assert (row.runs, row.failures, row.last_error) == (0, 1, "RuntimeError")
    assert row.last_success_at is None
