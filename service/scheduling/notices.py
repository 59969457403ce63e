"""Who hears about a visit change, in which language and on which channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Territory, Visit, WorkOrder

# Filled in with the notification outbox (service.notifications); see _send.


async def visit_booked(
    session: AsyncSession, visit: Visit, order: WorkOrder, territory: Territory
) -> None:
    """Tell the customer the promised window."""


async def visit_rescheduled(
    session: AsyncSession,
    visit: Visit,
    order: WorkOrder,
    territory: Territory,
    old_window: Range[datetime],
) -> None:
    """Tell the customer the new window."""


async def visit_reassigned(
    session: AsyncSession, visit: Visit, order: WorkOrder, territory: Territory, previous: object
) -> None:
    """Tell the customer another technician comes at the same time."""


async def visit_cancelled(
    session: AsyncSession, visit: Visit, order: WorkOrder, territory: Territory
) -> None:
    """Tell the customer the visit is cancelled."""


async def visit_en_route(
    session: AsyncSession, visit: Visit, order: WorkOrder, territory: Territory
) -> None:
    """Tell the customer the technician is on the way, with the ETA."""


async def visit_late(
    session: AsyncSession, visit: Visit, order: WorkOrder, territory: Territory, arrival: datetime
) -> None:
    """Apologise to the customer with the new time; alert the dispatcher."""
