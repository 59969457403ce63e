"""Periodic jobs the worker runs, scheduled in the database so N workers run each once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlalchemy import Update, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.appeals.services import escalate_appeals
from service.auth.throttle import purge_login_counters
from service.db.base import utcnow
from service.db.kpi_days import refresh_days
from service.db.models import IdempotencyKey, JobSchedule, Photo
from service.escalations.services import escalate_clocks
from service.scheduling.services import LatenessService
from service.settings import Settings
from service.sla.clocks import refresh_due_clocks
from service.sla.holiday_sources import refresh_calendars, warn_when_year_missing
from service.storage import BlobStore

logger = logging.getLogger("naryad.jobs")

IDEMPOTENCY_KEY_TTL = timedelta(hours=48)  # the contract promises at least 24 h


@dataclass(frozen=True)
class Job:
    """A named task and how often it runs."""

    name: str
    every: timedelta
    run: Callable[[AsyncSession, BlobStore], Awaitable[int]]


async def flag_late_visits(session: AsyncSession, _: BlobStore) -> int:
    """Raise visit.late_predicted for visits about to miss their window."""
    return await LatenessService(session).sweep()


async def refresh_sla_clocks(session: AsyncSession, _: BlobStore) -> int:
    """Move clocks whose warning, breach or pause end has come (board and escalations read them)."""
    return await refresh_due_clocks(session)


async def expire_uploads(session: AsyncSession, store: BlobStore) -> int:
    """Unconfirmed photo uploads past their expiry: delete the object, mark the photo expired."""
    stale = (
        await session.scalars(
            select(Photo)
            .where(Photo.status == "pending", Photo.expires_at < utcnow())
            .limit(500)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for photo in stale:
        await store.delete(photo.object_key)
        photo.status = "expired"
    await session.flush()
    return len(stale)


async def forget_idempotency_keys(session: AsyncSession, _: BlobStore) -> int:
    """Drop stored responses older than the retention (48 h)."""
    result = await session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - IDEMPOTENCY_KEY_TTL)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def forget_login_counters(session: AsyncSession, _: BlobStore) -> int:
    """Drop login-protection windows long past and failures no longer remembered."""
    return await purge_login_counters(session)


async def refresh_holidays(session: AsyncSession, _: BlobStore) -> int:
    """This year's and the coming year's holidays from the library; warns when a year is empty."""
    this_year = utcnow().year
    results = await refresh_calendars(session, [this_year, this_year + 1])
    await warn_when_year_missing(session, this_year + 1)
    return sum(r.added + r.changed + r.removed for r in results)


async def refresh_kpi_days(session: AsyncSession, _: BlobStore) -> int:
    """Sum into kpi_days the past days not summed yet or written to since (a month at most)."""
    return await refresh_days(session, utcnow().date(), limit=31)


JOBS: list[Job] = [
    Job("flag_late_visits", timedelta(minutes=1), flag_late_visits),
    Job("refresh_sla_clocks", timedelta(minutes=1), refresh_sla_clocks),
    # After the refresh in the same round, so it reads clocks as of now.
    Job("escalate_clocks", timedelta(minutes=1), escalate_clocks),
    # Appeals' control deadlines (seed 001 §6.2), escalated like order clocks.
    Job("escalate_appeals", timedelta(minutes=1), escalate_appeals),
    Job("expire_uploads", timedelta(minutes=5), expire_uploads),
    Job("forget_idempotency_keys", timedelta(hours=1), forget_idempotency_keys),
    Job("forget_login_counters", timedelta(minutes=10), forget_login_counters),
    # Daily: a new library release or the turn of the year reaches the calendars within a day.
    Job("refresh_holidays", timedelta(days=1), refresh_holidays),
    # Yesterday is summed within minutes of midnight; a day written to is summed again.
    Job("refresh_kpi_days", timedelta(minutes=5), refresh_kpi_days),
]


def jobs_for(settings: Settings) -> list[Job]:
    """JOBS with this deployment's settings bound to the jobs that read them."""

    async def escalate(session: AsyncSession, store: BlobStore) -> int:
        return await escalate_clocks(session, store, settings=settings.escalation)

    async def escalate_appeal_deadlines(session: AsyncSession, store: BlobStore) -> int:
        return await escalate_appeals(session, store, settings=settings.escalation)

    bound = {"escalate_clocks": escalate, "escalate_appeals": escalate_appeal_deadlines}
    return [replace(job, run=bound[job.name]) if job.name in bound else job for job in JOBS]


@dataclass
class JobRunner:
    """Runs due jobs from the shared schedule; a claimed row makes each run exclusive.

    The schedule lives in ``job_schedule`` (one row per job), so N worker processes run each
    job once per interval between them: a run claims its row with ``FOR UPDATE SKIP LOCKED``
    only when ``next_run_at`` has passed, does the work in the same transaction and moves
    ``next_run_at`` one interval on from the claim (database time, so clocks of the machines
    do not matter). A crash rolls the claim back and another worker runs the job next poll.
    """

    sessionmaker: async_sessionmaker[AsyncSession]
    store: BlobStore
    jobs: list[Job] = field(default_factory=lambda: list(JOBS))
    _registered: bool = False

    async def register(self) -> None:
        """Create the schedule rows of jobs this deployment has not run yet (due at once)."""
        if self._registered or not self.jobs:
            return
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                insert(JobSchedule)
                .values([{"name": job.name} for job in self.jobs])
                .on_conflict_do_nothing(index_elements=[JobSchedule.name])
            )
        self._registered = True

    async def run_due(self) -> dict[str, int]:
        """Run every job due in the shared schedule; returns work done by the jobs run here."""
        await self.register()
        done: dict[str, int] = {}
        for job in self.jobs:
            try:
                count = await self._claim_and_run(job, due_only=True)
            except Exception as error:
                logger.exception("periodic job %s failed; it runs again next interval", job.name)
                await self._record_failure(job, error)
                continue
            if count is not None:
                done[job.name] = count
        return done

    async def run(self, job: Job) -> int:
        """One exclusive run of a job now, due or not (0 when another worker holds it)."""
        await self.register()
        return await self._claim_and_run(job, due_only=False) or 0

    async def _claim_and_run(self, job: Job, *, due_only: bool) -> int | None:
        """Claim the job's row, run it and move it on; None when not due or held elsewhere."""
        async with self.sessionmaker() as session, session.begin():
            claim = (
                select(JobSchedule.name)
                .where(JobSchedule.name == job.name)
                .with_for_update(skip_locked=True)
            )
            if due_only:
                claim = claim.where(JobSchedule.next_run_at <= func.now())
            claimed = await session.scalar(claim)
            if claimed is None:
                return None
            try:
                # A savepoint, so a failure is recorded while the row is still held: rolling the
                # claim back first would let another worker run the job again at once.
                async with session.begin_nested():
                    count = await job.run(session, self.store)
            except Exception as error:
                logger.exception("periodic job %s failed; it runs again next interval", job.name)
                await session.execute(_failure(job, error))
                return None
            await session.execute(
                update(JobSchedule)
                .where(JobSchedule.name == job.name)
                .values(
                    next_run_at=func.now() + job.every,
                    runs=JobSchedule.runs + 1,
                    last_started_at=func.now(),
                    last_success_at=func.clock_timestamp(),
                    last_handled=count,
                )
            )
        if count:
            logger.info("job %s handled %d items", job.name, count)
        return count

    async def _record_failure(self, job: Job, error: Exception) -> None:
        """Count a failure the claim itself met (the job's own failures are counted in it)."""
        try:
            async with self.sessionmaker() as session, session.begin():
                await session.execute(_failure(job, error))
        except Exception:
            logger.exception("could not record the failure of job %s", job.name)

    async def loop(self, stop: asyncio.Event, poll_seconds: float = 5.0) -> None:
        """Run due jobs until ``stop``; a failing job is logged and retried next time."""
        while not stop.is_set():
            try:
                await self.run_due()
            except Exception:
                logger.exception("periodic jobs failed; retrying later")
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)


async def run_background(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    store: BlobStore,
    stop: asyncio.Event,
) -> None:
    """Notification delivery, periodic jobs and act PDFs until ``stop`` (the embedded worker)."""
    from service.acts.rendering import ActRenderer, worker_sealer
    from service.notifications.worker import background_worker

    renderer = ActRenderer(sessionmaker, store, settings, worker_sealer(settings))
    async with background_worker(settings, sessionmaker):
        await asyncio.gather(
            JobRunner(sessionmaker, store, jobs=jobs_for(settings)).loop(stop),
            renderer.loop(stop),
        )


def _failure(job: Job, error: Exception) -> Update:
    """Count a failed run and wait one interval before the next try."""
    return (
        update(JobSchedule)
        .where(JobSchedule.name == job.name)
        .values(
            next_run_at=func.now() + job.every,
            failures=JobSchedule.failures + 1,
            last_failure_at=func.now(),
            # The class only: an exception's message may carry personal data.
            last_error=type(error).__name__,
        )
    )
