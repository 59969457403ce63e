"""The dispatcher's unscheduled queue: open orders without a live visit, by control deadline.

An order is waiting for the dispatcher when it is open (new, on hold, or in work whose last
visit ended as no-access or needs-revisit) and has no planned, en-route or on-site visit.
Rows run by control deadline (soonest first, none last) and are paged by keyset on
(control deadline, id), which the partial index of migration 0021 serves.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    literal_column,
    or_,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession

from service.common.actor import Actor
from service.common.scope import territory_condition
from service.db.base import utcnow
from service.db.models import Customer, Site, Territory, Visit, WorkOrder
from service.db.models.visits import LIVE_STATUSES
from service.orders.services import search_query
from service.staff.customer_forms import national_digits

QUEUE_STATUSES = ("new", "scheduled", "in_progress", "on_hold")
PAGE_SIZE = 25
_PHONE_CHARS = re.compile(r"^[\d\s()+\-]+$")


class QueueCursor(msgspec.Struct, array_like=True, frozen=True):
    """The (control deadline, id) of a page's last row; no deadline sorts last."""

    deadline: datetime | None
    id: uuid.UUID


def encode_cursor(deadline: datetime | None, row_id: uuid.UUID) -> str:
    """An opaque, URL-safe cursor."""
    raw = msgspec.json.encode(QueueCursor(deadline=deadline, id=row_id))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str | None) -> QueueCursor | None:
    """A cursor this page issued; anything else starts from the first page."""
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        return msgspec.json.decode(raw, type=QueueCursor)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        return None


def phone_digits(q: str) -> str | None:
    """The digits of a search that looks like (part of) a phone number, else None."""
    if not _PHONE_CHARS.match(q):
        return None
    digits = national_digits(re.sub(r"\D", "", q))
    return digits if len(digits) >= 4 else None


def _like(value: str) -> str:
    """A LIKE pattern matching ``value`` anywhere (its own wildcards escaped)."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True, slots=True)
class QueueFilters:
    """The queue's filters; all optional and combined with AND."""

    type: str | None = None
    priority: str | None = None
    territory_id: uuid.UUID | None = None
    skill: str | None = None
    q: str | None = None


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One waiting order as the queue shows it."""

    id: uuid.UUID
    number: str
    type: str
    priority: str
    status: str
    control_deadline: datetime | None
    customer_name: str
    customer_phone: str | None
    address: str
    territory_code: str
    time_zone: str
    last_visit_status: str | None


@dataclass(frozen=True, slots=True)
class QueuePage:
    """A page of the queue and the cursor of the next one."""

    rows: list[QueueRow]
    next_cursor: str | None


def _search(q: str) -> ColumnElement[bool]:
    """Customer phone, customer name, order number or words, or site address.

    Each way of matching is its own set of order ids read through its own index (trigram GIN
    on names, addresses and phones, the order's full-text GIN, then the foreign-key b-trees);
    the union of those sets is what the queue keeps. An OR of the conditions on the orders
    themselves would make PostgreSQL read every waiting order at 100,000 of them.
    """
    term = q.strip()
    matches = [
        select(WorkOrder.id).where(
            WorkOrder.customer_id.in_(
                select(Customer.id).where(Customer.full_name.ilike(_like(term)))
            )
        ),
        select(WorkOrder.id).where(
            WorkOrder.site_id.in_(select(Site.id).where(Site.address.ilike(_like(term))))
        ),
    ]
    if tsquery := search_query(term):
        matches.append(
            select(WorkOrder.id).where(
                WorkOrder.search.op("@@")(func.to_tsquery(literal_column("'simple'"), tsquery))
            )
        )
    if digits := phone_digits(term):
        pattern = _like(digits)
        # phones_text (migration 0025) is the expression the trigram indexes hold.
        matches.append(
            select(WorkOrder.id).where(
                WorkOrder.customer_id.in_(
                    select(Customer.id).where(func.phones_text(Customer.phones).like(pattern))
                )
            )
        )
        matches.append(
            select(WorkOrder.id).where(func.phones_text(WorkOrder.contact_phones).like(pattern))
        )
    return WorkOrder.id.in_(union(*matches))


class QueueService:
    """Reads the unscheduled queue in the caller's territories."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def territories(self) -> list[tuple[uuid.UUID, str, str]]:
        """The caller's territories (id, code, name) for the territory filter."""
        rows = await self.session.execute(
            select(Territory.id, Territory.code, Territory.name)
            .where(territory_condition(self.actor, Territory.id))
            .order_by(Territory.code)
            .limit(200)
        )
        return [(r.id, r.code, r.name) for r in rows]

    def query(self, filters: QueueFilters, cursor: QueueCursor | None, limit: int) -> Select[Any]:
        """The SELECT behind a page (also what EXPLAIN checks)."""
        last_visit = (
            select(Visit.status)
            .where(Visit.work_order_id == WorkOrder.id)
            .order_by(Visit.created_at.desc())
            .limit(1)
            .correlate(WorkOrder)
            .scalar_subquery()
        )
        stmt = (
            select(
                WorkOrder,
                Customer.full_name,
                Customer.phones,
                Site.address,
                Territory.code,
                Territory.time_zone,
                last_visit.label("last_visit_status"),
            )
            .join(Customer, Customer.id == WorkOrder.customer_id)
            .join(Site, Site.id == WorkOrder.site_id)
            .join(Territory, Territory.id == WorkOrder.territory_id)
            .where(
                WorkOrder.status.in_(QUEUE_STATUSES),
                territory_condition(self.actor, WorkOrder.territory_id),
                ~exists().where(
                    Visit.work_order_id == WorkOrder.id, Visit.status.in_(LIVE_STATUSES)
                ),
            )
        )
        if filters.type:
            stmt = stmt.where(WorkOrder.type == filters.type)
        if filters.priority:
            stmt = stmt.where(WorkOrder.priority == filters.priority)
        if filters.territory_id:
            stmt = stmt.where(WorkOrder.territory_id == filters.territory_id)
        if filters.skill:
            stmt = stmt.where(WorkOrder.required_skills.contains([filters.skill]))
        if filters.q and filters.q.strip():
            stmt = stmt.where(_search(filters.q))
        if cursor is not None:
            if cursor.deadline is None:
                stmt = stmt.where(WorkOrder.control_deadline.is_(None), WorkOrder.id > cursor.id)
            else:
                stmt = stmt.where(
                    or_(
                        WorkOrder.control_deadline > cursor.deadline,
                        and_(
                            WorkOrder.control_deadline == cursor.deadline,
                            WorkOrder.id > cursor.id,
                        ),
                        WorkOrder.control_deadline.is_(None),
                    )
                )
        return stmt.order_by(
            WorkOrder.control_deadline.asc().nulls_last(), WorkOrder.id.asc()
        ).limit(limit + 1)

    async def page(
        self, filters: QueueFilters, cursor: str | None, limit: int = PAGE_SIZE
    ) -> QueuePage:
        """One page of waiting orders, soonest control deadline first."""
        rows = (await self.session.execute(self.query(filters, decode_cursor(cursor), limit))).all()
        more = len(rows) > limit
        rows = rows[:limit]
        items = [
            QueueRow(
                id=order.id,
                number=order.number,
                type=order.type,
                priority=order.priority,
                status=order.status,
                control_deadline=order.control_deadline,
                customer_name=name,
                customer_phone=(phones or [None])[0],
                address=address,
                territory_code=code,
                time_zone=zone,
                last_visit_status=last,
            )
            for order, name, phones, address, code, zone, last in rows
        ]
        next_cursor = (
            encode_cursor(items[-1].control_deadline, items[-1].id) if more and items else None
        )
        return QueuePage(rows=items, next_cursor=next_cursor)


def time_left_minutes(deadline: datetime | None, now: datetime | None = None) -> int | None:
    """Whole minutes until the deadline (negative: overdue by that much); None without one."""
    if deadline is None:
        return None
    return int((deadline - (now or utcnow())).total_seconds() // 60)
