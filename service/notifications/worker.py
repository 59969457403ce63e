"""The delivery worker: claims due outbox rows, delivers them, records the outcome.

Safe as many processes on many machines. A claim is one short transaction
(``FOR UPDATE SKIP LOCKED``, so workers never wait on each other or take the same row) that
marks rows ``delivering`` with a lease and commits *before* anything is sent. Delivery happens
outside any transaction; its outcome is a second short transaction. A worker that dies in
between leaves a lease that expires, and any worker then claims the row again: delivery is at
least once, and the delivery id (the row id) lets receivers drop the duplicate.

A worker claims no more rows than it delivers at once, and every delivery is cut off before
its lease ends, so a live worker's rows are never re-claimed by another.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import msgspec
from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.base import utcnow
from service.db.models import OutboxMessage
from service.notifications.channels import ChannelSet, DeliveryFailed, build_channels
from service.notifications.events import EventSpec, spec_for
from service.notifications.outbox import purge_finished, start_link_lifetime
from service.notifications.quiet_hours import AgreedWindow, earliest_send_time
from service.notifications.schemas import OutgoingMessage, Recipient
from service.notifications.templates import redacted_context, render
from service.settings import NotificationSettings, Settings

if TYPE_CHECKING:
    from sqlalchemy import Table

logger = logging.getLogger("naryad.notifications.worker")

_TABLE = cast("Table", OutboxMessage.__table__)
# Stop a delivery this long before its lease ends, so the outcome is written in time.
_LEASE_MARGIN_SECONDS = 0.5
_MAX_ERROR_LENGTH = 500
_PURGE_EVERY_SECONDS = 3600.0
# The worker's own bookkeeping may skip the WAL flush: if PostgreSQL crashes and forgets a
# claim or an outcome, the row is simply delivered again, which at-least-once already allows.
# Messages themselves are written by the request's transaction, with full durability.
_RELAXED_COMMIT = text("SET LOCAL synchronous_commit TO OFF")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how far apart deliveries are retried."""

    max_attempts: int = 8
    base_seconds: float = 30.0
    max_seconds: float = 3600.0
    # Each delay is drawn from [ceiling * (1 - jitter), ceiling]: workers retrying the same
    # failing gateway spread out instead of hammering it in step.
    jitter: float = 0.5

    @classmethod
    def from_settings(cls, settings: NotificationSettings) -> RetryPolicy:
        """The policy configured by NARYAD_NOTIFY_* variables."""
        return cls(
            max_attempts=settings.max_attempts,
            base_seconds=settings.backoff_base_seconds,
            max_seconds=settings.backoff_max_seconds,
        )


def backoff_ceiling(attempt: int, policy: RetryPolicy) -> float:
    """The longest wait after failed attempt ``attempt`` (1-based): base * 2^(n-1), capped."""
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    return min(policy.max_seconds, policy.base_seconds * 2.0 ** min(attempt - 1, 60))


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random | None = None) -> float:
    """The jittered wait after the ``attempt``-th failed attempt."""
    ceiling = backoff_ceiling(attempt, policy)
    draw = (rng or random).random()
    return ceiling * (1.0 - policy.jitter * draw)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A row this worker holds a lease on, with what it needs to deliver it."""

    id: uuid.UUID
    claim_token: uuid.UUID
    attempt: int
    event: str
    channel: str
    recipient: Recipient
    language: Any
    template: str
    context: Mapping[str, Any]
    time_zone: str
    agreed_window: AgreedWindow | None
    urgent: bool
    created_at: datetime
    # time.monotonic() after which the delivery must not start or continue.
    deadline: float


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one claimed row."""

    id: uuid.UUID
    status: str  # delivered | retry | dead | abandoned
    error: str | None = None


class Worker:
    """Claims, delivers and settles outbox messages; run as many as you like."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        channels: ChannelSet,
        *,
        policy: RetryPolicy,
        lease_seconds: float = 60.0,
        concurrency: int = 8,
        poll_seconds: float = 1.0,
        retention: timedelta | None = timedelta(days=30),
        holidays: Collection[date] = frozenset(),
        name: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if lease_seconds <= _LEASE_MARGIN_SECONDS:
            raise ValueError("lease_seconds must exceed the safety margin")
        self.sessionmaker = sessionmaker
        self.channels = channels
        self.policy = policy
        self.lease_seconds = lease_seconds
        self.concurrency = max(1, concurrency)
        self.poll_seconds = poll_seconds
        self.retention = retention
        self.holidays = frozenset(holidays)
        self.name = name or f"worker-{uuid.uuid4().hex[:8]}"
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._last_purge = float("-inf")

    @classmethod
    def from_settings(
        cls,
        sessionmaker: async_sessionmaker[AsyncSession],
        channels: ChannelSet,
        settings: NotificationSettings,
        **overrides: Any,
    ) -> Worker:
        """A worker configured by NARYAD_NOTIFY_* and NARYAD_WORKER_* variables."""
        options: dict[str, Any] = {
            "policy": RetryPolicy.from_settings(settings),
            "lease_seconds": settings.lease_seconds,
            "concurrency": settings.concurrency,
            "poll_seconds": settings.poll_seconds,
            "retention": timedelta(days=settings.retention_days)
            if settings.retention_days > 0
            else None,
        }
        options.update(overrides)
        return cls(sessionmaker, channels, **options)

    async def claim(self, limit: int | None = None) -> list[Claimed]:
        """Lease up to ``limit`` due rows in one committed transaction."""
        limit = limit or self.concurrency
        token = uuid.uuid4()
        now = func.now()
        lease = timedelta(seconds=self.lease_seconds)
        lease_lapsed = and_(_TABLE.c.status == "delivering", _TABLE.c.lease_until <= now)
        async with self.sessionmaker() as session, session.begin():
            await session.execute(_RELAXED_COMMIT)
            # A worker died during the final attempt: give up rather than loop on a poison row.
            await session.execute(
                update(_TABLE)
                .where(lease_lapsed, _TABLE.c.attempts >= self.policy.max_attempts)
                .values(
                    status="dead",
                    lease_until=None,
                    claim_token=None,
                    last_error="lease expired during the final attempt",
                )
            )
            due = (
                select(_TABLE.c.id)
                .where(
                    or_(
                        and_(_TABLE.c.status == "pending", _TABLE.c.next_attempt_at <= now),
                        lease_lapsed,
                    )
                )
                .order_by(_TABLE.c.next_attempt_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
                .cte("due")
            )
            rows = (
                await session.execute(
                    update(_TABLE)
                    .where(_TABLE.c.id == due.c.id)
                    .values(
                        status="delivering",
                        attempts=_TABLE.c.attempts + 1,
                        lease_until=now + lease,
                        claim_token=token,
                    )
                    .returning(_TABLE)
                )
            ).mappings()
            deadline = time.monotonic() + self.lease_seconds - _LEASE_MARGIN_SECONDS
            return [self._claimed(row, token, deadline) for row in rows]

    @staticmethod
    def _claimed(row: RowMapping, token: uuid.UUID, deadline: float) -> Claimed:
        window = row["agreed_window"]
        return Claimed(
            id=row["id"],
            claim_token=token,
            attempt=row["attempts"],
            event=row["event"],
            channel=row["channel"],
            recipient=Recipient(
                kind=row["recipient_kind"], id=row["recipient_id"], address=row["recipient_address"]
            ),
            language=row["language"],
            template=row["template"],
            context=row["context"],
            time_zone=row["time_zone"],
            agreed_window=msgspec.convert(window, AgreedWindow) if window else None,
            urgent=row["urgent"],
            created_at=row["created_at"],
            deadline=deadline,
        )

    async def deliver(self, claimed: Claimed) -> Outcome:
        """Render and send one claimed message, then record the outcome."""
        expires = _expiry(claimed)
        if expires is not None and utcnow() >= expires:
            # A one-time code nobody can use any more: not sent late, and not kept.
            return await self._failed(claimed, "expired before it could be sent", retryable=False)
        try:
            rendered = render(
                claimed.template, claimed.language, claimed.context, claimed.time_zone
            )
            channel = self.channels.get(claimed.channel)
        except DeliveryFailed as exc:
            return await self._failed(claimed, exc.reason, retryable=False)
        except ValueError as exc:  # TemplateError, unknown zone: retrying cannot help
            return await self._failed(claimed, f"cannot render: {exc}", retryable=False)
        message = OutgoingMessage(
            delivery_id=claimed.id,
            event=claimed.event,
            channel=claimed.channel,  # type: ignore[arg-type]
            recipient=claimed.recipient,
            language=claimed.language,
            subject=rendered.subject,
            text=rendered.text,
            attempt=claimed.attempt,
            created_at=claimed.created_at,
        )
        remaining = claimed.deadline - time.monotonic()
        if remaining <= 0:
            # Too late to start: the lease lapses and the row is claimed again.
            return Outcome(claimed.id, "abandoned", "lease ran out before sending")
        try:
            async with asyncio.timeout(remaining):
                await channel.send(message)
        except DeliveryFailed as exc:
            return await self._failed(claimed, exc.reason, retryable=exc.retryable)
        except TimeoutError:
            return await self._failed(claimed, "delivery outlasted its lease", retryable=True)
        except Exception as exc:  # an adapter bug must not kill the worker
            logger.exception("channel %s raised on delivery=%s", claimed.channel, claimed.id)
            return await self._failed(claimed, f"adapter error: {type(exc).__name__}", True)
        await self._settle(
            claimed.id,
            None,
            status="delivered",
            delivered_at=func.now(),
            lease_until=None,
            claim_token=None,
            last_error=None,
            # Delivered: the link or one-time code has left, and is not kept at rest.
            context=redacted_context(claimed.template, claimed.context),
            start_link=True,
        )
        logger.info(
            "delivered delivery=%s event=%s channel=%s attempt=%d",
            claimed.id,
            claimed.event,
            claimed.channel,
            claimed.attempt,
        )
        return Outcome(claimed.id, "delivered")

    async def _failed(self, claimed: Claimed, reason: str, retryable: bool) -> Outcome:
        reason = reason[:_MAX_ERROR_LENGTH]
        if retryable and claimed.attempt < self.policy.max_attempts:
            delay = backoff_delay(claimed.attempt, self.policy, self._rng)
            retry_at = earliest_send_time(
                utcnow() + timedelta(seconds=delay),
                claimed.time_zone,
                urgent=claimed.urgent,
                agreed=claimed.agreed_window,
                holidays=self.holidays,
                # A retried visit notice is still not held past the visit.
                deadline=_deadline(claimed),
            )
            await self._settle(
                claimed.id,
                claimed.claim_token,
                status="pending",
                # Never before not_before, whatever this machine's clock says.
                next_attempt_at=func.greatest(retry_at, _TABLE.c.not_before),
                lease_until=None,
                claim_token=None,
                last_error=reason,
            )
            logger.warning(
                "retry delivery=%s event=%s attempt=%d in %.1fs: %s",
                claimed.id,
                claimed.event,
                claimed.attempt,
                delay,
                reason,
            )
            return Outcome(claimed.id, "retry", reason)
        await self._settle(
            claimed.id,
            claimed.claim_token,
            status="dead",
            lease_until=None,
            claim_token=None,
            last_error=reason,
            # Never sent, never will be: the link or code it carried is not kept either.
            context=redacted_context(claimed.template, claimed.context),
        )
        logger.error(
            "dead delivery=%s event=%s attempt=%d: %s",
            claimed.id,
            claimed.event,
            claimed.attempt,
            reason,
        )
        return Outcome(claimed.id, "dead", reason)

    async def _settle(
        self,
        row_id: uuid.UUID,
        token: uuid.UUID | None,
        *,
        start_link: bool = False,
        **values: Any,
    ) -> None:
        """Write an outcome. Success always wins; a failure only counts for the current claim.

        ``start_link``: the message was sent, so the customer link it carries starts its
        lifetime now (once: a duplicate delivery does not extend it).
        """
        condition = (
            _TABLE.c.status != "delivered" if token is None else _TABLE.c.claim_token == token
        )
        async with self.sessionmaker() as session, session.begin():
            await session.execute(_RELAXED_COMMIT)
            link_id = await session.scalar(
                update(_TABLE)
                .where(_TABLE.c.id == row_id, condition)
                .values(**values)
                .returning(_TABLE.c.link_id)
            )
            if start_link and link_id is not None:
                await start_link_lifetime(session, link_id)

    async def run_batch(self) -> list[Outcome]:
        """Claim one batch and deliver it concurrently."""
        claimed = await self.claim()
        if not claimed:
            return []
        return list(await asyncio.gather(*(self.deliver(c) for c in claimed)))

    async def drain(self) -> list[Outcome]:
        """Deliver until nothing is due now (messages retried later are left for later)."""
        outcomes: list[Outcome] = []
        while batch := await self.run_batch():
            outcomes.extend(batch)
        return outcomes

    async def purge_if_due(self) -> None:
        """Delete finished rows past retention, at most once an hour per worker."""
        if self.retention is None or time.monotonic() - self._last_purge < _PURGE_EVERY_SECONDS:
            return
        self._last_purge = time.monotonic()
        async with self.sessionmaker() as session, session.begin():
            purged = await purge_finished(session, self.retention)
        if purged:
            logger.info("purged %d finished outbox messages", purged)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll and deliver until ``stop`` is set; a batch in flight is finished first."""
        logger.info("notification worker %s started", self.name)
        while not stop.is_set():
            try:
                outcomes = await self.run_batch()
                await self.purge_if_due()
            except Exception:  # a database restart must not end the worker
                logger.exception("worker %s: batch failed; retrying after a pause", self.name)
                outcomes = []
            if len(outcomes) < self.concurrency:
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.poll_seconds)
        logger.info("notification worker %s stopped", self.name)


def _named_value(claimed: Claimed, name: Callable[[EventSpec], str | None]) -> object:
    """The context value under the field the message's event spec names, if it names one."""
    try:
        field = name(spec_for(claimed.event, claimed.template))
    except ValueError:
        return None
    return claimed.context.get(field) if field else None


def _expiry(claimed: Claimed) -> datetime | None:
    """When the message becomes worthless (a one-time code's validity), if its event says."""
    minutes = _named_value(claimed, lambda spec: spec.lifetime_field)
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        return None
    return claimed.created_at + timedelta(minutes=minutes)


def _deadline(claimed: Claimed) -> datetime | None:
    """The moment the message is useless after (a visit's start), when its event has one."""
    value = _named_value(claimed, lambda spec: spec.deadline_field)
    return datetime.fromisoformat(value) if isinstance(value, str) else None


@asynccontextmanager
async def background_worker(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Worker]:
    """Run a worker as a task of the current event loop (e.g. in the app's lifespan)."""
    channels = build_channels(
        settings.notifications, include_text=settings.environment == "development"
    )
    worker = Worker.from_settings(sessionmaker, channels, settings.notifications)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop), name=worker.name)
    try:
        yield worker
    finally:
        stop.set()
        try:
            await task
        finally:
            await channels.aclose()
