"""Arrange a completed visit with a live rating link, without driving the whole visit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from service.auth.actor import Role
from service.db.models import OutboxMessage, Visit, WorkOrder
from service.ratings.services import RatingLinks, request_rating
from tests.integration.builders import Area, Builder, Person


@dataclass
class Rated:
    """A completed visit, its territory's people, and the token from the customer's SMS."""

    area: Area
    order: WorkOrder
    visit: Visit
    technician: Person
    coordinators: list[Person]
    token: str

    @property
    def path(self) -> str:
        """The page's path."""
        return f"/rate/{self.token}"


async def rated_visit(build: Builder, *, coordinators: int = 1) -> Rated:
    """A completed visit whose customer has been sent a rating link."""
    area = await build.area()
    people = [await build.person(Role.COORDINATOR, area.territory) for _ in range(coordinators)]
    technician = await build.technician_at(area, 0.5, 0.5)
    assert technician.technician is not None
    order = await build.order(area, status="completed")
    visit = await build.visit(
        order,
        technician.technician,
        start=datetime.now(UTC) - timedelta(hours=3),
        status="completed",
    )
    async with build.sessionmaker() as session:
        links = RatingLinks(base_url="https://naryad.example", ttl=timedelta(days=7))
        order_row = await session.get_one(WorkOrder, order.id)
        visit_row = await session.get_one(Visit, visit.id)
        assert await request_rating(session, visit_row, order_row, links)
        await session.commit()
        message = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.event == "rating.requested",
                OutboxMessage.recipient_id == area.customer.id,
            )
        )
    assert message is not None
    token = message.context["rating_url"].rsplit("/rate/", 1)[1]
    return Rated(area, order, visit, technician, people, token)
