"""Who hears about a visit change, in which language and on which channel.

Customers get an SMS in their language, in the site's time zone; quiet hours apply to
non-urgent messages (seed 000 §9). Technicians learn of changes through their phone's change
feed (service.technicians.feed); the dispatch desk gets lateness alerts through the webhook.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Customer, Territory, Visit, WorkOrder
from service.notifications import Recipient, enqueue
from service.notifications.staff import desk_address


async def _to_customer(
    session: AsyncSession,
    event: str,
    visit: Visit,
    order: WorkOrder,
    territory: Territory,
    context: dict[str, Any],
    key: str | None = None,
) -> None:
    customer = await session.get_one(Customer, order.customer_id)
    phone = next(iter(order.contact_phones or customer.phones), None)
    if phone is None:
        return
    await enqueue(
        session,
        event=event,
        event_key=key or f"{visit.id}:v{visit.version}",
        channel="sms",
        recipient=Recipient(kind="customer", id=customer.id, address=phone),
        language=customer.preferred_language,  # type: ignore[arg-type]
        time_zone=territory.time_zone,
        context=context,
    )


def _window(window: Range[datetime]) -> dict[str, Any]:
    return {"window_start": window.lower, "window_end": window.upper}


async def visit_booked(
    session: AsyncSession, visit: Visit, order: WorkOrder, territory: Territory
) -> None:
    """Tell the customer the promised window."""
    await _to_customer(
        session, "visit.booked", visit, order, territory, _window(visit.agreed_window)
    )


async def visit_rescheduled(
    session: AsyncSession,
    visit: Visit,
    order: WorkOrder,
    territory: Territory,
    old_window: Range[datetime],
) -> None:
    """Tell the customer the new window."""
    key = f"{visit.id}:{visit.agreed_window.lower}"
    await _to_customer(
        session, "visit.rescheduled", visit, order, territory, _window(visit.agreed_window), key=key
    )


async def visit_reassigned(
    session: AsyncSession,
    visit: Visit,
    order: WorkOrder,
    territory: Territory,
    previous: uuid.UUID,
) -> None:
    """Tell the customer another technician comes at the same time."""
    key = f"{visit.id}:{previous}->{visit.technician_id}"
    await _to_customer(
        session, "visit.reassigned", visit, order, territory, _window(visit.agreed_window), key=key
    )


async def visit_cancelled(
    session: AsyncSession, visit: Visit, order: WorkOrder, territory: Territory
) -> None:
    """Tell the customer the visit is cancelled."""
    await _to_customer(
        session,
        "visit.cancelled",
        visit,
        order,
        territory,
        _window(visit.agreed_window),
        key=f"{visit.id}:cancelled",
    )


async def visit_en_route(
    session: AsyncSession, visit: Visit, order: WorkOrder, territory: Territory
) -> None:
    """Tell the customer the technician is on the way, with the ETA."""
    await _to_customer(
        session,
        "visit.en_route",
        visit,
        order,
        territory,
        {"eta": visit.eta},
        key=f"{visit.id}:eta:{visit.eta}",
    )


async def visit_late(
    session: AsyncSession, visit: Visit, order: WorkOrder, territory: Territory, arrival: datetime
) -> None:
    """Apologise to the customer with the new time (seed 000 §11); alert the dispatch desk."""
    await _to_customer(
        session,
        "visit.late_predicted",
        visit,
        order,
        territory,
        {"new_eta": arrival},
        key=f"{visit.id}:late",
    )
    await enqueue(
        session,
        event="dispatch.visit_late",
        event_key=f"{visit.id}:late",
        channel="webhook",
        recipient=Recipient(kind="user", address=desk_address("dispatcher", territory.code)),
        language="ru",
        time_zone=territory.time_zone,
        context={
            "work_order_number": order.number,
            "window_end": visit.agreed_window.upper,
            "new_eta": arrival,
        },
    )
