"""Links and one-time codes do not stay at rest; a link's lifetime starts when it is sent."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import CustomerLink, OutboxMessage
from service.notifications import Recipient, enqueue
from service.notifications.channels import ChannelSet, DeliveryFailed
from service.notifications.outbox import start_link_lifetime
from service.notifications.schemas import OutgoingMessage
from service.notifications.templates import all_secret_fields
from service.notifications.worker import Worker
from tests.integration.notifications.support import notify_settings, rows

pytestmark = pytest.mark.asyncio

PHONE = "+77011234567"
RATING_URL = "https://naryad.example/rate/SECRET-token-abcdefghijklmnop"
# Secret fields added after migration 0019: redacted when settled from their very first row.
SECRETS_BORN_REDACTED = {"status_url"}  # appeals (migration 0028)


def redact_finished_sql() -> str:
    """The one-off sweep of migration 0019 (rows finished before settle-time redaction)."""
    path = Path(__file__).parents[3] / "service/db/migrations/versions/0019_incidents.py"
    spec = importlib.util.spec_from_file_location("incidents_migration", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sql: str = module.REDACT_FINISHED
    return sql


def log_worker(make_worker: Callable[..., Worker]) -> Worker:
    """A worker with the development log channel (no gateway needed)."""
    return make_worker(notify_settings("http://127.0.0.1:9/unused", adapter="log"))


async def queue_code_and_link(
    sessions: async_sessionmaker[AsyncSession], link_id: uuid.UUID | None = None
) -> None:
    async with sessions() as session:
        await enqueue(
            session,
            event="otp.sent",
            event_key=str(uuid.uuid4()),
            channel="sms",
            recipient=Recipient(kind="customer", id=uuid.uuid4(), address=PHONE),
            language="ru",
            time_zone="Asia/Almaty",
            context={"code": "482913", "ttl_minutes": 10},
        )
        await enqueue(
            session,
            event="rating.requested",
            event_key=str(uuid.uuid4()),
            channel="sms",
            recipient=Recipient(kind="customer", id=uuid.uuid4(), address=PHONE),
            language="kk",
            time_zone="Asia/Almaty",
            context={"rating_url": RATING_URL},
            urgent=True,  # due now, whatever the hour of the test run
            link_id=link_id,
        )
        await session.commit()


async def test_codes_and_links_leave_the_outbox_once_delivered(
    outbox: async_sessionmaker[AsyncSession], make_worker: Callable[..., Worker]
) -> None:
    await queue_code_and_link(outbox)
    pending = {m.template: m.context for m in await rows(outbox)}
    assert pending == {
        "otp.sent": {"code": "482913", "ttl_minutes": 10},
        "rating.requested": {"rating_url": RATING_URL},
    }
    outcomes = await log_worker(make_worker).drain()
    assert sorted(o.status for o in outcomes) == ["delivered", "delivered"]
    delivered = {m.template: m for m in await rows(outbox)}
    assert delivered["otp.sent"].context == {"ttl_minutes": 10}
    assert delivered["rating.requested"].context == {}
    async with outbox() as session:
        stored = json.dumps(list(await session.scalars(select(OutboxMessage.context))))
    assert "482913" not in stored
    assert "SECRET-token" not in stored


class Refusing:
    """A channel whose gateway refuses every message for good."""

    async def send(self, message: OutgoingMessage) -> None:
        """Refuse."""
        raise DeliveryFailed("gateway said 400", retryable=False)


async def test_a_dead_message_keeps_no_code_and_the_migration_sweeps_old_rows(
    outbox: async_sessionmaker[AsyncSession], make_worker: Callable[..., Worker]
) -> None:
    # A gateway that refuses (4xx is not retried): the code is never sent, and not kept.
    worker = make_worker(
        notify_settings("http://127.0.0.1:9/unused", adapter="log"),
        channels=ChannelSet({"sms": Refusing()}),
    )
    await queue_code_and_link(outbox)
    outcomes = await worker.drain()
    assert sorted(o.status for o in outcomes) == ["dead", "dead"]
    assert all(
        "code" not in m.context and "rating_url" not in m.context for m in await rows(outbox)
    )

    # Rows finished by an older version still hold their secrets: the migration strips them.
    # Every secret field is swept, except those of templates born after settle-time redaction
    # (migration 0019): their rows were never finished holding a secret.
    sweep = redact_finished_sql()
    older = set(all_secret_fields()) - SECRETS_BORN_REDACTED
    assert older == {"act_url", "code", "rating_url"}
    assert all(f"'{name}'" in sweep for name in older)
    await queue_code_and_link(outbox)
    async with outbox() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "pending")
            .values(status="delivered", delivered_at=func.now())
        )
        result = await session.execute(text(sweep))
        assert getattr(result, "rowcount", None) == 2
        await session.commit()
    assert all(
        "code" not in m.context and "rating_url" not in m.context for m in await rows(outbox)
    )


async def test_a_rating_link_lives_its_days_from_the_moment_it_is_sent(
    outbox: async_sessionmaker[AsyncSession], make_worker: Callable[..., Worker]
) -> None:
    # Issued three days ago with a 7-day lifetime, and held (quiet hours, a gateway outage).
    issued = datetime.now(UTC) - timedelta(days=3)
    link_id = uuid.uuid4()
    async with outbox() as session:
        session.add(
            CustomerLink(
                id=link_id,
                token_hash=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
                purpose="rating",
                created_at=issued,
                expires_at=issued + timedelta(days=7),
            )
        )
        await session.commit()
    await queue_code_and_link(outbox, link_id=link_id)
    await log_worker(make_worker).drain()
    async with outbox() as session:
        link = await session.get_one(CustomerLink, link_id)
        db_now = await session.scalar(select(func.now()))
    assert link.sent_at is not None
    assert db_now is not None
    assert abs(link.sent_at - db_now) < timedelta(minutes=1)
    # Seven whole days from sending, not four days left from queueing.
    assert link.expires_at - link.sent_at == timedelta(days=7)
    assert link.expires_at > db_now + timedelta(days=6, hours=23)

    # A duplicate delivery (at least once) does not extend it again.
    first_expiry = link.expires_at
    async with outbox() as session:
        await start_link_lifetime(session, link_id)
        await session.commit()
        again = await session.get_one(CustomerLink, link_id, populate_existing=True)
    assert again.expires_at == first_expiry


async def test_a_code_past_its_validity_is_not_sent_late_and_not_kept(
    outbox: async_sessionmaker[AsyncSession], make_worker: Callable[..., Worker]
) -> None:
    await queue_code_and_link(outbox)
    async with outbox() as session:
        # The gateway was down for a quarter of an hour: the 10-minute code is worthless now.
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.event == "otp.sent")
            .values(created_at=func.now() - timedelta(minutes=15))
        )
        await session.commit()
    outcomes = {o.status for o in await log_worker(make_worker).drain()}
    assert outcomes == {"dead", "delivered"}
    by_template = {m.template: m for m in await rows(outbox)}
    code = by_template["otp.sent"]
    assert (code.status, code.last_error) == ("dead", "expired before it could be sent")
    assert code.context == {"ttl_minutes": 10}
    assert by_template["rating.requested"].status == "delivered"
