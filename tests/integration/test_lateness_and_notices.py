"""Customers hear about their visit; lateness is flagged once, before the window is missed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from service.common.actor import Role
from service.db.models import OutboxMessage, Visit
from service.scheduling.services import LatenessService
from tests.integration.builders import Builder

pytestmark = pytest.mark.asyncio


async def _messages(build: Builder, event: str, customer_id: Any) -> list[OutboxMessage]:
    async with build.sessionmaker() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.event == event, OutboxMessage.recipient_id == customer_id
            )
        )
        return list(rows.all())


async def test_booking_and_cancelling_tell_the_customer(client: Any, build: Builder) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    tech = await build.technician_at(area, 0.5, 0.5)
    order = await build.order(area)
    start = (datetime.now(UTC) + timedelta(days=2)).replace(
        hour=5, minute=0, second=0, microsecond=0
    )  # 10:00 in Almaty
    booked = await client.post(
        f"/api/v1/work-orders/{order.id}/visits",
        json={
            "window": {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()},
            "agreed_by": {"name": "Клиент", "channel": "phone"},
            "technician_id": str(tech.actor.technician_id),
        },
        headers=dispatcher.headers,
    )
    assert booked.status_code == 201, booked.text
    visit_id = booked.json()["id"]
    (sms,) = await _messages(build, "visit.booked", area.customer.id)
    assert sms.channel == "sms"
    assert sms.recipient_address == "+77011234567"
    assert sms.language == "kk"  # the customer's language
    assert sms.time_zone == "Asia/Almaty"
    assert sms.context["window_start"].startswith(start.isoformat()[:19])
    cancelled = await client.post(
        f"/api/v1/visits/{visit_id}/cancel",
        json={"reason": "Клиент уехал"},
        headers=dispatcher.headers,
    )
    assert cancelled.status_code == 200
    assert len(await _messages(build, "visit.cancelled", area.customer.id)) == 1


async def test_lateness_is_raised_once_before_the_window_is_missed(build: Builder) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    # The sweep covers every visit: flag what earlier tests left behind first, so the count
    # below is this test's visits alone.
    async with build.sessionmaker() as session:
        await LatenessService(session).sweep(now)
        await session.commit()
    area = await build.area()
    tech = await build.technician_at(area, 0.5, 0.5)
    assert tech.technician is not None
    # First visit runs long (it started an hour ago and is still not finished); the second
    # visit's window closes 20 minutes after the first one's work can end: it will be missed.
    first = await build.visit(
        await build.order(area, status="in_progress"),
        tech.technician,
        start=now - timedelta(hours=1),
        hours=1,
        status="on_site",
    )
    async with build.sessionmaker() as session:
        row = await session.get_one(Visit, first.id)
        row.arrived_at = now - timedelta(minutes=5)
        await session.commit()
    second_order = await build.order(area, status="scheduled")
    second = await build.visit(
        second_order, tech.technician, start=now + timedelta(minutes=10), hours=0.5
    )
    async with build.sessionmaker() as session:
        flagged = await LatenessService(session).sweep(now)
        await session.commit()
    assert flagged == 1
    async with build.sessionmaker() as session:
        late = await session.get_one(Visit, second.id)
        assert late.late_notified_at is not None
        again = await LatenessService(session).sweep(now + timedelta(minutes=1))
        await session.commit()
    assert again == 0  # flagged once
    (apology,) = await _messages(build, "visit.late_predicted", area.customer.id)
    assert apology.urgent
    assert apology.context["new_eta"]
    async with build.sessionmaker() as session:
        desk = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.event == "dispatch.visit_late")
            )
        ).all()
    assert [m.context["work_order_number"] for m in desk].count(second_order.number) == 1
