"""The worker against a real receiver: exactly once under concurrency, retries, crashes."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import msgspec
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.notifications import Recipient, enqueue
from service.notifications.channels import ChannelSet, DeliveryFailed
from service.notifications.schemas import OutgoingMessage
from service.notifications.worker import Worker, background_worker
from service.settings import Settings
from tests.integration.notifications.support import (
    Receiver,
    always,
    eventually,
    notify_settings,
    row,
    rows,
    sequence,
    spawn_worker,
    worker_env,
)

pytestmark = pytest.mark.asyncio

CHANNEL_ADDRESSES = {
    "sms": "+77011234567",
    "email": "customer@example.kz",
    "push": "tok-0123456789",
}


async def enqueue_visits(
    sessions: async_sessionmaker[AsyncSession], visits: int, channels: tuple[str, ...] = ("sms",)
) -> list[uuid.UUID]:
    """One urgent en-route event per visit, on each channel; returns the row ids."""
    async with sessions() as session:
        for _ in range(visits):
            visit_id, customer_id = uuid.uuid4(), uuid.uuid4()
            for channel in channels:
                await enqueue(
                    session,
                    event="visit.en_route",
                    event_key=str(visit_id),
                    channel=channel,  # type: ignore[arg-type]
                    recipient=Recipient(
                        kind="customer", id=customer_id, address=CHANNEL_ADDRESSES[channel]
                    ),
                    language="kk",
                    time_zone="Asia/Barnaul",
                    context={"eta": datetime(2031, 3, 3, 5, 25, tzinfo=UTC)},
                )
        await session.commit()
    return [m.id for m in await rows(sessions)]


def assert_exactly_once(receiver: Receiver, ids: list[uuid.UUID]) -> None:
    """Every message reached the receiver once, signed, with its delivery id in the header."""
    counts = Counter(receiver.delivery_ids())
    # A worker process also runs the periodic jobs, which may queue notices of their own about
    # other tests' visits; those must arrive once too, but only ours are known here.
    assert {str(i): counts[str(i)] for i in ids} == {str(i): 1 for i in ids}
    assert set(counts.values()) == {1}, counts.most_common(3)
    assert all(hit.signature_ok for hit in receiver.hits)
    assert all(hit.header_delivery_id == hit.delivery_id for hit in receiver.hits)


async def test_two_concurrent_workers_deliver_each_message_exactly_once(
    outbox: async_sessionmaker[AsyncSession],
    make_receiver: Callable[..., Receiver],
    make_worker: Callable[..., Worker],
) -> None:
    receiver = make_receiver(always(200), delay=0.01)
    ids = await enqueue_visits(outbox, 30, channels=("sms", "email"))
    assert len(ids) == 60
    config = notify_settings(receiver.url, concurrency=3)
    first, second = make_worker(config), make_worker(config)

    outcomes = await asyncio.gather(first.drain(), second.drain())

    assert_exactly_once(receiver, ids)
    assert all(len(o) > 0 for o in outcomes), "both workers should have taken a share"
    assert sum(len(o) for o in outcomes) == 60
    delivered = await rows(outbox)
    assert {(m.status, m.attempts) for m in delivered} == {("delivered", 1)}
    assert all(m.lease_until is None and m.claim_token is None for m in delivered)
    # Once per event per channel: each visit got one SMS and one e-mail.
    assert Counter(hit.channel for hit in receiver.hits) == {"sms": 30, "email": 30}


async def test_two_worker_processes_deliver_each_message_exactly_once(
    outbox_settings: Settings,
    outbox: async_sessionmaker[AsyncSession],
    make_receiver: Callable[..., Receiver],
) -> None:
    receiver = make_receiver(always(200), delay=0.01)
    ids = await enqueue_visits(outbox, 40)
    env = worker_env(outbox_settings.database.url, notify_settings(receiver.url, concurrency=4))
    processes = [await spawn_worker(env, "--once") for _ in range(2)]
    outputs = await asyncio.wait_for(
        asyncio.gather(*(p.communicate() for p in processes)), timeout=30
    )
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert_exactly_once(receiver, ids)
    # Only ours: the jobs may also queue messages that wait for working hours (apologies).
    assert {m.status for m in await rows(outbox) if m.id in ids} == {"delivered"}


async def test_a_failing_receiver_gets_the_message_on_the_third_attempt(
    outbox: async_sessionmaker[AsyncSession],
    make_receiver: Callable[..., Receiver],
    make_worker: Callable[..., Worker],
) -> None:
    receiver = make_receiver(sequence(500, 500, then=200))
    [message_id] = await enqueue_visits(outbox, 1)
    worker = make_worker(notify_settings(receiver.url))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))

    async def delivered() -> bool:
        return (await row(outbox, message_id)).status == "delivered"

    try:
        await eventually(delivered, within=10)
    finally:
        stop.set()
        await task
    assert receiver.delivery_ids() == [str(message_id)] * 3
    assert [hit.attempt for hit in receiver.hits] == [1, 2, 3]
    message = await row(outbox, message_id)
    assert (message.attempts, message.last_error) == (3, None)
    assert message.delivered_at is not None


async def test_a_retry_is_scheduled_with_backoff_and_the_error_kept(
    outbox: async_sessionmaker[AsyncSession],
    make_receiver: Callable[..., Receiver],
    make_worker: Callable[..., Worker],
) -> None:
    receiver = make_receiver(always(503))
    [message_id] = await enqueue_visits(outbox, 1)
    worker = make_worker(
        notify_settings(receiver.url, backoff_base_seconds=60, backoff_max_seconds=600)
    )
    [outcome] = await worker.drain()
    assert outcome.status == "retry"
    message = await row(outbox, message_id)
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error == "webhook answered HTTP 503"
    waited = (message.next_attempt_at - datetime.now(UTC)).total_seconds()
    assert 25 <= waited <= 60  # base 60 s, jitter takes off at most half
    assert await worker.drain() == []  # not due yet


async def test_a_client_error_is_dead_at_once(
    outbox: async_sessionmaker[AsyncSession],
    make_receiver: Callable[..., Receiver],
    make_worker: Callable[..., Worker],
) -> None:
    receiver = make_receiver(always(422))
    [message_id] = await enqueue_visits(outbox, 1)
    [outcome] = await make_worker(notify_settings(receiver.url)).drain()
    assert outcome.status == "dead"
    refused = await row(outbox, message_id)
    assert (refused.status, refused.attempts) == ("dead", 1)
    assert refused.last_error == "webhook answered HTTP 422"
    assert len(receiver.hits) == 1


async def test_server_errors_are_retried_until_max_attempts_then_dead(
    outbox: async_sessionmaker[AsyncSession],
    make_receiver: Callable[..., Receiver],
    make_worker: Callable[..., Worker],
) -> None:
    receiver = make_receiver(always(502))
    [message_id] = await enqueue_visits(outbox, 1)
    worker = make_worker(notify_settings(receiver.url, max_attempts=3, backoff_max_seconds=0.05))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await eventually(lambda: _status_is(outbox, message_id, "dead"), within=10)
    finally:
        stop.set()
        await task
    dead = await row(outbox, message_id)
    assert (dead.attempts, dead.last_error) == (3, "webhook answered HTTP 502")
    assert receiver.delivery_ids() == [str(message_id)] * 3


async def _status_is(
    sessions: async_sessionmaker[AsyncSession], message_id: uuid.UUID, status: str
) -> bool:
    return (await row(sessions, message_id)).status == status


async def test_nothing_is_lost_when_a_worker_is_killed_mid_delivery(
    outbox_settings: Settings,
    outbox: async_sessionmaker[AsyncSession],
    make_receiver: Callable[..., Receiver],
    make_worker: Callable[..., Worker],
) -> None:
    receiver = make_receiver(sequence(None, then=200))  # the first request stalls
    [message_id] = await enqueue_visits(outbox, 1)
    config = notify_settings(receiver.url, lease_seconds=3.0, webhook_timeout_seconds=2.5)
    process = await spawn_worker(worker_env(outbox_settings.database.url, config), "--once")
    try:
        assert await asyncio.to_thread(receiver.first_hit.wait, 20), "worker never called"
    finally:
        process.kill()  # SIGKILL: no clean-up, no outcome written
        await asyncio.wait_for(process.communicate(), timeout=10)
    assert process.returncode == -signal.SIGKILL

    leased = await row(outbox, message_id)
    assert (leased.status, leased.attempts) == ("delivering", 1)
    assert leased.lease_until is not None
    rescuer = make_worker(config)
    assert await rescuer.drain() == []  # the lease still holds: nobody else may send

    async def lease_expired() -> bool:
        async with outbox() as session:
            return bool(
                await session.scalar(
                    text("SELECT lease_until <= now() FROM outbox_messages WHERE id = :id"),
                    {"id": message_id},
                )
            )

    await eventually(lease_expired, within=10)
    [outcome] = await rescuer.drain()
    assert outcome.status == "delivered"

    delivered = await row(outbox, message_id)
    assert (delivered.status, delivered.attempts) == ("delivered", 2)
    # At least once: the receiver saw the message twice, under one delivery id to dedupe on.
    assert receiver.delivery_ids() == [str(message_id), str(message_id)]
    assert [hit.attempt for hit in receiver.hits] == [1, 2]
    assert all(hit.signature_ok for hit in receiver.hits)


class FailingChannels(ChannelSet):
    """Every channel fails, retryably."""

    def __init__(self) -> None:
        super().__init__({})

    def get(self, name: str) -> _Failing:
        return _Failing()


class _Failing:
    async def send(self, message: OutgoingMessage) -> None:
        raise DeliveryFailed("gateway down", retryable=True)


async def test_a_worker_whose_lease_ran_out_cannot_undo_the_next_claim(
    outbox: async_sessionmaker[AsyncSession],
    make_receiver: Callable[..., Receiver],
    make_worker: Callable[..., Worker],
) -> None:
    receiver = make_receiver(always(200))
    [message_id] = await enqueue_visits(outbox, 1)
    config = notify_settings(receiver.url)
    slow = make_worker(config, channels=FailingChannels())
    fresh = make_worker(config)
    [stale_claim] = await slow.claim()
    async with outbox() as session:
        await session.execute(
            text("UPDATE outbox_messages SET lease_until = now() - interval '1 second'")
        )
        await session.commit()
    [new_claim] = await fresh.claim()
    assert new_claim.attempt == 2
    assert new_claim.claim_token != stale_claim.claim_token

    # The stale worker's failure is not recorded over the new claim...
    assert (await slow.deliver(stale_claim)).status == "retry"
    current = await row(outbox, message_id)
    assert (current.status, current.claim_token) == ("delivering", new_claim.claim_token)
    # ...and the new claim's success is.
    assert (await fresh.deliver(new_claim)).status == "delivered"
    assert (await row(outbox, message_id)).status == "delivered"


async def test_a_lease_lost_on_the_final_attempt_ends_dead(
    outbox: async_sessionmaker[AsyncSession],
    make_worker: Callable[..., Worker],
) -> None:
    [message_id] = await enqueue_visits(outbox, 1)
    async with outbox() as session:
        await session.execute(
            text(
                "UPDATE outbox_messages SET status = 'delivering', attempts = 3, "
                "lease_until = now() - interval '1 second', claim_token = gen_random_uuid()"
            )
        )
        await session.commit()
    worker = make_worker(notify_settings("http://127.0.0.1:9/", max_attempts=3))
    assert await worker.drain() == []
    dead = await row(outbox, message_id)
    assert (dead.status, dead.attempts) == ("dead", 3)
    assert dead.last_error == "lease expired during the final attempt"


async def test_the_worker_command_stops_cleanly_on_sigterm(
    outbox_settings: Settings,
    outbox: async_sessionmaker[AsyncSession],
    make_receiver: Callable[..., Receiver],
) -> None:
    receiver = make_receiver(always(200))
    process = await spawn_worker(
        worker_env(outbox_settings.database.url, notify_settings(receiver.url))
    )
    try:
        ids = await enqueue_visits(outbox, 3)
        await receiver.wait_for_hits(3, within=20)
        await eventually(lambda: _all_delivered(outbox), within=5)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=10)
    assert process.returncode == 0, output
    assert_exactly_once(receiver, ids)
    assert b"stopped" in output
    assert b"+7701" not in output  # no phone numbers in the worker's logs


async def _all_delivered(sessions: async_sessionmaker[AsyncSession]) -> bool:
    return {m.status for m in await rows(sessions)} == {"delivered"}


async def test_the_background_worker_delivers_alongside_the_app(
    outbox_settings: Settings,
    outbox: async_sessionmaker[AsyncSession],
    make_receiver: Callable[..., Receiver],
) -> None:
    receiver = make_receiver(always(200))
    configured = msgspec.structs.replace(
        outbox_settings, notifications=notify_settings(receiver.url)
    )
    async with background_worker(configured, outbox):
        ids = await enqueue_visits(outbox, 2)
        await eventually(lambda: _all_delivered(outbox), within=10)
    assert_exactly_once(receiver, ids)
