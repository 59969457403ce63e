"""The overdue board: open orders past (or within two hours of) their control deadline.

The control deadline is the resolution clock's due time (kept in step by the clocks), so the
board reads ``work_orders`` through a partial index on open orders ordered by deadline: most
overdue first, keyset pages on (control_deadline, id). Buckets are computed in SQL from the
deadline and ``now``; the counts per bucket are one grouped query.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from service.auth.actor import Actor
from service.board import schemas
from service.common.pagination import decode_cursor, split_page
from service.common.scope import territory_condition
from service.db.base import utcnow
from service.db.models import (
    SlaClock,
    Technician,
    Territory,
    User,
    Visit,
    WorkOrder,
    WorkOrderEvent,
)
from service.db.models.coordination import OPEN_ORDER_STATUSES
from service.db.models.visits import LIVE_STATUSES
from service.sla import kinds

DUE_SOON = timedelta(hours=2)
CSV_MAX_ROWS = 10_000
CSV_BATCH = 500
OWNER_ROLES = ("dispatcher", "coordinator")
# Lower bounds of each bucket, as (bucket, how far the deadline may lie before now).
_BUCKET_EDGES: tuple[tuple[schemas.Bucket, timedelta], ...] = (
    ("due_2h", timedelta(0)),
    ("overdue_0_4h", timedelta(hours=4)),
    ("overdue_4_24h", timedelta(hours=24)),
    ("overdue_1_3d", timedelta(hours=72)),
)


class BoardFilters(msgspec.Struct, frozen=True):
    """Board filters, combined with AND; several buckets are combined with OR."""

    territory_id: uuid.UUID | None = None
    type: str | None = None
    technician_id: uuid.UUID | None = None
    priority: str | None = None
    buckets: tuple[schemas.Bucket, ...] = ()


def bucket_expression(deadline: Any, now: datetime) -> ColumnElement[str]:
    """The aging bucket of a deadline as of ``now``."""
    return case(
        *[(deadline >= now - edge, literal(name)) for name, edge in _BUCKET_EDGES],
        else_=literal("overdue_3d_plus"),
    )


def bucket_range(bucket: schemas.Bucket, deadline: Any, now: datetime) -> ColumnElement[bool]:
    """The deadline range of a bucket, as index-friendly comparisons."""
    if bucket == "due_2h":
        return and_(deadline >= now, deadline < now + DUE_SOON)
    edges = dict(_BUCKET_EDGES)
    names = [name for name, _ in _BUCKET_EDGES]
    if bucket == "overdue_3d_plus":
        return deadline < now - edges["overdue_1_3d"]  # type: ignore[no-any-return]
    upper = edges[names[names.index(bucket) - 1]]
    return and_(deadline < now - upper, deadline >= now - edges[bucket])


class OverdueBoard:
    """Reads the board for one caller."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    def _conditions(self, filters: BoardFilters, now: datetime) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [
            # Inline constants, not parameters: the partial indexes' predicate must be provable
            # in any plan, generic ones included.
            WorkOrder.status.in_(
                bindparam(
                    "open_statuses", OPEN_ORDER_STATUSES, expanding=True, literal_execute=True
                )
            ),
            WorkOrder.control_deadline < now + DUE_SOON,
            territory_condition(self.actor, WorkOrder.territory_id),
        ]
        if filters.territory_id is not None:
            conditions.append(WorkOrder.territory_id == filters.territory_id)
        if filters.type is not None:
            conditions.append(WorkOrder.type == filters.type)
        if filters.priority is not None:
            conditions.append(WorkOrder.priority == filters.priority)
        if filters.technician_id is not None:
            conditions.append(
                exists().where(
                    Visit.work_order_id == WorkOrder.id,
                    Visit.technician_id == filters.technician_id,
                    Visit.status.in_(LIVE_STATUSES),
                )
            )
        return conditions

    def page_query(
        self, filters: BoardFilters, cursor: str | None, limit: int, now: datetime
    ) -> Select[Any]:
        """The SELECT behind a page (``make bench`` EXPLAINs it)."""
        conditions = self._conditions(filters, now)
        if filters.buckets:
            conditions.append(
                or_(*[bucket_range(b, WorkOrder.control_deadline, now) for b in filters.buckets])
            )
        if cursor:
            after = decode_cursor(cursor)
            conditions.append(
                tuple_(WorkOrder.control_deadline, WorkOrder.id) > (after.created_at, after.id)
            )
        page = (
            select(
                WorkOrder.id,
                WorkOrder.number,
                WorkOrder.type,
                WorkOrder.priority,
                WorkOrder.status,
                WorkOrder.territory_id,
                WorkOrder.control_deadline,
                WorkOrder.created_by,
                WorkOrder.hold_reason,
            )
            .where(*conditions)
            .order_by(WorkOrder.control_deadline, WorkOrder.id)
            .limit(limit + 1)
            .subquery("page")
        )
        last = (
            select(WorkOrderEvent.kind, WorkOrderEvent.occurred_at)
            .where(WorkOrderEvent.work_order_id == page.c.id)
            .order_by(WorkOrderEvent.occurred_at.desc(), WorkOrderEvent.id.desc())
            .limit(1)
            .lateral("last_event")
        )
        owner = (
            select(WorkOrderEvent.actor_user_id)
            .where(
                WorkOrderEvent.work_order_id == page.c.id,
                WorkOrderEvent.actor_role.in_(OWNER_ROLES),
            )
            .order_by(WorkOrderEvent.occurred_at.desc(), WorkOrderEvent.id.desc())
            .limit(1)
            .lateral("owner")
        )
        contacts = (
            select(func.count().label("n"))
            .where(
                WorkOrderEvent.work_order_id == page.c.id,
                WorkOrderEvent.kind.in_(kinds.CONTACT_KINDS),
            )
            .lateral("contacts")
        )
        owner_user = aliased(User, name="owner_user")
        reason = case(
            (SlaClock.status == "paused", SlaClock.reason),
            (page.c.status == "on_hold", literal("on_hold")),
            (Visit.id.is_(None), literal("not_scheduled")),
            (
                and_(
                    func.upper(Visit.agreed_window) <= now,
                    Visit.arrived_at.is_(None),
                ),
                literal("visit_missed"),
            ),
            (
                func.lower(Visit.agreed_window) >= page.c.control_deadline,
                literal("visit_after_deadline"),
            ),
            (SlaClock.reason.is_not(None), SlaClock.reason),
            (page.c.status == "in_progress", literal("in_progress")),
            else_=literal("scheduled"),
        )
        return (
            select(
                page,
                bucket_expression(page.c.control_deadline, now).label("bucket"),
                Territory.time_zone,
                Territory.code.label("territory_code"),
                SlaClock.status.label("clock_status"),
                reason.label("reason"),
                last.c.kind.label("last_kind"),
                last.c.occurred_at.label("last_at"),
                owner_user.id.label("owner_id"),
                owner_user.full_name.label("owner_name"),
                Technician.id.label("technician_id"),
                Technician.full_name.label("technician_name"),
                func.lower(Visit.agreed_window).label("window_start"),
                func.upper(Visit.agreed_window).label("window_end"),
                contacts.c.n.label("contacts"),
            )
            .select_from(page)
            .join(Territory, Territory.id == page.c.territory_id)
            .outerjoin(
                SlaClock,
                and_(SlaClock.work_order_id == page.c.id, SlaClock.target == "resolution"),
            )
            .outerjoin(
                Visit, and_(Visit.work_order_id == page.c.id, Visit.status.in_(LIVE_STATUSES))
            )
            .outerjoin(Technician, Technician.id == Visit.technician_id)
            .outerjoin(last, true())
            .outerjoin(owner, true())
            .outerjoin(
                owner_user, owner_user.id == func.coalesce(owner.c.actor_user_id, page.c.created_by)
            )
            .join(contacts, true())
            .order_by(page.c.control_deadline, page.c.id)
        )

    def counts_query(self, filters: BoardFilters, now: datetime) -> Select[str, int]:
        """Orders per bucket (the bucket filter does not apply)."""
        bucket = bucket_expression(WorkOrder.control_deadline, now)
        return (
            select(bucket.label("bucket"), func.count().label("n"))
            .where(*self._conditions(filters, now))
            .group_by(bucket)
        )

    async def _rows(
        self, filters: BoardFilters, cursor: str | None, limit: int, now: datetime
    ) -> tuple[Sequence[Any], str | None]:
        rows = (await self.session.execute(self.page_query(filters, cursor, limit, now))).all()
        return split_page(rows, limit, lambda row: (row.control_deadline, row.id))

    async def counts(self, filters: BoardFilters, now: datetime) -> schemas.BucketCounts:
        """Counts per bucket and in total."""
        found = {
            row.bucket: int(row.n)
            for row in (await self.session.execute(self.counts_query(filters, now))).all()
        }
        return schemas.BucketCounts(**found, total=sum(found.values()))

    async def page(
        self, filters: BoardFilters, cursor: str | None, limit: int, now: datetime | None = None
    ) -> schemas.OverduePage:
        """One page, most overdue first, with the counts per bucket."""
        now = now or utcnow()
        rows, next_cursor = await self._rows(filters, cursor, limit, now)
        return schemas.OverduePage(
            as_of=now,
            counts=await self.counts(filters, now),
            items=[_item(row, now) for row in rows],
            next_cursor=next_cursor,
        )

    async def csv(self, filters: BoardFilters, now: datetime | None = None) -> tuple[bytes, bool]:
        """The whole filtered board as CSV (UTF-8 with BOM, for Excel); True when truncated."""
        now = now or utcnow()
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        cursor: str | None = None
        written = 0
        truncated = False
        while True:
            rows, cursor = await self._rows(filters, cursor, CSV_BATCH, now)
            for row in rows:
                if written == CSV_MAX_ROWS:
                    truncated = True
                    break
                writer.writerow([_cell(v) for v in _csv_row(row, now)])
                written += 1
            if truncated or cursor is None:
                break
        return ("\ufeff" + buffer.getvalue()).encode("utf-8"), truncated


def _person(person_id: uuid.UUID | None, name: str | None) -> schemas.Person | None:
    if person_id is None or name is None:
        return None
    return schemas.Person(id=person_id, full_name=name)


def _overdue_minutes(deadline: datetime, now: datetime) -> int:
    return int((now - deadline).total_seconds() // 60)


def _item(row: Any, now: datetime) -> schemas.OverdueItem:
    return schemas.OverdueItem(
        work_order_id=row.id,
        number=row.number,
        type=row.type,
        priority=row.priority,
        status=row.status,
        territory_id=row.territory_id,
        control_deadline=row.control_deadline,
        bucket=row.bucket,
        overdue_minutes=_overdue_minutes(row.control_deadline, now),
        clock_status=row.clock_status,
        reason=row.reason,
        reason_detail=row.hold_reason if row.status == "on_hold" else None,
        last_event=schemas.LastEvent(kind=row.last_kind, at=row.last_at) if row.last_kind else None,
        owner=_person(row.owner_id, row.owner_name),
        technician=_person(row.technician_id, row.technician_name),
        visit_window_start=row.window_start,
        visit_window_end=row.window_end,
        customer_contacts=int(row.contacts),
    )


CSV_COLUMNS = (
    "number",
    "territory",
    "type",
    "priority",
    "status",
    "bucket",
    "overdue_minutes",
    "control_deadline",
    "time_zone",
    "reason",
    "reason_detail",
    "last_event",
    "last_event_at",
    "owner",
    "technician",
    "visit_window_start",
    "visit_window_end",
    "customer_contacts",
)


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""


def _csv_row(row: Any, now: datetime) -> list[Any]:
    """Times in the territory's local time (the zone is its own column)."""
    zone = ZoneInfo(row.time_zone)
    return [
        row.number,
        row.territory_code,
        row.type,
        row.priority,
        row.status,
        row.bucket,
        _overdue_minutes(row.control_deadline, now),
        _local(row.control_deadline, zone),
        row.time_zone,
        row.reason,
        row.hold_reason if row.status == "on_hold" else "",
        row.last_kind or "",
        _local(row.last_at, zone),
        row.owner_name or "",
        row.technician_name or "",
        _local(row.window_start, zone),
        _local(row.window_end, zone),
        int(row.contacts),
    ]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
