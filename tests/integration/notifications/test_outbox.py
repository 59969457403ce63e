"""Enqueueing: in the caller's transaction, deduplicated, deferred by quiet hours."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.base import Base
from service.db.migrate import include_name, include_object
from service.db.models import OutboxMessage
from service.notifications import AgreedWindow, InvalidNotification, Recipient, enqueue
from service.notifications.templates import TemplateError
from service.notifications.worker import Worker
from tests.integration.notifications.support import notify_settings, rows

pytestmark = pytest.mark.asyncio

ALMATY = ZoneInfo("Asia/Almaty")
PHONE = "+77011234567"


def customer(address: str = PHONE) -> Recipient:
    """A customer recipient."""
    return Recipient(kind="customer", id=uuid.uuid4(), address=address)


def en_route(**changes: Any) -> dict[str, Any]:
    """Arguments for an urgent visit.en_route SMS."""
    values: dict[str, Any] = {
        "event": "visit.en_route",
        "event_key": str(uuid.uuid4()),
        "channel": "sms",
        "recipient": customer(),
        "language": "ru",
        "time_zone": "Asia/Almaty",
        "context": {"eta": datetime(2031, 3, 3, 5, 25, tzinfo=UTC)},
    }
    values.update(changes)
    return values


async def count(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Outbox rows."""
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def test_a_rolled_back_change_leaves_no_message(
    outbox: async_sessionmaker[AsyncSession],
) -> None:
    async with outbox() as session:
        assert await enqueue(session, **en_route())
        await session.rollback()
    assert await count(outbox) == 0
    async with outbox() as session:
        assert await enqueue(session, **en_route())
        await session.commit()
    [message] = await rows(outbox)
    assert (message.status, message.attempts, message.urgent) == ("pending", 0, True)
    assert message.recipient_address == PHONE
    assert message.template == "visit.en_route"
    assert message.context == {"eta": "2031-03-03T05:25:00+00:00"}
    # Urgent: due at once by the database clock.
    assert message.not_before == message.next_attempt_at
    assert message.next_attempt_at <= datetime.now(UTC)


async def test_the_same_event_for_the_same_recipient_and_channel_is_one_row(
    outbox: async_sessionmaker[AsyncSession],
) -> None:
    arguments = en_route(event_key="visit-1:v3")
    async with outbox() as session:
        assert await enqueue(session, **arguments) is True
        assert await enqueue(session, **arguments) is False
        await session.commit()
    async with outbox() as session:
        assert await enqueue(session, **arguments) is False
        # Another channel, another occurrence or another recipient is another message.
        assert await enqueue(
            session,
            **{
                **arguments,
                "channel": "push",
                "recipient": Recipient(
                    kind="customer", id=arguments["recipient"].id, address="device-token-0123456789"
                ),
            },
        )
        assert await enqueue(session, **{**arguments, "event_key": "visit-1:v4"})
        assert await enqueue(session, **{**arguments, "recipient": customer()})
        await session.commit()
    assert await count(outbox) == 4
    dedup_keys = {m.dedup_key for m in await rows(outbox)}
    assert len(dedup_keys) == 4
    assert all(PHONE not in key for key in dedup_keys)


async def test_concurrent_enqueues_of_one_event_make_one_row(
    outbox: async_sessionmaker[AsyncSession],
) -> None:
    import asyncio

    arguments = en_route(event_key="visit-2:v1")
    barrier = asyncio.Barrier(3)

    async def attempt() -> bool:
        async with outbox() as session:
            await barrier.wait()
            created = await enqueue(session, **arguments)
            await session.commit()
            return created

    assert sorted(await asyncio.gather(attempt(), attempt(), attempt())) == [False, False, True]
    assert await count(outbox) == 1


async def test_non_urgent_messages_wait_for_working_hours(
    outbox: async_sessionmaker[AsyncSession],
    make_worker: Callable[..., Worker],
) -> None:
    friday_evening = datetime(2031, 3, 7, 19, 0, tzinfo=ALMATY)
    rating: dict[str, Any] = {
        "event": "rating.requested",
        "channel": "sms",
        "recipient": customer(),
        "language": "kk",
        "time_zone": "Asia/Almaty",
        "context": {"rating_url": "https://naryad.example/r/abc"},
    }
    evenings = AgreedWindow(start=time(19, 30), end=time(21, 0))
    async with outbox() as session:
        await enqueue(session, event_key="later", now=friday_evening, **rating)
        await enqueue(
            session, event_key="agreed", now=friday_evening, agreed_window=evenings, **rating
        )
        await enqueue(session, event_key="urgent", now=friday_evening, urgent=True, **rating)
        await session.commit()
    by_kind = {(m.agreed_window is not None, m.urgent): m for m in await rows(outbox)}
    later = by_kind[(False, False)]
    assert later.not_before == datetime(2031, 3, 10, 9, 0, tzinfo=ALMATY)  # Monday 09:00
    assert later.next_attempt_at == later.not_before
    assert by_kind[(True, False)].not_before == datetime(2031, 3, 7, 19, 30, tzinfo=ALMATY)
    assert by_kind[(True, False)].agreed_window == {
        "start": "19:30:00",
        "end": "21:00:00",
        "weekdays": [0, 1, 2, 3, 4, 5, 6],
    }
    assert by_kind[(False, True)].next_attempt_at <= datetime.now(UTC)

    # The worker delivers the urgent one and leaves the others for their time.
    worker = make_worker(notify_settings("http://127.0.0.1:9/unused", adapter="log"))
    outcomes = await worker.drain()
    assert [o.id for o in outcomes] == [by_kind[(False, True)].id]
    assert sorted(m.status for m in await rows(outbox)) == ["delivered", "pending", "pending"]


async def test_a_visit_message_does_not_wait_past_the_visit(
    outbox: async_sessionmaker[AsyncSession],
) -> None:
    friday_evening = datetime(2031, 3, 7, 19, 0, tzinfo=ALMATY)
    saturday_visit = datetime(2031, 3, 8, 10, 0, tzinfo=ALMATY)
    async with outbox() as session:
        await enqueue(
            session,
            event="visit.booked",
            event_key="v",
            channel="email",
            recipient=customer("aliya@example.kz"),
            language="en",
            time_zone="Asia/Almaty",
            context={
                "window_start": saturday_visit,
                "window_end": saturday_visit + timedelta(hours=2),
            },
            now=friday_evening,
        )
        await session.commit()
    [message] = await rows(outbox)
    assert not message.urgent
    assert message.not_before <= datetime.now(UTC)


async def visit_notice_due(
    outbox: async_sessionmaker[AsyncSession], booked: datetime, visit: datetime
) -> OutboxMessage:
    """Book a visit at ``booked`` (a future moment) and return its queued notice."""
    async with outbox() as session:
        await enqueue(
            session,
            event="visit.booked",
            event_key=str(uuid.uuid4()),
            channel="sms",
            recipient=customer(),
            language="kk",
            time_zone="Asia/Almaty",
            context={"window_start": visit, "window_end": visit + timedelta(hours=2)},
            now=booked,
        )
        await session.commit()
    [message] = await rows(outbox)
    return message


async def test_a_friday_evening_booking_for_monday_nine_is_not_held_until_monday(
    outbox: async_sessionmaker[AsyncSession],
) -> None:
    # 2031-03-07 is a Friday. Quiet hours alone would hold the notice until Monday 09:00,
    # the minute the visit starts.
    monday_nine = datetime(2031, 3, 10, 9, 0, tzinfo=ALMATY)
    message = await visit_notice_due(
        outbox, datetime(2031, 3, 7, 19, 8, tzinfo=ALMATY), monday_nine
    )
    assert not message.urgent
    assert message.next_attempt_at <= datetime.now(UTC)  # due at once: Friday evening


async def test_a_late_friday_night_booking_goes_on_saturday_morning(
    outbox: async_sessionmaker[AsyncSession],
) -> None:
    monday_nine = datetime(2031, 3, 10, 9, 0, tzinfo=ALMATY)
    message = await visit_notice_due(
        outbox, datetime(2031, 3, 7, 22, 30, tzinfo=ALMATY), monday_nine
    )
    assert message.next_attempt_at == datetime(2031, 3, 8, 9, 0, tzinfo=ALMATY)
    assert message.not_before == message.next_attempt_at


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"channel": "fax"}, InvalidNotification),
        ({"language": "de"}, InvalidNotification),
        ({"recipient": Recipient(kind="customer", address="8 701 123 45 67")}, InvalidNotification),
        ({"channel": "email"}, InvalidNotification),
        ({"time_zone": "Mars/Olympus"}, InvalidNotification),
        ({"event_key": ""}, InvalidNotification),
        ({"context": {}}, TemplateError),
        ({"event": "visit.teleported"}, ValueError),
        ({"template": "no.such"}, TemplateError),
    ],
)
async def test_bad_requests_write_nothing(
    outbox: async_sessionmaker[AsyncSession], changes: dict[str, Any], error: type[Exception]
) -> None:
    async with outbox() as session:
        with pytest.raises(error):
            await enqueue(session, **en_route(**changes))
        await session.commit()
    assert await count(outbox) == 0


async def test_outbox_migration_matches_the_model(
    outbox: async_sessionmaker[AsyncSession],
) -> None:
    def only_outbox(obj: Any, name: str | None, type_: str, reflected: bool, compare: Any) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        if table is None or getattr(table, "name", None) != "outbox_messages":
            return False
        return include_object(obj, name, type_, reflected, compare)

    async with outbox() as session:
        connection = await session.connection()

        def diff(sync_connection: Any) -> list[Any]:
            context = MigrationContext.configure(
                sync_connection,
                opts={
                    "include_name": include_name,
                    "include_object": only_outbox,
                    "compare_type": True,
                },
            )
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # nothing left uncompared
                return list(compare_metadata(context, Base.metadata))

        assert await connection.run_sync(diff) == []
